"""The 选址合规性分析报告: a Word document a reviewer can edit and file.

The layout comes from a template ``.docx`` a bureau can replace (styles, page
set-up, letterhead, header and footer).  The report body is inserted where the
template has a paragraph holding only ``{{正文}}`` (at the end when there is
none).  A few plain placeholders are replaced by plain text wherever they
appear (body, headers, footers): ``{{项目名称}}``, ``{{项目编号}}``,
``{{总体结论}}``, ``{{生成日期}}``, ``{{区域}}``.  No template engine runs:
user text (project names from a list) is only ever inserted as text.

While any layer is synthetic, every page header carries a red banner.

Everything here renders to bytes; :mod:`zoning.outputs` writes the files and
converts them to PDF.
"""

from __future__ import annotations

import copy
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import shapely

from zoning import __version__
from zoning.catalog import kind_zh
from zoning.crs import gk3_epsg, gk3_zone, reproject
from zoning.errors import DataError
from zoning.report import figures
from zoning.report.colours import NOT_DRAWN, layer_legend
from zoning.report.tables import RELATION_ZH
from zoning.results import M2_PER_HA, M2_PER_MU, OVERALL_CLEAR, SEVERITY, CheckResult, State

__all__ = ["ReportData", "report_data", "report_docx", "batch_docx", "boundary_points",
           "four_bounds", "land_class_rows", "open_items", "TEMPLATE", "SYNTHETIC_BANNER",
           "report_filename"]

log = logging.getLogger(__name__)

#: the bundled Word template, a file shipped in ``report/static/`` (read with
#: :func:`zoning.io.resources.static_bytes`)
TEMPLATE = "report-template.docx"
SYNTHETIC_BANNER = ("【合成演示数据】本报告所用图层含合成示例数据，非官方划定成果，"
                    "不得用于审批或报批")
BODY_MARK = "{{正文}}"
GEO = "EPSG:4490"

ATTR_ZH = {"industry": "行业代码（GB/T 4754-2017）", "nature": "建设性质",
           "takes_land": "是否占地", "activity": "有限人为活动类别（自然资发〔2022〕142号）",
           "major_project": "国家重大项目类别", "project_type": "项目类型",
           "energy_tce": "年综合能耗（吨标准煤）"}
GEOM_ZH = {"polygon": "面（用地范围）", "line": "线（线性工程）", "point": "点（点位）"}
ORDER = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
         "十五"]


