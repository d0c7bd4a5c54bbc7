"""HTML rendering: map pages with Leaflet embedded or linked, and the index page.

Everything here returns text; :mod:`zoning.outputs` writes it.
"""

from __future__ import annotations

import base64
import re

import folium

from zoning.errors import MapError
from zoning.io.resources import static_bytes, static_text
from zoning.report.safe import HtmlElement, esc, verbatim_macros

__all__ = ["render_map", "leaflet_assets", "index_html"]

def _leaflet_css() -> str:
    css = static_text("leaflet/leaflet.css")

    def inline(mo):
        name = mo.group(1)
        data = base64.b64encode(static_bytes(f"leaflet/{name}")).decode()
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([\w\-]+\.png)\)", inline, css)


def leaflet_assets() -> dict[str, str]:
    """The shared Leaflet files (name → text) that linked map pages load."""
    return {"leaflet.css": _leaflet_css(),
            "leaflet.js": static_text("leaflet/leaflet.js")}


def render_map(m: folium.Map, assets_href: str | None = None,
               max_bytes: int = 8_000_000) -> str:
    """The map page as HTML text.

    Leaflet is embedded in the page, or, with ``assets_href`` (a relative folder
    holding :func:`leaflet_assets`), linked.  Raises :class:`MapError` when the
    page would exceed ``max_bytes``.
    """
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    if assets_href is None:
        assets = leaflet_assets()
        root.header.add_child(HtmlElement(
            f"<style>{assets['leaflet.css']}</style>\n"
            f"<script>{assets['leaflet.js']}</script>"),
            name="zoning_leaflet", index=0)
    else:
        root.header.add_child(HtmlElement(
            f'<link rel="stylesheet" href="{assets_href}/leaflet.css"/>\n'
            f'<script src="{assets_href}/leaflet.js"></script>'), name="zoning_leaflet", index=0)
    root.header.add_child(HtmlElement('<meta charset="utf-8"/>'), name="zoning_charset", index=0)
    with verbatim_macros():
        text = root.render()
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise MapError(f"map would be {size / 1e6:.1f} MB (> {max_bytes / 1e6:.1f} MB): "
                       "lower the vicinity or raise the simplification")
    return text


def index_html(entries: list[dict], title: str = "项目筛查地图") -> str:
    """An HTML page linking the per-project maps (entries: href, project_id, name, state)."""
    rows = "".join(
        f"<tr><td>{esc(e['row'])}</td><td><a href=\"{esc(e['href'])}\">{esc(e['project_id'])}"
        f"</a></td><td>{esc(e['name'])}</td><td style=\"color:{e.get('colour', '#333')}\">"
        f"{esc(e['state'])}</td><td>{esc(e.get('size', ''))}</td></tr>" for e in entries)
    return (f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>body{{font:14px sans-serif;margin:20px}}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
            f"</style></head><body><h1>{esc(title)}</h1><table><tr><th>序号</th><th>项目编号"
            f"</th><th>项目名称</th><th>结论</th><th>地图大小</th></tr>{rows}</table></body>"
            "</html>")
