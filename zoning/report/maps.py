"""Folium maps: one per project check, and indicator choropleths per region.

Maps carry Chinese labels, a legend, a layer control and a scale bar.  Every
piece of text that comes from data or from the user (project names from an
Excel list, feature names) is HTML-escaped before it reaches a popup, a
tooltip or the page.  Leaflet itself is embedded (or shared from an assets
folder), so maps open without a network; only basemap tiles need one.

Basemaps: ``osm`` (default), ``tianditu`` (needs a key), ``amap`` (GCJ-02
tiles: overlays appear shifted 300–600 m, so a warning is issued) and
``none`` (offline).
"""

from __future__ import annotations

import html
import warnings

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement, Template

from zoning.catalog import kind_zh
from zoning.errors import MapError
from zoning.report.colours import (
    NOT_DRAWN,
    STATE_COLOUR,
    layer_colour,
    layer_legend,
    state_colour,
)
from zoning.report.safe import HtmlElement, HtmlMacro, Popup, Tooltip, esc
from zoning.results import M2_PER_HA, M2_PER_MU, CheckResult, State

__all__ = ["project_map", "region_map", "BASEMAPS", "GCJ02Warning", "STATE_COLOUR"]

BASEMAPS = ("osm", "tianditu", "amap", "none")


class GCJ02Warning(UserWarning):
    """GCJ-02 basemap tiles under WGS84/CGCS2000 data."""




class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's also shows feet/miles)."""

    _template = Template("{% macro script(this, kwargs) %}L.control.scale({imperial: false})"
                         ".addTo({{ this._parent.get_name() }});{% endmacro %}")


def _base_map(bounds, basemap: str, tianditu_key: str | None):
    if basemap not in BASEMAPS:
        raise MapError(f"basemap must be one of {BASEMAPS}")
    x0, y0, x1, y1 = bounds
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=12, tiles=None,
                   control_scale=False, prefer_canvas=False)
    _MetricScale().add_to(m)
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap 底图").add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise MapError("the 天地图 basemap needs a key: pass tianditu_key or set "
                           "ZONING_TIANDITU_KEY")
        k = html.escape(tianditu_key)
        for layer, name in (("vec", "天地图 矢量"), ("cva", "天地图 注记")):
            folium.TileLayer(
                tiles=(f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST="
                       f"GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&"
                       f"FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={k}"),
                attr="天地图 (CGCS2000)", name=name, subdomains="01234567",
                overlay=layer == "cva").add_to(m)
    elif basemap == "amap":
        warnings.warn("高德 (amap) tiles are in GCJ-02: the WGS84/CGCS2000 layers will appear "
                      "shifted by 300–600 m against them; use osm or tianditu for review",
                      GCJ02Warning, stacklevel=3)
        folium.TileLayer(
            tiles=("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&"
                   "style=8&x={x}&y={y}&z={z}"),
            attr="高德地图 (GCJ-02，与本图数据有偏移)", name="高德 底图（GCJ-02）",
            subdomains="1234").add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    return m


def _legend(m, title: str, items: list[tuple]):
    """items: (colour, label) for a filled swatch, (colour, label, "dashed") for an outline."""
    def swatch(c, style=""):
        fill = (f"background:none;border:2px dashed {c}" if style == "dashed" else
                f"background:{c};border:1px solid #555")
        return (f'<span style="display:inline-block;width:14px;height:14px;{fill};'
                'margin-right:6px;vertical-align:middle;box-sizing:border-box"></span>')

    rows = "".join(f"<div>{swatch(c, *style)}{esc(label)}</div>" for c, label, *style in items)
    # user text is data for a fixed template, never template source
    m.get_root().add_child(HtmlMacro(
        '<div style="position:fixed;bottom:28px;right:10px;z-index:9999;background:white;'
        'padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px sans-serif;'
        f'line-height:18px"><b>{esc(title)}</b>{rows}</div>'))


def _title(m, text: str):
    m.get_root().html.add_child(HtmlElement(
        '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:white;'
        'padding:6px 10px;border:1px solid #999;border-radius:4px;font:bold 14px sans-serif">'
        f'{esc(text)}</div>'))