@dataclass
class ReportData:
    """Everything a project report shows (geometries in EPSG:4490)."""

    result: CheckResult
    footprint: object
    region_name: str = ""
    sources: list[dict] = field(default_factory=list)  # layer, kind_zh, title, version, …
    districts: list[tuple[str, object]] = field(default_factory=list)
    map_layers: list[figures.MapLayer] = field(default_factory=list)
    overlaps: list[tuple[str, State, object]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # layers that could not be read
    input_name: str = ""
    options: dict = field(default_factory=dict)
    vocabularies: dict = field(default_factory=dict)  # the rule set's words for coded values

    @property
    def synthetic(self) -> bool:
        return any(s.get("synthetic") for s in self.sources)


def report_data(result: CheckResult, footprint, index, *, sources: Sequence[dict] = (),
                districts: Sequence[tuple[str, object]] = (), vicinity_m: float = 600.0,
                input_name: str = "", options: dict | None = None) -> ReportData:
    """Gather a report's content from a check result and its region index.

    ``footprint`` is in EPSG:4490; ``index`` is the region's
    :class:`~zoning.engine.index.RegionIndex` (``None`` for a site outside every
    region).  Layer features near the site and the overlap geometries are taken
    from the index; ``sources`` and ``districts`` come from the catalog.
    """
    data = ReportData(result=result, footprint=footprint, sources=list(sources),
                      districts=list(districts), input_name=input_name,
                      options=dict(options or {}))
    if index is None:
        return data
    data.region_name = index.region_name
    data.problems = list(index.problems)
    rules = getattr(index, "rules", None)
    data.vocabularies = dict(getattr(rules, "vocabularies", None) or {})
    if data.options.get("no_geometry"):
        return data  # statistics only: the maps draw the footprint alone
    fp_work = reproject(footprint, GEO, index.work_crs)
    view = shapely.buffer(fp_work, max(vicinity_m, 0.3 * _diameter(fp_work)))
    states = {lr.layer: lr for lr in result.layers}
    constraints = list(getattr(index, "constraints", []))
    hidden = set(getattr(index, "statistics_only", ()))  # their geometry never leaves
    for kind, lis in index.layers.items():
        if kind == "control_unit":
            continue  # tiles the whole region: drawn only where hit (as an overlap)
        for li in lis:
            if li.name in hidden:
                continue
            if kind in NOT_DRAWN:  # 三调 地类: its own section's table, as on the HTML maps
                continue
            feats = np.unique(li.parent[li.tree.query(view)])
            if len(feats):
                geo = reproject(li.frame.geometry.values[feats[:400]], index.work_crs, GEO)
                label, colour = layer_legend(kind, li.name, constraints)
                data.map_layers.append(figures.MapLayer(kind, label, list(geo), colour))
            lr = states.get(li.name)
            if lr is None or not lr.hits or lr.state == State.NOT_INTERSECTING:
                continue
            pos = li.positions()
            for h in lr.hits:
                k = pos.get(h.feature_id)
                if k is None:
                    continue
                ov = shapely.intersection(li.frame.geometry.values[k], fp_work)
                if not ov.is_empty:
                    data.overlaps.append((kind_zh(kind), lr.state,
                                          reproject(ov, index.work_crs, GEO)))
    return data


def _diameter(g) -> float:
    x0, y0, x1, y1 = g.bounds
    return float(np.hypot(x1 - x0, y1 - y0))


# ----------------------------------------------------------------------------- numbers


def mu(m2: float) -> float:
    return m2 / M2_PER_MU


def ha(m2: float) -> float:
    return m2 / M2_PER_HA


def boundary_points(footprint) -> list[dict]:
    """The 界址点成果表: per ring, points J1… with X (north) / Y (east, zone-prefixed) in the
    footprint's own CGCS2000 3° Gauss–Krüger zone, and longitude/latitude.

    Polygons list each ring closed (the first point repeated at the end, as a
    survey table does); lines and points list their vertices.  Vertices that lie on
    a straight Gauss–Krüger edge within 1 mm (the points added when the footprint's
    edges were densified for reprojection) are not boundary points and are left out.
    """
    lon0 = shapely.centroid(footprint).x
    epsg = gk3_epsg(lon0)
    rows: list[dict] = []
    n = 0
    for part_no, part in enumerate(shapely.get_parts(footprint), start=1):
        rings = ([part.exterior, *part.interiors] if part.geom_type == "Polygon"
                 else [part])
        for ring_no, ring in enumerate(rings):
            coords = np.asarray(ring.coords)[:, :2]
            closed = part.geom_type == "Polygon"
            body = coords[:-1] if closed else coords
            xy = np.asarray(reproject(shapely.points(body), GEO, f"EPSG:{epsg}"))
            keep = _corners(np.column_stack([shapely.get_x(xy), shapely.get_y(xy)]), closed)
            body, xy = body[keep], xy[keep]
            first = n + 1
            for (lon, lat), p in zip(body, xy):
                n += 1
                rows.append(dict(point=f"J{n}", part=part_no, ring=ring_no,
                                 x=float(p.y), y=float(p.x), lon=float(lon), lat=float(lat)))
            if closed and len(body):
                rows.append(dict(rows[-len(body)], point=f"J{first}"))
    return rows


def _corners(gk: np.ndarray, closed: bool, tol_m: float = 0.001) -> np.ndarray:
    """Indexes of the vertices that are corners: not within ``tol_m`` of the straight
    line through their kept neighbours (Douglas–Peucker keeps original vertices)."""
    if len(gk) < 3:
        return np.arange(len(gk))
    ring = np.vstack([gk, gk[:1]]) if closed else gk
    kept = np.asarray(shapely.simplify(shapely.LineString(ring), tol_m).coords)
    idx, j = [], 0
    for x, y in kept[:-1] if closed else kept:
        while j < len(gk) and (gk[j, 0] != x or gk[j, 1] != y):
            j += 1
        if j < len(gk):
            idx.append(j)
            j += 1
    return np.asarray(idx if len(idx) >= (3 if closed else 2) else range(len(gk)), dtype=int)


def point_count(rows: list[dict]) -> int:
    """Distinct 界址点 (closing repeats not counted)."""
    return len({r["point"] for r in rows})


def four_bounds(footprint, districts: Sequence[tuple[str, object]] = ()) -> list[tuple]:
    """四至: (direction, description) for 东 西 南 北, with the extreme coordinates."""
    lon0, lat0, lon1, lat1 = footprint.bounds
    where = [n for n, g in districts if shapely.intersects(g, footprint)]
    suffix = f"（{'、'.join(where)}境内）" if where else ""
    return [("东至", f"东经 {_dms(lon1)}{suffix}"), ("西至", f"东经 {_dms(lon0)}{suffix}"),
            ("南至", f"北纬 {_dms(lat0)}{suffix}"), ("北至", f"北纬 {_dms(lat1)}{suffix}")]


def _dms(v: float) -> str:
    d = int(abs(v))
    m_full = (abs(v) - d) * 60
    m = int(m_full)
    s = (m_full - m) * 60
    return f"{d}°{m:02d}′{s:05.2f}″"


def land_class_rows(result: CheckResult) -> list[dict]:
    """永久基本农田 overlap by 地类 (DLMC): land class, patches, m², 公顷, 亩."""
    acc: dict[str, list[float]] = {}
    for lr in result.layers:
        if lr.kind != "farmland":
            continue
        for h in lr.hits:
            cls = str(h.attributes.get("land_class") or "未注明地类")
            a = acc.setdefault(cls, [0, 0.0])
            a[0] += 1
            a[1] += h.overlap_m2
    return [dict(land_class=k, patches=int(v[0]), m2=v[1], ha=ha(v[1]), mu=mu(v[1]))
            for k, v in sorted(acc.items(), key=lambda kv: -kv[1][1])]


_DECIDED = {State.NOT_INTERSECTING, State.CROSSING_NO_LAND_USE, State.LIMITED_ACTIVITY,
            State.MAJOR_PROJECT, State.PROHIBITED}
_NEEDED = {"takes_land": "是否占地未申报：按占地处理",
           "activity": "未申报有限人为活动类别：涉及生态保护红线或自然保护地一般控制区时无法走"
                       "有限人为活动认定路径",
           "major_project": "未申报国家重大项目类别：涉及永久基本农田或生态保护红线时无法走"
                            "重大项目论证路径",
           "project_type": "未申报项目类型：城镇开发边界的判定需要项目类型",
           "industry": "未申报行业代码：生态环境准入清单中按行业的条款不能判定",
           "nature": "未申报建设性质（新建/扩建/改建）：准入清单中按建设性质的条款不能判定"}


def open_items(data: ReportData) -> list[tuple[str, str]]:
    """数据缺失/需补充信息: (item, why) for everything that could not be decided."""
    r = data.result
    out: list[tuple[str, str]] = []
    if not r.region:
        out.append(("项目所在区域", "项目不在任何图层目录的覆盖范围内：没有可用的图层数据，"
                                 "各图层均不能判定（不能视为不涉及）"))
    for lr in r.layers:
        if lr.state not in _DECIDED:
            out.append((f"{lr.kind_zh}（{lr.layer}）", f"{lr.state_zh}：{lr.basis}"))
        for note in lr.notes:
            out.append((f"{lr.kind_zh}（{lr.layer}）", note))
    for p in data.problems:
        out.append(("图层读取", p))
    for f in (r.access or {}).get("findings", []):
        if f["outcome"] in ("review", "required") or (
                f["confidence"] == "human" and f["outcome"] != "not_applicable"):
            out.append((f"准入清单 {f['unit_code']} {f['rule_id']}",
                        f"{f['outcome_zh']}：{f['finding']}"))
    for key, why in _NEEDED.items():
        if r.attributes.get(key) in (None, ""):
            out.append((ATTR_ZH[key], why))
    for w in r.warnings:
        out.append(("输入警告", w))
    return out


def report_filename(result: CheckResult, suffix: str = ".docx") -> str:
    """A safe file name: 〈project id〉_选址合规性分析报告.docx."""
    safe = "".join(ch if ch.isalnum() or ch in "-_（）()" else "_"
                   for ch in str(result.project_id or result.row))[:60]
    return f"{safe}_选址合规性分析报告{suffix}"


# ----------------------------------------------------------------------------- docx helpers


class _Doc:
    """A python-docx document with the body insertion point and helper writers."""

    def __init__(self, template: bytes | None):
        from docx import Document

        if template is None:
            from zoning.io.resources import static_bytes

            template = static_bytes(TEMPLATE)
        try:
            self.doc = Document(io.BytesIO(template))
        except Exception as e:  # python-docx raises several kinds for a bad file
            raise DataError(f"not a usable Word template (.docx): {e}") from None
        self.mark = next((p for p in self.doc.paragraphs if p.text.strip() == BODY_MARK), None)
        _chinese_by_default(self.doc)
        self.table_no = 0
        self.figure_no = 0
        self._styles: dict = {}
        self._defaults: dict = {}

    def _place(self, el) -> None:
        if self.mark is not None:
            self.mark._p.addprevious(el)

    def para(self, text: str = "", style: str | None = None, bold: bool = False,
             colour: str | None = None, size: float | None = None, align: str | None = None):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt, RGBColor

        p = self.doc.add_paragraph()
        if style:
            p._p.style = self._style_id(style)
        if text:
            run = p.add_run(text)
            run.bold = bold or None
            if colour:
                run.font.color.rgb = RGBColor.from_string(colour.lstrip("#").upper())
            if size:
                run.font.size = Pt(size)
        if align == "center":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._place(p._p)
        return p

    def _style(self, name: str):
        """The template's style of that name (looked up once per document), or None."""
        if name not in self._styles:
            try:
                self._styles[name] = self.doc.styles[name]
            except KeyError:
                self._styles[name] = None
        return self._styles[name]

    def _style_id(self, name: str) -> str | None:
        """The id to write for the style of that name: None for a missing style or the
        document's default of its type, as python-docx writes it.  python-docx looks the
        default up among every style at each assignment (a tenth of a report's time)."""
        st = self._style(name)
        if st is None:
            return None
        if st.type not in self._defaults:
            default = self.doc.styles.default(st.type)
            self._defaults[st.type] = None if default is None else default.style_id
        return None if st.style_id == self._defaults[st.type] else st.style_id

    def heading(self, text: str, level: int = 1):
        if self._style(f"Heading {level}"):
            p = self.doc.add_paragraph(text)
            p._p.style = self._style_id(f"Heading {level}")
            self._place(p._p)
            return p
        return self.para(text, bold=True, size=14 if level == 1 else 12)

    def caption(self, text: str):
        return self.para(text, style="Caption", align="center")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence], title: str = "",
              widths: Sequence[float] | None = None, font: float = 9):
        from docx.oxml import OxmlElement
        from docx.shared import Pt

        if title:
            self.table_no += 1
            # a table's caption stays on the page of the table (it was orphaned at a page end)
            self.caption(f"表{self.table_no} {title}").paragraph_format.keep_with_next = True
        t = self.doc.add_table(rows=2, cols=len(headers))  # the header and a model row
        if self._style("Table Grid") is not None:
            t._tbl.tblStyle_val = self._style_id("Table Grid")
        for cell, h in zip(t.rows[0].cells, headers):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(h))
            run.bold = True
            run.font.size = Pt(font)
        for cell in t.rows[1].cells:
            cell.paragraphs[0].add_run("-").font.size = Pt(font)
        for el in t.rows[1]._tr.iter(_W_T):  # spaces at either end are text, not layout
            el.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        _repeat_header(t.rows[0])
        for tr in (t.rows[0]._tr, t.rows[1]._tr):  # a row never breaks across pages
            tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        _widths(t, widths or _auto_widths(headers, rows, font=font))
        # every body row is a copy of the model row with its texts set: python-docx's cell
        # and run properties cost far more per cell (a report has hundreds of cells)
        model = t.rows[1]._tr
        t._tbl.remove(model)
        for row in rows:
            texts = ["" if v is None else str(v) for v in row]
            if any(_NOT_PLAIN.search(x) for x in texts):  # tabs, breaks: python-docx's way
                added = t.add_row()
                added._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
                for cell, x in zip(added.cells, texts):
                    cell.paragraphs[0].add_run(x).font.size = Pt(font)
                continue
            tr = copy.deepcopy(model)
            for el, x in zip(tr.iter(_W_T), texts):
                el.text = x
            t._tbl.append(tr)
        _keep_together(t)
        self._place(t._tbl)
        return t

    def picture(self, png: bytes, caption: str, width_cm: float = 16.0):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm

        pic = self.doc.add_paragraph()
        pic.add_run().add_picture(io.BytesIO(png), width=Cm(width_cm))

        pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pic.paragraph_format.keep_with_next = True  # the figure stays with its caption
        self._place(pic._p)
        self.figure_no += 1
        self.caption(f"图{self.figure_no} {caption}")

    def finish(self, fields: dict[str, str], banner: str | None) -> bytes:
        if self.mark is not None:
            self.mark._p.getparent().remove(self.mark._p)
        _replace_fields(self.doc, fields)
        if banner:
            _banner(self.doc, banner)
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


