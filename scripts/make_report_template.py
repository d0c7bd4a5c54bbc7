"""Build the default Word template of the 选址合规性分析报告 (zoning/report/static/report-template.docx).

Run from the checkout: ``python scripts/make_report_template.py``.  A bureau can
instead edit the shipped file in Word (or start from ``zoning report --save-template``):
keep a paragraph holding only ``{{正文}}`` where the report body goes.
"""

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

OUT = Path(__file__).resolve().parent.parent / "zoning" / "report" / "static" / "report-template.docx"


def font(style, latin: str, east: str, size: float, bold: bool = False, colour=None) -> None:
    style.font.name = latin
    style.font.size = Pt(size)
    style.font.bold = bold
    if colour:
        style.font.color.rgb = RGBColor.from_string(colour)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attr), None)


def page_field(paragraph) -> None:
    run = paragraph.add_run()
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def main() -> None:
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.top_margin, sec.bottom_margin = Cm(2.5), Cm(2.2)
    st = doc.styles
    font(st["Normal"], "Times New Roman", "宋体", 10.5)
    st["Normal"].paragraph_format.space_after = Pt(3)
    st["Normal"].paragraph_format.line_spacing = 1.25
    font(st["Title"], "Times New Roman", "黑体", 20, True, "000000")
    font(st["Heading 1"], "Times New Roman", "黑体", 14, True, "000000")
    font(st["Heading 2"], "Times New Roman", "黑体", 12, True, "000000")
    font(st["Caption"], "Times New Roman", "黑体", 9, False, "000000")
    st["Caption"].font.italic = False
    for name in ("Heading 1", "Heading 2"):
        st[name].paragraph_format.space_before = Pt(10)
        st[name].paragraph_format.space_after = Pt(4)
    hp = sec.header.paragraphs[0]
    hp.text = "{{项目名称}} 选址合规性分析报告"
    hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    hp.runs[0].font.size = Pt(8)
    hp.runs[0].font.color.rgb = RGBColor(0x61, 0x61, 0x61)
    fp = sec.footer.paragraphs[0]
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fp.add_run("第 ")
    page_field(fp)
    fp.add_run(" 页　　生成日期 {{生成日期}}")
    doc.add_paragraph("{{正文}}")
    doc.core_properties.title = "建设项目选址合规性分析报告"
    doc.core_properties.author = "zoning"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc.save(OUT)
    print(OUT)


if __name__ == "__main__":
    main()
