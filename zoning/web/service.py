"""The web service's work, free of HTTP: read a site, check it, keep jobs, render downloads.

One :class:`Service` lives in each worker process.  It resolves the catalogs
once, keeps their indexes warm in its own :class:`~zoning.screen.IndexCache`,
and stores every check and batch screening as a job folder
(:class:`~zoning.web.jobs.JobStore`) so that any worker can answer for it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
import time
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from zoning.catalog import KINDS, Catalog, resolve_catalogs
from zoning.errors import InputError, ResourceLimitError, ZoningError
from zoning.footprints import normalise
from zoning.io.write import write_bytes, write_text
from zoning.options import CheckOptions
from zoning.project import Project, parse_attributes
from zoning.report.colours import NOT_DRAWN, layer_legend, state_colour
from zoning.results import M2_PER_MU, SCHEMA_VERSION, CheckResult, State
from zoning.screen import INDEX_CACHE, IndexCache, projects_from_table, screen_projects
from zoning.web.config import WebConfig
from zoning.web.coords import parse_coordinates
from zoning.web.jobs import JobQueue, JobStore, NotFoundError
from zoning.web.restore import result_from_dict

__all__ = ["Service", "SITE_SUFFIXES", "LIST_SUFFIXES", "DOWNLOADS", "UnsupportedFormat"]

log = logging.getLogger(__name__)

#: upload suffixes of one site's footprint → the suffix the reader is given
SITE_SUFFIXES = {".txt": ".txt", ".kml": ".kml", ".kmz": ".kmz", ".zip": ".zip",
                 ".geojson": ".geojson", ".json": ".geojson", ".dxf": ".dxf", ".gpkg": ".gpkg"}
#: upload suffixes of a project list (a row or a feature per project)
LIST_SUFFIXES = {".csv": ".csv", ".xlsx": ".xlsx", ".txt": ".txt", ".kml": ".kml",
                 ".kmz": ".kmz", ".zip": ".zip", ".geojson": ".geojson", ".json": ".geojson",
                 ".gpkg": ".gpkg"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: downloadable files of a job: name → (media type, what)
DOWNLOADS = {
    "report.docx": (DOCX, "选址合规性分析报告（Word）"),
    "report.pdf": ("application/pdf", "选址合规性分析报告（PDF）"),
    "screening.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       "工作簿"),
    "overlaps.geojson": ("application/geo+json", "重叠范围 GeoJSON"),
    "footprints.geojson": ("application/geo+json", "项目范围 GeoJSON"),
    "results.json": ("application/json", "结果 JSON"),
    "outputs.zip": ("application/zip", "全部输出（zip）"),
}
_PATH_COLUMNS = {"path", "file", "footprint", "文件", "范围文件", "红线文件"}


class UnsupportedFormat(InputError):
    """An upload whose type the service does not read."""

    code = "unsupported_format"
    title_zh = "不支持的文件格式"


#: a single check's downloads, saved under its project's name (see Service.save_name)
SAVE_AS = {"report.docx": "选址合规性分析报告.docx", "report.pdf": "选址合规性分析报告.pdf",
           "screening.xlsx": "筛查结果.xlsx", "overlaps.geojson": "重叠范围.geojson",
           "results.json": "结果.json"}


def _dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _feature(geom, props: dict) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": None if geom is None else mapping(geom)}


def _geojson_geometry(obj: Any):
    """One geometry from a GeoJSON geometry, Feature or FeatureCollection."""
    if not isinstance(obj, Mapping):
        raise InputError("GeoJSON 应为一个对象（几何、Feature 或 FeatureCollection）")
    kind = obj.get("type")
    try:
        if kind == "FeatureCollection":
            geoms = [shape(f["geometry"]) for f in obj.get("features") or []
                     if isinstance(f, Mapping) and f.get("geometry")]
            if not geoms:
                raise InputError("该 GeoJSON FeatureCollection 中没有几何")
            return shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]
        if kind == "Feature":
            if not obj.get("geometry"):
                raise InputError("该 GeoJSON Feature 没有几何")
            return shape(obj["geometry"])
        return shape(obj)
    except (KeyError, TypeError, ValueError, AttributeError,
            shapely.errors.GEOSException) as e:
        if isinstance(e, ZoningError):
            raise
        raise InputError(f"不是有效的 GeoJSON 几何：{e}") from None


@contextlib.contextmanager
def _unreadable(path: Path):
    """An upload a reader fails on in an unforeseen way is still the client's bad file."""
    try:
        yield
    except ZoningError:
        raise
    except (ValueError, OSError, KeyError, IndexError, TypeError, EOFError,
            zipfile.BadZipFile, UnicodeError) as e:
        log.warning("reader failed on an upload: %r", e)
        raise InputError(f"文件无法读取（{type(e).__name__}: {str(e)[:200]}）",
                         path=path) from None


