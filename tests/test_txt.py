"""The 部标 coordinate TXT parser and its real-world variants."""

import pytest

from zoning.errors import DataError
from zoning.io.parcel_txt import parse_txt

HEADER = """[属性描述]
格式版本号=1.01
坐标系=2000国家大地坐标系
几度分带=3
投影类型=高斯克吕格
计量单位=米
带号=36
精度=0.001
转换参数=,,,,,,
[地块坐标]
"""
N0, E0 = 2940000.0, 36371000.0  # northing, prefixed easting (zone 36)


def square(n0, e0, size, ring=1, start=1):
    pts = [(n0, e0), (n0, e0 + size), (n0 + size, e0 + size), (n0 + size, e0), (n0, e0)]
    return [f"J{start + k if k < 4 else start},{ring},{n:.3f},{e:.3f}"
            for k, (n, e) in enumerate(pts)]


def doc(lines, header=HEADER, area="1.0"):
    return header + f"5,{area},1,地块1,面,,工业用地,0601,@\n" + "\n".join(lines) + "\n"


def test_standard_file():
    d = parse_txt(doc(square(N0, E0, 100)))
    assert d.epsg == 4524 and d.zone == 36 and not d.swapped
    [p] = d.parcels
    assert p.area_m2 == pytest.approx(10_000)
    # X = northing, Y = easting: the geometry is (easting, northing)
    assert p.geometry.bounds == pytest.approx((E0, N0, E0 + 100, N0 + 100))
    assert p.name == "地块1" and p.use == "工业用地" and p.land_class == "0601"
    assert not p.warnings and not d.warnings


def test_swapped_columns_detected():
    lines = [f"{a},{b},{c},{dd}" for a, b, dd, c in (line.split(",") for line in
                                                       square(N0, E0, 100))]
    d = parse_txt(doc(lines))
    assert d.swapped and "已交换" in d.warnings[0]
    assert d.parcels[0].geometry.bounds == pytest.approx((E0, N0, E0 + 100, N0 + 100))


def test_no_prefix_uses_header_zone():
    d = parse_txt(doc(square(N0, E0 - 36_000_000, 100)))
    assert d.epsg == 4545  # CGCS2000 3° CM 108°E, no prefix


def test_no_prefix_no_zone_is_an_error():
    header = HEADER.replace("带号=36\n", "")
    with pytest.raises(DataError, match=r"东坐标没有带号前缀，\[属性描述\]中也没有带号"):
        parse_txt(doc(square(N0, E0 - 36_000_000, 100), header=header))


def test_full_width_punctuation_brackets_and_gbk():
    text = doc(square(N0, E0, 100)).replace(",", "，").replace("[", "【").replace("]", "】")
    d = parse_txt(text.encode("gb18030"))
    assert d.parcels[0].area_m2 == pytest.approx(10_000) and d.parcels[0].name == "地块1"


def test_rings_by_containment_not_ring_number():
    outer = square(N0, E0, 100, ring=1)
    hole = square(N0 + 40, E0 + 40, 20, ring=2, start=5)
    island = square(N0 + 500, E0 + 500, 50, ring=3, start=9)  # ring 3 is a separate part
    d = parse_txt(doc(outer + hole + island, area="1.21"))
    g = d.parcels[0].geometry
    assert g.geom_type == "MultiPolygon" and len(g.geoms) == 2
    assert d.parcels[0].area_m2 == pytest.approx(100 * 100 - 20 * 20 + 50 * 50)
    # the hole listed first still ends up a hole
    d2 = parse_txt(doc(hole + outer))
    assert d2.parcels[0].area_m2 == pytest.approx(100 * 100 - 20 * 20)
    assert len(d2.parcels[0].geometry.interiors) == 1


def test_area_unit_mistakes_warned():
    m2 = parse_txt(doc(square(N0, E0, 100), area="10000")).parcels[0]
    assert any("像是以 m² 填写的" in w for w in m2.warnings)
    mu = parse_txt(doc(square(N0, E0, 100), area="15")).parcels[0]
    assert any("像是以亩填写的" in w for w in mu.warnings)
    off = parse_txt(doc(square(N0, E0, 100), area="2")).parcels[0]
    assert any("公顷相差" in w for w in off.warnings)


def test_point_count_mismatch_warned():
    text = HEADER + "9,1.0,1,地块1,面,,,,@\n" + "\n".join(square(N0, E0, 100)) + "\n"
    p = parse_txt(text).parcels[0]
    assert any("界址点数=9" in w for w in p.warnings)


def test_multiple_parcels():
    text = (HEADER + "5,1.0,A,甲,面,,,,@\n" + "\n".join(square(N0, E0, 100)) + "\n" +
            "5,0.25,B,乙,面,,,,@\n" + "\n".join(square(N0 + 1000, E0, 50)) + "\n")
    d = parse_txt(text)
    assert [p.number for p in d.parcels] == ["A", "B"]
    assert [round(p.area_m2) for p in d.parcels] == [10_000, 2_500]


@pytest.mark.parametrize("text,msg,row", [
    (HEADER + "5,1.0,1,地块1,面,,,,@\nJ1,1,2940000.0\n", "第 12 行: 不是坐标行", 12),
    (HEADER + "J1,1,2940000.0,36371000.0\n", "坐标出现在第一个地块头行", 11),
    (HEADER, r"\[地块坐标\] 中没有找到地块", None),
    (HEADER.replace("2000国家大地坐标系", "1980西安坐标系") + "5,1,1,a,面,,,,@\n" +
     "\n".join(square(N0, E0, 100)), "无法转换为 CGCS2000", None),
    (HEADER + "5,1,1,a,面,,,,@\nJ1,1,5.0,6.0\nJ2,1,5.0,7.0\nJ3,1,6.0,7.0\n",
     "无法分辨北坐标与东坐标", None),
])
def test_malformed_files_name_the_line(text, msg, row):
    """Whole-file problems raise, naming the line by number (never quoting it)."""
    with pytest.raises(DataError, match=msg) as e:
        parse_txt(text, source="x.txt")
    assert "x.txt" in str(e.value)
    if row:
        assert e.value.row == row and f"第 {row} 行: " in str(e.value)


def test_a_bad_parcel_keeps_its_reason_and_the_others_are_read():
    text = (HEADER + "3,1,1,a,面,,,,@\nJ1,1,2940000,36371000\nJ2,1,2940000,36371100\n"
            "J1,1,2940000,36371000\n" + "5,1.0,B,乙,面,,,,@\n" + "\n".join(square(N0, E0, 100))
            + "\n")
    d = parse_txt(text, source="x.txt")
    bad, good = d.parcels
    assert bad.geometry is None and "第 1 圈上不同的点不足 3 个" in bad.error
    assert good.error == "" and round(good.area_m2) == 10_000
