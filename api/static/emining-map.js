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

  function known(value) {
    return value !== null && value !== undefined;
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
      // A disclosure: open on a wide screen, closed on a phone (its summary stays a button).
      const box = el("details", "em-legend leaflet-control");
      box.open = !this.narrow();
      box.appendChild(el("summary", "em-legend-title"));
      const body = el("div", "em-legend-body");
      body.tabIndex = 0;  // it scrolls: reachable by keyboard
      box.appendChild(body);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    this.legend.addTo(map);
    L.control.scale({ position: "bottomright", imperial: false }).addTo(map);
    if (this.narrow()) this.control.collapse();
    this.starting = true;  // no totals asked before the first view's tiles (askTotals)
    this.setLanguage(this.lang);
    map.getContainer().classList.add("em-map");
    // Fitted before any layer loads: tiles and clusters are asked for once, at the final view.
    this.fitFirstView();
    // Layers off at first are fetched when first switched on: in the first view their requests
    // (and the server's work for them) only competed with the deposits' tiles. Inlined data
    // (a standalone file) costs no request and is read at once (the links a popup lists).
    for (const [layer, group] of this.overlays) {
      if (layer.raster) continue;
      if (this.onMap[layer.id] || layer.source.kind === "inline") this.load(layer, group);
      else group.once("add", () => this.load(layer, group));
    }
    this.starting = false;
    this.askTotals();  // at once when no tile layer is drawn in the first view
    this.startBasemap();  // emining-basemap.js: asked for after the data, drawn under it
  };

  EMap.prototype.narrow = function () {
    return this.map.getSize().x < 700;
  };

  // The first view: Pakistan fitted in the part of the map that the controls leave free. The
  // controls sit in the corners; padding either the sides or the top and bottom by what they
  // take, whichever leaves Pakistan larger (sides on a landscape screen, top/bottom on a phone).
  EMap.prototype.fitFirstView = function () {
    const map = this.map;
    const box = map.getContainer().getBoundingClientRect();
    const pad = { left: 0, right: 0, top: 0, bottom: 0 };
    const bars = { top: 0, bottom: 0 };
    for (const corner in map._controlCorners) {
      for (const control of map._controlCorners[corner].children) {
        const r = control.getBoundingClientRect();
        if (!r.width || !r.height) continue;
        const bar = r.width > box.width * 0.4;  // a wide, low strip (attribution): top/bottom only
        if (bar && corner.indexOf("top") >= 0) bars.top = Math.max(bars.top, r.bottom - box.top);
        else if (bar) bars.bottom = Math.max(bars.bottom, box.bottom - r.top);
        if (bar) continue;
        if (corner.indexOf("left") >= 0) pad.left = Math.max(pad.left, r.right - box.left);
        else pad.right = Math.max(pad.right, box.right - r.left);
        if (corner.indexOf("top") >= 0) pad.top = Math.max(pad.top, r.bottom - box.top);
        else pad.bottom = Math.max(pad.bottom, box.bottom - r.top);
      }
    }
    const m = 6;
    const sides = { paddingTopLeft: [pad.left + m, bars.top + m], paddingBottomRight: [pad.right + m, bars.bottom + m] };
    const ends = { paddingTopLeft: [m, Math.max(pad.top, bars.top) + m], paddingBottomRight: [m, Math.max(pad.bottom, bars.bottom) + m] };
    const size = map.getSize();
    const zoom = (o) => {
      const padding = L.point(o.paddingTopLeft).add(o.paddingBottomRight);
      if (padding.x >= size.x - 100 || padding.y >= size.y - 100) return -Infinity;  // no room
      return map.getBoundsZoom(this.config.bounds, false, padding);
    };
    const best = zoom(sides) >= zoom(ends) ? sides : ends;
    map.fitBounds(this.config.bounds, Object.assign({ animate: false }, best));
    this.firstView = best;
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
        if (!known(layer.total) && known(collection.numberMatched)) layer.total = collection.numberMatched;
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
    if (layer.id === "provinces") this.learnNames(features);
    const background = layer.style.geometry === "polygon" && !layer.style.by;
    const kind = isLink ? "links" : background ? "background" : layer.style.geometry;
    const geojson = L.geoJSON({ type: "FeatureCollection", features: features }, {
      pane: PANES[kind][0],
      style: (f) => self.pathStyle(layer, f.properties || {}, f.geometry && f.geometry.type, f.id),
      pointToLayer: (f, latlng) => {
        const options = self.pathStyle(layer, f.properties || {}, "Point", f.id);
        options.pane = PANES.point[0];
        if (layer.style.shape && layer.style.shape !== "circle") return self.shapeMarker(latlng, options, layer.style.shape);
        return L.circleMarker(latlng, options);
      },
      onEachFeature: (f, item) => {
        self.note(layer, (f.properties || {})[layer.style.by]);
        item.feature = f;
        item.bindPopup(() => self.popup(layer, f.id, f.properties || {}, f.geometry), { maxWidth: 360, minWidth: 220, maxHeight: 380 });
      },
    });
    if (layer.cluster) {
      // Featured commodities (copper, gold) stay out of the clusters, drawn on their own from
      // the first view; the companion group follows the cluster group on and off the map.
      const featured = layer.featured || [];
      const first = (f) => { const v = (f.properties || {})[layer.style.by]; return Array.isArray(v) ? v[0] : typeof v === "string" ? v.split(",")[0] : v; };
      const alone = geojson.getLayers().filter((m) => featured.indexOf(first(m.feature)) >= 0);
      group.addLayers(geojson.getLayers().filter((m) => alone.indexOf(m) < 0));
      if (alone.length) alone.forEach((m) => this.companion(group).addLayer(m));
    } else geojson.getLayers().forEach((item) => group.addLayer(item));
    this.drawLegend();
    if (!ready[layer.id]) ready[layer.id] = { at: performance.now(), tiles: 0, features: features.length };
  };

  // Squares (SEZs) and diamonds (facilities) as inline SVG, so that kinds differ by shape as
  // well as colour; the path carries the feature's classes like a circle marker's.
  EMap.prototype.shapeMarker = function (latlng, options, shape) {
    const size = 2 * options.radius + 4;
    const c = size / 2;
    const r = options.radius;
    const d = shape === "square"
      ? "M" + (c - r) + " " + (c - r) + "h" + 2 * r + "v" + 2 * r + "h" + -2 * r + "z"
      : "M" + c + " " + (c - r - 1) + "L" + (c + r + 1) + " " + c + "L" + c + " " + (c + r + 1) + "L" + (c - r - 1) + " " + c + "z";
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + size + '" height="' + size + '" aria-hidden="true">' +
      '<path class="' + options.className + '" d="' + d + '" fill="' + options.fillColor + '" fill-opacity="' + options.fillOpacity +
      '" stroke="#ffffff" stroke-width="1.5"/></svg>';
    const icon = L.divIcon({ html: svg, className: "em-shape em-shape-" + shape, iconSize: [size, size] });
    return L.marker(latlng, { icon: icon, pane: options.pane, keyboard: false });
  };

  EMap.prototype.companion = function (group) {
    if (!group.featured) {
      group.featured = L.featureGroup();
      if (this.map.hasLayer(group)) group.featured.addTo(this.map);
      group.on("add", () => group.featured.addTo(this.map));
      group.on("remove", () => this.map.removeLayer(group.featured));
    }
    return group.featured;
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
    // Drawn in the first view (on, and at its zoom): the totals wait for its first "load".
    const first = this.map.hasLayer(group) && !ready[layer.id] && this.map.getZoom() >= layer.source.minzoom + shift;
    if (first) this.pendingTiles = (this.pendingTiles || 0) + 1;
    grid.on("load", () => {
      if (ready[layer.id]) return;  // the first full view only, not later pans and zooms
      if (first && --this.pendingTiles === 0) setTimeout(() => this.askTotals(), 0);
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

  // value(), number formats and names in the map's language: emining-i18n.js

  EMap.prototype.popup = function (layer, id, props, geometry) {
    const spec = layer.popup;
    const box = el("div", "em-popup");
    box.dir = this.rtl() ? "rtl" : "ltr";
    box.lang = this.lang;
    box.dataset.layer = layer.id;
    box.dataset.id = id;
    box.appendChild(this.featureTitle(layer, id, props));  // emining-i18n.js
    const table = el("table", "em-fields");
    for (const name of spec.fields) {
      const value = props[name];
      if (value === null || value === undefined || value === "") continue;
      const row = table.insertRow();
      row.appendChild(el("th", null, this.t("fields", name)));
      row.appendChild(this.fill(el("td", "em-" + name), name, value));
    }
    box.appendChild(table);
    this.showResources(box, props.resources);
    if (spec.source && props[spec.source]) {
      const source = el("p", "em-source");
      source.appendChild(el("span", "em-label", this.t("ui", "source") + ": "));
      const link = spec.link && props[spec.link];
      const [text, english] = this.sourceText(props[spec.source]);
      const node = el(isHttp(link) ? "a" : "span", null, text);
      if (isHttp(link)) {
        node.href = link;
        node.target = "_blank";
        node.rel = "noopener noreferrer";
      }
      if (english) this.markEnglish(node);
      source.appendChild(node);
      box.appendChild(source);
    }
    if (layer.details && id !== undefined && id !== null) {
      const a = el("a", "em-details", this.t("ui", "details"));
      a.href = layer.details + "/" + encodeURIComponent(id) + "?f=html";
      box.appendChild(a);
    }
    if (layer.site && id !== undefined && id !== null) {
      const a = el("a", "em-site", this.t("ui", "site_page"));
      a.href = layer.site + "/" + encodeURIComponent(id) + "?lang=" + this.lang;
      box.appendChild(a);
    }
    if (geometry && geometry.type === "Point") this.showAreas(box, layer, geometry.coordinates);
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
    const sep = { zh: "，", ur: "، " }[this.lang] || ", ";
    const unit = (units) => {  // a unit in the map's language, or marked as English
      const node = el("span", null, this.unit(units));
      if (this.lang !== "en" && node.textContent === units) this.markEnglish(node);
      return node;
    };
    for (const r of resources) {
      const row = table.insertRow();
      row.appendChild(el("th", null, this.value("category", r.category) + " · " +
        this.value("commodity", r.commodity)));
      const cell = el("td");
      const add = (...parts) => parts.forEach((p) => cell.append(p));
      if (r.tonnage_mt !== null && r.tonnage_mt !== undefined) add(this.value("t", r.tonnage_mt) + " ", unit("Mt"), " ");
      if (r.grade !== null && r.grade !== undefined) add("@ " + this.value("g", r.grade) + " ", unit(r.grade_unit), " ");
      if (r.contained !== null && r.contained !== undefined) add("(" + this.value("c", r.contained) + " ", unit(r.contained_unit), ") ");
      add("[" + this.value("code", r.reporting_code) + (r.as_of ? sep + this.date(r.as_of) : "") + "]");
      row.appendChild(cell);
    }
    section.appendChild(table);
    box.appendChild(section);
  };

  // A point drawn over an area (a deposit at the centre of its concession block) would hide
  // the area's popup: the point's popup lists the areas under it, each opening its own popup
  // (licence, zonal statistics). Areas come from the layers drawn as features, not tiles.
  EMap.prototype.showAreas = function (box, layer, coordinates) {
    const at = L.latLng(coordinates[1], coordinates[0]);
    const found = [];
    for (const [config, group] of this.overlays) {
      if (config.raster || config.id === layer.id || config.style.geometry !== "polygon" || !config.style.by) continue;
      if (!this.map.hasLayer(group) || !group.eachLayer) continue;
      group.eachLayer((area) => {
        if (area.getBounds && area.getBounds().contains(at) && inside(at, area.getLatLngs())) found.push([config, area]);
      });
    }
    if (!found.length) return;
    const section = el("div", "em-areas");
    for (const [config, area] of found) {
      const p = area.feature.properties || {};
      const [before, after] = this.t("ui", "open_area")
        .replace("{layer}", config.title[this.lang] || config.title.en).split("{name}");
      const button = el("button", "em-open-area", before);
      const name = el("span", null, String(p[config.popup.title] || area.feature.id));
      if (this.lang !== "en") this.markEnglish(name);  // a licence number, as the data writes it
      button.append(name, after || "");
      button.type = "button";
      button.dataset.layer = config.id;
      button.dataset.id = area.feature.id;
      button.addEventListener("click", () => area.openPopup(at));
      section.appendChild(button);
    }
    box.appendChild(section);
  };

  function inside(at, rings) {
    // Even-odd rule over every ring of a (multi)polygon's nested LatLng arrays.
    let hit = false;
    (function walk(list) {
      if (!list.length) return;
      if (list[0] instanceof L.LatLng) {
        for (let i = 0, j = list.length - 1; i < list.length; j = i++) {
          const a = list[i], b = list[j];
          if ((a.lat > at.lat) !== (b.lat > at.lat) && at.lng < ((b.lng - a.lng) * (at.lat - a.lat)) / (b.lat - a.lat) + a.lng) hit = !hit;
        }
      } else list.forEach(walk);
    })(rings);
    return hit;
  }

  EMap.prototype.indexLinks = function (features) {
    const index = this.linksByDeposit || (this.linksByDeposit = {});
    for (const f of features) {
      const p = f.properties || {};
      if (p.from_layer !== "deposits") continue;
      (index[p.from_id] || (index[p.from_id] = [])).push(f);
    }
  };

  EMap.prototype.linkHow = function (p) {
    const km = (v) => this.value("km", v) + " " + this.t("ui", "km");
    const parts = [];
    if (p.rail_km > 0) parts.push(this.t("ui", "by_road") + " " + km(p.road_km), this.t("ui", "by_rail") + " " + km(p.rail_km));
    if (p.transfers > 0) parts.push(p.transfers + " " + this.t("ui", "transfers"));
    if (p.access_detour) {
      parts.push(this.t("ui", "straight").replace("{factor}", this.value("access_detour", p.access_detour))
        .replace("{kmh}", this.value("access_kmh", p.access_kmh)));
    }
    return parts.join(" · ");
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
        const to = el("td", "em-to");
        if (!reached && p.reason) to.appendChild(this.reason(p.reason));
        else if (this.lang !== "en") this.markEnglish(to).textContent = p.to_name;
        else to.textContent = p.to_name;
        row.appendChild(to);
        // Nearest by time: hours first, km beside them, then how (km by mode, transfers, or a
        // straight access leg with its detour factor and speed).
        row.appendChild(el("td", "em-hours", reached ? this.value("hours", p.hours) + " " + this.t("ui", "hours") : ""));
        row.appendChild(el("td", "em-km", reached ? this.value("km", p.km) + " " + this.t("ui", "km") : ""));
        row.appendChild(el("td", "em-how", reached ? this.linkHow(p) : ""));
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
    const details = this.legend.getContainer();
    details.dir = this.rtl() ? "rtl" : "ltr";
    details.querySelector("summary").textContent = this.t("ui", "legend");
    const box = details.querySelector(".em-legend-body");
    box.replaceChildren();
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
        const kind = layer.id === "links" ? "line" : style.geometry === "point" && style.shape !== "circle" ? style.shape : style.geometry;
        const swatch = el("span", "em-swatch em-swatch-" + kind);
        const colour = value ? style.colours[value] : style.colour;
        swatch.style.background = colour;
        if (kind === "line" || kind === "polygon") swatch.style.borderColor = colour;  // points: dark rim
        const dash = value && style.dashes[value];
        if (dash) swatch.classList.add(Number(dash.split(" ")[0]) <= 2 ? "em-dotted" : "em-dashed");
        item.appendChild(swatch);
        const label = value ? this.t("terms", value) : style.by ? this.t("ui", "other") : layer.title[this.lang] || layer.title.en;
        item.appendChild(el("span", "em-entry", label));
        list.appendChild(item);
      }
      section.appendChild(list);
      const partial = known(layer.shown);
      if ((partial || layer.source.kind === "tiles") && !known(layer.total)) this.askTotals();
      if (partial && known(layer.total) && layer.shown < layer.total) {
        const text = this.t("ui", "shown_of").replace("{shown}", layer.shown.toLocaleString()).replace("{total}", layer.total.toLocaleString());
        section.appendChild(el("p", "em-partial", text));
      } else if (layer.source.kind === "tiles") {
        const total = known(layer.total) ? " · " + layer.total.toLocaleString() : "";
        section.appendChild(el("p", "em-partial", this.t("ui", "tiles") + total));
      }
      box.appendChild(section);
    }
  };

  // Layers over the embedding limit may come without their total (api/maps.py: counting them
  // cost the first view seconds); it is asked for once, when the legend first shows the layer,
  // but not before the first view's tiles are drawn (the count would compete with them).
  EMap.prototype.askTotals = function () {
    if (this.starting || this.pendingTiles > 0) return;  // once the first view's tiles are drawn
    const asked = this.totalsAsked || (this.totalsAsked = new Set());
    const missing = this.overlays.map(([layer]) => layer)
      .filter((layer) => !layer.raster && this.onMap[layer.id] && !known(layer.total) && !asked.has(layer.id));
    if (!missing.length || !this.config.totals) return;
    for (const layer of missing) asked.add(layer.id);
    const url = new URL(this.config.totals, window.location.href);
    url.searchParams.set("layers", missing.map((layer) => layer.id).join(","));
    fetch(url, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("totals: HTTP " + r.status))))
      .then((found) => {
        for (const layer of missing) if (known(found[layer.id])) layer.total = found[layer.id];
        this.drawLegend();
      })
      .catch((error) => console.warn(error.message));
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
    if (this.drawPlaces) this.drawPlaces();  // place names in the new language
    // An open popup is rebuilt in the new language. Its box is read from the page: a popup
    // bound to a feature holds the function that builds the box, not the box.
    this.map.eachLayer((layer) => {
      if (layer instanceof L.Popup && layer.isOpen && layer.isOpen()) {
        const old = layer.getElement() && layer.getElement().querySelector(".em-popup");
        if (old && old.dataset && old.dataset.layer) {
          const config = this.config.layers.find((l) => l.id === old.dataset.layer);
          const source = layer._source;
          const props = (source && source.feature && source.feature.properties) || null;
          if (config && props) layer.setContent(this.popup(config, source.feature.id, props, source.feature.geometry));
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
