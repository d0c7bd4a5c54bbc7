"""Print-ready static figures for the filing report: location map, detail map, verdict chart.

Maps are drawn in the site's 3° Gauss–Krüger zone (metres), so the scale bar is
true; the 经纬网 (graticule) is drawn as projected meridians and parallels with
degree labels.  Every map has a 图例 (legend), 指北针 (north arrow) and
比例尺 (scale bar).  Everything returns PNG bytes; nothing is written here.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from zoning.crs import gk3_epsg, reproject
from zoning.report.colours import LAYER_COLOUR, STATE_COLOUR, layer_colour, state_colour
from zoning.results import State

__all__ = ["STATE_COLOUR", "LAYER_COLOUR", "MapLayer", "location_map_png", "detail_map_png",
           "verdict_chart_png", "state_colour"]

GEO = "EPSG:4490"
FONT = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "SimHei",
        "Microsoft YaHei", "DejaVu Sans"]

@dataclass
class MapLayer:
    """Features of one catalog layer to draw (EPSG:4490)."""

    kind: str
    label: str
    geometries: Sequence = field(default_factory=list)
    colour: tuple[str, str] | None = None  # (outline, fill); None: the kind's colours


def _figure(w_in: float, h_in: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w_in, h_in), dpi=200)
    return fig


def _rc():
    import matplotlib

    # names come from data: a "$" in one is text, never mathtext (which failed the report)
    return matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": FONT,
                                  "axes.unicode_minus": False, "font.size": 8,
                                  "text.parse_math": False})


def _png(fig, pad_inches: float = 0.05) -> bytes:
    """The figure as PNG, cropped to its drawn content plus ``pad_inches``.

    The same crop as ``savefig(bbox_inches="tight")``, which draws the figure twice
    (once to measure it); here it is drawn once and the pixels are cropped.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    h, w = rgba.shape[:2]
    box = fig.get_tightbbox(canvas.get_renderer())  # inches
    pad = pad_inches * fig.dpi
    x0 = int(math.floor(box.x0 * fig.dpi - pad))
    x1 = int(math.ceil(box.x1 * fig.dpi + pad))
    y0 = int(math.floor(h - box.y1 * fig.dpi - pad))  # image rows run top down
    y1 = int(math.ceil(h - box.y0 * fig.dpi + pad))
    buf = io.BytesIO()
    if x0 < 0 or y0 < 0 or x1 > w or y1 > h:  # something is drawn beyond the canvas (an
        # axis title below it): let matplotlib lay out a larger canvas, as it draws again
        fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight", pad_inches=pad_inches)
        return buf.getvalue()
    px = rgba[y0:y1, x0:x1]
    if px[..., 3].min() == 255:  # opaque (the figures' white background): RGB, a quarter
        px = px[..., :3]  # less to compress, the same pixels
    # zlib level 3: half the encoding time of level 6 for files a few percent larger
    Image.fromarray(px).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _patches(geom) -> list:
    """Matplotlib path patches of a (multi)polygon, holes included."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    out = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        verts, codes = [], []
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            verts.extend(xy)
            codes.extend([MPath.MOVETO] + [MPath.LINETO] * (len(xy) - 2) + [MPath.CLOSEPOLY])
        out.append(PathPatch(MPath(np.asarray(verts), codes)))
    return out


def _draw(ax, geom, *, face="none", edge="#000", lw=0.8, alpha=1.0, hatch=None, z=1,
          ls="-") -> None:
    if geom is None or geom.is_empty:
        return
    dim = shapely.get_dimensions(geom)
    if dim == 2:
        for p in _patches(geom):
            p.set(facecolor=face, edgecolor=edge, linewidth=lw, alpha=alpha, hatch=hatch,
                  zorder=z, linestyle=ls)
            # add_artist, not add_patch: the view is set explicitly (_graticule), and
            # add_patch walks every Bézier segment to update the data limits (half the time)
            ax.add_artist(p)
    elif dim == 1:
        for part in shapely.get_parts(geom):
            xy = np.asarray(part.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=edge, lw=max(lw, 1.2), zorder=z, ls=ls)
    else:
        for part in shapely.get_parts(geom):
            ax.plot(part.x, part.y, marker="o", ms=7, mfc=face if face != "none" else edge,
                    mec="#000", zorder=z + 1)


def _nice_step(span: float, target: int = 4) -> float:
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _dms(v: float, pos: str, neg: str) -> str:
    """Degrees, minutes and (when not zero) seconds, rounded to the whole second.

    Rounded as a whole, so 106.99999999° reads 107°00′, not 106°00′.

    Examples
    --------
    >>> _dms(106.99999999, "E", "W"), _dms(26.5, "N", "S"), _dms(-0.2541667, "E", "W")
    ('107°00′E', '26°30′N', '0°15′15″W')
    """
    d, rest = divmod(round(abs(v) * 3600), 3600)
    m, s = divmod(rest, 60)
    hemi = pos if v >= 0 else neg
    if s:
        return f"{d}°{m:02d}′{s:02d}″{hemi}"
    return f"{d}°{m:02d}′{hemi}"


def _graticule(ax, crs: str, bounds) -> None:
    """Meridians and parallels over a projected view, labelled in degrees on the frame."""
    x0, y0, x1, y1 = bounds
    corners = shapely.MultiPoint([(x0, y0), (x0, y1), (x1, y0), (x1, y1)])
    lon0, lat0, lon1, lat1 = reproject(corners, crs, GEO).bounds
    span = max(lon1 - lon0, lat1 - lat0)
    step = _nice_step(span * 60, 4) / 60.0  # in degrees, a nice number of minutes
    xt, xl, yt, yl = [], [], [], []
    for lon in np.arange(math.floor(lon0 / step) * step, lon1 + step, step):
        line = reproject(shapely.LineString([(lon, lat0 - step), (lon, lat1 + step)]).segmentize(
            step / 20), GEO, crs)
        xy = np.asarray(line.coords)
        ax.plot(xy[:, 0], xy[:, 1], color="#9e9e9e", lw=0.4, ls="--", zorder=0.5)
        bottom = line.intersection(shapely.LineString([(x0, y0), (x1, y0)]))
        if not bottom.is_empty:
            xt.append(bottom.centroid.x)
            xl.append(_dms(lon, "E", "W"))
    for lat in np.arange(math.floor(lat0 / step) * step, lat1 + step, step):
        line = reproject(shapely.LineString([(lon0 - step, lat), (lon1 + step, lat)]).segmentize(
            step / 20), GEO, crs)
        xy = np.asarray(line.coords)
        ax.plot(xy[:, 0], xy[:, 1], color="#9e9e9e", lw=0.4, ls="--", zorder=0.5)
        left = line.intersection(shapely.LineString([(x0, y0), (x0, y1)]))
        if not left.is_empty:
            yt.append(left.centroid.y)
            yl.append(_dms(lat, "N", "S"))
    ax.set_xticks(xt, xl, fontsize=6)
    ax.set_yticks(yt, yl, fontsize=6, rotation=90, va="center")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")


def _north_arrow(ax) -> None:
    ax.annotate("", xy=(0.94, 0.95), xytext=(0.94, 0.83), xycoords="axes fraction",
                arrowprops=dict(facecolor="black", width=3, headwidth=10, headlength=10),
                zorder=20)
    ax.text(0.94, 0.965, "N", transform=ax.transAxes, ha="center", va="bottom",
            fontsize=10, fontweight="bold", zorder=20)
    ax.text(0.94, 0.80, "北", transform=ax.transAxes, ha="center", va="top", fontsize=7,
            zorder=20)


def _scale_bar(ax, width_m: float) -> None:
    """A two-segment scale bar at the lower left, in m or km."""
    length = _nice_step(width_m / 4, 1)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    sx = x0 + (x1 - x0) * 0.05
    sy = y0 + (y1 - y0) * 0.05
    h = (y1 - y0) * 0.012
    ax.add_patch(_rect(sx - (x1 - x0) * 0.015, sy - h * 2.5, length + (x1 - x0) * 0.03,
                       h * 7.5, "white", 0.6))  # boundaries under it still show
    ax.add_patch(_rect(sx, sy, length / 2, h, "black", 1))
    ax.add_patch(_rect(sx + length / 2, sy, length / 2, h, "white", 1, edge="black"))
    lab = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(sx, sy + h * 1.6, "0", fontsize=6, ha="center", zorder=21)
    ax.text(sx + length, sy + h * 1.6, lab, fontsize=6, ha="center", zorder=21)
    ax.text(sx + length / 2, sy - h * 1.2, "比例尺", fontsize=6, ha="center", va="top",
            zorder=21)


def _rect(x, y, w, h, face, alpha, edge="none"):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=face, edgecolor=edge, alpha=alpha, zorder=20,
                     linewidth=0.6)


def _legend(ax, items: Iterable[tuple], below: bool = False):
    """items: (label, face, edge, hatch).  ``below``: under the map frame, never over
    what is drawn (the detail map's boundary points and overlaps fill its frame)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # a hatch "marker:*" draws the item as that marker (the site's star), not as an area
    handles = [Line2D([], [], ls="none", marker=h.split(":", 1)[1], markersize=9,
                      markerfacecolor=f, markeredgecolor=e, label=lab)
               if h and h.startswith("marker:") else
               Patch(facecolor=f, edgecolor=e, hatch=h, label=lab) for lab, f, e, h in items]
    where = (dict(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2) if below else
             dict(loc="lower right"))
    leg = ax.legend(handles=handles, fontsize=6, title="图例", title_fontsize=7,
                    framealpha=0.92, edgecolor="#666", **where)
    leg.set_zorder(30)
    return leg


