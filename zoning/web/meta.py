"""Read-only API routes: health, layers, the form's vocabularies and the industry search."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from fastapi import Request

from zoning import __version__

__all__ = ["add_routes", "industries", "search_industries", "vocabularies"]

_DATA = Path(__file__).resolve().parent / "data"

NATURE = ["新建", "扩建", "改建", "迁建", "技术改造"]
COORD_SYS = {"cgcs2000": "CGCS2000（国家2000）", "wgs84": "WGS84（GPS）",
             "gcj02": "高德/腾讯（GCJ-02）", "bd09": "百度（BD-09）"}


@functools.cache
def industries() -> list[tuple[str, str]]:
    """(code, name) of the GB/T 4754-2017 codes the page offers (all 门类 and 大类)."""
    out = []
    for line in (_DATA / "gbt4754.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t", 1)
            out.append((code, name))
    return out


def search_industries(q: str, limit: int = 30) -> list[dict]:
    """Codes whose code or name contains ``q`` (case-insensitive); all when ``q`` is empty.

    >>> [d["code"] for d in search_industries("化学原料")][:2]
    ['C26', 'C2614']
    """
    q = (q or "").strip().upper()
    out = []
    for code, name in industries():
        if not q or q in code or q in name.upper():
            out.append({"code": code, "name": name})
            if len(out) >= limit:
                break
    return out


@functools.cache
def vocabularies() -> dict:
    """The attribute vocabularies of the bundled verdict rules, with Chinese labels."""
    import yaml

    from zoning.paths import layers_dir

    rules = yaml.safe_load((layers_dir() / "rules" / "three_lines.yaml").read_text("utf-8"))
    voc = rules.get("vocabularies") or {}
    return {"activity": voc.get("activity", {}), "major_project": voc.get("major_project", {}),
            "project_type": voc.get("project_type", {}), "nature": NATURE,
            "coord_sys": COORD_SYS}


def add_routes(app) -> None:
    """Add the read-only routes to ``app``."""
    @app.get("/api/health", tags=["meta"])
    async def health(request: Request):
        """Liveness: version, regions, whether the indexes are warm, queued jobs."""
        s = request.app.state.service
        return {"status": "ok", "version": __version__, "warm": s.warm,
                "regions": [c.region_id for c in s.catalogs], "queued_jobs": s.queue.pending,
                "uptime_s": round(time.time() - s.started, 1)}

    @app.get("/api/layers", tags=["meta"])
    async def layers(request: Request):
        """The catalogs (one per region), their layers, and layers that could not be read
        (screening reports those as data missing)."""
        import asyncio

        return await asyncio.to_thread(request.app.state.service.layers)

    @app.get("/api/districts", tags=["meta"])
    async def districts(request: Request):
        """GeoJSON of the served regions' districts (names, simplified outlines): where
        the page draws its first view and, without a basemap, what the user orients by."""
        import asyncio

        return await asyncio.to_thread(request.app.state.service.districts)

    @app.get("/api/options", tags=["meta"])
    async def options(request: Request):
        """Vocabularies for the project attributes, coordinate types and the 天地图 key."""
        s = request.app.state.service
        from zoning.report.colours import web_style
        from zoning.report.tables import RELATION_ZH
        from zoning.results import State
        from zoning.rules.access import OUTCOME_ZH

        # relations in the words of the workbook and the report; states least severe first
        return dict(vocabularies(), tianditu_key=s.config.tianditu_key or "",
                    access_outcome=OUTCOME_ZH, reports=s.reports(), relation=RELATION_ZH,
                    states=[st.value for st in State], style=web_style())

    @app.get("/api/industries", tags=["meta"])
    async def industry_search(q: str = "", limit: int = 30):
        """GB/T 4754-2017 codes matching a code prefix or a name fragment."""
        return search_industries(q, max(1, min(limit, 200)))