def _geojson(gdf: gpd.GeoDataFrame) -> dict:
    """A GeoDataFrame (EPSG:4490) as a GeoJSON FeatureCollection dict for folium.

    folium reads ``__geo_interface__`` twice, reprojects to EPSG:4326 (the same
    numbers for CGCS2000 at map scale) and round-trips the result through JSON; a dict
    is embedded as it is, at a fraction of the cost (a batch writes one map per project).
    """
    import json

    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values, dtype=object))
    props = _records(gdf.drop(columns=[gdf.geometry.name]))
    return {"type": "FeatureCollection", "features": [
        {"id": str(i), "type": "Feature", "properties": p,
         "geometry": None if g is None else json.loads(g)}
        for i, p, g in zip(gdf.index, props, geoms)]}


def _records(frame) -> list[dict]:
    """Rows as dicts of plain Python values; missing values (NaN, None) become None."""
    import pandas as pd

    return frame.astype(object).where(pd.notna(frame), None).to_dict("records")


def _props_escaped(gdf: gpd.GeoDataFrame, cols) -> gpd.GeoDataFrame:
    out = gdf[list(cols) + [gdf.geometry.name]].copy()
    for c in cols:
        out[c] = [esc(v) for v in out[c]]
    return out


def _fmt_area(m2: float) -> str:
    return f"{m2:,.1f} m² / {m2 / M2_PER_HA:,.4f} 公顷 / {m2 / M2_PER_MU:,.3f} 亩"


# --------------------------------------------------------------------------- project map


def _clip(geoms: np.ndarray, box, simplify_m: float) -> np.ndarray:
    """Layer features clipped to the map's box and simplified; never raises for odd geometry.

    ``clip_by_rect`` is fast but GEOS refuses some inputs (collections from
    make_valid, near-degenerate rings); those features are clipped one by one
    with a robust intersection, and a feature GEOS cannot handle at all is left
    off the map (an empty geometry), never the whole map.
    """
    try:
        out = shapely.clip_by_rect(geoms, *box.bounds)
    except shapely.errors.GEOSException:
        out = np.array([_clip_one(g, box) for g in geoms], dtype=object)
    try:
        return shapely.simplify(out, simplify_m, preserve_topology=True)
    except shapely.errors.GEOSException:
        return out


def _clip_one(g, box):
    for fn in (lambda: shapely.clip_by_rect(g, *box.bounds),
               lambda: shapely.intersection(shapely.make_valid(g), box),
               lambda: shapely.intersection(g, box, grid_size=1e-3)):
        try:
            return fn()
        except shapely.errors.GEOSException:
            continue
    return shapely.Polygon()


ZONE_ZH = {"core": "核心保护区", "general": "一般控制区", "priority": "优先保护单元",
           "key": "重点管控单元"}
#: the attribute that decides a verdict within a layer, shown as 分区 in every popup
_ZONE_ATTR = {"eco_redline": "pa_zone", "protected_area": "zone", "farmland": "land_class",
              "urban_boundary": "partition", "control_unit": "unit_class", "shoreline": "river"}


def _zone_text(kind: str, li, feats) -> list[str]:
    arr = li.attr_arrays.get(_ZONE_ATTR.get(kind, ""))
    if arr is None:
        return ["-"] * len(feats)
    out = []
    for v in arr[feats]:
        v = "" if v is None else str(v)
        if kind == "control_unit" and v == "general":
            out.append("一般管控单元")
        elif kind == "eco_redline" and not v:
            out.append("生态保护红线（非保护地）")
        else:
            out.append(ZONE_ZH.get(v, v) or "-")
    return out


def _layer_features(li, box, fp_work, hit_ids: set, max_features: int, truncated: list):
    """Indexes of the features of a layer inside the view box, hit features first."""
    feats = np.unique(li.parent[li.tree.query(box)])
    if len(feats) > max_features:
        # keep the features hit and, of the rest, those nearest the footprint
        truncated.append(f"{li.name}: {len(feats)} → {max_features}")
        is_hit = np.isin(li.ids[feats], list(hit_ids))
        rest = feats[~is_hit]
        near = np.argsort(shapely.distance(li.frame.geometry.values[rest], fp_work),
                          kind="stable")
        feats = np.concatenate([feats[is_hit], rest[near[:max_features]]])
    return feats


