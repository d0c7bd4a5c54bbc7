"""DXF red lines through GDAL: outlines, hatches, CAD layers, holes, open lines, encodings."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zoning.cli import main
from zoning.engine.geometry import measure
from zoning.errors import InputError
from zoning.io.dxf import dxf_encoding, read_dxf_footprint
from zoning.io.projects import read_footprint

from .minicat import OX, OY, write_catalog


def lwpolyline(layer, pts, closed=True, handle="A1"):
    out = ["0", "LWPOLYLINE", "5", handle, "8", layer, "90", str(len(pts)),
           "70", "1" if closed else "0"]
    for x, y in pts:
        out += ["10", repr(float(x)), "20", repr(float(y))]
    return out


def hatch(layer, pts, handle="H1"):
    out = ["0", "HATCH", "5", handle, "8", layer, "10", "0", "20", "0", "30", "0",
           "210", "0", "220", "0", "230", "1", "2", "SOLID", "70", "1", "71", "0", "91", "1",
           "92", "2", "72", "0", "73", "1", "93", str(len(pts))]
    for x, y in pts:
        out += ["10", repr(float(x)), "20", repr(float(y))]
    return out + ["97", "0", "75", "0", "76", "1", "98", "0"]


def text(layer, x, y, s):
    return ["0", "TEXT", "8", layer, "10", repr(float(x)), "20", repr(float(y)), "30", "0",
            "40", "2.5", "1", s]


def dxf(path, *entities, header=("9", "$ACADVER", "1", "AC1021"), encoding="utf-8"):
    codes = ["0", "SECTION", "2", "HEADER", *header, "0", "ENDSEC",
             "0", "SECTION", "2", "ENTITIES"]
    for e in entities:
        codes += e
    codes += ["0", "ENDSEC", "0", "EOF"]
    path.write_bytes(("\n".join(codes) + "\n").encode(encoding))
    return path


def rect(x0, y0, x1, y1):
    """A rectangle in zone-36 Gauss–Krüger metres relative to minicat's origin (CAD: x east)."""
    return [(OX + x0, OY + y0), (OX + x1, OY + y0), (OX + x1, OY + y1), (OX + x0, OY + y1)]


def gk_area(geom):
    """Planar area in zone 36 (CM 108°E), where the drawing's metres are exact."""
    return float(measure([geom], "EPSG:4490", "gk-fixed", central_meridian=108)[0][0])


def test_closed_polyline_is_the_footprint_and_text_is_ignored(tmp_path):
    f = dxf(tmp_path / "a.dxf", lwpolyline("红线", rect(0, 0, 100, 50)),
            text("注记", OX, OY, "用地红线"))
    g, w = read_dxf_footprint(f)
    assert g.geom_type == "Polygon" and g.area == pytest.approx(5000)
    assert "红线" in w[0]
    t = read_footprint(f)  # no CRS in a DXF: zone prefix 36 in the eastings says EPSG:4524
    assert t.kind.iloc[0] == "polygon"
    assert gk_area(t.geometry.iloc[0]) == pytest.approx(5000, rel=1e-9)
    assert any("带号前缀 36" in m for m in t.warnings.iloc[0])


def test_layer_filter_hatch_and_several_layers(tmp_path):
    f = dxf(tmp_path / "b.dxf", lwpolyline("建筑", rect(10, 10, 20, 20)),
            hatch("YDHX", rect(0, 0, 200, 100)))
    with pytest.raises(InputError, match="多个 CAD 图层上都有闭合轮廓线") as e:
        read_dxf_footprint(f)
    assert "'建筑'（1 条）" in str(e.value) and "'YDHX'（1 条）" in str(e.value)
    g, _ = read_dxf_footprint(f, layer="ydhx")  # case-insensitive fallback
    assert g.area == pytest.approx(20_000)
    with pytest.raises(InputError, match="没有 CAD 图层 '红线'.*'YDHX'"):
        read_dxf_footprint(f, layer="红线")


