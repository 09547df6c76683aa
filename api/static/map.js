// Maps of the HTML pages: no basemap tiles (the platform runs offline), only the data itself
// (features, or a raster's own PNG tiles), with the provinces as a light background. Feature
// data is read from JSON blocks (<script type="application/json">) and shown with textContent
// only, never as HTML.
(function () {
  "use strict";
  const PAKISTAN = [[23.6, 60.8], [37.1, 77.9]];
  const el = document.getElementById("map");
  if (!el || !window.L) return;

  const map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false });
  map.attributionControl.setPrefix(false);
  map.fitBounds(PAKISTAN);

  function popup(feature) {
    const box = document.createElement("div");
    box.className = "popup";
    const title = document.createElement("a");
    const props = feature.properties || {};
    title.textContent = props.name || props.licence_no || "Feature " + feature.id;
    if (el.dataset.items) title.href = el.dataset.items + "/" + encodeURIComponent(feature.id) + "?f=html";
    box.appendChild(title);
    const table = document.createElement("table");
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === "") continue;
      const row = table.insertRow();
      row.insertCell().textContent = key;
      row.insertCell().textContent = Array.isArray(value) ? value.join(", ") : String(value);
    }
    box.appendChild(table);
    return box;
  }

  if (el.dataset.provinces) {
    fetch(el.dataset.provinces, { headers: { Accept: "application/geo+json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data) return;
        const background = L.geoJSON(data, {
          interactive: false,
          // over a raster's tiles, outlines only
          style: { color: "#8a9a94", weight: 1, fillColor: "#e6ebe8", fillOpacity: el.dataset.tiles ? 0 : 0.6 },
        }).addTo(map);
        background.bringToBack();
      })
      .catch(() => {});
  }

  if (el.dataset.tiles) {  // a raster's PNG map tiles, requested within its extent only
    const [minx, miny, maxx, maxy] = JSON.parse(el.dataset.bbox);
    L.tileLayer(el.dataset.tiles, { bounds: [[miny, minx], [maxy, maxx]], opacity: 0.85, className: "raster-tiles" }).addTo(map);
  }

  if (el.dataset.bbox) {
    const [minx, miny, maxx, maxy] = JSON.parse(el.dataset.bbox);
    const box = L.rectangle([[miny, minx], [maxy, maxx]],
      { color: "#1f6f5c", weight: 2, fillOpacity: 0.08 }).addTo(map);
    map.fitBounds(box.getBounds(), { padding: [12, 12] });
  }

  if (el.dataset.features) {
    let data = JSON.parse(document.getElementById(el.dataset.features).textContent);
    if (!Array.isArray(data)) data = [data];
    const layer = L.geoJSON(data.filter((f) => f.geometry), {
      style: { color: "#c0392b", weight: 2, fillOpacity: 0.25 },
      onEachFeature: (feature, item) => item.bindPopup(() => popup(feature)),
    }).addTo(map);
    const bounds = layer.getBounds();
    if (bounds.isValid() && bounds.getNorthEast().equals(bounds.getSouthWest())) {
      map.setView(bounds.getCenter(), 6);  // one point: show its region, not a blank close-up
    } else if (bounds.isValid()) {
      map.fitBounds(bounds, { paddingTopLeft: [24, 48], paddingBottomRight: [24, 16], maxZoom: 9 });
    }
  }
})();