def _add_layer(m, kind: str, li, feats, box, simplify_m: float, lr, hit_ids: set,
               work_crs, title: str | None = None,
               colour: tuple[str, str] | None = None) -> None:
    from zoning.engine.geometry import to_geo

    geoms = _clip(li.frame.geometry.values[feats], box, simplify_m)
    keep = ~shapely.is_empty(geoms)
    feats, geoms = feats[keep], geoms[keep]
    if not len(feats):
        return
    ids = li.ids[feats]
    name_arr = li.attr_arrays.get("name", li.attr_arrays.get("river"))
    names = name_arr[feats] if name_arr is not None else ids
    hit = [i in hit_ids for i in ids]
    gdf = gpd.GeoDataFrame({
        "图层": [title or kind_zh(kind)] * len(ids), "编号": ids, "名称": names,
        "分区": _zone_text(kind, li, feats), "涉及": ["是" if h else "否" for h in hit],
        "结论": [lr.state_zh if (lr is not None and h) else "不涉及" for h in hit],
    }, geometry=to_geo(geoms, work_crs), crs="EPSG:4490")
    cols = ["图层", "编号", "名称", "分区", "涉及", "结论"]
    gdf = _props_escaped(gdf, cols)
    edge, fill = colour or layer_colour(kind)
    base = {"color": edge, "fillColor": fill}

    big = kind == "control_unit"  # units tile the region: keep them faint

    def style(feat, base=base, big=big):
        hit = feat["properties"]["涉及"] == "是"
        return {"color": base["color"], "fillColor": base["fillColor"],
                "weight": 2.5 if hit else 1,
                "fillOpacity": 0.12 if big else 0.55 if hit else 0.3}

    folium.GeoJson(_geojson(gdf), name=f"{esc(title or kind_zh(kind))}（{esc(li.name)}）",
                   style_function=style,
                   tooltip=Tooltip(["图层", "编号", "分区", "结论"]),
                   popup=Popup(cols)).add_to(m)


def _overlaps(result: CheckResult, index, fp_work) -> gpd.GeoDataFrame:
    """The overlap geometries of the footprint with every feature hit (EPSG:4490); never
    those of a layer the catalog marks statistics-only."""
    from zoning.engine.geometry import to_geo

    rows, geoms = [], []
    states = {lr.layer: lr for lr in result.layers}
    hidden = set(getattr(index, "statistics_only", ()))
    for kind, lis in index.layers.items():
        for li in lis:
            lr = states.get(li.name)
            if li.name in hidden:
                continue
            if lr is None or not lr.hits or lr.state == State.NOT_INTERSECTING:
                continue  # e.g. the control unit the site lies in: no conflict to show
            pos = li.positions()
            for h in lr.hits:
                k = pos.get(h.feature_id)
                if k is None:
                    continue
                ov = shapely.intersection(li.frame.geometry.values[k], fp_work)
                if ov.is_empty:
                    continue
                zone = _zone_text(kind, li, np.array([k]))[0]
                size = (_fmt_area(h.overlap_m2) if h.overlap_m2 else
                        f"{h.overlap_length_m:,.1f} m" if h.overlap_length_m else "点位于其内")
                rows.append({"重叠": f"{lr.kind_zh or kind_zh(kind)} × 项目", "编号": h.feature_id,
                             "分区": zone, "结论": lr.state_zh, "重叠面积": size,
                             "_c": state_colour(lr.state),
                             # a unit holds the whole site: its overlap is an outline, or it
                             # would tint every other overlap under it
                             "_f": 0.0 if kind == "control_unit" else 0.6})
                geoms.append(ov)
    geo = to_geo(np.array(geoms, dtype=object), index.work_crs) if geoms else []
    return gpd.GeoDataFrame(rows, geometry=list(geo), crs="EPSG:4490")


def _add_overlaps(m, ov: gpd.GeoDataFrame) -> None:
    if not len(ov):
        return
    cols = ["重叠", "编号", "分区", "结论", "重叠面积"]
    fill = ov["_f"].to_numpy(dtype=float)
    ov = _props_escaped(ov, cols + ["_c"])
    ov["_f"] = fill
    folium.GeoJson(
        _geojson(ov), name="重叠部分（按结论着色）",
        style_function=lambda f: {"color": f["properties"]["_c"], "weight": 3,
                                  "fillColor": f["properties"]["_c"],
                                  "fillOpacity": f["properties"]["_f"]},
        marker=folium.CircleMarker(radius=7, fill=True, fill_opacity=0.9),
        tooltip=Tooltip(["重叠", "分区", "结论"]),
        popup=Popup(cols)).add_to(m)


