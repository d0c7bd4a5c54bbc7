"""The wiring: the index cache follows file changes; tables in any CRS; 6° zones; the commands."""

import json
import os
import time

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely import box

from zoning.catalog import load_catalog
from zoning.cli import main
from zoning.io.projects import project_table, read_projects
from zoning.options import CheckOptions
from zoning.screen import check, screen

from .minicat import CRS, LAYERS, B, write_catalog

GK = CheckOptions(area_method="gk")


def test_index_cache_rereads_a_changed_layer_file(tmp_path):
    manifest = write_catalog(tmp_path)
    fp = B(200, 200, 400, 400)  # inside red line R1
    assert check(fp, load_catalog(manifest), crs=CRS, options=GK).layer(
        "eco_redline").hits[0].feature_id == "R1"
    moved = dict(LAYERS)
    moved["redline"] = LAYERS["redline"].assign(geometry=[B(5000, 5000, 6000, 6000),
                                                          B(3000, 0, 4000, 1000)])
    (tmp_path / "mini.gpkg").unlink()
    write_catalog(tmp_path, layers=moved)
    future = time.time_ns() + 10**9  # a new modification time even on coarse clocks
    os.utime(tmp_path / "mini.gpkg", ns=(future, future))
    again = check(fp, load_catalog(manifest), crs=CRS, options=GK).layer("eco_redline")
    assert again.hits == [] and again.state.value == "not_intersecting"


def test_a_table_in_a_projected_crs_is_honoured():
    """A project table in GK metres gives the same answer as the same table in lon/lat."""
    site = box(106.60, 26.40, 106.61, 26.41)
    geo = project_table([dict(row=1, project_id="A", geometry=site)])
    gk = geo.to_crs("EPSG:4545")  # CGCS2000 3° GK, CM 108°E, no zone prefix
    a, b = screen(geo, region="guiyang")[0], screen(gk, region="guiyang")[0]
    assert b.ok and b.state is not None and b.state == a.state
    assert b.area_m2 == pytest.approx(a.area_m2, rel=1e-6)
    assert [lr.overlap_m2 for lr in b.layers] == pytest.approx([lr.overlap_m2 for lr in a.layers],
                                                               rel=1e-6, abs=1e-3)


def test_six_degree_zones_declared_and_inferred(tmp_path):
    """Coordinates in a 6° GK zone (zone 18, CM 105°E), with and without a declared CRS."""
    site = gpd.GeoSeries([box(106.60, 26.40, 106.61, 26.41)], crs="EPSG:4490")
    six = site.to_crs("EPSG:4496").iloc[0]  # 6° zone 18 with the zone prefix in the easting
    assert 18_000_000 < six.bounds[0] < 19_000_000
    lst = tmp_path / "six.csv"
    lst.write_text(f"项目编号,wkt,crs\nD,\"{six.wkt}\",EPSG:4496\nI,\"{six.wkt}\",\n",
                   encoding="utf-8")
    t = read_projects(lst)
    assert list(t.status) == ["ok", "ok"]
    ref = check(site.iloc[0], region="guiyang").area_m2
    res = screen(t, region="guiyang")
    assert [r.area_m2 for r in res] == pytest.approx([ref, ref], rel=1e-6)
    assert any("6°" in w or "4496" in w for w in res[1].warnings)  # inferred: said so


def test_targets_command_lists_quoted_targets():
    r = CliRunner().invoke(main, ["targets", "--json"])
    assert r.exit_code == 0, r.output
    ts = json.loads(r.output)
    assert {t["region"] for t in ts} >= {"guiyang", "pingliang", "yunyang"}
    assert all(t["quote"] and t["value"] is not None for t in ts)


def test_seeds_command_regenerates_a_small_region(tmp_path):
    r = CliRunner().invoke(main, ["seeds", "generate", "--out", str(tmp_path), "--region",
                                  "yunyang", "--scale", "0.02", "--res-arcsec", "12"])
    assert r.exit_code == 0, r.output
    layers = gpd.list_layers(tmp_path / "yunyang" / "layers.gpkg")
    assert set(layers.name) == {"STBHHX", "YJJBNTBHTB", "CZKFBJ", "ZRBHD", "HJGKDY", "HLAX"}
    assert (tmp_path / "yunyang" / "landcover.tif").stat().st_size > 0
    r = CliRunner().invoke(main, ["seeds", "generate", "--out", str(tmp_path), "--region",
                                  "yunyang"])
    assert r.exit_code == 1 and "--overwrite" in r.output
    r = CliRunner().invoke(main, ["seeds", "generate", "--out", str(tmp_path), "--region", "xx"])
    assert r.exit_code == 2 and "unknown region" in r.output


