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
from zoning.errors import OutputExistsError, ZoningError
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

__all__ = ["save_map", "index_page", "write_outputs", "write_project_maps", "run_folder",
           "OUTPUT_FILES"]

log = logging.getLogger(__name__)


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


def run_folder(out_dir, overwrite: bool = False) -> OutputFolder:
    """The staged, locked output folder of a screening run (see :class:`OutputFolder`).

    Write everything into ``stage.tmp``; on leaving the ``with`` block the
    folder replaces ``out_dir`` at once, so ``out_dir`` holds either the whole
    previous run or the whole new one.  A concurrent run into the same folder
    raises :class:`~zoning.errors.OutputLockedError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with run_folder(out) as stage:
    ...     _ = write_text(stage.tmp / "screening.log", "ok")
    >>> sorted(p.name for p in out.iterdir())
    ['screening.log']
    """
    return OutputFolder(out_dir, overwrite=overwrite, known=tuple(OUTPUT_FILES.values()))


def write_outputs(out_dir, results: list[CheckResult], overlaps: list[dict], meta: dict,
                  counts: dict, overwrite: bool = False) -> dict:
    """Write the workbook, overlaps GeoPackage, results JSON, failed rows and log."""
    out_dir = Path(out_dir)
    existing = [n for n in OUTPUT_FILES.values() if (out_dir / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{out_dir} already holds {', '.join(existing)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = run_meta(meta)
    paths = {k: out_dir / v for k, v in OUTPUT_FILES.items()}
    write_bytes(paths["excel"], workbook_bytes(results, meta, counts))
    write_layers(paths["gpkg"], {"overlaps": overlaps_frame(overlaps)},
                 metadata=OVERLAPS_METADATA)
    write_json(paths["json"], results_json(results, meta), overwrite=True)
    write_text(paths["failed"], failed_csv(results), encoding="utf-8-sig")
    write_text(paths["log"], log_text(results, meta, counts))
    return paths


def write_project_maps(results: list[CheckResult], geometries: dict, catalogs: list[Catalog],
                       options: CheckOptions, folder: Path, *, basemap: str = "osm",
                       tianditu_key: str | None = None,
                       progress: Callable[[int, int], None] | None = None) -> dict:
    """One map per checked project plus an index page.

    ``geometries``: row → footprint (EPSG:4490).  Returns the index path, the
    number of maps and their total size.
    """
    from zoning.report.maps import STATE_COLOUR, project_map
    from zoning.screen import load_index

    by_region: dict = {}
    for r in results:
        by_region.setdefault(r.region or "", []).append(r)
    entries, total = [], 0
    cat_by_id = {c.region_id: c for c in catalogs}
    for rid, rs in by_region.items():
        index = load_index(cat_by_id[rid], options) if rid in cat_by_id else None
        for r in rs:
            entry = dict(row=r.row, project_id=r.project_id, name=r.name,
                         state=(r.state.zh if r.state else f"失败：{r.error}"),
                         colour=STATE_COLOUR.get(r.state, "#333"), href="")
            if r.ok and index is not None and geometries.get(r.row) is not None:
                safe = "".join(ch if ch.isalnum() or ch in "-_" else "_"
                               for ch in str(r.project_id))[:60]
                href = f"{r.row:05d}_{safe}.html"
                try:
                    m = project_map(r, geometries[r.row], index, basemap=basemap,
                                    tianditu_key=tianditu_key)
                    size = save_map(m, folder / href, assets_dir=folder / "assets")
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
