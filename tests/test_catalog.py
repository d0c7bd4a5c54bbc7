"""Catalog parsing and `zoning layers validate` on broken catalogs built in code."""

import json

import geopandas as gpd
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import Polygon, box

from zoning.catalog import load_catalog, resolve_catalogs
from zoning.cli import main
from zoning.errors import CatalogError
from zoning.io.validate import validate_catalog, validate_layer

# a few 1 km squares near Guiyang, in CGCS2000 GK zone 36 (EPSG:4524, prefixed eastings)
X0, Y0 = 36_371_000.0, 2_940_000.0


def _squares(n=3, crs="EPSG:4524"):
    return gpd.GeoDataFrame(
        {"TBBH": [f"{i:04d}" for i in range(n)], "DKMC": [f"地块{i}" for i in range(n)],
         "XJXZQDM": ["520111"] * n},
        geometry=[box(X0 + i * 2000, Y0, X0 + i * 2000 + 1000, Y0 + 1000) for i in range(n)],
        crs=crs)


def _catalog(tmp_path, layer: dict, name="farmland", extra_layers=None):
    layers = {name: layer}
    layers.update(extra_layers or {})
    doc = {"catalog_version": 1, "region": {"id": "test", "name": "测试区"}, "layers": layers}
    p = tmp_path / "cat.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


def _farmland(path, **kw):
    d = {"kind": "farmland", "path": str(path), "crs": "EPSG:4524", "id_field": "TBBH",
         "fields": {"county": ["XZQDM", "XJXZQDM"]}}
    d.update(kw)
    return d


@pytest.fixture
def gpkg(tmp_path):
    p = tmp_path / "data.gpkg"
    _squares().to_file(p, layer="YJJBNT", driver="GPKG")
    return p


def test_good_catalog_with_aliases(tmp_path, gpkg):
    cat = load_catalog(_catalog(tmp_path, _farmland(gpkg, layer="YJJBNT")))
    [rep] = [r for r in validate_catalog(cat) if r.name == "farmland"]
    assert rep.status == "ok", rep.errors
    assert rep.features == 3 and rep.invalid == 0 and rep.crs == "EPSG:4524"
    assert rep.encoding == "UTF-8"


def test_missing_kinds_fail_closed(tmp_path, gpkg):
    cat = load_catalog(_catalog(tmp_path, _farmland(gpkg, layer="YJJBNT")))
    missing = {r.kind for r in validate_catalog(cat)
               if r.name.startswith("(") and r.status == "error"}
    assert missing == {"eco_redline", "urban_boundary", "protected_area", "control_unit"}


def test_missing_file(tmp_path):
    cat = load_catalog(_catalog(tmp_path, _farmland(tmp_path / "nope.gpkg")))
    rep = validate_layer(cat.layers["farmland"])
    assert rep.status == "error" and "nope.gpkg" in rep.errors[0]


def test_missing_layer_and_field(tmp_path, gpkg):
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(gpkg, layer="X")))
                         .layers["farmland"])
    assert "文件中没有图层 'X'" in rep.errors[0]
    lay = _farmland(gpkg, layer="YJJBNT", id_field="YJJBNTTBBH")
    rep = validate_layer(load_catalog(_catalog(tmp_path, lay)).layers["farmland"])
    assert rep.status == "error"
    assert any("YJJBNTTBBH" in e and "图层中没有字段" in e for e in rep.errors)
    lay = _farmland(gpkg, layer="YJJBNT", fields={"county": "SZXJXZQDM"})
    rep = validate_layer(load_catalog(_catalog(tmp_path, lay)).layers["farmland"])
    assert any("图层中没有字段 SZXJXZQDM（用于 county）" in e for e in rep.errors)


def test_wrong_crs(tmp_path, gpkg):
    lay = _farmland(gpkg, layer="YJJBNT", crs="EPSG:4490")
    rep = validate_layer(load_catalog(_catalog(tmp_path, lay)).layers["farmland"])
    assert rep.status == "error"
    assert any("坐标系不一致：文件为 EPSG:4524，图层目录声明为 EPSG:4490" in e
               for e in rep.errors)