def _summary_popup(result: CheckResult) -> str:
    colour = state_colour(result.state)
    rows = "".join(
        f"<tr><td>{esc(lr.kind_zh)}</td><td>{esc(lr.state_zh)}</td>"
        f"<td>{esc(_fmt_area(lr.overlap_m2)) if lr.overlap_m2 else ''}"
        f"{esc(f'{lr.overlap_length_m:,.1f} m') if lr.overlap_length_m else ''}</td>"
        f"<td>{'' if lr.nearest_m is None else esc(f'{lr.nearest_m:,.0f} m')}</td></tr>"
        for lr in result.layers)
    return (f"<b>{esc(result.project_id)} {esc(result.name)}</b><br>"
            f"总体结论：<b style='color:{colour}'>{esc(result.state_zh)}"
            f"</b><br>面积：{esc(_fmt_area(result.area_m2))}"
            f"<br>面积算法：{esc(result.area_method)}"
            "<table border=1 style='border-collapse:collapse;font-size:12px'>"
            "<tr><th>图层</th><th>结论</th><th>重叠</th><th>最近距离</th></tr>"
            f"{rows}</table>")


def _add_footprint(m, result: CheckResult, footprint) -> None:
    colour = state_colour(result.state)
    # the summary goes in as a feature property shown by GeoJsonPopup (no jQuery needed);
    # every piece of user text in it is escaped
    fp_gdf = gpd.GeoDataFrame({"项目": [_summary_popup(result)],
                               "名称": [f"{esc(result.project_id)} {esc(result.name)}："
                                        f"{esc(result.state_zh)}"]},
                              geometry=[footprint], crs="EPSG:4490")
    folium.GeoJson(
        _geojson(fp_gdf), name="项目范围",
        # a point site is a marker filled in the verdict colour (red in a core zone)
        style_function=lambda f: {"color": "#000", "weight": 2, "fillColor": colour,
                                  "fillOpacity": 0.95} if f["geometry"]["type"] == "Point" else
        {"color": "#000", "weight": 3, "fillColor": colour, "fillOpacity": 0.08,
         "dashArray": "6 4"},
        marker=folium.CircleMarker(radius=9, color="#000", weight=2, fill=True,
                                   fill_color=colour, fill_opacity=0.95),
        tooltip=Tooltip(["名称"], labels=False),
        popup=Popup(["项目"], labels=False, max_width=560),
    ).add_to(m)


def project_map(result: CheckResult, footprint, index, *, vicinity_m: float = 2000.0,
                simplify_m: float = 5.0, max_features: int = 1500, basemap: str = "osm",
                tianditu_key: str | None = None, no_geometry: bool = False) -> folium.Map:
    """A map of one checked project: the footprint, the overlaps, nearby layer features.

    ``footprint`` is in EPSG:4490; ``index`` is the region's
    :class:`~zoning.engine.index.RegionIndex`.  The view opens on the site; the
    overlap geometries are drawn in the verdict's colour (verdict colours never
    collide with layer colours); every popup gives the feature's zone and verdict.
    Layer features are clipped to the footprint's vicinity (``vicinity_m``) and
    simplified (``simplify_m``), at most ``max_features`` per layer, so the file
    stays small even when a layer has a million patches.  With ``no_geometry``
    (statistics-only mode) only the footprint is drawn; a layer the catalog marks
    ``statistics_only`` is never drawn.
    """
    from zoning.crs import reproject

    fp_work = reproject(footprint, "EPSG:4490", index.work_crs)
    box = shapely.box(*shapely.buffer(fp_work, vicinity_m).bounds)
    x0, y0, x1, y1 = box.bounds
    # coarser simplification for a larger view: about 1/3000 of the view's diagonal
    simplify_m = max(simplify_m, float(np.hypot(x1 - x0, y1 - y0)) / 3000.0)
    site = shapely.buffer(footprint, 0.0015) if footprint.geom_type == "Point" else footprint
    m = _base_map(site.bounds, basemap, tianditu_key)
    hits = {lr.layer: {h.feature_id for h in lr.hits} for lr in result.layers}
    states = {lr.layer: lr for lr in result.layers}
    truncated: list[str] = []
    titles = dict(getattr(index, "constraints", []))
    hidden = set(getattr(index, "statistics_only", ()))
    drawn = {k: lis for k, lis in index.layers.items() if k not in NOT_DRAWN} \
        if not no_geometry else {}
    constraints = list(getattr(index, "constraints", []))
    shown: dict = {}  # legend entries of the layers on this map: words → fill colour
    for kind, lis in drawn.items():
        for li in lis:
            if li.name in hidden:
                continue
            hit_ids = hits.get(li.name, set())
            feats = _layer_features(li, box, fp_work, hit_ids, max_features, truncated)
            if len(feats):
                words, colour = layer_legend(kind, li.name, constraints)
                shown.setdefault(words, colour[1])
                _add_layer(m, kind, li, feats, box, simplify_m, states.get(li.name), hit_ids,
                           index.work_crs, titles.get(li.name), colour)
    ov = _overlaps(result, index, fp_work) if not no_geometry else None
    if ov is not None:
        _add_overlaps(m, ov)
    _add_footprint(m, result, footprint)
    folium.LayerControl(collapsed=False).add_to(m)
    _title(m, f"项目 {result.project_id} {result.name}：{result.state_zh}"
           + ("（统计模式：不显示图层要素）" if no_geometry else ""))
    # what this map draws, no more: its layers' colours and the verdicts of its overlaps
    overlap_items = [] if ov is None or not len(ov) else list(dict.fromkeys(
        (c, f"重叠部分：{v}") for c, v in zip(ov["_c"], ov["结论"])))
    _legend(m, "图例", [("#000", "项目范围（虚线）", "dashed")] +
            [(fill, words) for words, fill in shown.items()] +
            overlap_items)
    m._zoning_notes = truncated
    return m


