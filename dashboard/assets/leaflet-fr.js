/* Leaflet's zoom buttons carry English titles ("Zoom in", "Zoom out") that dash-leaflet does not expose:
   they are given French ones whenever a map draws its controls. */
(function () {
  var TITLES = {"leaflet-control-zoom-in": "Zoom avant", "leaflet-control-zoom-out": "Zoom arrière"};
  function translate(root) {
    Object.keys(TITLES).forEach(function (cls) {
      root.querySelectorAll("a." + cls).forEach(function (a) {
        if (a.title !== TITLES[cls]) {
          a.title = TITLES[cls];
          a.setAttribute("aria-label", TITLES[cls]);
        }
      });
    });
  }
  new MutationObserver(function () { translate(document); })
    .observe(document.documentElement, {childList: true, subtree: true});
})();
