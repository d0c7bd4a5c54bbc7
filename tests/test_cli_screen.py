"""`zoning check` and `zoning screen` end to end on the bundled sample list."""

import csv
import json
from pathlib import Path

import jsonschema
import pyogrio
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from zoning.cli import main
from zoning.paths import seeds_dir

SAMPLE = seeds_dir() / "projects" / "sample_projects.csv"
SCHEMA = json.loads((Path(__import__("zoning").__file__).parent / "report" / "schemas" /
                     "check-1.schema.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def screened(sample_run):
    return sample_run


def test_screen_writes_every_output(screened):
    out, text = screened
    for name in ("screening.xlsx", "overlaps.gpkg", "results.json", "failed_rows.csv",
                 "screening.log"):
        assert (out / name).exists(), name
    n_in = sum(1 for _ in csv.DictReader(SAMPLE.open(encoding="utf-8-sig")))
    assert f"输入 {n_in} 行，输出 {n_in} 行" in text
    # the summary counts the verdicts as the rows read them (GY-006 inside the boundary)
    assert "未发现冲突 (not_intersecting): 1" in text and "不涉及 (not_intersecting)" not in text


def test_expected_verdicts_of_the_sample_list(screened):
    out, _ = screened
    res = json.loads((out / "results.json").read_text("utf-8"))
    assert res["schema"] == "zoning.screen/1"
    expect = {r["项目编号"]: r["备注"] for r in csv.DictReader(SAMPLE.open(encoding="utf-8-sig"))}
    got = {r["project_id"]: r for r in res["results"]}
    assert list(got) == list(expect)
    word = {"prohibited": "prohibited", "limited activity": "needs_limited_activity_certification",
            "crossing without": "crossing_no_land_use", "major project":
                "needs_major_project_approval", "no conflict": "not_intersecting",
            "data missing": "data_missing", "needs review": "needs_review"}
    for pid, e in expect.items():
        r = got[pid]
        jsonschema.validate(r, SCHEMA)
        if e.startswith("row error"):
            assert r["status"] == "error" and r["error"], pid
            continue
        assert r["status"] == "ok", (pid, r["error"])
        for k, v in word.items():
            if e.startswith(k):
                assert r["state"] == v, (pid, e, r["state"], r["basis"])


def test_excel_has_chinese_sheets_and_one_row_per_project_and_layer(screened):
    out, _ = screened
    wb = load_workbook(out / "screening.xlsx", read_only=True)
    assert wb.sheetnames == ["汇总", "图层明细", "重叠要素明细", "永久基本农田地类", "准入清单符合性分析",
                             "三调地类", "失败记录", "说明"]
    head = [c.value for c in next(wb["汇总"].iter_rows(max_row=1))]
    assert head[:3] == ["序号", "项目编号", "项目名称"] and "面积(亩)" in head and "总体结论" in head
    res = json.loads((out / "results.json").read_text("utf-8"))
    n_layer_rows = sum(len(r["layers"]) for r in res["results"])
    nrows = {name: sum(1 for _ in wb[name].iter_rows()) for name in wb.sheetnames}
    assert nrows["汇总"] == 1 + len(res["results"])
    assert nrows["图层明细"] == 1 + n_layer_rows
    failed = [r for r in res["results"] if r["status"] == "error"]
    assert nrows["失败记录"] == 1 + len(failed) and len(failed) == 2
    # the sources of three catalogs: each row names its region, and says 合成 once
    src = [(row[0], row[1]) for row in wb["说明"].iter_rows(values_only=True)
           if len(row) > 1 and str(row[0]).startswith("数据来源：")]
    assert src and all(str(k).split("：", 1)[1].startswith(("贵阳市", "云阳县", "平凉市"))
                       for k, _ in src), src[:3]
    assert len({k for k, _ in src}) == len(src)
    assert not [v for _, v in src if str(v).count("合成示例数据") > 1]
    info = {row[0]: row[1] for row in wb["说明"].iter_rows(values_only=True) if len(row) > 1}
    assert info["计数：未发现冲突"] == 1 and info["计数：不涉及"] == 0  # GY-006, as 汇总 reads it


def test_overlaps_gpkg_carries_project_and_feature_ids(screened):
    out, _ = screened
    df = pyogrio.read_dataframe(out / "overlaps.gpkg", layer="overlaps")
    assert len(df) > 0 and df.crs.to_epsg() == 4490
    assert {"project_id", "layer", "feature_id", "overlap_m2", "overlap_mu"} <= set(df.columns)
    assert (df.overlap_mu * 10000 / 15 - df.overlap_m2).abs().max() < 1e-6
    assert "GY-001" in set(df.project_id)


def test_rerun_needs_overwrite(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("项目编号,经度,纬度\nA,106.5,26.9\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["screen", str(one), "--out", str(out), "--no-maps"])
    assert r.exit_code == 0, r.output
    before = (out / "results.json").read_bytes()
    r = CliRunner().invoke(main, ["screen", str(one), "--out", str(out), "--no-maps"])
    assert r.exit_code == 1 and "--overwrite" in r.output and "Traceback" not in r.output
    assert (out / "results.json").read_bytes() == before
    r = CliRunner().invoke(main, ["screen", str(one), "--out", str(out), "--overwrite",
                                  "--no-maps"])
    assert r.exit_code == 0, r.output


def test_check_txt_json_and_table():
    txt = seeds_dir() / "projects" / "GY-012_勘测定界.txt"
    r = CliRunner().invoke(main, ["check", str(txt), "--json", "--industry", "C2614"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    jsonschema.validate(d, SCHEMA)
    assert d["state"] == "prohibited" and d["region"] == "guiyang"
    farm = [lr for lr in d["layers"] if lr["kind"] == "farmland"][0]
    assert farm["overlap"]["m2"] > 0 and farm["features"]
    r = CliRunner().invoke(main, ["check", str(txt), "--no-land"])
    # no project type outside the 城镇开发边界: needs review, not 不涉及
    assert r.exit_code == 0 and "需补充信息" in r.output and "公顷" in r.output


def test_check_bad_inputs_are_messages(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("[属性描述]\n[地块坐标]\n5,1,1,a,面,,,,@\nJ1,1,oops\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["check", str(bad)])
    assert r.exit_code == 1 and "bad.txt" in r.output and "第 4 行" in r.output
    assert "Traceback" not in r.output
    txt = seeds_dir() / "projects" / "GY-012_勘测定界.txt"
    r = CliRunner().invoke(main, ["check", str(txt), "--activity", "99"])
    assert r.exit_code == 1 and "无法识别的有限人为活动类别 '99'" in r.output


def test_landuse_classes_sum_to_the_footprint_area_on_the_shipped_examples(screened):
    out, _ = screened
    res = json.loads((out / "results.json").read_text("utf-8"))
    polygons = [r for r in res["results"] if r["status"] == "ok" and r["region"]
                and r["geometry_type"] == "polygon"]
    assert len(polygons) >= 10
    for r in polygons:
        lu = r["landuse"]
        assert lu["status"] == "ok", r["project_id"]
        area = r["area"]["m2"]
        assert abs(lu["total"]["m2"] - area) <= 1e-4 * area, (r["project_id"], lu["total"], area)
        for level in ("level1", "level2", "groups"):
            assert sum(e["area"]["m2"] for e in lu[level]) == pytest.approx(lu["total"]["m2"],
                                                                            rel=1e-6)
        assert lu["permanent_farmland"] is not None  # 耕地 and 永久基本农田 side by side
        assert lu["cultivated"]["m2"] == pytest.approx(sum(
            e["area"]["m2"] for e in lu["level2"] if e["code"].startswith("01")), abs=0.05)
    wb = load_workbook(out / "screening.xlsx", read_only=True)
    rows = list(wb["三调地类"].iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "项目编号", "项目名称")
    assert len(rows) - 1 >= sum(len(r["landuse"]["level2"]) for r in polygons)


def test_rows_without_a_verdict_word_have_known_verdicts_and_areas(sample_result):
    """The four sample rows whose 备注 names no state: their verdicts and areas."""
    got = {r.project_id: r for r in sample_result.results}
    gy9 = got["GY-009"]  # a 高德 point, converted from GCJ-02 and then outside every layer
    assert gy9.geometry_type == "point" and any("GCJ-02" in w for w in gy9.warnings)
    # no industry code: prohibitions of its unit's 准入清单 cannot be cleared (fail closed)
    assert gy9.state.value == "needs_review"
    assert [lr.kind for lr in gy9.layers if lr.state.value != "not_intersecting"] == \
        ["control_unit"]
    assert "GZ-PETCHEM-LAYOUT" in gy9.layer("control_unit").rule
    assert "未提供行业代码" in gy9.layer("control_unit").basis
    # the roads: their red-line and farmland verdicts stand under the undecided clause
    gy3, gy4 = got["GY-003"], got["GY-004"]
    for layer in ("eco_redline", "farmland"):
        assert gy3.layer(layer).state.value == "crossing_no_land_use"
        assert gy4.layer(layer).state.value == "needs_major_project_approval"
    assert gy3.layer("control_unit").rule == gy4.layer("control_unit").rule == \
        "CJJJD-SHORE-PROJECT"
    gy12 = got["GY-012"]  # the 部标 TXT parcel: 59.5 ha, inside farmland and a heavy-industry unit
    assert gy12.state.value == "prohibited"
    assert gy12.area_m2 == pytest.approx(396_825.6, abs=1.0)
    assert gy12.layer("farmland").overlap_m2 == pytest.approx(34_773.5, abs=1.0)
    # the heavy-industry rule is a hint: it asks for review, it does not prohibit alone
    # (and the 贵州 petrochemical-layout ban, whose text needs a person to read it)
    assert {"CJJJD-PARK-HEAVY", "GZ-PETCHEM-LAYOUT"} <= \
        set(gy12.layer("control_unit").rule.split(","))
    assert gy12.layer("control_unit").state.value == "needs_review"
    yy1, yy2 = got["YY-001"], got["YY-002"]  # chemical plants 800 m and 1.5 km from the Yangtze
    for r in (yy1, yy2):
        assert r.area_m2 == pytest.approx(9_998.2, abs=0.5)
    assert yy1.state.value == "prohibited"  # the 1 km rule of the 长江保护法 (auto)
    assert "NAT-CJ-1KM-CHEM" in yy1.layer("control_unit").rule.split(",")
    # at 1.5 km only the hint rule matches, and the national park siting clause (45号):
    # whether the plant is in a compliant park is for a reviewer
    assert yy2.state.value == "needs_review"
    assert yy2.layer("control_unit").rule == "CJJJD-PARK-HEAVY,NAT-2H-PARK"
