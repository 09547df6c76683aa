// The behaviour of the folium map (layers/maps.py builds the page and its JSON configuration):
// fills folium's layer groups from the OGC items endpoint, inlined GeoJSON or vector tiles; draws
// the legend; switches language (English / 中文 / اردو, right to left for Urdu); shows a deposit's
// links to the value chain (nearest corridor, SEZ, port) with km and hours; raster overlays are
// emining-rasters.js (loaded after this file, before init). No basemap is needed:
// provinces and corridors are our own layers. Feature values are written with textContent only.
(function () {
  "use strict";

  // Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed; a click on a
  // tile feature would throw. Leaflet 1.9 marks a handled event with _stopped, as fakeStop did.
  if (window.L && !L.DomEvent.fakeStop) L.DomEvent.fakeStop = function (e) { e._stopped = true; };

  // When each layer was first drawn, in ms since navigation start (performance.now()), with what
  // was drawn: { at, tiles, features }. For bench/map.py and tests; nothing in the page reads it.
  const ready = window.eminingReady || (window.eminingReady = {});

  const PANES = { raster: ["em-rasters", 370], background: ["em-background", 380], polygon: ["em-areas", 390], line: ["em-lines", 420], links: ["em-links", 430], point: ["em-points", 450] };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function isHttp(value) {
    return typeof value === "string" && /^https?:\/\//i.test(value);
  }

  function EMap(leaflet, config) {
    this.map = leaflet.map;
    this.control = leaflet.control;
    this.groups = leaflet.groups;
    this.config = config;
    this.lang = config.lang;
    this.present = {};      // layer id → values of its style's property found in the data
    this.onMap = {};        // layer id → whether it is shown
    this.overlays = [];     // [layer config, Leaflet layer] in the layer control's order
    this.highlight = L.layerGroup();
    this.linksByDeposit = null;
  }

  EMap.prototype.t = function (table, key) {
    const entry = this.config[table][key];
    return entry ? entry[this.lang] || entry.en : key;
  };

  EMap.prototype.rtl = function () {
    return this.config.rtl.indexOf(this.lang) >= 0;
  };

  EMap.prototype.start = function () {
    const map = this.map;
    map.attributionControl.setPrefix(false);
    for (const name in PANES) {
      const [pane, z] = PANES[name];
      map.createPane(pane).style.zIndex = z;
    }
    map.fitBounds(this.config.bounds, { animate: false });  // clusters must not be filled mid-zoom
    this.highlight.addTo(map);
    const all = this.config.layers.concat(this.config.links ? [this.config.links] : []);
    for (const layer of all) {
      const group = this.groups[layer.id];
      this.overlays.push([layer, group]);
      this.onMap[layer.id] = map.hasLayer(group);
      if (layer.attribution) map.attributionControl.addAttribution(layer.attribution);
      this.load(layer, group);
    }
    this.startRasters();  // emining-rasters.js
    map.on("overlayadd overlayremove", (e) => {
      for (const [layer, group] of this.overlays) if (group === e.layer) this.onMap[layer.id] = e.type === "overlayadd";
      this.drawLegend();
    });
    map.on("popupclose", () => this.highlight.clearLayers());
    this.addLanguageSwitch();
    this.legend = L.control({ position: "bottomright" });
    this.legend.onAdd = () => {
      const box = el("div", "em-legend leaflet-control");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    this.legend.addTo(map);
    this.setLanguage(this.lang);
    map.getContainer().classList.add("em-map");
  };

  // ---- data --------------------------------------------------------------------------------

  EMap.prototype.load = function (layer, group) {
    const source = layer.source;
    if (source.kind === "tiles") return this.loadTiles(layer, group);
    if (source.kind === "inline") return this.addFeatures(layer, group, source.data);
    group.loading = true;
    fetch(source.url, { headers: { Accept: "application/geo+json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(source.url + ": HTTP " + r.status))))
      .then((collection) => {
        if (collection.numberMatched > collection.numberReturned) layer.shown = collection.numberReturned;
        this.addFeatures(layer, group, collection.features);
      })
      .catch((error) => console.warn("layer " + layer.id + " not loaded: " + error.message))
      .finally(() => { group.loading = false; this.map.getContainer().dataset["loaded" + layer.id] = "1"; });
  };

  EMap.prototype.colour = function (style, value) {
    if (Array.isArray(value)) value = value[0];
    if (typeof value === "string" && value.indexOf(",") > 0) value = value.split(",")[0];
    return (value !== undefined && value !== null && style.colours[value]) || style.colour;
  };

  EMap.prototype.note = function (layer, value) {
    if (!layer.style.by) return;
    const values = this.present[layer.id] || (this.present[layer.id] = new Set());
    const first = Array.isArray(value) ? value[0] : value;
    // "" stands for features drawn in the default colour (no value, or one with no colour).
    values.add(first !== undefined && first !== null && layer.style.colours[first] ? String(first) : "");
  };

  EMap.prototype.pathStyle = function (layer, props, geometry, id) {
    const style = layer.style;
    const value = style.by ? props[style.by] : null;
    const colour = this.colour(style, value);
    const dash = style.by ? style.dashes[Array.isArray(value) ? value[0] : value] : undefined;
    const polygon = /Polygon/.test(geometry || "");
    const point = /Point/.test(geometry || "");
    return {
      color: point ? "#1f2a30" : colour, weight: point ? 1 : style.weight, opacity: 0.9,
      dashArray: dash || null, fillColor: colour, fillOpacity: style.fillOpacity,
      fill: polygon || point, radius: style.radius,
      className: "em-feature em-" + layer.id + (id !== undefined ? " em-id-" + id : ""),
    };
  };

  EMap.prototype.addFeatures = function (layer, group, features) {
    const self = this;
    const isLink = this.config.links && layer.id === this.config.links.id;
    if (isLink) this.indexLinks(features);
    const background = layer.style.geometry === "polygon" && !layer.style.by;
    const kind = isLink ? "links" : background ? "background" : layer.style.geometry;
    const geojson = L.geoJSON({ type: "FeatureCollection", features: features }, {
      pane: PANES[kind][0],
      style: (f) => self.pathStyle(layer, f.properties || {}, f.geometry && f.geometry.type, f.id),
      pointToLayer: (f, latlng) => {
        const options = self.pathStyle(layer, f.properties || {}, "Point", f.id);
        options.pane = PANES.point[0];
        return L.circleMarker(latlng, options);
      },
      onEachFeature: (f, item) => {
        self.note(layer, (f.properties || {})[layer.style.by]);
        item.feature = f;
        item.bindPopup(() => self.popup(layer, f.id, f.properties || {}), { maxWidth: 360, minWidth: 220, maxHeight: 380 });
      },
    });
    if (layer.cluster) group.addLayers(geojson.getLayers());
    else geojson.getLayers().forEach((item) => group.addLayer(item));
    this.drawLegend();
    if (!ready[layer.id]) ready[layer.id] = { at: performance.now(), tiles: 0, features: features.length };
  };

  EMap.prototype.loadTiles = function (layer, group) {
    const self = this;
    const styles = {};
    styles[layer.source.layer] = function (props) {
      const geometry = { polygon: "Polygon", line: "LineString", point: "Point" }[layer.style.geometry];
      return self.pathStyle(layer, props, geometry);
    };
    // Tiles drawn 1024 pixels wide (Leaflet's zoom-z grid of them is the zoom z - 2 tile
    // matrix): points are thinned to one per 1/128 of a tile (geo/tile_rank.py), so one per 8
    // pixels here, about half a deposit symbol (15 pixels); at 256 pixels a tile (2 pixels a
    // point) the first view drew 116,000 points stacked on each other, and took seconds.
    const shift = 2;
    const grid = L.vectorGrid.protobuf(layer.source.url, {
      vectorTileLayerStyles: styles,
      interactive: true,
      rendererFactory: L.canvas.tile,
      getFeatureId: (f) => f.id,
      pane: PANES[layer.style.geometry][0],
      tileSize: 256 << shift,
      minZoom: layer.source.minzoom + shift,  // hidden below (not scaled-down deeper tiles)
      maxNativeZoom: layer.source.maxzoom + shift,  // overzoomed beyond: those tiles are complete
    });
    const fetchTile = grid._getVectorTilePromise;  // VectorGrid has no zoomOffset
    grid._getVectorTilePromise = function (coords, bounds) {
      return fetchTile.call(this, L.extend(L.point(coords.x, coords.y), { z: coords.z - shift }), bounds);
    };
    // The MVT feature id is the row's id (geo.tiles); VectorGrid keeps only the properties on
    // what it draws, so the id is copied onto each drawn feature for clicks.
    const create = grid._createLayer;
    grid._createLayer = function (feat, pxPerExtent, style) {
      const drawn = create.call(this, feat, pxPerExtent, style);
      drawn.featureId = feat.id;
      return drawn;
    };
    grid.on("click", (e) => {
      const props = e.layer.properties || {};
      const id = e.layer.featureId;
      L.popup({ maxWidth: 360, minWidth: 220, maxHeight: 380 }).setLatLng(e.latlng)
        .setContent(self.popup(layer, id, props)).openOn(self.map);
    });
    // GridLayer's "load": every tile in view has been fetched and drawn (VectorGrid calls each
    // tile's done() on the animation frame after drawing its features on the tile's canvas).
    grid.on("load", () => {
      if (ready[layer.id]) return;  // the first full view only, not later pans and zooms
      let tiles = 0;
      let features = 0;
      for (const key in grid._tiles) {
        if (!grid._tiles[key].current) continue;
        tiles += 1;
        const drawn = grid._vectorTiles[key];
        if (drawn) features += Object.keys(drawn._features).length;
      }
      ready[layer.id] = { at: performance.now(), tiles: tiles, features: features };
    });
    group.addLayer(grid);
    this.drawLegend();
  };

  // ---- popups and links ---------------------------------------------------------------------

  EMap.prototype.locale = function () {
    return this.lang === "ur" ? "ur-PK" : this.lang;
  };

  EMap.prototype.value = function (name, value) {
    const sep = { en: ", ", zh: "、", ur: "، " }[this.lang] || ", ";
    if (Array.isArray(value)) return value.map((v) => this.t("terms", String(v))).join(sep);
    if (typeof value === "boolean") return this.t("terms", String(value));
    if (typeof value === "number") return value.toLocaleString(this.locale(), { maximumFractionDigits: 2 });
    if (typeof value === "string" && this.config.terms[value]) return this.t("terms", value);
    if (name === "commodities" && typeof value === "string") return this.value(name, value.split(","));
    return String(value);
  };

  EMap.prototype.popup = function (layer, id, props) {
    const spec = layer.popup;
    const box = el("div", "em-popup");
    box.dir = this.rtl() ? "rtl" : "ltr";
    box.lang = this.lang;
    box.dataset.layer = layer.id;
    box.dataset.id = id;
    const titleColumn = spec.localisedTitles[this.lang] || spec.title;
    const title = props[titleColumn] || props[spec.title] || (layer.id + " " + id);
    box.appendChild(el("h3", "em-title", title));
    const table = el("table", "em-fields");
    for (const name of spec.fields) {
      const value = props[name];
      if (value === null || value === undefined || value === "") continue;
      const row = table.insertRow();
      row.appendChild(el("th", null, this.t("fields", name)));
      row.appendChild(el("td", "em-" + name, this.value(name, value)));
    }
    box.appendChild(table);
    this.showResources(box, props.resources);
    if (spec.source && props[spec.source]) {
      const source = el("p", "em-source");
      source.appendChild(el("span", "em-label", this.t("ui", "source") + ": "));
      const link = spec.link && props[spec.link];
      if (isHttp(link)) {
        const a = el("a", null, props[spec.source]);
        a.href = link;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        source.appendChild(a);
      } else {
        source.appendChild(el("span", null, props[spec.source]));
      }
      box.appendChild(source);
    }
    if (layer.details && id !== undefined && id !== null) {
      const a = el("a", "em-details", this.t("ui", "details"));
      a.href = layer.details + "/" + encodeURIComponent(id) + "?f=html";
      box.appendChild(a);
    }
    if (layer.id === "deposits" && this.config.links) this.showLinks(box, id);
    this.showZonal(box, layer.id, id);  // emining-rasters.js
    return box;
  };

  // A deposit's resource figures, served inside it (a list of records): one line per
  // commodity and category, "category commodity: 1,234 Mt @ 0.5 % (code, date)".
  EMap.prototype.showResources = function (box, resources) {
    if (!Array.isArray(resources) || !resources.length) return;
    const section = el("div", "em-resources");
    section.appendChild(el("h4", null, this.t("ui", "resources")));
    const table = el("table", "em-resource-table");
    for (const r of resources) {
      const row = table.insertRow();
      row.appendChild(el("th", null, this.value("category", r.category) + " · " +
        this.value("commodity", r.commodity)));
      const parts = [];
      if (r.tonnage_mt !== null && r.tonnage_mt !== undefined) parts.push(this.value("t", r.tonnage_mt) + " Mt");
      if (r.grade !== null && r.grade !== undefined) parts.push("@ " + this.value("g", r.grade) + " " + r.grade_unit);
      if (r.contained !== null && r.contained !== undefined) parts.push("(" + this.value("c", r.contained) + " " + r.contained_unit + ")");
      parts.push("[" + this.value("code", r.reporting_code) + ", " + r.as_of + "]");
      row.appendChild(el("td", null, parts.join(" ")));
    }
    section.appendChild(table);
    box.appendChild(section);
  };

  EMap.prototype.indexLinks = function (features) {
    const index = this.linksByDeposit || (this.linksByDeposit = {});
    for (const f of features) {
      const p = f.properties || {};
      if (p.from_layer !== "deposits") continue;
      (index[p.from_id] || (index[p.from_id] = [])).push(f);
    }
  };

  EMap.prototype.showLinks = function (box, id) {
    const links = this.config.links;
    const section = el("div", "em-links");
    section.appendChild(el("h4", null, this.t("ui", "links")));
    box.appendChild(section);
    this.highlight.clearLayers();
    const draw = (features) => {
      if (!features.length) {
        section.appendChild(el("p", "em-none", this.t("ui", "no_links")));
        return;
      }
      const table = el("table", "em-link-table");
      for (const f of features) {
        const p = f.properties || {};
        const row = table.insertRow();
        row.className = "em-link em-link-" + p.kind;
        row.appendChild(el("td", "em-kind", this.t("terms", p.kind)));
        const reached = p.km !== null && p.km !== undefined;
        row.appendChild(el("td", "em-to", reached ? p.to_name : p.reason || p.to_name));
        row.appendChild(el("td", "em-km", reached ? this.value("km", p.km) + " " + this.t("ui", "km") : ""));
        row.appendChild(el("td", "em-hours", reached ? this.value("hours", p.hours) + " " + this.t("ui", "hours") : ""));
        if (f.geometry) {
          L.geoJSON(f, {
            pane: PANES.links[0],
            style: { color: links.style.colours[p.kind] || links.style.colour, weight: 6, opacity: 0.85, className: "em-highlight" },
            interactive: false,
          }).addTo(this.highlight);
        }
      }
      section.appendChild(table);
    };
    if (links.source.kind !== "inline" && links.details) {  // served: ask the links collection
      const url = new URL(links.details, window.location.href);
      url.searchParams.set("from_layer", "deposits");
      url.searchParams.set("from_id", id);
      url.searchParams.set("limit", "100");
      fetch(url, { headers: { Accept: "application/geo+json" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error("links: HTTP " + r.status))))
        .then((c) => draw(c.features))
        .catch((error) => console.warn(error.message));
    } else {
      draw((this.linksByDeposit || {})[id] || []);
    }
  };

  // ---- legend, layer control and languages -------------------------------------------------

  EMap.prototype.drawLegend = function () {
    if (!this.legend || !this.legend.getContainer()) return;
    const box = this.legend.getContainer();
    box.replaceChildren();
    box.dir = this.rtl() ? "rtl" : "ltr";
    box.appendChild(el("h3", null, this.t("ui", "legend")));
    for (const [layer] of this.overlays) {
      if (!this.onMap[layer.id]) continue;
      if (layer.raster) {
        box.appendChild(this.rasterLegend(layer));  // emining-rasters.js
        continue;
      }
      const section = el("section", "em-legend-layer");
      section.dataset.layer = layer.id;
      section.appendChild(el("h4", null, layer.title[this.lang] || layer.title.en));
      const style = layer.style;
      let values = Object.keys(style.colours);
      const found = this.present[layer.id];
      if (layer.source.kind !== "tiles" && found && found.size) {
        values = values.filter((v) => found.has(v));
        if (found.has("")) values.push("");
      }
      const list = el("ul");
      const entries = style.by ? values : [""];
      for (const value of entries) {
        const item = el("li");
        item.dataset.value = value;
        const swatch = el("span", "em-swatch em-swatch-" + (layer.id === "links" ? "line" : style.geometry));
        const colour = value ? style.colours[value] : style.colour;
        swatch.style.background = colour;
        swatch.style.borderColor = colour;
        item.appendChild(swatch);
        const label = value ? this.t("terms", value) : style.by ? this.t("ui", "other") : layer.title[this.lang] || layer.title.en;
        item.appendChild(el("span", "em-entry", label));
        list.appendChild(item);
      }
      section.appendChild(list);
      if (layer.shown !== null && layer.shown !== undefined && layer.shown < layer.total) {
        const text = this.t("ui", "shown_of").replace("{shown}", layer.shown.toLocaleString()).replace("{total}", layer.total.toLocaleString());
        section.appendChild(el("p", "em-partial", text));
      } else if (layer.source.kind === "tiles") {
        section.appendChild(el("p", "em-partial", this.t("ui", "tiles") + " · " + layer.total.toLocaleString()));
      }
      box.appendChild(section);
    }
  };

  EMap.prototype.relabelControl = function () {
    // Re-adding each overlay under its new name keeps the control's order and checked state.
    for (const [layer, group] of this.overlays) {
      this.control.removeLayer(group);
      this.control.addOverlay(group, layer.title[this.lang] || layer.title.en);
    }
    const container = this.control.getContainer();
    if (container) container.dir = this.rtl() ? "rtl" : "ltr";
  };

  EMap.prototype.addLanguageSwitch = function () {
    const control = L.control({ position: "topleft" });
    control.onAdd = () => {
      const box = el("div", "em-languages leaflet-bar leaflet-control");
      box.setAttribute("role", "group");
      for (const code in this.config.languages) {
        const button = el("button", "em-lang", this.config.languages[code]);
        button.type = "button";
        button.lang = code;
        button.dataset.lang = code;
        button.addEventListener("click", () => this.setLanguage(code));
        box.appendChild(button);
      }
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    this.languageSwitch = control.addTo(this.map);
  };

  EMap.prototype.setLanguage = function (code) {
    this.lang = code in this.config.languages ? code : "en";
    const dir = this.rtl() ? "rtl" : "ltr";
    document.documentElement.lang = this.lang;
    document.title = this.t("ui", "map_title");
    const container = this.map.getContainer();
    container.dataset.lang = this.lang;
    const pane = this.map.getPane("popupPane");
    if (pane) pane.dir = dir;
    const switcher = this.languageSwitch.getContainer();
    switcher.dir = dir;
    for (const button of switcher.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === this.lang));
    }
    this.relabelControl();
    this.drawLegend();
    // An open popup is rebuilt in the new language. Its box is read from the page: a popup
    // bound to a feature holds the function that builds the box, not the box.
    this.map.eachLayer((layer) => {
      if (layer instanceof L.Popup && layer.isOpen && layer.isOpen()) {
        const old = layer.getElement() && layer.getElement().querySelector(".em-popup");
        if (old && old.dataset && old.dataset.layer) {
          const config = this.config.layers.find((l) => l.id === old.dataset.layer);
          const source = layer._source;
          const props = (source && source.feature && source.feature.properties) || null;
          if (config && props) layer.setContent(this.popup(config, old.dataset.id, props));
        }
      }
    });
  };

  window.EMiningMap = {
    EMap: EMap,  // extended by emining-rasters.js
    el: el,
    init: function (leaflet, config) {
      const instance = new EMap(leaflet, config);
      instance.start();
      window.eminingMap = instance;
      return instance;
    },
  };
})();