def test_geojson_without_crs_is_read_as_wgs84_and_mismatch_reported(tmp_path):
    p = tmp_path / "nocrs.geojson"
    _squares().set_crs(None, allow_override=True).to_file(p, driver="GeoJSON")
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p))).layers["farmland"])
    # GeoJSON without crs member is read as WGS84 by GDAL: the mismatch is reported
    assert rep.status == "error"
    assert any("坐标系不一致" in e or "中国境外" in e for e in rep.errors)


def test_shapefile_without_prj_uses_declared_crs(tmp_path):
    p = tmp_path / "noprj.shp"
    _squares().to_file(p, encoding="UTF-8")
    p.with_suffix(".prj").unlink()
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p))).layers["farmland"])
    assert rep.status == "warning", rep.errors
    assert any("文件没有坐标系" in w for w in rep.warnings)


def test_swapped_axes_and_outside_china(tmp_path):
    swapped = gpd.GeoDataFrame({"TBBH": ["1"], "XJXZQDM": ["520111"]},
                               geometry=[box(26.5, 106.6, 26.6, 106.7)], crs="EPSG:4490")
    p = tmp_path / "swapped.gpkg"
    swapped.to_file(p)
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p, crs="EPSG:4490")))
                         .layers["farmland"])
    assert any("坐标轴颠倒" in e for e in rep.errors)
    # eastings without the zone prefix declared as the prefixed zone CRS
    noprefix = _squares()
    noprefix["geometry"] = noprefix.translate(-36_000_000)
    p = tmp_path / "noprefix.gpkg"
    noprefix.to_file(p)
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p))).layers["farmland"])
    assert any("中国境外" in e for e in rep.errors)


def test_invalid_geometries_counted(tmp_path):
    g = _squares(4)
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    g.loc[1, "geometry"] = bowtie
    g.loc[3, "geometry"] = bowtie
    p = tmp_path / "bad.gpkg"
    g.to_file(p)
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p))).layers["farmland"])
    assert rep.invalid == 2 and rep.status == "warning"
    assert "TBBH=0001, 0003" in rep.warnings[0] and "Self-intersection" in rep.warnings[0]


def test_wrong_geometry_type(tmp_path):
    g = _squares()
    g["geometry"] = g.boundary
    p = tmp_path / "lines.gpkg"
    g.to_file(p)
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p))).layers["farmland"])
    assert rep.wrong_type == 3 and rep.status == "error"


def test_duplicate_ids_warned(tmp_path):
    g = _squares()
    g["TBBH"] = ["0001", "0001", "0002"]
    p = tmp_path / "dup.gpkg"
    g.to_file(p)
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p))).layers["farmland"])
    assert any("1 个 TBBH 值重复" in w for w in rep.warnings)


def test_gbk_shapefile_without_cpg(tmp_path):
    p = tmp_path / "gbk.shp"
    _squares().to_file(p, encoding="GBK")
    p.with_suffix(".cpg").unlink(missing_ok=True)
    lay = _farmland(p)
    rep = validate_layer(load_catalog(_catalog(tmp_path, lay)).layers["farmland"])
    assert rep.encoding == "GB18030"
    assert any("没有 .cpg 文件" in w for w in rep.warnings)
    # declared explicitly: no warning
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(p, encoding="GBK")))
                         .layers["farmland"])
    assert rep.encoding == "GBK" and rep.status == "ok"


def test_zipped_gbk_shapefile_without_cpg_validates(tmp_path):
    """The ids of a zipped GBK shapefile are read in the encoding found in its DBF, as a
    check reads them (GDAL's Arrow stream took the bytes as UTF-8 and failed)."""
    import zipfile

    g = _squares()
    g["TBBH"] = ["贵阳0001", "贵阳0001", "贵阳0002"]
    g.to_file(tmp_path / "gbk.shp", encoding="GBK")
    with zipfile.ZipFile(tmp_path / "gbk.zip", "w") as z:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            z.write(tmp_path / f"gbk{ext}", f"gbk{ext}")
    rep = validate_layer(load_catalog(_catalog(tmp_path, _farmland(tmp_path / "gbk.zip")))
                         .layers["farmland"])
    assert rep.encoding == "GB18030" and rep.status != "error", rep.errors
    assert rep.features == 3
    assert any("1 个 TBBH 值重复" in w for w in rep.warnings), rep.warnings


