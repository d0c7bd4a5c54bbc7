"""Batch outputs rendered in memory: the Excel workbook (Chinese headers), the overlaps
frame, the results JSON, the failed-rows CSV and the log.  :mod:`zoning.outputs` writes
them (atomically, through :mod:`zoning.io.write`).
"""

from __future__ import annotations

import csv
import io
import json
from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np

from zoning import __version__
from zoning.report.safe import cell_text, safe_row
from zoning.results import M2_PER_HA, M2_PER_MU, OVERALL_CLEAR, SCHEMA_VERSION, CheckResult

__all__ = ["OUTPUT_FILES", "results_json", "workbook_bytes", "overlaps_frame", "failed_csv",
           "log_text"]

OUTPUT_FILES = {
    "excel": "screening.xlsx",
    "gpkg": "overlaps.gpkg",
    "json": "results.json",
    "failed": "failed_rows.csv",
    "log": "screening.log",
}


def _access_rows(r: CheckResult):
    if not r.access:
        return
    for f in r.access["findings"]:
        yield [r.row, r.project_id, r.name, f["unit_code"], f["unit_name"], f["unit_class_zh"],
               round(f["unit_share"], 6), f["dimension"], f["jurisdiction"], f["rule_id"],
               f["clause"], f["source"], "真实" if f["real"] else "示例",
               {"auto": "自动", "hint": "提示", "human": "人工"}[f["confidence"]], f["finding"],
               f["outcome_zh"]]


META_ZH = {"input": "输入文件", "catalogs": "图层目录文件", "engine": "计算引擎",
           "area_method": "面积算法",
           "tolerance_m2": "几何容差（m²）", "min_report_m2": "报告阈值（m²）",
           "min_area_drops": "低于报告阈值的重叠不计入判定",
           "radius_m": "邻近要素半径（m）", "no_geometry": "统计模式（不输出重叠几何）",
           "generated": "生成时间（UTC）",
           "zoning_version": "zoning 版本"}


META_VALUE_ZH = {"ellipsoidal": "CGCS2000 椭球面积（ellipsoidal）",
                 "gk": "高斯-克吕格 3° 带平面面积（gk）", "local": "本机（local）",
                 "dask": "dask 集群（dask）"}


def _count_zh(key: str) -> str:
    from zoning.results import State

    names = {"rows": "输入行数", "ok": "成功", "error": "失败"}
    if key in names:
        return names[key]
    try:
        return State(key).zh
    except ValueError:
        return key


def results_json(results: list[CheckResult], meta: dict) -> dict:
    return {"schema": SCHEMA_VERSION.replace("check", "screen"), "meta": meta,
            "results": [r.to_dict() for r in results]}


GEOM_ZH = {"polygon": "面", "line": "线", "point": "点"}
RELATION_ZH = {"none": "不相交", "touches": "仅边界相接", "overlaps": "部分重叠",
               "within": "完全位于其内", "crosses": "穿越", "contains_point": "点位于其内",
               "contains": "完全包含"}
ZONE_ZH = {"core": "核心保护区", "general": "一般控制区"}

#: number formats: areas, shares, distances
F_M2, F_HA, F_MU, F_PCT, F_M = "#,##0.00", "#,##0.0000", "#,##0.000", "0.00%", "#,##0.0"


@dataclass
class Col:
    """A workbook column: header, width (characters), number format, wrapped text."""

    name: str
    width: float = 12
    fmt: str | None = None
    wrap: bool = False


SUMMARY_COLS = [
    Col("序号", 6), Col("项目编号", 14), Col("项目名称", 24, wrap=True), Col("状态", 7),
    Col("错误原因", 24, wrap=True), Col("区域", 10), Col("几何类型", 8),
    Col("面积(m²)", 14, F_M2), Col("面积(公顷)", 12, F_HA), Col("面积(亩)", 12, F_MU),
    Col("长度(m)", 11, F_M2), Col("总体结论", 16, wrap=True), Col("结论依据", 60, wrap=True),
    Col("涉及图层", 36, wrap=True), Col("警告", 36, wrap=True), Col("结论代码", 14),
    Col("区域代码", 10)]
DETAIL_COLS = [
    Col("序号", 6), Col("项目编号", 14), Col("项目名称", 20, wrap=True), Col("图层", 12),
    Col("图层类型", 12), Col("结论", 16, wrap=True), Col("规则", 14), Col("依据", 60, wrap=True),
    Col("几何关系", 12), Col("重叠面积(m²)", 14, F_M2), Col("重叠面积(公顷)", 12, F_HA),
    Col("重叠面积(亩)", 12, F_MU), Col("重叠长度(m)", 11, F_M2), Col("占项目比例", 10, F_PCT),
    Col("最近距离(m)", 11, F_M), Col("最近要素", 18), Col("涉及要素编号", 30, wrap=True),
    Col("范围内要素", 24, wrap=True), Col("数据版本", 18, wrap=True), Col("备注", 36, wrap=True),
    Col("结论代码", 14), Col("关系代码", 12)]