_NUMBER = re.compile(r"^[-+0-9.,%\s]*$")


def _auto_widths(headers: Sequence[str], rows: Sequence[Sequence], total: float = 16.0,
                 font: float = 9) -> list[float]:
    """Column widths (cm): number columns as wide as their longest number (a number
    wrapped inside its cell, "39.682" over "6", misreads), the rest in proportion to
    their longest text, bounded (Chinese text wraps between characters)."""
    import unicodedata

    def width(v) -> float:
        return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.0 for ch in str(v))

    half = 0.0353 * font * 0.56  # cm per half-width character at this size
    pad = 0.45  # the cell's margins and a little air
    fixed: dict[int, float] = {}
    need = []
    for i, h in enumerate(headers):
        body = [r[i] for r in rows if i < len(r) and r[i] is not None and str(r[i]) != ""]
        longest = max([width(h)] + [width(v) for v in body])
        need.append(min(max(longest, 4.0), 40.0))
        if body and all(_NUMBER.match(str(v)) for v in body):
            fixed[i] = max(width(v) for v in body) * half + pad
    if sum(fixed.values()) > total * 0.7:  # mostly numbers: proportional after all
        fixed = {}
    rest = total - sum(fixed.values())
    k = rest / (sum(n for i, n in enumerate(need) if i not in fixed) or 1.0)
    return [fixed[i] if i in fixed else n * k for i, n in enumerate(need)]