@pytest.mark.parametrize("layer,msg", [
    ({"kind": "redlines", "path": "x.gpkg", "id_field": "BSM"}, "kind 'redlines' 不在"),
    ({"kind": "farmland", "path": "x.gpkg"}, "必须给出 id_field:"),
    ({"kind": "farmland", "id_field": "BSM"}, "缺少 path:（或 postgis:）"),
    ({"kind": "farmland", "path": "x.gpkg", "id_field": "BSM", "fields": {"colour": "YS"}},
     "不是 kind farmland 的标准字段"),
    ({"kind": "protected_area", "path": "x.gpkg", "id_field": "BSM", "fields": {"name": "MC"}},
     "必须映射标准字段 ['zone']"),
    ({"kind": "farmland", "path": "x.gpkg", "id_field": "BSM", "colour": 1}, "未知的键"),
    ({"kind": "landcover", "path": "x.tif"}, "需要 classes:"),
])
def test_schema_errors_name_file_and_layer(tmp_path, layer, msg):
    p = _catalog(tmp_path, layer, name="bad_layer")
    with pytest.raises(CatalogError) as e:
        load_catalog(p)
    assert msg in str(e.value)
    assert str(p) in str(e.value) and "'bad_layer'" in str(e.value)


def test_broken_yaml(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("region: {id: x\nlayers: [", encoding="utf-8")
    with pytest.raises(CatalogError, match="不是有效的 YAML"):
        load_catalog(p)


def test_region_filter(tmp_path):
    assert [c.region_id for c in resolve_catalogs(region="520100")] == ["guiyang"]
    assert [c.region_id for c in resolve_catalogs(region="云阳县")] == ["yunyang"]
    with pytest.raises(CatalogError, match="没有区域 'beijing' 的图层目录"):
        resolve_catalogs(region="beijing")


# ------------------------------------------------------------------------ CLI


def test_cli_list_json_shows_every_kind_for_all_regions():
    r = CliRunner().invoke(main, ["layers", "list", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    by_region = {}
    for row in rows:
        by_region.setdefault(row["region"], set()).add(row["kind"])
    assert set(by_region) == {"guiyang", "pingliang", "yunyang"}
    for kinds in by_region.values():
        assert {"eco_redline", "farmland", "urban_boundary", "protected_area", "control_unit",
                "shoreline", "landcover", "districts"} <= kinds


def test_cli_list_table_in_chinese():
    r = CliRunner().invoke(main, ["layers", "list", "--region", "yunyang"])
    assert r.exit_code == 0
    for word in ("生态保护红线", "永久基本农田", "城镇开发边界", "自然保护地", "环境管控单元", "河流岸线"):
        assert word in r.output


def test_cli_validate_user_catalog_exit_codes(tmp_path, gpkg):
    good = _catalog(tmp_path, _farmland(gpkg, layer="YJJBNT"))
    r = CliRunner().invoke(main, ["layers", "validate", "--catalog", str(good), "--json"])
    reports = json.loads(r.output)
    farmland = [x for x in reports if x["name"] == "farmland"][0]
    assert farmland["status"] == "ok" and farmland["features"] == 3
    assert r.exit_code == 1  # the other screening kinds are missing: fails closed
    r = CliRunner().invoke(main, ["layers", "validate", "--catalog", str(tmp_path / "none.yaml")])
    assert r.exit_code == 1  # a data error: exit 1 (click keeps 2 for usage errors)
    assert "图层目录文件不存在" in r.output and "Traceback" not in r.output


def test_cli_validate_bundled_ok():
    r = CliRunner().invoke(main, ["layers", "validate", "--region", "yunyang"])
    assert r.exit_code == 0, r.output


def test_parsed_yaml_is_reused_but_a_changed_file_is_read_again(tmp_path):
    """load_yaml keeps parsed documents by file identity: a caller's edits never reach the
    next caller, and a rewritten file (new size or time) is parsed again."""
    import os

    from zoning.io.yamlfile import load_yaml

    f = tmp_path / "a.yaml"
    f.write_text("a: {b: 1}\n", "utf-8")
    first = load_yaml(f)
    first["a"]["b"] = 99
    assert load_yaml(f) == {"a": {"b": 1}}
    st = f.stat()
    f.write_text("a: {b: 2}\n", "utf-8")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert load_yaml(f) == {"a": {"b": 2}}
    f.write_text("a: [unclosed\n", "utf-8")
    with pytest.raises(CatalogError, match="不是有效的 YAML"):
        load_yaml(f)
