// Maps of the HTML pages: no basemap tiles from outside (the platform runs offline), only the
// data itself (features, or a raster's own PNG tiles), with the provinces as a light background,
// or, where the page asks for it (data-basemap: the site and route pages), the platform's own
// basemap under them (emining-basemap.js, the one /map draws) with place names in the page's
// language. Feature data is read from JSON blocks (<script type="application/json">) and shown
// with textContent only, never as HTML.
(function () {
  "use strict";
  const PAKISTAN = [[23.6, 60.8], [37.1, 77.9]];
  const el = document.getElementById("map");
  if (!el || !window.L) return;

  const map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false });
  map.attributionControl.setPrefix(false);
  map.fitBounds(PAKISTAN);

  // Popups in the page's language: titles and labelled values the server wrote for each
  // feature (<script id="BLOCK-popups">, or id="popups" for the page's one block), so a page in
  // Urdu never shows a column name or "True".
  const chosenLang = el.dataset.chosenLang;

  function texts(block) {
    const own = document.getElementById(block + "-popups") || document.getElementById("popups");
    return own ? JSON.parse(own.textContent) : {};
  }

  // On a page in Chinese or Urdu, the data's own words (a site's name, an operator, a source's
  // title) stay in English: each Latin run is marked lang="en" (as the server's heading() does),
  // so screen readers read it as English and right-to-left text keeps its order.
  const pageLang = document.documentElement.lang || "en";
  const LATIN_RUN = /[A-Za-z][A-Za-z0-9'’.,&\/ -]*[A-Za-z0-9]|[A-Za-z]/g;

  function write(node, text) {
    text = String(text);
    if (pageLang === "en") {
      node.textContent = text;
      return node;
    }
    let at = 0;
    for (const run of text.matchAll(LATIN_RUN)) {
      node.append(text.slice(at, run.index));
      const english = document.createElement("bdi");
      english.lang = "en";
      english.textContent = run[0];
      node.append(english);
      at = run.index + run[0].length;
    }
    node.append(text.slice(at));
    return node;
  }

  function popup(feature, known, items) {
    const box = document.createElement("div");
    box.className = "popup";
    const title = document.createElement("a");
    const text = known[String(feature.id ?? "")] || { title: String(feature.id ?? ""), rows: [] };
    write(title, text.title);
    if (items) {
      title.href = items + "/" + encodeURIComponent(feature.id) + "?f=html" +
        (chosenLang ? "&lang=" + encodeURIComponent(chosenLang) : "");
    }
    box.appendChild(title);
    const table = document.createElement("table");
    for (const [label, value] of text.rows) {
      const row = table.insertRow();
      write(row.insertCell(), label);
      write(row.insertCell(), value);
    }
    box.appendChild(table);
    return box;
  }

  // The offline basemap (/basemap/all.json): land, water, borders, disputed lines and places,
  // named in the page's language (English, marked so, where the store has no name in it).
  const basemap = el.dataset.basemap && window.EMiningBasemap;
  if (basemap) {
    const lang = document.documentElement.lang || "en";
    new window.EMiningBasemap(map, { url: el.dataset.basemap }, () => lang).start();
  }

  if (el.dataset.provinces) {
    fetch(el.dataset.provinces, { headers: { Accept: "application/geo+json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data) return;
        const background = L.geoJSON(data, {
          interactive: false,
          // over a raster's tiles or the basemap, outlines only
          style: { color: "#8a9a94", weight: 1, fillColor: "#e6ebe8",
            fillOpacity: el.dataset.tiles || basemap ? 0 : 0.6 },
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

  if (el.dataset.features) {  // one or more JSON blocks, each with its colour and items link
    const all = L.featureGroup().addTo(map);
    for (const block of el.dataset.features.split(" ")) {
      const script = document.getElementById(block);
      if (!script) continue;
      let data = JSON.parse(script.textContent);
      if (!Array.isArray(data)) data = [data];
      const known = texts(block);
      const items = script.dataset.items || el.dataset.items;
      const color = script.dataset.color || "#c0392b";
      L.geoJSON(data.filter((f) => f.geometry), {
        style: { color: color, weight: script.dataset.weight ? Number(script.dataset.weight) : 3,
          dashArray: script.dataset.dash || null, fillOpacity: 0.15 },
        // data-circle: points as coloured circles (a link's far end), not pins (the site itself)
        pointToLayer: script.dataset.circle
          ? (feature, latlng) => L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2,
            fillColor: color, fillOpacity: 1 })
          : undefined,
        onEachFeature: (feature, item) => item.bindPopup(() => popup(feature, known, items)),
      }).addTo(all);
    }
    const bounds = all.getBounds();
    if (bounds.isValid() && bounds.getNorthEast().equals(bounds.getSouthWest())) {
      map.setView(bounds.getCenter(), 6);  // one point: show its region, not a blank close-up
    } else if (bounds.isValid()) {
      map.fitBounds(bounds, { paddingTopLeft: [24, 48], paddingBottomRight: [24, 16], maxZoom: 9 });
    }
  }
})();