#: tables of at most this many rows (header included) are kept on one page
KEEP_TOGETHER_ROWS = 9
#: text a ``w:t`` cannot hold as it is (python-docx turns tabs and breaks into elements)
_NOT_PLAIN = re.compile(r"[\x00-\x1f]")
_W_T = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"


def _keep_together(t) -> None:
    """A short table (at most :data:`KEEP_TOGETHER_ROWS` rows) is not split over two pages."""
    if len(t.rows) > KEEP_TOGETHER_ROWS:
        return
    for row in t.rows[:-1]:
        for cell in row.cells:
            for par in cell.paragraphs:
                par.paragraph_format.keep_with_next = True


def _chinese_by_default(doc) -> None:
    """Mark the document's East Asian text as Chinese (zh-CN) where the template leaves it
    unset or English: without it LibreOffice set 宋体 text in a Japanese fallback font
    (Japanese glyph forms) in the PDF."""
    from docx.oxml.ns import qn

    rpr = doc.styles.element.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" +
                                  qn("w:rPr"))
    if rpr is None:
        return
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    if lang.get(qn("w:eastAsia")) in (None, "", "en-US"):
        lang.set(qn("w:eastAsia"), "zh-CN")


def _widths(t, widths: Sequence[float]) -> None:
    from docx.shared import Cm

    t.autofit = False
    for col, w in zip(t.columns, widths):
        col.width = Cm(w)
    for row in t.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Cm(w)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _all_paragraphs(doc):
    yield from doc.paragraphs
    for t in doc.tables:
        for row in t.rows:
            for c in row.cells:
                yield from c.paragraphs
    for s in doc.sections:
        for part in (s.header, s.footer, s.first_page_header, s.first_page_footer):
            yield from part.paragraphs