def _view(geom_work, min_half: float, pad: float = 0.35):
    x0, y0, x1, y1 = geom_work.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max((x1 - x0), (y1 - y0)) / 2 * (1 + pad) + 1.0
    half = max(half, min_half)
    return (cx - half * 1.25, cy - half, cx + half * 1.25, cy + half)


def location_map_png(footprint, districts: Sequence[tuple[str, object]], title: str,
                     region_name: str = "") -> bytes:
    """位置示意图: the site within the region's districts (geometries in EPSG:4490)."""
    crs = f"EPSG:{gk3_epsg(shapely.centroid(footprint).x)}"
    fp = reproject(footprint, GEO, crs)
    dist = [(n, reproject(g, GEO, crs)) for n, g in districts]
    with _rc():
        fig = _figure(6.3, 4.6)
        ax = fig.add_subplot()
        if dist:
            b = shapely.bounds(np.asarray([g for _, g in dist], dtype=object))
            x0, y0 = np.nanmin(b[:, :2], axis=0)
            x1, y1 = np.nanmax(b[:, 2:], axis=0)
            pad = max(x1 - x0, y1 - y0) * 0.06
            bounds = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        else:
            bounds = _view(fp, 20000)
        for name, g in dist:
            inside = shapely.intersects(g, fp)
            _draw(ax, g, face="#fff3e0" if inside else "#fafafa", edge="#5d4037", lw=0.6)
            p = g.representative_point()
            ax.text(p.x, p.y, name, fontsize=6, ha="center", va="center", color="#4e342e",
                    zorder=3)
        c = shapely.centroid(fp)
        ax.plot(c.x, c.y, marker="*", ms=14, mfc="#d50000", mec="black", zorder=10)
        _draw(ax, fp, face="#d50000", edge="#000", lw=1.0, z=9)
        _graticule(ax, crs, bounds)
        _north_arrow(ax)
        _scale_bar(ax, bounds[2] - bounds[0])
        _legend(ax, [("项目位置", "#d50000", "#000", "marker:*"),
                     ("项目所在区县", "#fff3e0", "#5d4037", None),
                     ("县级行政区界", "#fafafa", "#5d4037", None)])
        ax.set_title(title, fontsize=9)
        if region_name:
            ax.text(0.02, 0.98, region_name, transform=ax.transAxes, fontsize=7, va="top",
                    zorder=21, bbox=dict(facecolor="white", edgecolor="#999", pad=2))
        return _png(fig)


