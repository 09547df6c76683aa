// The offline basemap under a Leaflet map's layers: land on a sea-coloured background, lakes,
// rivers, international borders and, dashed, the disputed lines (Natural Earth draws the Line of
// Control and the other claims as such), then place names in the map's language. Served by the
// platform (/basemap/all.json, from PostGIS, one request) or inlined in a standalone file;
// nothing comes from the internet. A name with no translation is shown in English, in italics
// and marked lang="en", never left out. Used by the folium map (EMap.startBasemap, below) and by
// the HTML pages' maps (map.js: the site and route pages), so both draw the same basemap.
(function () {
  "use strict";
  if (!window.L) return;
  const ready = window.eminingReady || (window.eminingReady = {});
  const SHAPES = ["land", "lakes", "rivers", "borders", "disputed"];
  const STYLE = {
    land: { stroke: false, fillColor: "#f4f1ea", fillOpacity: 1 },
    lakes: { color: "#9cc3da", weight: 0.6, fillColor: "#cfe2ec", fillOpacity: 1 },
    rivers: { color: "#7fb2d5", weight: 1.3, opacity: 0.9 },
    borders: { color: "#7a7a7a", weight: 1.4, opacity: 0.9 },
    disputed: { color: "#7a7a7a", weight: 1.6, opacity: 0.9, dashArray: "5 5" },
  };

  // source: { url } (served) or { data: {layer: FeatureCollection} } (inlined); language():
  // the map's language now (the folium map can switch it; a page's is fixed).
  function Basemap(map, source, language) {
    this.map = map;
    this.source = source;
    this.language = language;
    this.places = [];
    this.placeLayer = null;
  }

  Basemap.prototype.start = function () {
    const map = this.map;
    map.createPane("em-basemap").style.zIndex = 150;  // under online tiles (200) if any
    const labels = map.createPane("em-labels");
    labels.style.zIndex = 440;  // over areas and lines, under the points (450)
    labels.style.pointerEvents = "none";
    this.renderer = L.canvas({ pane: "em-basemap", padding: 0.2 });
    this.placeLayer = L.layerGroup().addTo(map);
    const layers = SHAPES.concat(["places"]);
    const source = this.source;
    const all = source.data ? Promise.resolve(source.data)  // standalone: inlined
      : fetch(source.url, { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))));
    map.on("zoomend", () => this.drawPlaces());
    return all.then((found) => layers.map((name) => found[name] || { type: "FeatureCollection", features: [] })).then((collections) => {
      collections.forEach((collection, i) => {
        const name = layers[i];
        if (name === "places") {
          this.places = collection.features;
          this.drawPlaces();
          return;
        }
        L.geoJSON(collection, {
          renderer: this.renderer, pane: "em-basemap", interactive: false,
          style: () => STYLE[name],
        }).addTo(map);
      });
      map.getContainer().dataset.basemap = "1";
      ready.basemap = { at: performance.now(), tiles: 0, features: collections.reduce((n, c) => n + c.features.length, 0) };
    }).catch((error) => console.warn("basemap not loaded: " + error.message));
  };

  // Which places are named at a zoom: capitals and the largest cities first (Natural Earth's
  // scale rank), then towns as one zooms in; a name overlapping one already placed is skipped.
  Basemap.prototype.drawPlaces = function () {
    if (!this.placeLayer) return;
    this.placeLayer.clearLayers();
    const lang = this.language();
    const zoom = this.map.getZoom();
    const limit = zoom < 5 ? 3 : zoom < 6 ? 4 : zoom < 7 ? 6 : 10;
    const taken = [];
    const size = this.map.getSize();
    for (const f of this.places) {
      const p = f.properties || {};
      if ((p.rank === undefined ? 10 : p.rank) > limit) continue;
      const [lng, lat] = f.geometry.coordinates;
      const at = this.map.latLngToContainerPoint([lat, lng]);
      if (at.x < 0 || at.y < 0 || at.x > size.x || at.y > size.y) continue;
      const local = lang === "en" ? p.name : p["name_" + lang];
      const text = local || p.name;
      const width = 7 * text.length + 8;
      const box = L.bounds([at.x - 4, at.y - 8], [at.x + width, at.y + 8]);
      if (taken.some((b) => b.intersects(box))) continue;
      taken.push(box);
      const label = document.createElement("span");
      label.textContent = text;
      label.lang = local ? lang : "en";
      if (!local) label.className = "em-english";
      const icon = L.divIcon({
        className: "em-place" + (p.capital ? " em-capital" : ""), html: label,
        iconSize: null, iconAnchor: [-4, 8],
      });
      L.marker([lat, lng], { icon: icon, pane: "em-labels", interactive: false, keyboard: false }).addTo(this.placeLayer);
      L.circleMarker([lat, lng], {
        renderer: this.renderer, pane: "em-basemap", radius: p.capital ? 3.5 : 2.5,
        color: "#333", weight: 1, fillColor: p.capital ? "#333" : "#fff", fillOpacity: 1, interactive: false,
      }).addTo(this.placeLayer);
    }
  };

  window.EMiningBasemap = Basemap;

  const EMap = window.EMiningMap && window.EMiningMap.EMap;
  if (!EMap) return;

  EMap.prototype.startBasemap = function () {
    const config = this.config.basemap;
    if (!config) return;
    this.basemap = new Basemap(this.map, config, () => this.lang);
    this.basemap.start();
    if (config.attribution) this.map.attributionControl.addAttribution(config.attribution);
  };

  EMap.prototype.drawPlaces = function () {
    if (this.basemap) this.basemap.drawPlaces();
  };
})();