def _replace_fields(doc, fields: dict[str, str]) -> None:
    """Replace {{name}} placeholders by plain text, run by run; a placeholder split over
    runs (as Word's editing leaves them) is joined into the paragraph's first run."""
    import re

    pattern = re.compile(r"\{\{(" + "|".join(map(re.escape, fields)) + r")\}\}")

    def sub(text: str) -> str:  # one pass: inserted text is never searched again
        return pattern.sub(lambda mo: fields[mo.group(1)], text)

    for p in _all_paragraphs(doc):
        text = p.text
        if "{{" not in text or not p.runs:
            continue
        whole = len(pattern.findall(text))
        if whole == sum(len(pattern.findall(r.text)) for r in p.runs):
            for r in p.runs:  # every placeholder inside one run: keep the runs' formatting
                if pattern.search(r.text):
                    r.text = sub(r.text)
        elif whole:
            p.runs[0].text = sub(text)
            for r in p.runs[1:]:
                if r.text:
                    r.text = ""


def _banner(doc, text: str) -> None:
    """A red banner at the top of every page header (first-page headers included)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    for s in doc.sections:
        headers = [s.header] + ([s.first_page_header] if s.different_first_page_header_footer
                                else [])
        for hd in headers:
            hd.is_linked_to_previous = False
            p = hd.paragraphs[0] if hd.paragraphs and not hd.paragraphs[0].text else \
                hd.add_paragraph()
            if hd.paragraphs and p is not hd.paragraphs[0]:
                hd.paragraphs[0]._p.addprevious(p._p)
            run = p.add_run(text)
            run.bold = True
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0xD5, 0x00, 0x00)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER


# ----------------------------------------------------------------------------- sections


def _f(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def _attr_text(key: str, v, vocabularies: dict | None = None) -> str:
    """A project attribute as the report shows it: a coded value (project type …) in the
    rule set's words, with the code in brackets.

    Examples
    --------
    >>> _attr_text("project_type", "other", {"project_type": {"other": "其他"}})
    '其他（other）'
    >>> _attr_text("takes_land", False), _attr_text("nature", None)
    ('否（穿越不占地）', '未申报')
    """
    if v is None or v == "":
        return "未申报"
    if key == "takes_land":
        return "是" if v else "否（穿越不占地）"
    words = (vocabularies or {}).get(key, {}).get(str(v))
    return f"{words}（{v}）" if words else str(v)


def _sec_info(d: _Doc, data: ReportData, n: str) -> None:
    r = data.result
    d.heading(f"{n}、项目基本信息", 1)
    size = (f"{_f(r.area_m2)} m²（{_f(ha(r.area_m2), 4)} 公顷，{_f(mu(r.area_m2), 3)} 亩）"
            if r.geometry_type == "polygon" else
            f"长度 {_f(r.length_m)} m" if r.geometry_type == "line" else "点位")
    where = "、".join(n for n, g in data.districts if shapely.intersects(g, data.footprint))
    rows = [("项目编号", r.project_id), ("项目名称", r.name or r.project_id),
            ("所在区域", (data.region_name or "不在任何图层目录的覆盖范围内")
             + (f"（{where}）" if where else "")),
            ("几何类型", GEOM_ZH.get(r.geometry_type, r.geometry_type)), ("用地规模", size)]
    rows += [(ATTR_ZH[k], _attr_text(k, r.attributes.get(k), data.vocabularies))
             for k in ATTR_ZH]
    opts = data.options
    rows += [("输入文件", data.input_name or "-"),
             ("面积算法", r.area_method or {"ellipsoidal": "CGCS2000 椭球面积",
                                            "gk": "高斯-克吕格 3° 带平面面积"}
              .get(opts.get("area_method", "ellipsoidal"), str(opts.get("area_method")))),
             ("分析日期", date.today().isoformat()), ("分析软件", f"zoning {__version__}")]
    d.table(["项目", "内容"], rows, "项目基本信息", widths=[4.5, 11.5])


def _sec_verdict(d: _Doc, data: ReportData, n: str) -> None:
    r = data.result
    d.heading(f"{n}、总体结论", 1)
    state = r.state
    d.para(f"总体结论：{r.state_zh or '未能分析'}", bold=True, size=14,
           colour=figures.state_colour(state))
    order = " > ".join(s.zh for s in sorted(State, key=SEVERITY.__getitem__, reverse=True))
    d.para(f"总体结论取各图层结论中最严重者（{order}）；数据缺失不视为不涉及。"
           + (f"项目位于所列图层之内但均未发现禁止或限制时，写作“{OVERALL_CLEAR}”，不写“不涉及”。"
              if r.state_zh == OVERALL_CLEAR else ""))
    hit = [lr for lr in r.layers if lr.hits or lr.state != State.NOT_INTERSECTING]
    for lr in hit:
        area = (f"，重叠 {_f(lr.overlap_m2)} m²（{_f(ha(lr.overlap_m2), 4)} 公顷，"
                f"{_f(mu(lr.overlap_m2), 3)} 亩）" if lr.overlap_m2 else "")
        d.para(f"· {lr.kind_zh}：{lr.state_zh}{area}")
    if not hit:
        d.para("· 各图层均不涉及。")


def _sec_sources(d: _Doc, data: ReportData, n: str) -> None:
    d.heading(f"{n}、数据来源", 1)
    rows = [(s.get("kind_zh", ""), s.get("title") or s.get("layer", ""),
             s.get("version") or "-", s.get("source") or "-",
             "是" if s.get("synthetic") else "否")  # the banner below says what it means
            for s in data.sources]
    d.table(["图层类型", "图层", "数据版本", "来源", "合成数据"], rows or [("-", "-", "-", "-", "-")],
            "数据来源及版本", widths=[2.6, 2.8, 3.2, 5.8, 1.8])
    if data.synthetic:
        d.para(SYNTHETIC_BANNER, bold=True, colour="#D50000")


def _sec_maps(d: _Doc, data: ReportData, n: str, pts: list[dict]) -> None:
    r = data.result
    d.heading(f"{n}、项目位置图", 1)
    title = _title(r)
    d.picture(figures.location_map_png(data.footprint, data.districts, f"{title} 位置示意图",
                                       data.region_name), "项目位置示意图")
    bare = bool(data.options.get("no_geometry"))
    d.picture(figures.detail_map_png(
        data.footprint, data.map_layers, data.overlaps, f"{title} 与管控图层关系详图",
        [(p["point"], p["lon"], p["lat"]) for p in pts if r.geometry_type == "polygon"]),
        "项目与管控图层关系详图" + ("（统计模式：不显示图层要素与重叠范围）" if bare else
                           "（斜线为重叠部分，按结论着色）"))


def _title(r: CheckResult) -> str:
    return r.project_id if not r.name or r.name == r.project_id else f"{r.project_id} {r.name}"


def _sec_points(d: _Doc, data: ReportData, n: str, pts: list[dict]) -> None:
    d.heading(f"{n}、界址点成果表及四至", 1)
    lon0 = shapely.centroid(data.footprint).x
    d.para(f"坐标系：2000 国家大地坐标系（CGCS2000），高斯-克吕格投影 3° 分带，第 {gk3_zone(lon0)} "
           f"带（EPSG:{gk3_epsg(lon0)}，Y 坐标含带号）；X 为纵坐标（北），Y 为横坐标（东）。"
           f"界址点 {point_count(pts)} 个。")
    rows = [(p["point"], p["part"], f"{p['x']:.3f}", f"{p['y']:.3f}", f"{p['lon']:.8f}",
             f"{p['lat']:.8f}") for p in pts]
    d.table(["点号", "地块", "X（m）", "Y（m）", "经度（°）", "纬度（°）"], rows,
            "界址点成果表", widths=[1.6, 1.3, 3.4, 3.6, 3.0, 3.0], font=8)
    d.table(["方向", "四至"], four_bounds(data.footprint, data.districts), "项目四至",
            widths=[2.0, 14.0])


def _sec_layers(d: _Doc, data: ReportData, n: str) -> None:
    r = data.result
    d.heading(f"{n}、各管控图层分析", 1)
    # a line's overlaps are lengths (its share is of its length), a point's only "inside"
    line, point = r.geometry_type == "line", r.geometry_type == "point"

    def size(x) -> tuple:
        if line:
            return (_f(x.overlap_length_m),)
        if point:
            return ()
        return _f(x.overlap_m2), _f(ha(x.overlap_m2), 4), _f(mu(x.overlap_m2), 3)

    size_head = ["重叠长度 m"] if line else [] if point else ["重叠 m²", "公顷", "亩"]
    share_head = "占项目长度比例" if line else "位于其内" if point else "占项目比例"

    def share(x) -> str:
        return ("是" if x.share > 0 else "否") if point else f"{x.share:.2%}"

    rows = [(lr.kind_zh, lr.state_zh, RELATION_ZH.get(lr.relation, lr.relation), *size(lr),
             share(lr), _f(lr.nearest_m, 1)) for lr in r.layers]
    d.table(["图层", "结论", "空间关系", *size_head, share_head, "最近距离 m"], rows,
            "各图层分析结果汇总", font=8)
    for k, lr in enumerate(r.layers, start=1):
        d.heading(f"（{k}）{lr.kind_zh}：{lr.state_zh}", 2)
        d.para(f"图层：{lr.layer}；数据版本：{lr.data_version or '-'}；空间关系："
               f"{RELATION_ZH.get(lr.relation, lr.relation)}；最近要素：{lr.nearest_id or '-'}"
               f"（{_f(lr.nearest_m, 1)} m）。")
        if lr.hits:
            hrows = [(h.feature_id, _hit_name(h), *size(h), share(h)) for h in lr.hits]
            d.table(["要素编号", "名称/属性", *size_head, share_head], hrows,
                    f"{lr.kind_zh}涉及要素", font=8)
            if lr.overlap_length_m and not line:  # line features across an area
                d.para(f"重叠长度 {_f(lr.overlap_length_m)} m。")
        d.para(f"判定依据：{lr.basis}")


def _hit_name(h) -> str:
    a = h.attributes
    parts = [str(a[k]) for k in ("name", "land_class", "zone", "partition", "river")
             if a.get(k) not in (None, "")]
    zone = {"core": "核心保护区", "general": "一般控制区"}
    return "，".join(zone.get(p, p) for p in parts) or "-"


def _sec_land_class(d: _Doc, data: ReportData, n: str) -> None:
    d.heading(f"{n}、占用永久基本农田地类统计", 1)
    rows = land_class_rows(data.result)
    if not rows:
        d.para("项目不涉及永久基本农田（或农田图层缺失，见“数据缺失/需补充信息”）。")
        return
    if data.result.geometry_type != "polygon":  # a line or point: patches, no areas
        if data.result.geometry_type == "line" and \
                data.result.attributes.get("takes_land") is not False:
            d.para("项目只给出了中心线：占用面积无法按中心线计算，下表仅列出所涉图斑数；"
                   "请提供用地范围（面）或宽度后重新分析。")
        d.table(["地类（DLMC）", "图斑数"], [(x["land_class"], x["patches"]) for x in rows],
                "所涉永久基本农田图斑按地类", widths=[8.0, 4.0])
        return
    tot = sum(x["m2"] for x in rows)
    body = [(x["land_class"], x["patches"], _f(x["m2"]), _f(x["ha"], 4), _f(x["mu"], 3))
            for x in rows]
    body.append(("合计", sum(x["patches"] for x in rows), _f(tot), _f(ha(tot), 4),
                 _f(mu(tot), 3)))
    d.table(["地类（DLMC）", "图斑数", "面积 m²", "公顷", "亩"], body, "永久基本农田重叠面积按地类",
            widths=[4.4, 2.2, 3.6, 3.0, 3.0])  # 图斑数 broke a character a line


def _sec_landuse(d: _Doc, data: ReportData, n: str) -> None:
    """三调 地类 of the footprint by 二级类, as the workbook's 三调地类 sheet gives them."""
    from zoning.rules.landuse import LEVEL1

    lu = data.result.landuse or {}
    d.heading(f"{n}、用地现状（三调地类）", 1)
    if lu.get("status") != "ok":
        why = "；".join(lu.get("notes", [])) or "未统计"
        d.para(f"未能统计三调地类（{why}）：不能视为“不涉及”。")
        return
    if data.result.geometry_type != "polygon":  # no area to count: the classes it meets
        where = "位于" if data.result.geometry_type == "point" else "经过"
        d.para(f"项目不是用地范围（面），三调地类面积无法统计；项目{where}的地类：" +
               ("、".join(f"{e['code']} {e['name']}" for e in lu["level2"]) or "无") + "。")
        return
    body = [(e["group"], f"{e['level1']} {LEVEL1.get(e['level1'], '')}".strip(),
             f"{e['code']} {e['name']}", _f(e["area"]["m2"]), _f(e["area"]["ha"], 4),
             _f(e["area"]["mu"], 3), f"{e['share']:.2%}") for e in lu["level2"]]
    d.table(["三大类", "一级类", "二级类", "面积 m²", "公顷", "亩", "占项目比例"], body,
            f"用地现状（{lu.get('kind_zh') or lu.get('layer', '三调')}）按二级类", font=8)
    for flag in lu.get("flags", []):
        d.para(flag)


