"""Writing a run's outputs: the screening tables, map pages and the maps' index.

Renders with :mod:`zoning.report` and writes through :mod:`zoning.io.write`,
every file atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import folium

from zoning.catalog import Catalog
from zoning.errors import ZoningError
from zoning.io.resources import read_template
from zoning.io.write import OutputFolder, write_bytes, write_json, write_layers, write_text
from zoning.options import CheckOptions
from zoning.report.html import index_html, leaflet_assets, render_map
from zoning.report.tables import (
    OUTPUT_FILES,
    OVERLAPS_METADATA,
    failed_csv,
    log_text,
    overlaps_frame,
    results_json,
    run_meta,
    workbook_bytes,
)
from zoning.results import CheckResult

__all__ = ["save_map", "index_page", "write_outputs", "write_tables", "write_project_maps",
           "run_folder", "OUTPUT_FILES", "write_report", "write_batch_reports", "project_report",
           "report_sources"]

log = logging.getLogger(__name__)

#: the folder of a run's 选址合规性分析报告 (``screen --report``)
REPORT_FOLDER = "报告"


def save_map(m: folium.Map, path, assets_dir=None, max_bytes: int = 8_000_000) -> int:
    """Write a map page atomically; return its size in bytes.

    Leaflet is embedded in the page, or, with ``assets_dir`` (shared by many
    maps, as a screening run does), written there once and linked relatively.
    Raises :class:`~zoning.errors.MapError` when the page would exceed ``max_bytes``.
    """
    path = Path(path)
    href = None
    if assets_dir is not None:
        assets_dir = Path(assets_dir)
        for name, text in leaflet_assets().items():
            if not (assets_dir / name).exists():
                write_text(assets_dir / name, text)
        href = Path(os.path.relpath(assets_dir, path.parent)).as_posix()
    text = render_map(m, assets_href=href, max_bytes=max_bytes)
    write_text(path, text)
    return len(text.encode("utf-8"))


def index_page(entries: list[dict], path, title: str = "项目筛查地图") -> int:
    """Write the page that links the per-project maps; return its size in bytes."""
    page = index_html(entries, title)
    write_text(Path(path), page)
    return len(page.encode("utf-8"))


def run_folder(out_dir, overwrite: bool = False, names: tuple[str, ...] = ()) -> OutputFolder:
    """The staged, locked output folder of a screening run (see :class:`OutputFolder`).

    Write everything into ``stage.tmp``; on leaving the ``with`` block the
    folder replaces ``out_dir`` at once, so ``out_dir`` holds either the whole
    previous run or the whole new one.  A concurrent run into the same folder
    raises :class:`~zoning.errors.OutputLockedError`.  ``names``: files the run
    writes besides the screening tables (an existing folder holding only such
    files and the tables is replaced with ``overwrite``; other files refuse it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with run_folder(out) as stage:
    ...     _ = write_text(stage.tmp / "screening.log", "ok")
    >>> sorted(p.name for p in out.iterdir())
    ['screening.log']
    """
    return OutputFolder(out_dir, overwrite=overwrite,
                        known=(*OUTPUT_FILES.values(), REPORT_FOLDER, *names))


def write_tables(folder, results: list[CheckResult], overlaps: list[dict], meta: dict,
                 counts: dict, catalogs: list[Catalog] | None = None) -> dict:
    """Write the workbook, overlaps GeoPackage, results JSON, failed rows and log into ``folder``.

    ``folder`` is the staging folder of a run (``run_folder(...).tmp``): the
    files are written there as they are, with no lock and no swap.  Use
    :func:`write_outputs` to write the tables alone as one consistent run.
    ``catalogs`` (those screened against) give the workbook its region names,
    data sources and, for synthetic layers, the notice.  Returns name → path.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = run_meta(meta)
    paths = {k: folder / v for k, v in OUTPUT_FILES.items()}
    cats = catalogs or []
    sources = [dict(s, region=c.region_name) for c in cats for s in report_sources(c)]
    write_bytes(paths["excel"], workbook_bytes(
        results, meta, counts, region_names={c.region_id: c.region_name for c in cats},
        sources=sources))
    if meta.get("no_geometry"):  # statistics only: no overlap geometry leaves the run
        paths.pop("gpkg")
        if (folder / OUTPUT_FILES["gpkg"]).exists():  # never leave an older run's geometry
            (folder / OUTPUT_FILES["gpkg"]).unlink()
    else:
        write_layers(paths["gpkg"], {"overlaps": overlaps_frame(overlaps)},
                     metadata=OVERLAPS_METADATA)
    write_json(paths["json"], results_json(results, meta), overwrite=True)
    write_text(paths["failed"], failed_csv(results), encoding="utf-8-sig")
    write_text(paths["log"], log_text(results, meta, counts))
    return paths


def write_outputs(out_dir, results: list[CheckResult], overlaps: list[dict], meta: dict,
                  counts: dict, overwrite: bool = False,
                  catalogs: list[Catalog] | None = None) -> dict:
    """Write the screening tables (see :func:`write_tables`) into ``out_dir`` as one run.

    The tables are staged and swapped in at once under the folder's lock
    (:func:`run_folder`): ``out_dir`` ends up holding exactly this run's tables,
    whatever an earlier run left there (its maps included).  An ``out_dir``
    holding a run is replaced only with ``overwrite``
    (:class:`~zoning.errors.OutputExistsError`), one holding other files never,
    and one being written by another run raises
    :class:`~zoning.errors.OutputLockedError`.  To write tables, maps and
    reports together, write them all into one :func:`run_folder`.
    Returns name → final path.
    """
    out_dir = Path(out_dir)
    with run_folder(out_dir, overwrite=overwrite) as stage:
        staged = stage.tmp
        paths = write_tables(staged, results, overlaps, meta, counts, catalogs=catalogs)
    return {k: out_dir / p.relative_to(staged) for k, p in paths.items()}


def write_project_maps(results: list[CheckResult], geometries: dict, catalogs: list[Catalog],
                       options: CheckOptions, folder: Path, *, basemap: str = "osm",
                       tianditu_key: str | None = None, shared_assets: bool = False,
                       progress: Callable[[int, int], None] | None = None) -> dict:
    """One map per checked project plus an index page.

    ``geometries``: row → footprint (EPSG:4490).  Each map embeds Leaflet, so a
    map copied out of the folder (sent by 微信 or email) still opens; with
    ``shared_assets`` the maps link one copy in ``assets/`` instead (smaller, but
    then they need that folder).  Returns the index path, the number of maps and
    their total size.
    """
    from zoning.report.colours import state_colour
    from zoning.report.maps import project_map
    from zoning.screen import load_index

    by_region: dict = {}
    for r in results:
        by_region.setdefault(r.region or "", []).append(r)
    entries, total = [], 0
    cat_by_id = {c.region_id: c for c in catalogs}
    for rid, rs in by_region.items():
        first = rid.split("+")[0]  # a footprint across regions is mapped with the first
        index = load_index(cat_by_id[first], options) if first in cat_by_id else None
        for r in rs:
            entry = dict(row=r.row, project_id=r.project_id, name=r.name,
                         state=(r.state_zh if r.state else f"失败：{r.error}"),
                         colour=state_colour(r.state), href="")
            if r.ok and index is not None and geometries.get(r.row) is not None:
                safe = "".join(ch if ch.isalnum() or ch in "-_" else "_"
                               for ch in str(r.project_id))[:60]
                href = f"{r.row:05d}_{safe}.html"
                try:
                    m = project_map(r, geometries[r.row], index, basemap=basemap,
                                    tianditu_key=tianditu_key,
                                    no_geometry=options.no_geometry)
                    size = save_map(m, folder / href,
                                    assets_dir=folder / "assets" if shared_assets else None)
                except Exception as e:  # one bad map never stops the others
                    why = str(e) if isinstance(e, ZoningError) else \
                        f"{type(e).__name__}: {str(e)[:200]}"
                    log.warning("map of row %s not written: %s", r.row, why)
                    entry.update(state=entry["state"] + f"（地图未生成：{why}）")
                else:
                    total += size
                    entry.update(href=href, size=f"{size / 1024:.0f} KB")
            entries.append(entry)
            if progress:
                progress(len(entries), len(results))
    idx = Path(folder) / "index.html"
    index_page(entries, idx, title=f"项目筛查地图（{len(entries)} 个项目）")
    return {"index": idx, "maps": sum(bool(e["href"]) for e in entries), "bytes": total}


# --------------------------------------------------------------------------- filing reports


def save_template(path) -> Path:
    """Write the bundled Word template to ``path`` (to edit in Word)."""
    from zoning.io.resources import static_bytes
    from zoning.report.filing import TEMPLATE

    return write_bytes(Path(path), static_bytes(TEMPLATE))


def report_sources(catalog: Catalog | None) -> list[dict]:
    """The data sources of a catalog for a report: layer, kind, title, version, source,
    and whether the data is synthetic (read from the layer's metadata)."""
    from zoning.catalog import KINDS
    from zoning.io.layers import is_synthetic

    if catalog is None:
        return []
    return [dict(layer=s.name, kind=s.kind, kind_zh=KINDS[s.kind].zh, title=s.title or s.name,
                 version=s.version, source=s.source, synthetic=is_synthetic(s))
            for s in catalog.layers.values()]


def _districts(index) -> list[tuple[str, object]]:
    from zoning.screen import INDEX_CACHE

    cat = getattr(index, "catalog", None)
    return [] if cat is None else INDEX_CACHE.named_districts(cat)


def project_report(result: CheckResult, footprint, index, template=None, *,
                   input_name: str = "", options: dict | None = None):
    """(ReportData, .docx bytes) of one project's 选址合规性分析报告."""
    from zoning.report.filing import report_data, report_docx

    if isinstance(template, (str, Path)):
        template = read_template(template)
    data = report_data(result, footprint, index,
                       sources=report_sources(getattr(index, "catalog", None)),
                       districts=_districts(index), input_name=input_name, options=options)
    return data, report_docx(data, template)


def _pdfs(docx_paths: list[Path], pdf: bool) -> tuple[list[Path | None], str]:
    """Convert to PDF; on a missing LibreOffice, keep the .docx and say why."""
    from zoning.errors import MissingProgramError
    from zoning.io.office import docx_to_pdf

    if not pdf or not docx_paths:
        return [None] * len(docx_paths), ""
    try:
        return list(docx_to_pdf(docx_paths)), ""
    except MissingProgramError as e:
        log.warning("%s; the .docx files are written", e)
        return [None] * len(docx_paths), str(e)


def write_report(result: CheckResult, footprint, index, out_dir, template=None, *,
                 pdf: bool = True, input_name: str = "", options: dict | None = None,
                 overwrite: bool = True) -> dict:
    """Write one project's 选址合规性分析报告 as .docx and (with LibreOffice) .pdf.

    Parameters
    ----------
    result : CheckResult
        The project's check result.
    footprint : shapely geometry
        The footprint in EPSG:4490.
    index : RegionIndex or None
        The region's index (``load_index(catalog)``); None for a site outside every region.
    out_dir : path
        Folder for the files (created).
    template : path or bytes, optional
        A Word template (.docx file or its content) replacing the bundled one.

    Returns
    -------
    dict
        ``{"docx": Path, "pdf": Path | None, "pdf_error": str}``.
    """
    from zoning.report.filing import report_filename

    out_dir = Path(out_dir)
    _, data = project_report(result, footprint, index, template, input_name=input_name,
                             options=options)
    path = out_dir / report_filename(result)
    write_bytes(path, data, overwrite=overwrite)
    pdfs, why = _pdfs([path], pdf)
    return {"docx": path, "pdf": pdfs[0], "pdf_error": why}


def write_batch_reports(results: list[CheckResult], geometries: dict,
                        catalogs: list[Catalog], options: CheckOptions, out_dir, template=None,
                        *, pdf: bool = True, input_name: str = "",
                        progress: Callable[[int, int], None] | None = None) -> dict:
    """A report per checked project plus the batch summary (汇总报告), .docx and .pdf.

    ``geometries``: row → footprint (EPSG:4490).  Returns ``{"summary": Path,
    "docx": [Path…], "pdf": [Path…], "pdf_error": str}``.
    """
    from zoning.report.filing import batch_docx, report_filename
    from zoning.screen import load_index

    out_dir = Path(out_dir)
    if isinstance(template, (str, Path)):
        template = read_template(template)
    cat_by_id = {c.region_id: c for c in catalogs}
    written: list[Path] = []
    names: dict = {}
    synthetic = False
    opts = {"area_method": options.area_method, "no_geometry": options.no_geometry}
    for k, r in enumerate(results, start=1):
        geom = geometries.get(r.row)
        if r.ok and geom is not None:
            index = load_index(cat_by_id[r.region], options) if r.region in cat_by_id else None
            data, docx = project_report(r, geom, index, template, input_name=input_name,
                                        options=opts)
            synthetic = synthetic or data.synthetic
            path = out_dir / report_filename(r)
            write_bytes(path, docx)
            written.append(path)
            names[r.row] = path.name
        if progress:
            progress(k, len(results))
    summary = out_dir / "汇总报告.docx"
    write_bytes(summary, batch_docx(results, synthetic=synthetic, reports=names,
                                    template=template))
    pdfs, why = _pdfs([summary, *written], pdf)
    return {"summary": summary, "docx": written, "pdf": [p for p in pdfs if p], "pdf_error": why}
