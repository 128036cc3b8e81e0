/* Pages with many components drew in seconds because of one action of Dash's renderer (4.x): every
   component drawn from a callback's answer dispatches RESET_COMPONENT_STATE when it mounts, and each
   dispatch wakes every component of the page (a thousand components: a million selector runs, 5 to 20 s
   in the browser). The action only removes the layout hashes whose path starts with the component's; when
   none does, the reducer returns a copy of the same entries. Such a dispatch changes nothing but wakes the
   page: it is dropped here; the others go through unchanged. */
(function () {
  "use strict";

  function patch(store) {
    if (!store || store.__obsPatched) {
      return;
    }
    var dispatch = store.dispatch;
    store.dispatch = function (action) {
      if (action && action.type === "RESET_COMPONENT_STATE" && action.payload && action.payload.itempath) {
        var prefix = action.payload.itempath.join(",");
        var hashes = (store.getState() || {}).layoutHashes || {};
        var found = false;
        for (var key in hashes) {
          if (Object.prototype.hasOwnProperty.call(hashes, key) && key.indexOf(prefix) === 0) {
            found = true;
            break;
          }
        }
        if (!found) {
          return action;
        }
      }
      return dispatch.apply(this, arguments);
    };
    store.__obsPatched = true;
  }

  if (window.store) {
    patch(window.store);
  } else {
    var current;
    Object.defineProperty(window, "store", {
      configurable: true,
      get: function () {
        return current;
      },
      set: function (value) {
        current = value;
        patch(value);
      },
    });
  }
})();