def _sec_access(d: _Doc, data: ReportData, n: str) -> None:
    from zoning.rules.access import OUTCOME_ZH

    acc = data.result.access
    d.heading(f"{n}、“三线一单”生态环境准入清单符合性分析", 1)
    if not acc:
        d.para("项目未落入任何环境管控单元（或管控单元图层缺失），准入清单未评价。")
        return
    d.para("所在环境管控单元：" + "；".join(
        f"{u['code']} {u['name']}（{u['unit_class_zh']}，占 {u['share']:.1%}）"
        for u in acc["units"]) + f"。准入清单结论：{OUTCOME_ZH.get(acc['outcome'], acc['outcome'])}。")
    rows = [(f["unit_code"], f["dimension"], f"{f['jurisdiction']} {f['rule_id']}",
             ("" if f["real"] else "〔示例条款〕") + f["clause"], f["source"], f["finding"],
             f["outcome_zh"]) for f in acc["findings"]]
    d.table(["管控单元", "管控维度", "层级/条款", "清单要求（原文）", "来源", "分析", "结论"], rows,
            "生态环境准入清单符合性分析表", font=7.5,
            widths=[2.2, 1.8, 2.0, 4.2, 2.2, 2.6, 1.6])


def _sec_basis(d: _Doc, data: ReportData, n: str) -> None:
    d.heading(f"{n}、结论的法律依据", 1)
    rows = [(lr.kind_zh, lr.state_zh, lr.rule or "-", lr.basis or "-", lr.source or "-")
            for lr in data.result.layers]
    d.table(["图层", "结论", "规则编号", "依据", "数据来源说明"], rows, "各图层结论及依据", font=8,
            widths=[2.2, 2.2, 2.2, 6.6, 3.4])


