/* Functions that the maps' GeoJSON layers name by their path (dash-leaflet resolves {"variable": "obsCartes.x"}
   against window): the content security policy forbids eval and inline scripts, so they live here.

   Points and clusters are drawn on one canvas per map, thousands of markers in one element, and each
   marker builds its tooltip only when hovered. Tooltip texts are set as text, never as HTML: labels come
   from imported files. */
(function () {
  "use strict";

  function canvasOf(map) {
    if (!map._obsCanvas) {
      map._obsCanvas = L.canvas({ padding: 0.5, tolerance: 3 });
    }
    // Tests and the benchmark find the Leaflet map from its container.
    map.getContainer().obsMap = map;
    return map._obsCanvas;
  }

  function textTooltip(text) {
    return function () {
      var span = document.createElement("span");
      span.textContent = text();
      return span;
    };
  }

  window.obsCartes = Object.assign({}, window.obsCartes, {
    /* One event: a small disc coloured by its source; tooltip « label — jj/mm/aaaa hh:mm ». */
    point: function (feature, latlng, context) {
      var p = feature.properties || {};
      var colours = (context.hideout && context.hideout.colours) || {};
      var marker = L.circleMarker(latlng, {
        renderer: canvasOf(context.map),
        radius: 5,
        color: "#222222",
        weight: 1,
        fillColor: colours[p.source] || "#000000",
        fillOpacity: 0.85,
      });
      marker.bindTooltip(
        textTooltip(function () {
          return p.label + " — " + p.date + (p.time ? " " + p.time : "");
        })
      );
      return marker;
    },

    /* A server-side group of events: its area grows with its count; tooltip as the server wrote it. */
    cluster: function (feature, latlng, context) {
      var p = feature.properties || {};
      var marker = L.circleMarker(latlng, {
        renderer: canvasOf(context.map),
        radius: p.radius || 6,
        color: "#222222",
        weight: 1,
        fillColor: (context.hideout && context.hideout.colour) || "#0072B2",
        fillOpacity: 0.6,
      });
      marker.bindTooltip(
        textTooltip(function () {
          return p.text || "";
        })
      );
      return marker;
    },

    /* A disc styled by the layer's hideout (``style``: Leaflet path options, className included), drawn in
       SVG so each stays addressable; ``text`` is its tooltip, ``label`` a permanent centred label, ``clic``
       a text opened on click in a popup — all set as text. For layers of hundreds of features, not thousands. */
    disc: function (feature, latlng, context) {
      var p = feature.properties || {};
      var style = (context.hideout && context.hideout.style) || {};
      var marker = L.circleMarker(latlng, Object.assign({}, style));
      if (p.label !== undefined && p.label !== null) {
        marker.bindTooltip(
          textTooltip(function () {
            return String(p.label);
          }),
          { permanent: true, direction: "center", className: (context.hideout || {}).labelClass || "" }
        );
      } else if (p.text) {
        marker.bindTooltip(
          textTooltip(function () {
            return p.text;
          })
        );
      }
      if (p.clic) {
        marker.bindPopup(
          textTooltip(function () {
            return p.clic;
          })
        );
      }
      return marker;
    },
  });
})();

/* Legends start folded on a narrow screen, where they sit under the map (style.css): the map first. Each
   legend is looked at once, when it appears; afterwards only the reader folds or opens it. */
(function () {
  "use strict";
  var NARROW = 1100; // px, the width under which style.css puts the legend under the map
  var pending = false;

  function foldNew() {
    pending = false;
    var fresh = document.querySelectorAll("details.obs-legende-pliable:not([data-obs-vu])");
    for (var i = 0; i < fresh.length; i++) {
      fresh[i].setAttribute("data-obs-vu", "1");
      if (window.innerWidth < NARROW) {
        fresh[i].open = false;
      }
    }
  }

  new MutationObserver(function () {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(foldNew);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