HITS_COLS = [
    Col("序号", 6), Col("项目编号", 14), Col("项目名称", 20, wrap=True), Col("图层类型", 12),
    Col("图层", 12), Col("结论", 16, wrap=True), Col("要素编号", 20), Col("要素名称", 26, wrap=True),
    Col("分区/地类", 14), Col("重叠面积(m²)", 14, F_M2), Col("重叠面积(公顷)", 12, F_HA),
    Col("重叠面积(亩)", 12, F_MU), Col("重叠长度(m)", 11, F_M2), Col("占项目比例", 10, F_PCT),
    Col("结论代码", 14)]
LAND_CLASS_COLS = [
    Col("序号", 6), Col("项目编号", 14), Col("项目名称", 20, wrap=True), Col("地类（DLMC）", 14),
    Col("图斑数", 8), Col("重叠面积(m²)", 14, F_M2), Col("重叠面积(公顷)", 12, F_HA),
    Col("重叠面积(亩)", 12, F_MU), Col("占项目比例", 10, F_PCT)]
ACCESS_COLS = [
    Col("序号", 6), Col("项目编号", 14), Col("项目名称", 20, wrap=True), Col("管控单元编码", 16),
    Col("管控单元名称", 24, wrap=True), Col("单元类别", 12), Col("占项目比例", 10, F_PCT),
    Col("管控维度", 14), Col("层级", 8), Col("条款编号", 18), Col("清单要求（原文）", 60, wrap=True),
    Col("来源文件", 30, wrap=True), Col("真实/示例", 8), Col("判定方式", 8),
    Col("分析", 40, wrap=True), Col("结论", 14)]
LANDUSE_COLS = [
    Col("序号", 6), Col("项目编号", 14), Col("项目名称", 20, wrap=True), Col("地类图层", 14),
    Col("状态", 10), Col("三大类", 10), Col("一级类编码", 8), Col("一级类", 14),
    Col("二级类编码", 8), Col("二级类", 14), Col("面积(m²)", 14, F_M2), Col("面积(公顷)", 12, F_HA),
    Col("面积(亩)", 12, F_MU), Col("占项目比例", 10, F_PCT), Col("提示", 40, wrap=True)]
SYNTHETIC_NOTICE = ("【合成演示数据】本工作簿所用图层含合成示例数据，非官方划定成果，不得用于审批或报批。")


def _summary_row(r: CheckResult, names: dict) -> list:
    involved = [f"{lr.kind_zh}:{lr.state_zh}" for lr in r.layers
                if lr.state.value != "not_intersecting" or lr.hits]
    return [r.row, r.project_id, r.name, "成功" if r.ok else "失败", r.error,
            names.get(r.region, r.region), GEOM_ZH.get(r.geometry_type, r.geometry_type),
            round(r.area_m2, 2), round(r.area_m2 / M2_PER_HA, 4),
            round(r.area_m2 / M2_PER_MU, 3), round(r.length_m, 2),
            r.state_zh, "\n".join(r.basis), "；".join(involved),
            "；".join(r.warnings), r.state.value if r.state else "", r.region]


def _detail_rows(r: CheckResult):
    for lr in r.layers:
        yield [r.row, r.project_id, r.name, lr.layer, lr.kind_zh, lr.state_zh, lr.rule, lr.basis,
               RELATION_ZH.get(lr.relation, lr.relation), round(lr.overlap_m2, 2),
               round(lr.overlap_m2 / M2_PER_HA, 4), round(lr.overlap_m2 / M2_PER_MU, 3),
               round(lr.overlap_length_m, 2), round(lr.share, 6),
               None if lr.nearest_m is None else round(lr.nearest_m, 2),
               lr.nearest_id, "，".join(h.feature_id for h in lr.hits),
               "，".join(lr.within_radius), lr.data_version, "；".join(lr.notes),
               lr.state.value, lr.relation]


def _zone(h) -> str:
    a = h.attributes
    v = a.get("land_class") or a.get("zone") or a.get("pa_zone") or a.get("partition") or \
        a.get("unit_class") or ""
    return ZONE_ZH.get(str(v), str(v)) if v else ""


