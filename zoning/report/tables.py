"""Batch outputs rendered in memory: the Excel workbook (Chinese headers), the overlaps
frame, the results JSON, the failed-rows CSV and the log.  :mod:`zoning.outputs` writes
them (atomically, through :mod:`zoning.io.write`).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np

from zoning import __version__
from zoning.report.safe import cell_text, safe_row
from zoning.results import M2_PER_HA, M2_PER_MU, SCHEMA_VERSION, CheckResult

__all__ = ["OUTPUT_FILES", "results_json", "workbook_bytes", "overlaps_frame", "failed_csv",
           "log_text"]

OUTPUT_FILES = {
    "excel": "screening.xlsx",
    "gpkg": "overlaps.gpkg",
    "json": "results.json",
    "failed": "failed_rows.csv",
    "log": "screening.log",
}

SUMMARY_HEADERS = ["序号", "项目编号", "项目名称", "状态", "错误原因", "区域", "几何类型",
                   "面积(m²)", "面积(公顷)", "面积(亩)", "长度(m)", "总体结论", "结论依据",
                   "涉及图层", "警告"]
DETAIL_HEADERS = ["序号", "项目编号", "项目名称", "图层", "图层类型", "结论", "规则", "依据",
                  "几何关系", "重叠面积(m²)", "重叠面积(公顷)", "重叠面积(亩)", "重叠长度(m)",
                  "占项目比例", "最近距离(m)", "最近要素", "涉及要素编号", "范围内要素",
                  "数据版本", "备注"]


ACCESS_HEADERS = ["序号", "项目编号", "项目名称", "管控单元编码", "管控单元名称", "单元类别",
                  "占项目比例", "管控维度", "层级", "条款编号", "清单要求（原文）", "来源文件",
                  "真实/示例", "判定方式", "分析", "结论"]


def _access_rows(r: CheckResult):
    if not r.access:
        return
    for f in r.access["findings"]:
        yield [r.row, r.project_id, r.name, f["unit_code"], f["unit_name"], f["unit_class_zh"],
               round(f["unit_share"], 6), f["dimension"], f["jurisdiction"], f["rule_id"],
               f["clause"], f["source"], "真实" if f["real"] else "示例",
               {"auto": "自动", "hint": "提示", "human": "人工"}[f["confidence"]], f["finding"],
               f["outcome_zh"]]


META_ZH = {"input": "输入文件", "catalogs": "图层目录", "engine": "计算引擎",
           "area_method": "面积算法",
           "tolerance_m2": "几何容差（m²）", "min_report_m2": "报告阈值（m²）",
           "radius_m": "邻近要素半径（m）", "generated": "生成时间（UTC）",
           "zoning_version": "zoning 版本"}


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


def _summary_row(r: CheckResult) -> list:
    involved = [f"{lr.kind_zh}:{lr.state.zh}" for lr in r.layers
                if lr.state.value != "not_intersecting" or lr.hits]
    return [r.row, r.project_id, r.name, "成功" if r.ok else "失败", r.error, r.region,
            r.geometry_type, round(r.area_m2, 2), round(r.area_m2 / M2_PER_HA, 4),
            round(r.area_m2 / M2_PER_MU, 3), round(r.length_m, 2),
            r.state.zh if r.state else "", "\n".join(r.basis), "；".join(involved),
            "；".join(r.warnings)]


def _detail_rows(r: CheckResult):
    for lr in r.layers:
        yield [r.row, r.project_id, r.name, lr.layer, lr.kind_zh, lr.state.zh, lr.rule, lr.basis,
               lr.relation, round(lr.overlap_m2, 2), round(lr.overlap_m2 / M2_PER_HA, 4),
               round(lr.overlap_m2 / M2_PER_MU, 3), round(lr.overlap_length_m, 2),
               round(lr.share, 6), None if lr.nearest_m is None else round(lr.nearest_m, 2),
               lr.nearest_id, "，".join(h.feature_id for h in lr.hits),
               "，".join(lr.within_radius), lr.data_version, "；".join(lr.notes)]


def _append(ws, row: list) -> None:
    """Append a row made safe for a spreadsheet; a row that still cannot be written is
    replaced by a note, so one bad project never loses the workbook."""
    try:
        ws.append(safe_row(row))
    except Exception as e:  # openpyxl refuses some values; report, do not fail the batch
        ws.append(safe_row([*row[:2], f"（此行无法写入工作簿：{type(e).__name__}）"]))


def workbook_bytes(results: list[CheckResult], meta: dict, counts: dict) -> bytes:
    """The screening workbook (.xlsx) as bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    def header(ws, names):
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for n in names:
            c = WriteOnlyCell(ws, value=cell_text(n))
            c.font, c.fill = bold, head_fill
            c.alignment = Alignment(wrap_text=True, vertical="center")
            cells.append(c)
        ws.append(cells)  # header names are ours

    ws = wb.create_sheet("汇总")
    ws.freeze_panes = "A2"
    header(ws, SUMMARY_HEADERS)
    for r in results:
        _append(ws, _summary_row(r))
    ws = wb.create_sheet("图层明细")
    ws.freeze_panes = "A2"
    header(ws, DETAIL_HEADERS)
    for r in results:
        for row in _detail_rows(r):
            _append(ws, row)
    ws = wb.create_sheet("准入清单符合性分析")
    ws.freeze_panes = "A2"
    header(ws, ACCESS_HEADERS)
    for r in results:
        for row in _access_rows(r):
            _append(ws, row)
    ws = wb.create_sheet("失败记录")
    header(ws, ["序号", "项目编号", "项目名称", "错误原因"])
    for r in results:
        if not r.ok:
            _append(ws, [r.row, r.project_id, r.name, r.error])
    ws = wb.create_sheet("说明")
    header(ws, ["项目", "值"])
    for k, v in list(meta.items()) + [(f"count:{k}", v) for k, v in counts.items()]:
        label = META_ZH.get(k) or (f"计数：{_count_zh(k[6:])}" if k.startswith("count:") else k)
        _append(ws, [label, v if isinstance(v, (int, float)) else str(v)])
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