class Service:
    """Catalogs, warm indexes, the job store and the batch queue of one worker."""

    def __init__(self, config: WebConfig):
        self.config = config
        self.catalogs: list[Catalog] = resolve_catalogs(config.catalogs, config.region)
        # the process-wide cache (shared with zoning.check) unless it is too small
        self.cache = INDEX_CACHE if len(self.catalogs) <= INDEX_CACHE.size else IndexCache(
            size=len(self.catalogs))
        self.store = JobStore(Path(config.job_root), config.job_ttl_s, config.max_jobs)
        self.queue = JobQueue(config.max_queued_jobs)
        self.started = time.time()
        self.warm = False
        self._districts: dict | None = None

    # ------------------------------------------------------------------ catalogs

    def preload(self) -> None:
        """Build every catalog's index now, so the first request is fast."""
        for cat in self.catalogs:
            self.cache.load(cat, CheckOptions())
        self.warm = True

    def catalog(self, region: str) -> Catalog:
        for c in self.catalogs:
            if c.region_id == region:
                return c
        raise NotFoundError(f"没有区域 {region!r} 的图层目录")

    def layers(self) -> list[dict]:
        """The catalogs and their layers (what /api/layers returns)."""
        out = []
        for cat in self.catalogs:
            layers = []
            for spec in cat.layers.values():
                layers.append({"name": spec.name, "kind": spec.kind,
                               "kind_zh": KINDS[spec.kind].zh if spec.kind in KINDS else "",
                               "title": spec.title, "version": spec.version,
                               "source": "postgis" if spec.postgis else "file"})
            problems = self.cache.load(cat, CheckOptions()).problems if self.warm else []
            out.append({"region": cat.region_id, "name": cat.region_name, "layers": layers,
                        "missing": cat.missing_kinds(), "problems": list(problems)})
        return out

    def districts(self) -> dict:
        """The served regions' districts as a GeoJSON FeatureCollection (EPSG:4490, outlines
        simplified to about 30 m) with their names: the page's orientation when it has no
        basemap (an intranet), and its first view.  Computed once."""
        if self._districts is None:
            features = []
            for cat in self.catalogs:
                named = self.cache.named_districts(cat)
                if not named:
                    continue
                names = [n for n, _ in named]
                geoms = np.array([g for _, g in named], dtype=object)
                # for the eye only: ~30 m outlines, coordinates to 1e-5° (~1 m); ~200 KB
                simple = shapely.set_precision(
                    shapely.simplify(geoms, 3e-4, preserve_topology=True), 1e-5)
                for name, g in zip(names, simple):
                    if g is not None and not g.is_empty:
                        features.append(_feature(g, {"name": name, "region": cat.region_name}))
            self._districts = _fc(features)
        return self._districts

    # ------------------------------------------------------------------ sites

    def save_upload(self, folder: Path, filename: str, data: bytes,
                    suffixes: Mapping[str, str]) -> Path:
        """Write an upload under a server-chosen name; only its suffix is kept."""
        suffix = Path(str(filename or "").replace("\\", "/")).suffix.lower()
        if suffix not in suffixes:
            raise UnsupportedFormat(f"file type {suffix or '(none)'!r} is not accepted; use "
                                    f"{', '.join(sorted(set(suffixes)))}")
        path = folder / "input" / f"upload{suffixes[suffix]}"
        write_bytes(path, data)
        return path

    def site_from_upload(self, path: Path, crs: str | None, coord_sys: str | None):
        """(footprint in EPSG:4490, kind, warnings) of an uploaded footprint file."""
        from zoning.io.projects import read_footprint

        with _unreadable(path):
            table = read_footprint(path, crs=crs or None, coord_sys=coord_sys or None)
        row = table.iloc[0]
        return row.geometry, row["kind"], list(row["warnings"] or [])

    def site_from_geojson(self, obj: Any, crs: str | None, coord_sys: str | None):
        g = _geojson_geometry(obj)
        return normalise(g, crs or "EPSG:4490", coord_sys or None)

    def site_from_text(self, text: str, shape_kind: str, coord_sys: str | None):
        if len(text) > self.config.max_coordinate_chars:
            raise ResourceLimitError(f"坐标文本超过 {self.config.max_coordinate_chars} 个字符")
        g = parse_coordinates(text, shape_kind, self.config.max_vertices)
        return normalise(g, "EPSG:4490", coord_sys or None)

    def project(self, site: tuple, attributes: Mapping[str, Any], project_id: str = "",
                name: str = "") -> Project:
        """A :class:`Project` from a normalised site and raw attribute values."""
        geom, kind, warnings = site
        n = int(shapely.get_num_coordinates(geom))
        if n > self.config.max_vertices:
            raise ResourceLimitError(f"项目范围有 {n} 个顶点（上限 "
                                     f"{self.config.max_vertices}）")
        attrs = parse_attributes(attributes)
        return Project(row=1, project_id=str(project_id or "1")[:200], name=str(name)[:500],
                       geometry=geom, kind=kind, attrs=attrs, warnings=list(warnings))

    # ------------------------------------------------------------------ checking

    def check(self, project: Project, options: CheckOptions) -> tuple[CheckResult, list[dict]]:
        """Check one project; returns its result and the overlap records (with geometry)."""
        opts = replace(options, keep_geometry=True)
        res = screen_projects([project], self.catalogs, options=opts, cache=self.cache)
        return res.results[0], res.overlaps

    def record(self, folder: Path, results: list[CheckResult] | bytes, projects: list[Project],
               overlaps: list[dict]) -> None:
        """Write a job's results, footprints and overlaps as JSON / GeoJSON.

        ``results`` may be the results' JSON list already serialised (bytes).
        """
        if not isinstance(results, bytes):
            results = _dumps([r.to_dict() for r in results])
        write_bytes(folder / "results.json", results)
        fps = [_feature(p.geometry, {"row": p.row, "project_id": p.project_id, "name": p.name})
               for p in projects if p.geometry is not None]
        write_bytes(folder / "footprints.geojson", _dumps(_fc(fps)))
        ovs = [_feature(o["geometry"], {
            "row": o["row"], "project_id": o["project_id"], "layer": o["layer"],
            "kind": o["kind"], "feature_id": str(o["feature_id"]),
            "overlap_m2": round(float(o["overlap_m2"]), 2),
            "overlap_mu": round(float(o["overlap_m2"]) / M2_PER_MU, 3),
            "overlap_length_m": round(float(o["overlap_length_m"]), 2)}) for o in overlaps]
        write_bytes(folder / "overlaps.geojson", _dumps(_fc(ovs)))

    def save_name(self, job_id: str, name: str) -> str:
        """The file name a download is saved under: a single check's files are named after
        its project (``GY-012_选址合规性分析报告.docx``), a batch's keep their names."""
        stem = ""
        try:
            if self.store.status(job_id).get("kind") == "check":
                rows = self.results(job_id)
                stem = str(rows[0].get("project_id") or "") if len(rows) == 1 else ""
        except (ZoningError, OSError, ValueError, AttributeError):
            stem = ""
        stem = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]', "_", stem).strip(" .")[:60]
        return f"{stem}_{SAVE_AS[name]}" if stem and name in SAVE_AS else name

    def results(self, job_id: str) -> list[dict]:
        folder = self.store.folder(job_id)
        try:
            return json.loads((folder / "results.json").read_text("utf-8"))
        except FileNotFoundError:
            raise NotFoundError("该任务还没有结果") from None

    # ------------------------------------------------------------------ batches

    def start_batch(self, job_id: str, path: Path, crs: str | None, coord_sys: str | None,
                    options: CheckOptions) -> None:
        """Queue a batch screening of an uploaded project list."""
        self.queue.submit(self._run_batch, job_id, path, crs, coord_sys, options)

    def _safe_list(self, path: Path) -> tuple[Path, dict[int, str]]:
        """A CSV/XLSX list without its file-path columns (no client path reaches the disk).

        Returns the list to read and, per row number, the file name that was dropped.
        """
        if path.suffix not in (".csv", ".xlsx"):
            return path, {}
        import pandas as pd

        from zoning.io.projects import csv_frame

        if path.suffix == ".csv":
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030", errors="replace")
            df = csv_frame(text)
            if df.attrs["long_rows"]:  # rewritten below: refuse rather than lose the mark
                first = min(df.attrs["long_rows"]) + 1
                raise InputError(f"清单第 {first} 行的字段比表头多：是否有逗号或引号放错了"
                                 "位置？")
        else:
            try:
                df = pd.read_excel(path, dtype=str, keep_default_na=False)
            except Exception as e:  # openpyxl raises many kinds for a broken workbook
                raise InputError(f"无法读取工作簿（{type(e).__name__}）") from None
        drop = [c for c in df.columns if str(c).strip().lower() in _PATH_COLUMNS]
        dropped = {i: v for c in drop for i, v in enumerate(df[c], start=1) if str(v).strip()}
        if len(df) > self.config.max_batch_rows:
            raise ResourceLimitError(f"清单有 {len(df)} 行（上限 "
                                     f"{self.config.max_batch_rows}）")
        out = path.with_name("list.csv")
        write_text(out, df.drop(columns=drop).to_csv(index=False), encoding="utf-8-sig")
        return out, dropped

    def _run_batch(self, job_id: str, path: Path, crs, coord_sys, options) -> None:
        from zoning.io.projects import read_projects

        folder = self.store.folder(job_id)
        self.store.update(job_id, state="running", started=time.time())
        try:
            with _unreadable(path):
                safe, dropped = self._safe_list(path)
                table = read_projects(safe, crs=crs or None, coord_sys=coord_sys or None)
            for i, name in dropped.items():
                rows = (table["row"] == i) & (table["status"] == "error")
                table.loc[rows, "error"] = (
                    f"网页上传的清单不能引用文件（{name}）：请改用 WKT 或 经度/纬度 列，"
                    "或在“单个项目”中上传该范围文件")
            if len(table) > self.config.max_batch_rows:
                raise ResourceLimitError(f"清单有 {len(table)} 个项目（上限 "
                                         f"{self.config.max_batch_rows}）")
            projects = projects_from_table(table)
            total = len(projects)
            self.store.update(job_id, total=total)
            done = [0]
            last = [0.0]

            def progress(n: int) -> None:
                done[0] += n
                now = time.monotonic()
                if now - last[0] > 0.2 or done[0] >= total:
                    last[0] = now
                    self.store.update(job_id, done=min(done[0], total))

            opts = replace(options, keep_geometry=True)
            res = screen_projects(projects, self.catalogs, options=opts, cache=self.cache,
                                  chunk_size=max(1, min(500, math.ceil(total / 20))),
                                  progress=progress)
            self.record(folder, res.results, projects, res.overlaps)
            self.store.update(job_id, state="done", done=total, counts=res.counts,
                              finished=time.time())
        except ZoningError as e:
            self.store.update(job_id, state="failed", error={"code": e.code,
                                                             "detail": str(e)})
        except Exception as e:  # a job never dies silently
            log.exception("batch job %s failed", job_id)
            self.store.update(job_id, state="failed", error={"code": "internal_error",
                                                             "detail": type(e).__name__})

    # ------------------------------------------------------------------ downloads

    def reports(self) -> list[str]:
        """The report downloads this installation can render (Word, and PDF with LibreOffice)."""
        from zoning import outputs

        if getattr(outputs, "project_report", None) is None:
            return []
        try:
            from zoning.io.office import soffice_path
        except ImportError:
            return ["report.docx"]
        return ["report.docx"] + (["report.pdf"] if soffice_path() else [])

    def download(self, job_id: str, name: str) -> bytes:
        """The bytes of one of a job's :data:`DOWNLOADS` (rendered on first request)."""
        if name not in DOWNLOADS or (name.startswith("report.") and name not in self.reports()):
            raise NotFoundError(f"没有名为 {name!r} 的下载文件")
        folder = self.store.folder(job_id)
        if not (folder / "results.json").is_file():
            raise NotFoundError("该任务还没有结果")
        path = folder / name
        if not path.is_file():
            write_bytes(path, self._render(job_id, folder, name))
        return path.read_bytes()

    def _render(self, job_id: str, folder: Path, name: str) -> bytes:
        from zoning.report.tables import failed_csv, results_json, run_meta, workbook_bytes

        dicts = self.results(job_id)
        results = [result_from_dict(d) for d in dicts]
        status = self.store.status(job_id)
        meta = run_meta({"input": status.get("filename") or status.get("input", ""),
                         "catalogs": ", ".join(c.region_id for c in self.catalogs)})
        counts = status.get("counts") or _counts(results)
        if name == "screening.xlsx":
            return workbook_bytes(results, meta, counts)
        if name == "report.docx":
            return self._report_docx(folder, results[0], status.get("filename") or "")
        if name == "report.pdf":
            from zoning.io.office import docx_to_pdf

            self.download(job_id, "report.docx")
            return docx_to_pdf([folder / "report.docx"])[0].read_bytes()
        if name == "outputs.zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("screening.xlsx", self.download(job_id, "screening.xlsx"))
                zf.writestr("results.json", json.dumps(results_json(results, meta),
                                                       ensure_ascii=False, indent=1))
                zf.writestr("overlaps.geojson", (folder / "overlaps.geojson").read_bytes())
                zf.writestr("footprints.geojson", (folder / "footprints.geojson").read_bytes())
                zf.writestr("failed_rows.csv", "\ufeff" + failed_csv(results))
            return buf.getvalue()
        return (folder / name).read_bytes()  # pragma: no cover - the others are written

    def _report_docx(self, folder: Path, result: CheckResult, filename: str) -> bytes:
        """The 选址合规性分析报告 of a job's first project, as .docx bytes."""
        from zoning import outputs

        if not result.ok or not result.region:
            raise NotFoundError("没有报告：该项目未能完成检查")
        fps = json.loads((folder / "footprints.geojson").read_text("utf-8"))["features"]
        fp = next(f for f in fps if f["properties"]["row"] == result.row)
        index = self.cache.load(self.catalog(result.region), CheckOptions())
        _, data = outputs.project_report(result, shape(fp["geometry"]), index,
                                         input_name=filename)
        return data

    # ------------------------------------------------------------------ maps

    def map_data(self, job_id: str, row: int, vicinity_m: float = 1500.0,
                 max_features: int = 400) -> dict:
        """GeoJSON for the page's map: footprint, overlaps and nearby layer features."""
        folder = self.store.folder(job_id)
        dicts = {d.get("row"): d for d in self.results(job_id)}
        if row not in dicts:
            raise NotFoundError(f"该任务没有第 {row} 行")
        fps = json.loads((folder / "footprints.geojson").read_text("utf-8"))["features"]
        fp = next((f for f in fps if f["properties"]["row"] == row), None)
        ovs = json.loads((folder / "overlaps.geojson").read_text("utf-8"))["features"]
        lrs = {lr["layer"]: lr for lr in dicts[row].get("layers") or []}
        region = dicts[row].get("region")
        index = self.cache.load(self.catalog(region), CheckOptions()) if region else None
        constraints = list(getattr(index, "constraints", []))
        mine = [f for f in ovs if f["properties"]["row"] == row]
        for f in mine:  # a conflict: the layer's verdict is more than 不涉及/穿越不占地
            p = f["properties"]
            lr = lrs.get(p["layer"]) or {}
            st = lr.get("state")
            p["state"], p["state_zh"] = st, lr.get("state_zh")
            p["conflict"] = p["kind"] != "control_unit" and st not in (
                None, "not_intersecting", "crossing_no_land_use")
            # as the HTML maps draw them: an overlap in its layer's verdict colour (穿越不占地
            # too; a control unit's as an outline), a 不涉及 layer's in the layer's own colour
            words, colour = layer_legend(p["kind"], p["layer"], constraints)
            p["kind_zh"] = words
            p["by_state"] = st not in (None, "not_intersecting")
            p["colour"] = [state_colour(State(st))] * 2 if p["by_state"] else list(colour)
        out = {"row": row, "footprint": _fc([fp] if fp else []), "overlaps": _fc(mine),
               "nearby": _fc([])}
        if fp is not None and index is not None:
            out["nearby"] = _fc(_nearby(index, shape(fp["geometry"]), dicts[row], vicinity_m,
                                        max_features))
        return out