def test_holes_by_nesting_and_duplicate_hatch_counted_once(tmp_path):
    f = dxf(tmp_path / "c.dxf", lwpolyline("红线", rect(0, 0, 100, 100), handle="B1"),
            lwpolyline("红线", rect(40, 40, 60, 60), handle="B2"),
            lwpolyline("红线", rect(45, 45, 55, 55), handle="B3"),  # an island in the hole
            hatch("红线", rect(0, 0, 100, 100)))
    g, _ = read_dxf_footprint(f)
    assert g.area == pytest.approx(10_000 - 400 + 100)
    assert len(g.geoms) == 2 and len(g.geoms[0].interiors) + len(g.geoms[1].interiors) == 1


def test_open_outline_is_a_clear_error(tmp_path):
    pts = rect(0, 0, 100, 50)
    f = dxf(tmp_path / "d.dxf", lwpolyline("红线", pts, closed=False, handle="2F"))
    with pytest.raises(InputError, match=r"未闭合的多段线.*图层 '红线' 上的句柄 2F.*"
                                         r"首尾相距 50\.000"):
        read_dxf_footprint(f)
    # vertices closing on themselves within a millimetre count as closed, with a warning
    near = pts + [(pts[0][0] + 0.0005, pts[0][1])]
    f2 = dxf(tmp_path / "e.dxf", lwpolyline("红线", near, closed=False),
             lwpolyline("标注", rect(0, -10, 100, -10)[:2], closed=False))
    g, w = read_dxf_footprint(f2)
    assert g.area == pytest.approx(5000, abs=0.02)  # the 0.5 mm sliver: 0.0125 m²
    assert any("已自动闭合" in m for m in w) and any("条未闭合的线" in m for m in w)
    with pytest.raises(InputError, match="未闭合"):
        read_dxf_footprint(f2, layer="标注")


def test_self_intersecting_outline_repaired_with_warning(tmp_path):
    bowtie = [(OX, OY), (OX + 100, OY + 100), (OX + 100, OY), (OX, OY + 100)]
    f = dxf(tmp_path / "f.dxf", lwpolyline("红线", bowtie, handle="9A"))
    g, w = read_dxf_footprint(f)
    assert g.is_valid and g.area == pytest.approx(5000)  # two triangles of 2 500 m²
    assert any("句柄为 9A" in m and "make_valid" in m and "Self-intersection" in m for m in w)


@pytest.mark.parametrize("header,encoding", [
    (("9", "$ACADVER", "1", "AC1021"), "utf-8"),  # R2007+: UTF-8
    (("9", "$ACADVER", "1", "AC1015", "9", "$DWGCODEPAGE", "3", "ANSI_936"), "gbk"),
    ((), "gbk"),  # no header at all: GBK bytes recognised
])
def test_chinese_layer_names_in_every_encoding(tmp_path, header, encoding):
    f = dxf(tmp_path / "g.dxf", lwpolyline("用地红线", rect(0, 0, 10, 10)),
            lwpolyline("其他", rect(20, 20, 30, 30)), header=header, encoding=encoding)
    g, _ = read_dxf_footprint(f, layer="用地红线")
    assert g.area == pytest.approx(100)


def test_encoding_sniffing():
    assert dxf_encoding(b"$ACADVER\n  1\nAC1027\n") == "UTF-8"
    assert dxf_encoding("8\n红线\n".encode("gbk")) == "GB18030"
    assert dxf_encoding("8\n红线\n".encode()) == "UTF-8"
    assert dxf_encoding(b"8\nHX\n") is None


def test_check_a_dxf_against_the_mini_catalog(tmp_path):
    cat = write_catalog(tmp_path)
    # half on red line R1 (0..1000 × 0..1000): 500 000 m² known answer
    f = dxf(tmp_path / "site.dxf", lwpolyline("红线", rect(500, 0, 1500, 1000)),
            lwpolyline("道路", rect(2000, 2000, 2100, 2100)))
    res = CliRunner().invoke(main, ["check", str(f), "--catalog", str(cat), "--layer", "红线",
                                    "--json", "--area-method", "gk"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    red = next(lr for lr in d["layers"] if lr["kind"] == "eco_redline")
    assert d["area"]["m2"] == pytest.approx(1e6, rel=1e-6)
    assert red["overlap"]["m2"] == pytest.approx(5e5, rel=1e-6)
    res = CliRunner().invoke(main, ["check", str(f), "--catalog", str(cat)])
    assert res.exit_code == 1 and "多个 CAD 图层上都有闭合轮廓线" in res.output