def _sec_open(d: _Doc, data: ReportData, n: str) -> None:
    d.heading(f"{n}、数据缺失/需补充信息", 1)
    items = open_items(data)
    if not items:
        d.para("无：各图层均有数据且已判定。")
        return
    d.para("以下事项未能判定或需补充信息，判定结果不得视为“不涉及”：")
    d.table(["事项", "原因/需补充内容"], items, "数据缺失及需补充信息", widths=[4.5, 11.5], font=8)


def _sec_notes(d: _Doc, data: ReportData, n: str) -> None:
    d.heading(f"{n}、说明", 1)
    d.para("1. 面积为 CGCS2000 椭球面积（或所选算法），1 公顷 = 10 000 m²，1 亩 = 666.67 m²。")
    d.para("2. 本报告为选址合规性初步分析，依据所列图层数据及规则文件自动生成，"
           "最终以主管部门审查意见为准。")
    if data.synthetic:
        d.para("3. " + SYNTHETIC_BANNER + "。", bold=True, colour="#D50000")


def report_docx(data: ReportData, template: bytes | None = None) -> bytes:
    """The 选址合规性分析报告 of one project as .docx bytes.

    Parameters
    ----------
    data : ReportData
        From :func:`report_data`.
    template : bytes, optional
        A Word template's content (see the module docstring); default the bundled one.

    Returns
    -------
    bytes
        The document.
    """
    d = _Doc(template)
    r = data.result
    d.para("建设项目选址合规性分析报告", style="Title", align="center")
    d.para(_title(r), bold=True,
           size=14, align="center")
    pts = boundary_points(data.footprint) if data.footprint is not None else []
    sections = [lambda k: _sec_info(d, data, k), lambda k: _sec_verdict(d, data, k),
                lambda k: _sec_sources(d, data, k)]
    if data.footprint is not None:
        sections += [lambda k: _sec_maps(d, data, k, pts), lambda k: _sec_points(d, data, k, pts)]
    sections += [lambda k: _sec_layers(d, data, k), lambda k: _sec_land_class(d, data, k)]
    if data.result.landuse:
        sections += [lambda k: _sec_landuse(d, data, k)]
    sections += [lambda k: _sec_access(d, data, k), lambda k: _sec_basis(d, data, k),
                 lambda k: _sec_open(d, data, k), lambda k: _sec_notes(d, data, k)]
    for i, sec in enumerate(sections):
        sec(ORDER[i])
    fields = {"项目名称": r.name or r.project_id, "项目编号": r.project_id,
              "总体结论": r.state_zh or "未能分析", "生成日期": date.today().isoformat(),
              "区域": data.region_name}
    return d.finish(fields, SYNTHETIC_BANNER if data.synthetic else None)


