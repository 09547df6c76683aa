// Raster layers of the folium map (layers/map_rasters.py writes their configuration). Each raster
// is an overlay of the layer control, off at first, drawn from the API's PNG tiles (/map) or from
// one inlined picture (a standalone file). Switched on, its legend (the colour ramp over its value
// range, asked of /collections/{raster}/legend once, or inlined) joins the map's legend. A
// concession's popup lists each raster's statistics over the block (min, max, mean, std and count
// of valid cells), asked of /collections/{raster}/zonal?collection=concessions&ids=ID when the
// popup opens, or read from the statistics computed when the file was written.
(function () {
  "use strict";
  const EMap = window.EMiningMap && window.EMiningMap.EMap;
  if (!EMap) return;
  const el = window.EMiningMap.el;
  const ready = window.eminingReady || (window.eminingReady = {});
  const STATS = ["mean", "min", "max", "std"];

  function json(url) {
    return fetch(url, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(url + ": HTTP " + r.status))));
  }

  EMap.prototype.startRasters = function () {
    this.legends = {};  // raster id → legend document (null while it is being asked for)
    this.zonalRows = {};  // "raster/layer/id" → promise of that feature's statistics
    for (const raster of this.config.rasters || []) {
      const layer = this.groups[raster.id];
      this.overlays.push([raster, layer]);
      this.onMap[raster.id] = this.map.hasLayer(layer);
      if (raster.legend) this.legends[raster.id] = raster.legend;
      // "load": every tile in view (or the picture) has been fetched; for tests and benches.
      layer.on("load", () => {
        if (ready[raster.id]) return;
        const tiles = layer._tiles ? Object.keys(layer._tiles).length : 0;
        ready[raster.id] = { at: performance.now(), tiles: tiles, features: 0 };
      });
    }
  };

  EMap.prototype.title = function (layer) {
    return layer.title[this.lang] || layer.title.en;
  };

  EMap.prototype.stat = function (value) {
    return value.toLocaleString(this.locale(), { maximumSignificantDigits: 4 });
  };

  // ---- legend ------------------------------------------------------------------------------

  EMap.prototype.rasterLegend = function (raster) {
    const section = el("section", "em-legend-layer em-legend-raster");
    section.dataset.layer = raster.id;
    section.appendChild(el("h4", null, this.title(raster)));
    const legend = this.legends[raster.id];
    if (!legend) {
      this.askLegend(raster);
      return section;
    }
    const ramp = el("div", "em-ramp");
    ramp.style.background = "linear-gradient(to right, " + legend.stops.map((s) => s.color).join(", ") + ")";
    const scale = el("div", "em-ramp-scale");
    scale.dir = "ltr";  // low values on the left whatever the language's direction
    // The ramp spans the 2nd-98th percentile; values beyond take its end colours.
    scale.appendChild(el("span", "em-ramp-low", "≤ " + this.stat(legend.range[0])));
    scale.appendChild(el("span", "em-ramp-high", "≥ " + this.stat(legend.range[1])));
    section.appendChild(ramp);
    section.appendChild(scale);
    const units = [this.unit(legend.units), raster.band].filter((x) => x).join(" · ");
    if (units) section.appendChild(el("p", "em-units", units));
    // What the surface means and what it does not (layers/map_texts.py RASTERS).
    if (raster.about) section.appendChild(el("p", "em-caveat", raster.about[this.lang] || raster.about.en));
    return section;
  };

  EMap.prototype.askLegend = function (raster) {
    if (this.legends[raster.id] !== undefined || !raster.legendUrl) return;
    this.legends[raster.id] = null;
    json(raster.legendUrl)
      .then((legend) => {
        this.legends[raster.id] = legend;
        this.drawLegend();
      })
      .catch((error) => {
        delete this.legends[raster.id];
        console.warn("legend of " + raster.id + " not loaded: " + error.message);
      });
  };

  // ---- zonal statistics in popups ----------------------------------------------------------

  EMap.prototype.showZonal = function (box, layerId, id) {
    const rasters = (this.config.rasters || []).filter((r) => r.zonal.layers.indexOf(layerId) >= 0);
    if (!rasters.length || id === undefined || id === null) return;
    const section = el("div", "em-zonal");
    section.appendChild(el("h4", null, this.t("ui", "zonal")));
    box.appendChild(section);
    for (const raster of rasters) {
      const part = el("div", "em-zonal-raster");
      part.dataset.raster = raster.id;
      part.appendChild(el("h5", null, this.title(raster) + (raster.band ? " (" + raster.band + ")" : "")));
      section.appendChild(part);  // in order now; the numbers may come later
      this.zonalRow(raster, layerId, id)
        .then((row) => this.drawZonal(part, raster, row))
        .catch((error) => console.warn("statistics of " + raster.id + " not loaded: " + error.message));
    }
  };

  EMap.prototype.zonalRow = function (raster, layerId, id) {
    const key = raster.id + "/" + layerId + "/" + id;
    if (this.zonalRows[key]) return this.zonalRows[key];
    let row;
    if (raster.zonal.data) {
      row = Promise.resolve((raster.zonal.data[layerId] || {})[id] || { count: 0 });
    } else {
      const url = new URL(raster.zonal.url, window.location.href);
      url.searchParams.set("collection", layerId);
      url.searchParams.set("ids", id);
      row = json(url.href).then((doc) => doc.zones[0] || { count: 0 });
      row.catch(() => delete this.zonalRows[key]);  // asked again next time
    }
    return (this.zonalRows[key] = row);
  };

  EMap.prototype.drawZonal = function (part, raster, row) {
    if (!row.count) {
      part.appendChild(el("p", "em-none", this.t("ui", "no_cells")));
      return;
    }
    const table = el("table", "em-zonal-table");
    const head = table.insertRow();
    const values = table.insertRow();
    for (const name of STATS) {
      head.appendChild(el("th", null, this.t("ui", name)));
      values.appendChild(el("td", "em-" + name, this.stat(row[name])));
    }
    head.appendChild(el("th", null, this.t("ui", "cells")));
    values.appendChild(el("td", "em-count", this.value("count", row.count)));
    part.appendChild(table);
    if (raster.units) part.appendChild(el("p", "em-units", this.unit(raster.units)));
  };
})();