def test_demo_command_writes_every_output(tmp_path, monkeypatch):
    """The demo job end to end, on six rows of the sample list (one per region, one read
    from a 部标 TXT, one outside every region, one broken) to keep the suite fast; the whole list is
    screened with every output by the ``sample_run`` fixture."""
    import shutil

    import zoning.demo.workflow as workflow
    from zoning.paths import seeds_dir

    keep = ("项目编号", "GY-001", "GY-010", "GY-012", "YY-001", "PL-001", "OUT-001")
    src = seeds_dir() / "projects"
    (tmp_path / "projects").mkdir()
    lines = (src / "sample_projects.csv").read_text("utf-8-sig").splitlines(keepends=True)
    (tmp_path / "projects" / "sample_projects.csv").write_text(
        "".join(x for x in lines if x.startswith(keep)), "utf-8-sig")
    shutil.copy(src / "GY-012_勘测定界.txt", tmp_path / "projects")
    monkeypatch.setattr(workflow, "seeds_dir", lambda: tmp_path)
    # the land-cover extraction over the three regions' 55 M raster cells (2 s; its values
    # are tested in test_indicators) gives fixed shares here: every district half forest
    import pandas as pd

    import zoning.indicators

    def half_forest(raster, polygons, id_col, classes, **kw):
        return pd.DataFrame([{"id": i, "area_m2": 1.0, **{f"{g}_{x}": 0.5 if g == "forest"
                                                          else 0.0 for g in classes
                                                          for x in ("share", "m2")}}
                             for i in polygons[id_col]])

    monkeypatch.setattr(zoning.indicators, "landcover_shares", half_forest)
    out = tmp_path / "demo"
    r = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in ("screening.xlsx", "results.json", "maps/index.html",
                 "indicators-guiyang.html", "indicators-yunyang.json"):
        assert (out / name).exists(), name
    ind = json.loads((out / "indicators-yunyang.json").read_text("utf-8"))
    assert ind["values"]["forest_cover"] == 50.0  # the demo writes what indicators() gives
    assert "输入 6 行，输出 6 行：检查 5 行，失败 1 行" in r.output
    # the deliberately broken row is named with its reason; the notes column is no "unknown
    # header"
    assert "✗ 第 2 行 GY-010：缺少项目范围" in r.output
    assert "not a known header" not in r.output
    res = json.loads((out / "results.json").read_text("utf-8"))
    assert res["meta"]["radius_m"] == 1000.0


def test_input_feature_limit_does_not_apply_to_catalog_layers(tmp_path, monkeypatch):
    """A catalog layer bigger than the input limit is read (a province's farmland is
    millions of patches); a footprint file over the limit is refused."""
    from zoning.errors import ResourceLimitError
    from zoning.io.layers import read_layer
    from zoning.limits import LIMITS

    cat = load_catalog(write_catalog(tmp_path))
    monkeypatch.setattr(LIMITS, "max_features", 2)
    farmland = read_layer(cat.layers["farmland"])  # 3 features
    assert len(farmland) == 3
    LAYERS["farmland"].to_file(tmp_path / "three.gpkg", driver="GPKG")
    with pytest.raises(ResourceLimitError, match="要素超过 2 个"):
        read_projects(tmp_path / "three.gpkg")


def test_every_error_class_has_one_chinese_title_used_by_cli_and_web(tmp_path):
    """The error code → Chinese title table lives on the error classes, once: the CLI and
    the web service take it from there (the web's own copy once lacked missing_program)."""
    pytest.importorskip("fastapi")
    import zoning.web.jobs  # noqa: F401 - the service's own error classes
    import zoning.web.service  # noqa: F401
    from zoning.errors import ZoningError
    from zoning.web.errors import error_body

    todo, seen = [ZoningError], []
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    codes = {c.code for c in seen}
    assert {"missing_program", "not_found", "busy", "unsupported_format"} <= codes
    for cls in seen:
        if cls.__module__.startswith("zoning"):
            assert "title_zh" in vars(cls), cls  # its own title, not its parent's
            assert error_body(cls.code)["message"] == cls.title_zh
    assert error_body("missing_program", "soffice")["message"].startswith("缺少所需程序")
    (tmp_path / "bad.txt").write_text("not a 部标 file\n", "utf-8")
    r = CliRunner().invoke(main, ["check", str(tmp_path / "bad.txt")])
    assert r.exit_code == 1
    assert "数据无法读取 (data_error)：" in r.output and "第 1 行: 既不是部标文件的属性行" in r.output