def _hit_rows(r: CheckResult):
    for lr in r.layers:
        for h in lr.hits:
            yield [r.row, r.project_id, r.name, lr.kind_zh, lr.layer, lr.state_zh, h.feature_id,
                   str(h.attributes.get("name") or h.attributes.get("river") or ""), _zone(h),
                   round(h.overlap_m2, 2), round(h.overlap_m2 / M2_PER_HA, 4),
                   round(h.overlap_m2 / M2_PER_MU, 3), round(h.overlap_length_m, 2),
                   round(h.share, 6), lr.state.value]


def _land_class_rows(r: CheckResult):
    acc: dict[str, list] = {}
    for lr in r.layers:
        if lr.kind != "farmland":
            continue
        for h in lr.hits:
            a = acc.setdefault(str(h.attributes.get("land_class") or "未注明地类"), [0, 0.0, 0.0])
            a[0] += 1
            a[1] += h.overlap_m2
            a[2] += h.share
    for cls, (n, m2, share) in sorted(acc.items(), key=lambda kv: -kv[1][1]):
        yield [r.row, r.project_id, r.name, cls, n, round(m2, 2), round(m2 / M2_PER_HA, 4),
               round(m2 / M2_PER_MU, 3), round(share, 6)]


def _landuse_rows(r: CheckResult):
    """The 三调 地类 of a project by 二级类 (one row saying why when not measured)."""
    lu = r.landuse
    if not lu:
        return
    from zoning.rules.landuse import LEVEL1

    status = {"ok": "已统计", "outside_coverage": "超出数据范围",
              "data_missing": "数据缺失"}.get(lu["status"], lu["status"])
    head = [r.row, r.project_id, r.name, lu.get("kind_zh") or lu["layer"], status]
    if lu["status"] != "ok":
        yield head + [None] * 9 + ["；".join(lu.get("notes", []))]
        return
    flags = "；".join(lu["flags"])
    for e in lu["level2"]:
        a = e["area"]
        yield head + [e["group"], e["level1"], LEVEL1.get(e["level1"], ""), e["code"],
                      e["name"], a["m2"], a["ha"], a["mu"], e["share"], flags]