# --------------------------------------------------------------------------- region map


def _gap_colour(gap):
    if gap is None or (isinstance(gap, float) and np.isnan(gap)):
        return "#bdbdbd"
    if gap >= 10:
        return "#1b5e20"
    if gap >= 0:
        return "#66bb6a"
    if gap >= -10:
        return "#ffb74d"
    return "#c62828"


def region_map(ind, basemap: str = "osm", tianditu_key: str | None = None,
               simplify_deg: float = 0.0005) -> folium.Map:
    """Choropleths of forest cover and protected-area share per district vs the targets."""
    d = ind.districts
    m = _base_map(d.total_bounds, basemap, tianditu_key)
    # district outlines simplified to ~50 m: a choropleth needs no survey detail
    simple = shapely.simplify(d.geometry.values, simplify_deg, preserve_topology=True)
    targets = {}
    for c in ind.comparisons:
        if c.scope == ind.region_name and c.indicator not in targets:
            targets[c.indicator] = c
    layers = [("forest_cover", "森林覆盖率"), ("forest_grass_cover", "林草覆盖率"),
              ("protected_area_share", "自然保护地占比")]
    shown = 0
    for col, label in layers:
        if col not in d.columns:
            continue
        tgt = targets.get(col)
        if tgt is None and col == "forest_grass_cover":
            continue  # only shown where a plan sets a 林草覆盖率 target
        tval = tgt.target if tgt else None
        gaps = [None if tval is None else float(v) - tval for v in d[col]]
        gdf = gpd.GeoDataFrame({
            "区县": [esc(n) for n in d["name"]], "代码": [esc(c) for c in d["code"]],
            "指标": [label] * len(d), "数值": [f"{v:.2f}%" for v in d[col]],
            "目标": ["—" if tval is None else f"{'≥' if tgt.comparison == 'gte' else '≈'}"
                     f"{tval:g}%（{esc(tgt.year or '')}，全{esc(ind.region_name)}）"] * len(d),
            "差距": ["—" if g is None else f"{g:+.2f} 个百分点" for g in gaps],
            "_c": [_gap_colour(g) for g in gaps],
        }, geometry=simple, crs="EPSG:4490")
        folium.GeoJson(
            _geojson(gdf), name=f"{label}（按与目标差距着色）", show=shown == 0,
            style_function=lambda f: {"color": "#333", "weight": 1,
                                      "fillColor": f["properties"]["_c"], "fillOpacity": 0.7},
            tooltip=Tooltip(["区县", "指标", "数值"]),
            popup=Popup(["区县", "代码", "指标", "数值", "目标", "差距"]),
        ).add_to(m)
        shown += 1
    folium.LayerControl(collapsed=False).add_to(m)
    names = {"forest_cover": "森林覆盖率", "forest_grass_cover": "林草覆盖率",
             "protected_area_share": "自然保护地占比"}
    vals = "；".join(f"{names.get(k, k)} {v:.2f}%" for k, v in ind.values.items())
    _title(m, f"{ind.region_name} 指标与规划目标（{vals}）")
    _legend(m, "与规划目标的差距", [("#1b5e20", "达标，高出 ≥10 个百分点"),
                                  ("#66bb6a", "达标"), ("#ffb74d", "未达标，差距 <10 个百分点"),
                                  ("#c62828", "未达标，差距 ≥10 个百分点"),
                                  ("#bdbdbd", "无目标")])
    return m


# --------------------------------------------------------------------------- saving