def _counts(results: list[CheckResult]) -> dict:
    from zoning.screen import ScreenResult

    return ScreenResult(results=results).counts


def _nearby(index, footprint, result: dict, vicinity_m: float, max_features: int) -> list:
    """Layer features near a footprint, clipped and simplified, hits flagged."""
    from zoning.crs import reproject
    from zoning.engine.geometry import to_geo

    fp_work = reproject(footprint, "EPSG:4490", index.work_crs)
    box = shapely.box(*shapely.buffer(fp_work, vicinity_m).bounds)
    x0, y0, x1, y1 = box.bounds
    tol = max(2.0, float(np.hypot(x1 - x0, y1 - y0)) / 2000.0)
    hits = {lr["layer"]: {str(h["feature_id"]) for h in lr.get("features") or []}
            for lr in result.get("layers") or []}
    states = {lr["layer"]: lr for lr in result.get("layers") or []}
    feats_out: list[dict] = []
    hidden = set(getattr(index, "statistics_only", ()))  # their geometry never leaves
    constraints = list(getattr(index, "constraints", []))
    for kind, lis in index.layers.items():
        if kind in NOT_DRAWN:
            continue
        for li in lis:
            if li.name in hidden:
                continue
            feats = np.unique(li.parent[li.tree.query(box)])
            if not len(feats):
                continue
            hit_ids = hits.get(li.name, set())
            is_hit = np.isin(li.ids[feats].astype(str), list(hit_ids))
            if len(feats) > max_features:  # the features hit, then the nearest
                rest = feats[~is_hit]
                near = np.argsort(shapely.distance(li.frame.geometry.values[rest], fp_work),
                                  kind="stable")
                feats = np.concatenate([feats[is_hit], rest[near[:max_features]]])
                is_hit = np.isin(li.ids[feats].astype(str), list(hit_ids))
            geoms = shapely.simplify(shapely.clip_by_rect(li.frame.geometry.values[feats],
                                                          *box.bounds), tol,
                                     preserve_topology=True)
            keep = ~shapely.is_empty(geoms)
            geo = to_geo(geoms[keep], index.work_crs)
            names = li.attr_arrays.get("name")
            lr = states.get(li.name) or {}
            words, colour = layer_legend(kind, li.name, constraints)
            for g, f, h in zip(geo, feats[keep], is_hit[keep]):
                feats_out.append(_feature(g, {
                    "layer": li.name, "kind": kind, "kind_zh": words, "colour": list(colour),
                    "id": str(li.ids[f]), "name": "" if names is None else str(names[f] or ""),
                    "hit": bool(h), "state": lr.get("state") if h else None}))
    return feats_out


SCHEMA = SCHEMA_VERSION