def _sheet(wb, title: str, cols: list[Col], rows, notice: str | None = None) -> None:
    """A write-only sheet: bold wrapped header (frozen, filtered), widths, number formats."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    for i, c in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    head = Alignment(wrap_text=True, vertical="center", horizontal="center")
    if notice:
        cell = WriteOnlyCell(ws, value=notice)
        cell.font = Font(bold=True, color="D50000")
        ws.append([cell])
    ws.freeze_panes = "A3" if notice else "A2"
    cells = []
    for c in cols:
        cell = WriteOnlyCell(ws, value=c.name)
        cell.font, cell.fill, cell.alignment = bold, fill, head
        cells.append(cell)
    ws.append(cells)
    first = 2 if notice else 1
    ws.auto_filter.ref = f"A{first}:{get_column_letter(len(cols))}{first}"
    # one styled cell per column (and per number format), copied: setting a style on
    # each of tens of thousands of cells looks it up in the workbook every time
    plain, numeric = [], []
    for c in cols:
        cell = WriteOnlyCell(ws)
        cell.alignment = wrap if c.wrap else top
        plain.append(cell._style)
        if c.fmt:
            cell.number_format = c.fmt
        numeric.append(cell._style)
    for row in rows:
        try:
            out = []
            for k, (_c, v) in enumerate(zip(cols, row)):
                cell = WriteOnlyCell(ws, value=_cell_value(v))
                cell._style = copy((numeric if isinstance(v, (int, float)) else plain)[k])
                out.append(cell)
            ws.append(out)
        except Exception as e:  # openpyxl refuses some values; report, do not fail the batch
            ws.append(safe_row([*row[:2], f"（此行无法写入工作簿：{type(e).__name__}）"]))


def _cell_value(v):
    """A value as the workbook stores it: numbers as numbers, anything else as text made
    safe for a spreadsheet (no formula, no XML-illegal character)."""
    if v is None or isinstance(v, (int, float)):
        return v
    return cell_text(str(v))


def workbook_bytes(results: list[CheckResult], meta: dict, counts: dict, *,
                   region_names: dict | None = None, sources: list[dict] | None = None) -> bytes:
    """The screening workbook (.xlsx) as bytes.

    Sheets: 汇总, 图层明细, 重叠要素明细 (every feature hit), 永久基本农田地类 (the
    farmland overlap by DLMC), 准入清单符合性分析, 三调地类 (when the catalog has a 地类
    layer), 失败记录, 说明 (run metadata, data
    sources and, when any layer is synthetic, the notice).  Values are Chinese;
    codes only in the extra ``…代码`` columns.  ``region_names``: region id → name;
    ``sources``: the catalog layers (kind_zh, title, version, source, synthetic).
    """
    from openpyxl import Workbook

    names = region_names or {}
    synthetic = any(s.get("synthetic") for s in sources or [])
    notice = SYNTHETIC_NOTICE if synthetic else None
    wb = Workbook(write_only=True)
    _sheet(wb, "汇总", SUMMARY_COLS, (_summary_row(r, names) for r in results))
    _sheet(wb, "图层明细", DETAIL_COLS, (row for r in results for row in _detail_rows(r)))
    _sheet(wb, "重叠要素明细", HITS_COLS, (row for r in results for row in _hit_rows(r)))
    _sheet(wb, "永久基本农田地类", LAND_CLASS_COLS,
           (row for r in results for row in _land_class_rows(r)))
    _sheet(wb, "准入清单符合性分析", ACCESS_COLS, (row for r in results for row in _access_rows(r)))
    if any(r.landuse for r in results):
        _sheet(wb, "三调地类", LANDUSE_COLS, (row for r in results for row in _landuse_rows(r)))
    _sheet(wb, "失败记录", [Col("序号", 6), Col("项目编号", 14), Col("项目名称", 24, wrap=True),
                        Col("错误原因", 80, wrap=True)],
           ([r.row, r.project_id, r.name, r.error] for r in results if not r.ok))
    info = [[META_ZH.get(k, k), v if isinstance(v, (int, float)) else
             META_VALUE_ZH.get(str(v), str(v))] for k, v in meta.items()]
    # 未发现冲突 and 不涉及 are both not_intersecting: counted apart, as the rows read them
    clear = sum(1 for r in results if r.ok and r.state_zh == OVERALL_CLEAR)
    for k, v in counts.items():
        if k == "not_intersecting" and clear:
            info += [[f"计数：{_count_zh(k)}", v - clear], [f"计数：{OVERALL_CLEAR}", clear]]
        else:
            info.append([f"计数：{_count_zh(k)}", v])
    info += [[f"数据来源：{s['region'] + ' ' if s.get('region') else ''}"
              f"{s.get('kind_zh', '')}（{s.get('title', '')}）",
              f"版本 {s.get('version') or '-'}；{s.get('source') or '-'}"
              + ("；合成示例数据" if s.get("synthetic") and "合成示例数据" not in
                 (s.get("source") or "") else "")]
             for s in sources or []]
    _sheet(wb, "说明", [Col("项目", 36, wrap=True), Col("值", 90, wrap=True)], info, notice)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def overlaps_frame(overlaps: list[dict]) -> gpd.GeoDataFrame:
    """The overlap geometries (EPSG:4490) with their areas in m², 公顷 and 亩."""
    cols = ["row", "project_id", "layer", "kind", "feature_id", "overlap_m2",
            "overlap_length_m"]
    if overlaps:
        geo = np.array([o["geometry"] for o in overlaps], dtype=object)
        gdf = gpd.GeoDataFrame({c: [o[c] for o in overlaps] for c in cols}, geometry=geo,
                               crs="EPSG:4490")
    else:
        gdf = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs="EPSG:4490")
    gdf["overlap_ha"] = gdf["overlap_m2"] / M2_PER_HA
    gdf["overlap_mu"] = gdf["overlap_m2"] / M2_PER_MU
    return gdf


OVERLAPS_METADATA = {"GENERATOR": f"zoning {__version__}",
                     "CONTENT": "overlap geometries of project footprints with statutory "
                                "layer features"}


def failed_csv(results: list[CheckResult]) -> str:
    """The rows that failed, as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "project_id", "name", "error"])
    for r in results:
        if not r.ok:
            w.writerow(safe_row([r.row, r.project_id, r.name, r.error]))
    return buf.getvalue()


def log_text(results: list[CheckResult], meta: dict, counts: dict) -> str:
    """The run log: version, time, counts, failures and warnings."""
    lines = [f"zoning {__version__} screening {meta['generated']}", json.dumps(counts,
             ensure_ascii=False)]
    lines += [f"row {r.row} ({r.project_id}): {r.error}" for r in results if not r.ok]
    lines += [f"row {r.row} ({r.project_id}) warning: {w}" for r in results for w in r.warnings]
    return "\n".join(lines) + "\n"


def run_meta(meta: dict) -> dict:
    """The run's metadata with the time it was generated and the zoning version."""
    return dict(meta, generated=datetime.now(UTC).isoformat(timespec="seconds"),
                zoning_version=__version__)
