/* The review page: put in a site, check it, show the verdict on a map; batch lists.
 * Every piece of text from the server or the user is set with textContent (never HTML). */
(function () {
  "use strict";

  // the colours of the HTML maps and the report figures, from GET /api/options (style)
  var STYLE = { states: {}, layers: {}, kinds: {} };
  var HEX = /^#[0-9a-fA-F]{3,8}$/;
  var UNIT = { mu: ["亩", 3], ha: ["公顷", 4], m2: ["m²", 1] };

  var OPTIONS = { access_outcome: {} };
  var map, baseLayers = [], siteLayers = null, drawTool;
  var REGION_NAME = {}, DRAW_HINT = "", mode = "upload", lastResult = null, batchRows = [], batchJob = null, sortKey = null, sortDir = 1;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) { continue; }
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function fmt(x, nd) {
    if (x === null || x === undefined) { return "-"; }
    return Number(x).toLocaleString("zh-CN", { minimumFractionDigits: nd, maximumFractionDigits: nd });
  }

  function api(path, opts) {
    return fetch(path, Object.assign({ credentials: "same-origin" }, opts || {})).then(function (r) {
      return r.json().catch(function () { return { code: "bad_response", message: "服务器返回了无法解析的内容（HTTP " + r.status + "）" }; })
        .then(function (body) { return { ok: r.ok, status: r.status, body: body, headers: r.headers }; });
    }, function () {
      return { ok: false, status: 0, body: { code: "network", message: "无法连接服务器" } };
    });
  }

  function showError(box, body) {
    box.textContent = (body && body.message) || "出错了";
    box.classList.remove("hidden");
  }

  /* ------------------------------------------------------------------ map */

  function initMap() {
    L.Icon.Default.imagePath = "/static/leaflet/";  // the vendored images are not in images/
    map = L.map("map", { preferCanvas: false }).setView([26.6, 106.7], 9);
    DRAW_HINT = $("draw-hint").textContent;
    L.control.scale({ imperial: false }).addTo(map);
    drawTool = new window.ZoningDraw(map, function (geom) {
      $("draw-hint").textContent = "已绘制" + { Polygon: "多边形", LineString: "线", Point: "点" }[geom.type] + "，可点“检 查”。";
    });
    var saved = localStorage.getItem("zoning.basemap") || "none";
    $("tdt-key").value = localStorage.getItem("zoning.tdtkey") || "";
    $("basemap").value = saved;
    $("basemap").addEventListener("change", setBasemap);
    $("tdt-key").addEventListener("change", setBasemap);
    setBasemap();
  }

  // the served regions' districts, outlined and named under everything else: the page's
  // first view, and what one orients by where there is no basemap (an intranet)
  function loadDistricts() {
    return api("/api/districts").then(function (r) {
      if (!r.ok || !r.body || !(r.body.features || []).length) { return; }
      var layer = L.geoJSON(r.body, {
        interactive: false,
        style: function () {
          return { color: "#6d4c41", weight: 1.2, dashArray: "4 3", fill: false, className: "zoning-district" };
        },
        onEachFeature: function (f, l) {  // a DOM node, never HTML: names come from data
          l.bindTooltip(el("span", null, f.properties.name || ""),
            { permanent: true, direction: "center", className: "district-label", interactive: false });
        }
      }).addTo(map);
      layer.bringToBack();
      // far out (several regions at once) the district names pile up: one name per region
      var regions = {};
      layer.eachLayer(function (l) {
        var name = l.feature.properties.region || "";
        regions[name] = regions[name] ? regions[name].extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast());
      });
      Object.keys(regions).forEach(function (name) {
        L.tooltip({ permanent: true, direction: "center", className: "region-label", interactive: false })
          .setLatLng(regions[name].getCenter()).setContent(el("span", null, name)).addTo(map);
      });
      var sizeLabels = function () { $("map").classList.toggle("far-out", map.getZoom() < 8); };
      map.on("zoomend", sizeLabels);
      if (!siteLayers) { map.fitBounds(layer.getBounds()); }
      sizeLabels();
    });
  }

  // a verdict badge for a narrow column: it breaks before its bracketed part
  // (需补充信息 / （需人工核查）), never inside a word
  function stateBadge(state, text) {
    var i = (text || "").indexOf("（");
    if (i <= 0) { return el("span", { class: "state s-" + state }, text || ""); }
    return el("span", { class: "state s-" + state },
      el("span", { class: "nobr" }, text.slice(0, i)), el("span", { class: "nobr" }, text.slice(i)));
  }

  function legendItem(colour, text, dashed) {
    var i = el("i", dashed ? { class: "dashed" } : null);
    if (!dashed) { i.style.background = colour; }
    return el("span", { class: "legend-item" }, i, text);
  }

  // entries: [[colour, words], …]; the site's own outline first (a point: its marker)
  function setLegend(entries, point) {
    var legend = $("map-legend"), seen = {};
    clear(legend);
    // the site as drawn, a dashed outline: never read as a verdict's filled square
    legend.appendChild(point ? legendItem("#000", "项目位置（黑边圆点，按结论着色）", true)
      : legendItem("#000", "项目范围（虚线）", true));
    entries.forEach(function (e) {
      if (!seen[e[1]]) { seen[e[1]] = true; legend.appendChild(legendItem(e[0], e[1])); }
    });
  }

  function layerColour(p) {  // [outline, fill] of a feature: its own, else its kind's
    var c = p.colour || STYLE.layers[p.kind] || ["#555", "#eeeeee"];
    return [HEX.test(c[0]) ? c[0] : "#555", HEX.test(c[1]) ? c[1] : "#eeeeee"];
  }

  function isPoint(f) { return Boolean(f.geometry && /Point/.test(f.geometry.type)); }

  function stateColour(state) { var c = STYLE.states[state]; return HEX.test(c || "") ? c : "#333"; }

  // the verdict badges (.s-<state>) in the verdicts' colours
  function applyStyle(style) {
    STYLE = { states: style.states || {}, layers: style.layers || {}, kinds: style.kinds || {} };
    var rules = Object.keys(STYLE.states).filter(function (k) { return /^[a-z_]+$/.test(k); })
      .map(function (k) {
        var c = stateColour(k);
        return ".s-" + k + " { background: " + c + "; color: " + textOn(c) + "; }";
      });
    var node = $("state-colours") || document.head.appendChild(el("style", { id: "state-colours" }));
    node.textContent = rules.join("\n");
    kindLegend();
  }

  function kindLegend() {
    setLegend(Object.keys(STYLE.layers).filter(function (k) { return k !== "shoreline"; })
      .map(function (k) { return [layerColour({ kind: k })[1], STYLE.kinds[k] || k]; }));
  }

  // white or near-black text, whichever contrasts more (WCAG) with a badge of colour c
  function textOn(c) {
    var h = c.length === 4 ? c.replace(/#(.)(.)(.)/, "#$1$1$2$2$3$3") : c;
    var lum = [1, 3, 5].map(function (i) {
      var v = parseInt(h.substr(i, 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    var y = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return 1.05 / (y + 0.05) >= (y + 0.05) / 0.0556 ? "#fff" : "#111";  // #111: 0.0056
  }

  function setBasemap() {
    var which = $("basemap").value;
    var key = $("tdt-key").value.trim();
    localStorage.setItem("zoning.basemap", which);
    localStorage.setItem("zoning.tdtkey", key);
    $("tdt-key").classList.toggle("hidden", which !== "tianditu");
    baseLayers.forEach(function (l) { map.removeLayer(l); });
    baseLayers = [];
    if (which === "osm") {
      baseLayers.push(L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
        { maxZoom: 19, attribution: "© OpenStreetMap" }));
    } else if (which === "tianditu" && key) {
      ["vec", "cva"].forEach(function (layer) {
        baseLayers.push(L.tileLayer("https://t{s}.tianditu.gov.cn/" + layer + "_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=" +
          layer + "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + encodeURIComponent(key),
          { subdomains: "01234567", maxZoom: 18, attribution: "天地图" }));
      });
    }
    baseLayers.forEach(function (l) { l.addTo(map); });
  }

  function popupFor(p) {
    var box = el("div", null, el("b", null, (p.kind_zh || "") + " " + (p.id || "")));
    if (p.name) { box.appendChild(el("div", null, "名称：" + p.name)); }
    box.appendChild(el("div", null, p.hit ? "涉及（与项目重叠）" : "未涉及"));
    return box;
  }

  function drawSite(data, state) {
    if (siteLayers) { map.removeLayer(siteLayers); }
    siteLayers = L.featureGroup().addTo(map);
    // the legend says what this map draws: its layers, then the verdicts of its conflicts
    var legend = [];
    data.nearby.features.forEach(function (f) {
      legend.push([layerColour(f.properties)[1], f.properties.kind_zh || f.properties.kind]);
    });
    data.overlaps.features.forEach(function (f) {
      if (f.properties.by_state) { legend.push([stateColour(f.properties.state), "重叠部分：" + (f.properties.state_zh || f.properties.state)]); }
    });
    setLegend(legend, (data.footprint.features || []).some(isPoint));
    L.geoJSON(data.nearby, {
      style: function (f) {
        var s = layerColour(f.properties);
        return { color: s[0], fillColor: s[1], weight: f.properties.hit ? 2 : 1, fillOpacity: 0.25, className: "zoning-nearby" };
      },
      onEachFeature: function (f, layer) { layer.bindPopup(popupFor(f.properties)); }
    }).addTo(siteLayers);
    data.overlaps.features.sort(function (a, b) { return (a.properties.conflict ? 1 : 0) - (b.properties.conflict ? 1 : 0); });
    L.geoJSON(data.overlaps, {
      style: function (f) {
        var s = layerColour(f.properties), p = f.properties;
        var point = isPoint(f);
        // a unit holds the whole site: its overlap an outline, or it tints every other one
        var fill = point ? 0.9 : p.kind === "control_unit" ? 0 : p.by_state ? 0.6 : 0.35;
        if (p.by_state) { return { color: s[0], fillColor: s[1], weight: 3, fillOpacity: fill, className: p.conflict ? "zoning-overlap" : "zoning-overlap-other" }; }
        return { color: s[0], fillColor: s[1], weight: 1, fillOpacity: fill, className: "zoning-overlap-other" };
      },
      pointToLayer: function (f, ll) {  // a point site's overlaps: markers in their colour
        var s = layerColour(f.properties), p = f.properties;
        return L.circleMarker(ll, { radius: 6, color: s[0], fillColor: s[1], fillOpacity: 0.9,
          className: p.by_state && p.conflict ? "zoning-overlap" : "zoning-overlap-other" });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup(el("div", null, el("b", null, (p.conflict ? "冲突重叠：" : "重叠：") + (p.kind_zh || STYLE.kinds[p.kind] || p.kind) + " " + p.feature_id),
          el("div", null, fmt(p.overlap_mu, 3) + " 亩 / " + fmt(p.overlap_m2, 1) + " m²")));
      }
    }).addTo(siteLayers);
    var fp = L.geoJSON(data.footprint, {
      style: function (f) {
        var point = isPoint(f);  // a marker: filled, not dashed
        return { color: "#000", weight: point ? 2 : 3, dashArray: point ? null : "6 4", fillColor: stateColour(state), fillOpacity: point ? 0.9 : 0.1, className: "zoning-footprint" };
      },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 8, color: "#000", fillColor: stateColour(state), fillOpacity: 0.8, className: "zoning-footprint" }); }
    }).addTo(siteLayers);
    var b = fp.getBounds();
    if (b.isValid()) { map.fitBounds(b.pad(0.6), { maxZoom: 17 }); }
  }

  var mapWanted = 0;  // the map reply still wanted: a later request or a clear drops the others

  function loadMap(jobId, row, state) {
    var ticket = ++mapWanted;
    return api("/api/jobs/" + jobId + "/map?row=" + row).then(function (r) {
      if (r.ok && ticket === mapWanted) { drawSite(r.body, state); }
    });
  }

  /* ------------------------------------------------------------------ form */

  function fillSelect(sel, entries, emptyLabel) {
    clear(sel);
    if (emptyLabel !== null) { sel.appendChild(el("option", { value: "" }, emptyLabel)); }
    entries.forEach(function (e) { sel.appendChild(el("option", { value: e[0] }, e[1])); });
  }

  function loadOptions() {
    return api("/api/options").then(function (r) {
      if (!r.ok) { return; }
      var o = r.body;
      OPTIONS = o;
      applyStyle(o.style || {});
      var cs = Object.keys(o.coord_sys).map(function (k) { return [k, o.coord_sys[k]]; });
      fillSelect($("coord-sys"), cs, null);
      fillSelect($("batch-coord-sys"), cs, null);
      fillSelect($("nature"), o.nature.map(function (n) { return [n, n]; }), "未填写");
      fillSelect($("activity"), Object.keys(o.activity).map(function (k) {
        var t = o.activity[k]; return [k, k + "．" + (t.length > 34 ? t.slice(0, 34) + "…" : t)];
      }), "不属于 / 未填写");
      fillSelect($("major-project"), Object.keys(o.major_project).map(function (k) {
        var t = o.major_project[k]; return [k, t.length > 36 ? t.slice(0, 36) + "…" : t];
      }), "不属于 / 未填写");
      fillSelect($("project-type"), Object.keys(o.project_type).map(function (k) { return [k, o.project_type[k]]; }), "未填写");
      if (o.tianditu_key && !$("tdt-key").value) { $("tdt-key").value = o.tianditu_key; }
    });
  }

  var industryTimer = null;
  function searchIndustry() {
    clearTimeout(industryTimer);
    industryTimer = setTimeout(function () {
      var q = $("industry").value.trim();
      api("/api/industries?q=" + encodeURIComponent(q)).then(function (r) {
        var dl = $("industry-list");
        clear(dl);
        if (!r.ok) { return; }
        r.body.forEach(function (d) { dl.appendChild(el("option", { value: d.code }, d.code + " " + d.name)); });
      });
    }, 150);
  }

  function attributes() {
    return {
      industry: $("industry").value.trim(), nature: $("nature").value, takes_land: $("takes-land").value,
      activity: $("activity").value, major_project: $("major-project").value,
      project_type: $("project-type").value, energy_tce: $("energy").value,
      tailings: $("tailings").value, purpose: $("purpose").value  // asked by the 准入清单
    };
  }

  function setMode(m) {
    mode = m;
    document.querySelectorAll(".mode").forEach(function (b) { b.classList.toggle("active", b.dataset.mode === m); });
    ["upload", "draw", "paste"].forEach(function (k) { $("in-" + k).classList.toggle("hidden", k !== m); });
    $("coord-sys-label").classList.toggle("hidden", m === "draw");
    if (m !== "draw") { drawTool.cancel(); }
  }

  function buildRequest() {
    var attrs = attributes();
    if (mode === "draw") {
      var g = drawTool.finish() || drawTool.result;
      if (!g) { return { error: "请先在地图上绘制项目范围" }; }
      return { body: JSON.stringify({ geometry: g, coord_sys: "wgs84", name: $("name").value, attributes: attrs }),
               headers: { "Content-Type": "application/json" } };
    }
    var fd = new FormData();
    Object.keys(attrs).forEach(function (k) { if (attrs[k] !== "") { fd.append(k, attrs[k]); } });
    fd.append("coord_sys", $("coord-sys").value);
    if ($("name").value) { fd.append("name", $("name").value); }
    if (mode === "upload") {
      var f = $("site-file").files[0];
      if (!f) { return { error: "请选择项目范围文件" }; }
      fd.append("file", f, f.name);
    } else {
      if (!$("coords").value.trim()) { return { error: "请粘贴坐标" }; }
      fd.append("coordinates", $("coords").value);
      fd.append("shape", $("shape").value);
    }
    return { body: fd };
  }

  function regionName(id) {
    if (!id) { return "-"; }  // a footprint in two regions: "a+b"
    return id.split("+").map(function (x) { return REGION_NAME[x] || x; }).join("、");
  }

  function clearSite() {
    mapWanted++;  // a map reply still on its way is for a site no longer on screen
    if (siteLayers) { map.removeLayer(siteLayers); siteLayers = null; }
    kindLegend();  // a legend for no site: the layer kinds
  }

  function clearResult() {
    // a verdict on screen always belongs to the input on screen: the previous one goes
    // before the next check runs, whether that check succeeds or fails
    $("result").classList.add("hidden");
    lastResult = null;
    clearSite();
  }

  function runCheck() {
    var box = $("check-error");
    box.classList.add("hidden");
    clearResult();
    var req = buildRequest();
    if (req.error) { showError(box, { message: req.error }); return; }
    $("run-check").disabled = true;
    $("run-check").textContent = "检查中…";
    api("/api/check", { method: "POST", body: req.body, headers: req.headers || {} }).then(function (r) {
      $("run-check").disabled = false;
      $("run-check").textContent = "检 查";
      if (!r.ok) { showError(box, r.body); return; }
      var jobId = r.headers.get("X-Zoning-Job");
      lastResult = r.body;
      renderResult(r.body, jobId);
      $("result").scrollIntoView({ block: "start" });  // the answer first, not the form
      if (jobId) { loadMap(jobId, r.body.row || 1, r.body.state); }
    });
  }

  /* ------------------------------------------------------------------ result */

  function areaText(a, unit) {
    if (!a || !a.m2) { return "-"; }
    return fmt(a[unit], UNIT[unit][1]);
  }

  function renderResult(res, jobId) {
    $("result").classList.remove("hidden");
    var v = $("verdict");
    v.textContent = res.status === "ok" ? (res.state_zh || "") : "失败：" + res.error;
    v.className = "state s-" + (res.state || "prohibited");
    v.dataset.state = res.state || "";
    var unit = $("unit").value;
    var info = "项目 " + (res.project_id || "") + (res.name && res.name !== res.project_id ? " " + res.name : "") +
      "　区域 " + regionName(res.region);
    if (res.geometry_type === "polygon") { info += "　面积 " + areaText(res.area, unit) + " " + UNIT[unit][0]; }
    if (res.geometry_type === "line") { info += "　长度 " + fmt(res.length_m, 1) + " m"; }
    $("site-info").textContent = info;
    var basis = $("basis");
    clear(basis);
    (res.basis || []).forEach(function (b) { basis.appendChild(el("li", null, b)); });
    renderLayers(res, unit);
    var w = $("warnings");
    clear(w);
    (res.warnings || []).forEach(function (t) { w.appendChild(el("li", null, "注意：" + t)); });
    renderAccess(res.access);
    renderDownloads($("downloads"), jobId, false);
  }

  function renderLayers(res, unit) {
    $("area-head").textContent = "重叠（" + UNIT[unit][0] + "）";
    var tb = $("layer-table").tBodies[0];
    clear(tb);
    (res.layers || []).forEach(function (lr) {
      var st = stateBadge(lr.state, lr.state_zh);
      var basis = lr.basis + (lr.notes && lr.notes.length ? "；" + lr.notes.join("；") : "");
      var tr = el("tr", { "data-layer": lr.layer },
        el("td", null, lr.kind_zh, el("br"), el("small", null, lr.layer)), el("td", null, st),
        el("td", { title: lr.relation }, (OPTIONS.relation || {})[lr.relation] || lr.relation),
        el("td", null, lr.overlap_length_m && !(lr.overlap && lr.overlap.m2) ?
          fmt(lr.overlap_length_m, 1) + " m" : areaText(lr.overlap, unit)),
        el("td", null, lr.share ? (lr.share * 100).toFixed(2) + "%" : "-"),
        el("td", null, lr.nearest_m === null ? "-" : fmt(lr.nearest_m, 0) + " m"));
      tb.appendChild(tr);
      // the legal basis on a full-width line under its layer: a narrow column of it
      // squeezed the layer names to a letter a line
      tb.appendChild(el("tr", { class: "basis-row", "data-basis-of": lr.layer },
        el("td", { colspan: "6" }, "依据：" + basis)));
    });
  }

  function renderAccess(acc) {
    var det = $("access");
    var tb = $("access-table").tBodies[0];
    clear(tb);
    det.open = false;
    if (!acc) { det.classList.add("hidden"); return; }
    det.classList.remove("hidden");
    var outcome = acc.outcome_zh || OPTIONS.access_outcome[acc.outcome] || acc.outcome;
    $("access-outcome").textContent = outcome ? "（结论：" + outcome + "）" : "";
    $("access-units").textContent = "所在环境管控单元：" + (acc.units || []).map(function (u) {
      return u.code + " " + u.name + "（" + u.unit_class_zh + "，占" + (u.share * 100).toFixed(1) + "%）";
    }).join("；");
    (acc.findings || []).forEach(function (f) {
      if (f.outcome === "not_applicable") { return; }
      // three columns fit the panel: where and which clause | the clause and the analysis |
      // the outcome (six squeezed every short column to a letter a line)
      tb.appendChild(el("tr", null,
        el("td", null, f.unit_code, el("br"), f.dimension, el("br"),
          el("small", null, f.jurisdiction + " " + f.rule_id)),
        el("td", null, (f.real ? "" : "〔示例〕") + f.clause,
          el("div", { class: "finding" }, "分析：" + f.finding)),
        el("td", null, f.outcome_zh)));
    });
  }

  function renderDownloads(box, jobId, batch) {
    clear(box);
    if (!jobId) { return; }
    var files = [["screening.xlsx", "工作簿 (xlsx)"], ["overlaps.geojson", "重叠范围 GeoJSON"]];
    if (!batch) {
      var names = { "report.docx": "分析报告 (Word)", "report.pdf": "分析报告 (PDF)" };
      files = (OPTIONS.reports || []).map(function (n) { return [n, names[n] || n]; }).concat(files);
    }
    files = files.concat(batch ? [["outputs.zip", "全部输出 (zip)"]] : [["results.json", "结果 JSON"]]);
    files.forEach(function (f) {
      // saved under the name the server gives (a single check's files: its project's)
      box.appendChild(el("a", { href: "/api/jobs/" + jobId + "/files/" + f[0], download: "",
        "data-file": f[0] }, f[1]));
    });
  }

  /* ------------------------------------------------------------------ batch */

  function runBatch() {
    var box = $("batch-error");
    box.classList.add("hidden");
    var f = $("batch-file").files[0];
    if (!f) { showError(box, { message: "请选择项目清单文件" }); return; }
    var fd = new FormData();
    fd.append("file", f, f.name);
    fd.append("coord_sys", $("batch-coord-sys").value);
    $("run-batch").disabled = true;
    $("batch-status").classList.remove("hidden");
    setProgress(0, "排队中");
    $("batch-table").classList.add("hidden");
    clear($("batch-downloads"));
    api("/api/screen", { method: "POST", body: fd }).then(function (r) {
      if (!r.ok) { $("run-batch").disabled = false; showError(box, r.body); return; }
      batchJob = r.body.id;
      poll(batchJob);
    });
  }

  function setProgress(pct, text) {
    $("batch-bar").value = pct;
    $("batch-percent").textContent = Math.round(pct) + " %";
    $("batch-text").textContent = text;
  }

  function poll(jobId) {
    api("/api/jobs/" + jobId).then(function (r) {
      if (!r.ok) { $("run-batch").disabled = false; showError($("batch-error"), r.body); return; }
      var j = r.body;
      var stateZh = { queued: "排队中", running: "筛查中", done: "完成", failed: "失败" }[j.state] || j.state;
      setProgress(j.percent || 0, stateZh + (j.total ? "（" + j.done + "/" + j.total + "）" : ""));
      if (j.state === "done") {
        $("run-batch").disabled = false;
        batchRows = j.results || [];
        renderBatch();
        renderDownloads($("batch-downloads"), jobId, true);
      } else if (j.state === "failed") {
        $("run-batch").disabled = false;
        showError($("batch-error"), j.error);
      } else {
        setTimeout(function () { poll(jobId); }, 400);
      }
    });
  }

  // verdicts sort by severity (OPTIONS.states: zoning.results.State, least severe first),
  // not by their Chinese text; a failed row ranks just below the most severe (禁止): it
  // must be fixed before anything is known about it
  function sortValue(r, key) {
    if (key === "area") { return r.area ? r.area.mu : 0; }
    if (key === "state") {
      var states = OPTIONS.states || [];
      return r.status === "ok" ? states.indexOf(r.state) : states.length - 1.5;
    }
    return r[key] === null || r[key] === undefined ? "" : r[key];
  }

  function renderBatch() {
    var rows = batchRows.slice();
    if (sortKey) {
      rows.sort(function (a, b) {
        var x = sortValue(a, sortKey), y = sortValue(b, sortKey);
        if (typeof x === "number" && typeof y === "number") { return (x - y) * sortDir; }
        return String(x).localeCompare(String(y), "zh-CN", { numeric: true }) * sortDir;
      });
    }
    var tb = $("batch-table").tBodies[0];
    clear(tb);
    rows.forEach(function (r) {
      var st = r.status === "ok" ? el("span", { class: "state s-" + r.state }, r.state_zh) : el("span", { class: "err-text" }, "失败：" + r.error);
      var tr = el("tr", { "data-row": r.row }, el("td", null, r.row), el("td", null, r.project_id),
        el("td", null, r.name), el("td", null, st), el("td", null, r.area && r.area.m2 ? fmt(r.area.mu, 3) : "-"),
        el("td", null, regionName(r.region)));
      tr.addEventListener("click", function () {
        tb.querySelectorAll("tr.sel").forEach(function (x) { x.classList.remove("sel"); });
        tr.classList.add("sel");
        if (r.status === "ok") { loadMap(batchJob, r.row, r.state); } else { clearSite(); }
      });
      tb.appendChild(tr);
    });
    $("batch-table").classList.remove("hidden");
  }

  function initSort() {
    document.querySelectorAll("#batch-table th").forEach(function (th) {
      th.addEventListener("click", function () {
        var key = th.dataset.key;
        // the first click on 结论 puts the most severe first
        sortDir = sortKey === key ? -sortDir : (key === "state" ? -1 : 1);
        sortKey = key;
        document.querySelectorAll("#batch-table th").forEach(function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(sortDir > 0 ? "asc" : "desc");
        renderBatch();
      });
    });
  }

  /* ------------------------------------------------------------------ wiring */

  function loadLayers() {
    api("/api/layers").then(function (r) {
      if (!r.ok) { return; }
      var probs = [];
      r.body.forEach(function (c) {
        REGION_NAME[c.region] = c.name;  // results carry the region's id: show its name
        (c.problems || []).forEach(function (p) { probs.push(c.name + "：" + p); });
      });
      if (probs.length) {
        var box = $("data-warnings");
        box.textContent = "注意：以下图层未能读取，涉及这些图层的结论为“数据缺失”——\n" + probs.join("\n");
        box.classList.remove("hidden");
      }
    });
  }

  function init() {
    initMap();
    loadDistricts();
    loadOptions();
    loadLayers();
    initSort();
    document.querySelectorAll(".tab").forEach(function (b) {
      b.addEventListener("click", function () {
        document.querySelectorAll(".tab").forEach(function (x) { x.classList.toggle("active", x === b); });
        $("pane-single").classList.toggle("hidden", b.dataset.tab !== "single");
        $("pane-batch").classList.toggle("hidden", b.dataset.tab !== "batch");
        clearSite();  // the map shows the site of the pane on screen, or none
        drawTool.cancel();
        drawTool.show(b.dataset.tab === "single");  // a drawn site belongs to the single pane
        document.querySelectorAll("#batch-table tr.sel").forEach(function (x) { x.classList.remove("sel"); });
        if (b.dataset.tab === "single" && lastResult) { loadMap(currentJob(), lastResult.row || 1, lastResult.state); }
      });
    });
    document.querySelectorAll(".mode").forEach(function (b) {
      b.addEventListener("click", function () { setMode(b.dataset.mode); });
    });
    ["polygon", "line", "point"].forEach(function (m) {
      $("draw-" + m).addEventListener("click", function () {
        drawTool.start(m);
        $("draw-hint").textContent = m === "point" ? "单击地图放置点。" : "单击地图添加节点，双击或点“完成”结束。";
      });
    });
    $("draw-finish").addEventListener("click", function () { drawTool.finish(); });
    $("draw-clear").addEventListener("click", function () {
      drawTool.cancel();
      drawTool.clear();
      $("draw-hint").textContent = DRAW_HINT;
    });
    $("industry").addEventListener("input", searchIndustry);
    $("run-check").addEventListener("click", runCheck);
    $("run-batch").addEventListener("click", runBatch);
    $("unit").addEventListener("change", function () {
      if (!lastResult) { return; }
      var open = $("access").open;
      renderResult(lastResult, currentJob());
      $("access").open = open;
    });
    searchIndustry();
  }

  function currentJob() {
    var a = document.querySelector("#downloads a");
    return a ? a.getAttribute("href").split("/")[3] : null;
  }

  document.addEventListener("DOMContentLoaded", init);
})();