def detail_map_png(footprint, layers: Sequence[MapLayer],
                   overlaps: Sequence[tuple[str, State, object]], title: str,
                   points: Sequence[tuple[str, float, float]] = ()) -> bytes:
    """详图: the footprint, nearby layer features, overlaps hatched in their verdict colour.

    ``overlaps``: (label, state, geometry) in EPSG:4490; ``points``: (number, lon, lat)
    of 界址点 to label (at most 40 are labelled).
    """
    crs = f"EPSG:{gk3_epsg(shapely.centroid(footprint).x)}"
    fp = reproject(footprint, GEO, crs)
    bounds = _view(fp, 250.0)
    clip = shapely.box(*bounds)
    legend = [("项目范围（用地红线）", "none", "#000", None)]
    with _rc():
        fig = _figure(6.3, 5.6)
        fig.subplots_adjust(bottom=0.2)  # room for the legend under the frame, on the canvas
        ax = fig.add_subplot()
        for ml in layers:
            edge, face = ml.colour or layer_colour(ml.kind)
            drawn = False
            for g in ml.geometries:
                gw = shapely.intersection(reproject(g, GEO, crs), clip)
                if not gw.is_empty:
                    _draw(ax, gw, face=face, edge=edge, lw=0.5, alpha=0.75, z=1)
                    drawn = True
            if drawn:
                legend.append((ml.label, face, edge, None))
        seen = set()
        for label, state, g in overlaps:
            colour = state_colour(state)
            dim = shapely.get_dimensions(g)
            _draw(ax, reproject(g, GEO, crs), face="none" if dim == 2 else colour, edge=colour,
                  lw=1.0 if dim == 2 else 5.0, hatch="////" if dim == 2 else None, z=5 if dim
                  == 2 else 7)
            key = (label, state)
            if key not in seen:
                seen.add(key)
                legend.append((f"重叠：{label}（{state.zh}）", "none", colour, "////"))
        _draw(ax, fp, face="none", edge="#000", lw=1.6, z=8, ls="-")
        for num, lon, lat in list(points)[:40]:
            x, y = reproject(shapely.Point(lon, lat), GEO, crs).coords[0]
            ax.plot(x, y, marker="o", ms=2.5, color="#000", zorder=9)
            ax.annotate(num, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=5.5,
                        zorder=9)
        _graticule(ax, crs, bounds)
        _north_arrow(ax)
        _scale_bar(ax, bounds[2] - bounds[0])
        _legend(ax, legend, below=True)
        ax.set_title(title, fontsize=9)
        return _png(fig)


def verdict_chart_png(counts: Sequence[tuple[State | None, str, int]], title: str) -> bytes:
    """Bar chart of projects per verdict: (state or None for failed rows, label, count)."""
    with _rc():
        fig = _figure(6.0, 2.8)
        ax = fig.add_subplot()
        labels = [lab for _, lab, _ in counts]
        vals = [n for _, _, n in counts]
        colours = [state_colour(s) if s is not None else "#9e9e9e" for s, _, _ in counts]
        bars = ax.barh(range(len(vals)), vals, color=colours)
        ax.set_yticks(range(len(vals)), labels, fontsize=7)
        ax.invert_yaxis()
        for b, v in zip(bars, vals):
            ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {v}", va="center",
                    fontsize=7)
        ax.set_xlabel("项目数", fontsize=7)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        return _png(fig)
