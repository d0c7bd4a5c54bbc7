/* A small drawing tool for Leaflet: polygon, line or point.
 * Click to add a vertex; double-click or finish() ends the shape; Escape cancels.
 * The result is a GeoJSON geometry in longitude/latitude. */
(function () {
  "use strict";

  function DrawTool(map, onDone) {
    this.map = map;
    this.onDone = onDone;
    this.mode = null;
    this.points = [];
    this.preview = null;
    this.result = null;
    this._click = this._onClick.bind(this);
    this._dbl = this._onDbl.bind(this);
    this._key = this._onKey.bind(this);
  }

  DrawTool.prototype.start = function (mode) {
    this.cancel();
    this.clear();
    this.mode = mode;
    this.points = [];
    this.map.doubleClickZoom.disable();
    this.map.getContainer().style.cursor = "crosshair";
    L.DomUtil.addClass(this.map.getContainer(), "zoning-drawing");  /* features let clicks through */
    this.map.on("click", this._click);
    this.map.on("dblclick", this._dbl);
    document.addEventListener("keydown", this._key);
  };

  DrawTool.prototype._stop = function () {
    this.map.off("click", this._click);
    this.map.off("dblclick", this._dbl);
    document.removeEventListener("keydown", this._key);
    this.map.getContainer().style.cursor = "";
    L.DomUtil.removeClass(this.map.getContainer(), "zoning-drawing");
    this.map.doubleClickZoom.enable();
    this.mode = null;
  };

  DrawTool.prototype.cancel = function () {
    if (this.mode) { this._stop(); }
    if (this.preview && !this.result) { this.map.removeLayer(this.preview); this.preview = null; }
  };

  DrawTool.prototype.clear = function () {
    if (this.preview) { this.map.removeLayer(this.preview); }
    this.preview = null;
    this.result = null;
  };

  // the finished shape on the map or off it (kept either way: another pane is on screen)
  DrawTool.prototype.show = function (visible) {
    if (!this.preview) { return; }
    if (visible) { this.preview.addTo(this.map); } else { this.map.removeLayer(this.preview); }
  };

  DrawTool.prototype._onKey = function (e) { if (e.key === "Escape") { this.cancel(); } };

  DrawTool.prototype._redraw = function () {
    if (this.preview) { this.map.removeLayer(this.preview); }
    var style = { color: "#000", weight: 2, dashArray: "5 4", fillOpacity: 0.1, className: "zoning-drawn" };
    if (this.mode === "polygon" && this.points.length >= 3) {
      this.preview = L.polygon(this.points, style);
    } else if (this.points.length >= 2) {
      this.preview = L.polyline(this.points, style);
    } else if (this.points.length === 1) {
      this.preview = L.circleMarker(this.points[0], { radius: 5, color: "#000", className: "zoning-drawn" });
    } else {
      this.preview = null;
    }
    if (this.preview) { this.preview.addTo(this.map); }
  };

  DrawTool.prototype._onClick = function (e) {
    var ll = e.latlng;
    var last = this.points[this.points.length - 1];
    if (last && last.lat === ll.lat && last.lng === ll.lng) { return; }
    this.points.push(ll);
    this._redraw();
    if (this.mode === "point") { this.finish(); }
  };

  DrawTool.prototype._onDbl = function (e) {
    L.DomEvent.stop(e);
    this.finish();
  };

  DrawTool.prototype.finish = function () {
    if (!this.mode) { return this.result; }
    var mode = this.mode;
    var pts = this.points.map(function (p) { return [p.lng, p.lat]; });
    var need = { polygon: 3, line: 2, point: 1 }[mode];
    if (pts.length < need) { return null; }
    this._stop();
    var geom;
    if (mode === "point") {
      geom = { type: "Point", coordinates: pts[0] };
    } else if (mode === "line") {
      geom = { type: "LineString", coordinates: pts };
    } else {
      geom = { type: "Polygon", coordinates: [pts.concat([pts[0]])] };
    }
    this.result = geom;
    if (this.onDone) { this.onDone(geom); }
    return geom;
  };

  window.ZoningDraw = DrawTool;
})();