def batch_docx(results: Sequence[CheckResult], *, synthetic: bool, title: str = "",
               reports: dict | None = None, template: bytes | None = None) -> bytes:
    """The batch summary report: a table of every project and a chart of the verdicts.

    ``reports``: row → file name of the project's own report, listed in the table.
    """
    d = _Doc(template)
    d.para(title or "建设项目选址合规性分析汇总报告", style="Title", align="center")
    d.heading("一、结论统计", 1)
    counts: list[tuple[State | None, str, int]] = [
        (s, s.zh, sum(r.state == s for r in results)) for s in State]
    counts = [c for c in counts if c[2]]
    failed = sum(not r.ok for r in results)
    if failed:
        counts.append((None, "分析失败", failed))
    d.para(f"共 {len(results)} 个项目：" + "，".join(f"{lab} {k} 个" for _, lab, k in counts) + "。")
    if counts:
        d.picture(figures.verdict_chart_png(counts, "各结论项目数"), "项目结论统计")
    d.heading("二、项目汇总表", 1)
    rows = []
    for r in results:
        involved = "；".join(f"{lr.kind_zh}:{lr.state_zh}" for lr in r.layers
                            if lr.hits or lr.state != State.NOT_INTERSECTING)
        rows.append((r.row, r.project_id, r.name, r.state_zh if r.state else f"失败：{r.error}",
                     _f(mu(r.area_m2), 3) if r.geometry_type == "polygon" else "-",
                     involved or "-", (reports or {}).get(r.row, "-")))
    d.table(["序号", "项目编号", "项目名称", "总体结论", "面积（亩）", "涉及图层", "分项报告"], rows,
            "项目汇总表", font=7.5, widths=[1.0, 2.0, 2.6, 2.4, 1.6, 4.0, 3.0])
    d.heading("三、说明", 1)
    d.para("各项目的界址点、位置图、图层分析、符合性分析表及法律依据见分项报告。")
    if synthetic:
        d.para(SYNTHETIC_BANNER + "。", bold=True, colour="#D50000")
    fields = {"项目名称": title or "汇总", "项目编号": "", "总体结论": "",
              "生成日期": date.today().isoformat(), "区域": ""}
    return d.finish(fields, SYNTHETIC_BANNER if synthetic else None)
