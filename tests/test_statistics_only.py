"""Statistics-only mode: ids and areas, no overlap geometry, maps with the footprint only."""

from __future__ import annotations

import csv
import json

import pytest
import yaml
from click.testing import CliRunner

from zoning.catalog import load_catalog
from zoning.cli import main
from zoning.crs import reproject
from zoning.options import CheckOptions
from zoning.project import Project
from zoning.report.maps import project_map
from zoning.rules.constraints import constraint_rules_dir
from zoning.screen import load_index, screen_projects

from .minicat import CRS, B, write_catalog
from .test_constraints import WATER

SITE = B(-2800, -2800, -2600, -2600)  # in the 一级 water-source zone
FARM = B(-1800, 200, -1200, 400)  # inside farmland F1


def _catalog(folder, statistics_only: bool):
    p = write_catalog(folder)
    WATER.to_file(folder / "water.gpkg", layer="SYBHQ", driver="GPKG")
    doc = yaml.safe_load(p.read_text("utf-8"))
    doc["layers"]["water_source"] = dict(
        kind="constraint", path="water.gpkg", layer="SYBHQ", crs=CRS, id_field="BSM",
        fields={"zone": "BHQJB"}, values={"zone": {"一级保护区": "first"}},
        rules=str(constraint_rules_dir() / "water_source.yaml"),
        statistics_only=statistics_only)
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_catalog(p)


def _projects():
    return [Project(row=i + 1, project_id=pid, geometry=reproject(g, CRS, "EPSG:4490"),
                    kind="polygon", attrs={})
            for i, (pid, g) in enumerate([("W", SITE), ("F", FARM)])]


@pytest.fixture(scope="module")
def cats(tmp_path_factory):
    return (_catalog(tmp_path_factory.mktemp("open"), False),
            _catalog(tmp_path_factory.mktemp("closed"), True))


def test_overlap_geometry_kept_by_default(cats):
    res = screen_projects(_projects(), cats[0], options=CheckOptions(keep_geometry=True))
    assert {(o["project_id"], o["layer"]) for o in res.overlaps} >= {("W", "water_source"),
                                                                     ("F", "farmland")}


def test_catalog_statistics_only_layer_never_exports_geometry(cats):
    res = screen_projects(_projects(), cats[1], options=CheckOptions(keep_geometry=True))
    layers = {o["layer"] for o in res.overlaps}
    assert "water_source" not in layers and "farmland" in layers
    lr = res[0].layer("water_source")  # ids and areas are still reported
    assert [h.feature_id for h in lr.hits] == ["SY1"]
    assert lr.overlap_m2 == pytest.approx(40_000, rel=1e-5)


def test_no_geometry_option_drops_every_overlap_geometry(cats):
    res = screen_projects(_projects(), cats[0],
                          options=CheckOptions(keep_geometry=True, no_geometry=True))
    assert res.overlaps == []
    assert res[1].layer("farmland").hits[0].feature_id == "F1"


def test_maps_draw_only_the_footprint(cats):
    cat = cats[1]
    index = load_index(cat)
    res = screen_projects(_projects(), cat)
    geom = _projects()[0].geometry
    full = project_map(res[0], geom, index, basemap="none").get_root().render()
    assert "units" in full  # fixed layers are drawn (layer names are JSON-escaped) …
    assert "SY1" not in full  # … a statistics-only layer never is
    bare = project_map(res[0], geom, index, basemap="none", no_geometry=True).get_root().render()
    assert "统计模式" in bare and "项目范围" in bare
    assert "units" not in bare and "shore" not in bare


def test_cli_screen_no_geometry(cats, tmp_path):
    lst = tmp_path / "list.csv"
    with lst.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["项目编号", "wkt"])
        for p in _projects():
            w.writerow([p.project_id, p.geometry.wkt])
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["screen", str(lst), "--out", str(out), "--catalog",
                                  str(cats[0].path), "--no-geometry"])
    assert r.exit_code == 0, r.output
    assert not (out / "overlaps.gpkg").exists()
    res = json.loads((out / "results.json").read_text("utf-8"))
    assert res["meta"]["no_geometry"] is True
    farm = next(lr for lr in res["results"][1]["layers"] if lr["layer"] == "farmland")
    assert farm["features"][0]["feature_id"] == "F1" and farm["overlap"]["m2"] > 0
    page = (out / "maps" / next(p.name for p in (out / "maps").glob("0000*.html"))).read_text(
        "utf-8")
    assert "统计模式" in page and "units" not in page


def test_reports_never_draw_a_statistics_only_layer(cats):
    """Finding: the report's 关系详图 drew the features and the overlap of a layer marked
    statistics_only (its geometry never leaves), and `--no-geometry` did not reach reports."""
    from zoning.report.filing import report_data

    res = screen_projects(_projects(), cats[1])
    geom = _projects()[0].geometry
    data = report_data(res[0], geom, load_index(cats[1]))
    drawn = {m.label for m in data.map_layers}
    assert drawn and not any("水源" in x for x in drawn)  # the others still are
    assert data.overlaps == []  # the only overlap is the statistics-only one
    opened = report_data(res[0], geom, load_index(cats[0]))  # the same layer, not marked
    assert any("水源" in m.label for m in opened.map_layers) and len(opened.overlaps) == 1
    bare = report_data(res[0], geom, load_index(cats[0]), options={"no_geometry": True})
    assert bare.map_layers == [] and bare.overlaps == []


def test_report_command_no_geometry_draws_the_footprint_alone(cats, tmp_path):
    from docx import Document

    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {"项目编号": "W"},
                                "geometry": _projects()[0].geometry.__geo_interface__}),
                    encoding="utf-8")
    out = tmp_path / "rep"
    r = CliRunner().invoke(main, ["report", str(site), "--catalog", str(cats[0].path),
                                  "--out", str(out), "--no-pdf", "--no-geometry"])
    assert r.exit_code == 0, r.output
    [docx] = out.glob("*.docx")
    text = "\n".join(p.text for p in Document(str(docx)).paragraphs)
    assert "统计模式：不显示图层要素与重叠范围" in text


def test_web_map_data_leaves_out_a_statistics_only_layer(cats):
    from zoning.web.service import _nearby

    res = screen_projects(_projects(), cats[1])
    geom = _projects()[0].geometry
    layers = {f["properties"]["layer"] for f in
              _nearby(load_index(cats[1]), geom, res[0].to_dict(), 1500.0, 400)}
    assert "units" in layers and "water_source" not in layers
    opened = {f["properties"]["layer"] for f in
              _nearby(load_index(cats[0]), geom, res[0].to_dict(), 1500.0, 400)}
    assert "water_source" in opened


def test_batch_reports_honour_no_geometry(cats, tmp_path):
    from docx import Document

    from zoning.outputs import write_batch_reports

    projects = _projects()[:1]
    res = screen_projects(projects, cats[0])
    out = write_batch_reports(res.results, {p.row: p.geometry for p in projects}, [cats[0]],
                              CheckOptions(no_geometry=True), tmp_path / "rep", pdf=False)
    assert len(out["docx"]) == 1
    for path in out["docx"]:
        text = "\n".join(p.text for p in Document(str(path)).paragraphs)
        assert "统计模式：不显示图层要素与重叠范围" in text, path.name
