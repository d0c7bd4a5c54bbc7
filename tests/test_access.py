"""三线一单: control-unit lookup and 准入清单 rules."""

import csv
import json

import pytest
import shapely
import yaml
from click.testing import CliRunner

from zoning.catalog import load_catalog
from zoning.cli import main
from zoning.errors import CatalogError
from zoning.paths import seeds_dir
from zoning.results import State
from zoning.rules.access import evaluate as evaluate_access
from zoning.rules.access import industry_matches, load_access_rules, normalize_industry, strictest
from zoning.screen import check, screen

from .minicat import CRS, LAYERS, B, write_catalog

SAMPLE = seeds_dir() / "projects" / "sample_projects.csv"


@pytest.fixture(scope="module")
def sample(sample_result):
    rows = {r["项目编号"]: r for r in csv.DictReader(SAMPLE.open(encoding="utf-8-sig"))}
    return rows, {r.project_id: r for r in sample_result.results}


def _finding(result, rule_id):
    return [f for f in result.access["findings"] if f["rule_id"] == rule_id]


# ------------------------------------------------------------------ industry codes


@pytest.mark.parametrize("raw,norm", [("C2614", "C2614"), ("2614", "C2614"), ("c 26-14", "C2614"),
                                      ("C26", "C26"), ("26", "C26"), ("D4411", "D4411"),
                                      ("C", "C"), ("b08", "B08")])
def test_industry_normalised(raw, norm):
    assert normalize_industry(raw) == norm


@pytest.mark.parametrize("raw,msg", [("X12", "不是 GB/T 4754-2017 代码"),
                                     ("C98", "大类 98 不存在"), ("A26", "属于门类 C"),
                                     ("化工", "不是 GB/T 4754-2017 代码"), ("C2", "不是 GB")])
def test_industry_rejected(raw, msg):
    with pytest.raises(ValueError, match=msg):
        normalize_industry(raw)


def test_prefix_matching():
    assert industry_matches("C2614", ["C26"])
    assert industry_matches("C2614", ["C261"])
    assert not industry_matches("C2614", ["C27"])
    assert not industry_matches("C26", ["C2614"])  # a division does not match a finer rule
    assert industry_matches("C2614", ["C"])
    assert not industry_matches(None, ["C26"])


# ------------------------------------------------------------------ the Yangtze 1 km rule


def test_chemical_800m_from_yangtze_prohibited(sample):
    rows, res = sample
    r = res["YY-001"]
    assert r.region == "yunyang"
    [f] = _finding(r, "NAT-CJ-1KM-CHEM")
    assert f["outcome"] == "prohibited" and f["real"] is True
    assert "m < 1,000 m" in f["finding"]
    dist = r.layer("shoreline").nearest_m
    assert 790 < dist < 810
    assert r.layer("control_unit").state is State.PROHIBITED
    assert r.state is State.PROHIBITED


def test_chemical_1500m_not_prohibited_by_that_rule(sample):
    rows, res = sample
    r = res["YY-002"]
    [f] = _finding(r, "NAT-CJ-1KM-CHEM")
    assert f["outcome"] == "not_applicable" and "≥ 1,000 m" in f["finding"]
    # why not is the distance alone: a reviewer read "不适用：行业 C2614 属于 C26；建设性质为新建；
    # 距长江岸线 … ≥ 1,000 m" as reasons against the clause that were reasons for it
    assert f["finding"].startswith("不适用：距长江") and "属于" not in f["finding"]
    assert "新建" not in f["finding"]
    assert 1490 < r.layer("shoreline").nearest_m < 1510


def test_same_site_non_chemical_is_not_caught(sample):
    rows, res = sample
    geom = shapely.from_wkt(rows["YY-001"]["wkt"])
    r = check(geom, industry="C1371", nature="新建")  # food processing
    [f] = [f for f in r.access["findings"] if f["rule_id"] == "NAT-CJ-1KM-CHEM"]
    assert f["outcome"] == "not_applicable"
    assert f["finding"].startswith("不适用：行业 C1371 不属于") and "岸线" not in f["finding"]


# ------------------------------------------------------------------ units and levels


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return load_catalog(write_catalog(tmp_path_factory.mktemp("acc")))


def test_a_new_chemical_plant_must_be_in_a_park_so_it_is_never_clear(mini):
    """Review finding: 45号's "应布设在依法合规设立并经规划环评的产业园区" was a requirement (a
    note), so a new chemical plant in a 一般管控单元 far from any river read 不涉及.  It is a
    siting condition the engine cannot check: the unit needs review; a plant that is not new
    or expanded is not caught by it."""
    site = B(8000, 5000, 8500, 5500)  # 东区一般管控单元, 8 km from the 长江
    plant = check(site, mini, crs=CRS, industry="C2614", nature="新建")
    cu = plant.layer("control_unit")
    assert cu.state is State.NEEDS_REVIEW and "NAT-2H-PARK" in cu.rule.split(",")
    [f] = [f for f in plant.access["findings"] if f["rule_id"] == "NAT-2H-PARK"]
    assert f["outcome"] == "restricted" and f["needs_info"]
    assert plant.state is not State.NOT_INTERSECTING
    upgrade = check(site, mini, crs=CRS, industry="C2614", nature="技术改造")
    assert "NAT-2H-PARK" not in (upgrade.layer("control_unit").rule or "")


def test_a_unit_whose_class_cannot_be_read_is_not_taken_for_a_general_unit(tmp_path):
    """Review finding: a unit whose 管控单元分类 could not be read (a spelling not known, and
    a code that is not the 13-character ZH code) was taken for a 一般管控单元: a new coal power
    plant there read 不涉及, although in a 优先保护单元 it is prohibited (U1-2H-BAN)."""
    import geopandas as gpd

    layers = dict(LAYERS)
    units = LAYERS["units"]
    layers["units"] = gpd.GeoDataFrame({"BM": ["W-1", "E-1"], "MC": ["西区单元", "东区单元"],
                                        "FL": ["保护类别待定", "3"]},
                                       geometry=list(units.geometry), crs=units.crs)
    cat = load_catalog(write_catalog(tmp_path, layers=layers))
    attrs = dict(industry="D4411", nature="新建", energy_tce=80000)
    west = check(B(-8000, 5000, -7500, 5500), cat, crs=CRS, **attrs)  # class unknown
    cu = west.layer("control_unit")
    assert cu.state is State.NEEDS_REVIEW and "U1-2H-BAN" in cu.rule, cu.basis
    assert "管控单元分类未能识别" in cu.basis
    assert west.access["units"][0]["unit_class_zh"] == "类别未能识别的管控单元"
    east = check(B(8000, 5000, 8500, 5500), cat, crs=CRS, **attrs)  # a 一般管控单元 (3)
    assert "U1-2H-BAN" not in (east.layer("control_unit").rule or "")


@pytest.mark.parametrize("code", ["D4411", "D4412"])
def test_coal_power_and_coal_heat_and_power_are_both_two_high(mini, code):
    """Review finding: 煤电 was D4411 火力发电 alone; a coal-fired 热电联产 plant (D4412) in a
    优先保护单元 read 不涉及 where a D4411 plant is prohibited."""
    r = check(B(-8000, 5000, -7500, 5500), mini, crs=CRS, industry=code, nature="新建",
              energy_tce=80000)
    cu = r.layer("control_unit")
    assert cu.state is State.PROHIBITED and "U1-2H-BAN" in cu.rule.split(",")


def test_a_bounded_distance_pickles_and_copies():
    import copy
    import math
    import pickle

    from zoning.rules.access import BoundedDistance

    d = BoundedDistance(math.inf, 300.0)
    for again in (pickle.loads(pickle.dumps(d)), copy.copy(d), copy.deepcopy(d)):
        assert type(again) is BoundedDistance and math.isinf(again) and again.bound == 300.0


def test_rows_with_the_same_answer_share_their_texts(mini):
    """Two sites with the same answer carry one copy of the rule texts, bases and feature
    names, not one each: a batch's results (and a dask partition's pickle) hold
    thousands of rows."""
    import pickle

    a = check(B(-3000, -8000, -2000, -7000), mini, crs=CRS, industry="C3110")
    b = check(B(-2900, -7900, -1900, -6900), mini, crs=CRS, industry="C3110")
    fa, fb = a.access["findings"], b.access["findings"]
    assert [f["rule_id"] for f in fa] == [f["rule_id"] for f in fb] and len(fa) >= 2
    for x, y in zip(fa, fb):
        for key in ("source", "clause", "jurisdiction", "unit_name"):
            assert x[key] == y[key] and x[key] is y[key], key
    same = [(x["finding"], y["finding"]) for x, y in zip(fa, fb) if x["finding"] == y["finding"]]
    assert same and all(x is y for x, y in same)  # (a distance in a finding differs)
    la, lb = a.layer("control_unit"), b.layer("control_unit")
    assert la.basis == lb.basis and la.basis is lb.basis
    assert a.basis == b.basis and all(x is y for x, y in zip(a.basis, b.basis))
    name_a, name_b = la.hits[0].attributes["name"], lb.hits[0].attributes["name"]
    assert name_a == name_b and name_a is name_b
    one, two = len(pickle.dumps(a)), len(pickle.dumps([a, b]))
    assert two < 1.5 * one  # the second row costs a fraction of the first


def test_two_high_in_priority_unit_is_prohibited(mini):
    r = check(B(-3000, -8000, -2000, -7000), mini, crs=CRS, industry="C3110", nature="新建")
    assert [u["code"] for u in r.access["units"]] == ["ZH50000110001"]
    assert r.access["units"][0]["unit_class"] == "priority"
    [f] = _finding(r, "U1-2H-BAN")
    assert f["outcome"] == "prohibited" and "两高" in f["finding"]
    assert r.access["outcome"] == "prohibited"
    assert r.layer("control_unit").state is State.PROHIBITED
    assert "U1-2H-BAN" in r.layer("control_unit").rule
    # the same steel plant in the general-control unit is not banned by that rule
    r2 = check(B(2000, -8000, 3000, -7000), mini, crs=CRS, industry="C3110", nature="新建")
    assert not _finding(r2, "U1-2H-BAN")


def test_project_straddling_two_units_gets_both(mini):
    r = check(B(-500, -8000, 500, -7000), mini, crs=CRS, industry="C3110", nature="新建")
    units = {u["code"]: u for u in r.access["units"]}
    assert set(units) == {"ZH50000110001", "ZH50000230001"}
    assert units["ZH50000110001"]["share"] == pytest.approx(0.5)
    by_unit = {}
    for f in r.access["findings"]:
        by_unit.setdefault(f["unit_code"], set()).add(f["rule_id"])
    assert "U1-2H-BAN" in by_unit["ZH50000110001"]
    assert "U3-STANDARD" in by_unit["ZH50000230001"]
    assert "U1-2H-BAN" not in by_unit["ZH50000230001"]


def _rules_dir(tmp_path, files):
    d = tmp_path / "access"
    d.mkdir()
    for name, doc in files.items():
        (d / name).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return d


def _rule(rid, effect, **kw):
    r = {"id": rid, "dimension": "空间布局约束", "effect": effect, "text": f"{rid} 条文",
         "source": {"doc": "测试文件", "real": False}, "confidence": "auto"}
    r.update(kw)
    return r


UNIT = dict(code="ZH52012120001", name="开阳县重点管控单元1", unit_class="key",
            county="520121", share=1.0)


def test_strictest_rule_wins_across_levels(tmp_path):
    d = _rules_dir(tmp_path, {
        "a.yaml": {"access_version": 1, "jurisdiction": {"level": "national", "code": "000000"},
                   "rules": [_rule("N1", "prohibit", industry=["C26"])]},
        "b.yaml": {"access_version": 1, "jurisdiction": {"level": "city", "code": "520100"},
                   "rules": [_rule("C1", "allow", industry=["C2614"])]},
        "c.yaml": {"access_version": 1,
                   "jurisdiction": {"level": "unit", "code": "ZH52012120001"},
                   "rules": [_rule("U1", "require", industry=["C"], units=["ZH52012120001"])]},
    })
    rules = load_access_rules(d)
    f = evaluate_access(rules, [UNIT], {"industry": "C2614", "nature": "新建"}, lambda s: None)
    assert {x.rule_id: x.outcome for x in f} == {"N1": "prohibited", "C1": "allowed",
                                                 "U1": "required"}
    assert strictest(f) == "prohibited"  # a city 'allow' never overrides a national ban
    f = evaluate_access(rules, [UNIT], {"industry": "C2710", "nature": "新建"}, lambda s: None)
    assert strictest(f) == "required"
    # another province's and another unit's rules do not apply
    other = dict(UNIT, code="ZH62080220001", county="620802")
    f = evaluate_access(rules, [other], {"industry": "C2614"}, lambda s: None)
    assert {x.rule_id for x in f} == {"N1"}


def test_a_units_rules_are_worked_out_once_and_handed_out_as_copies(tmp_path):
    d = _rules_dir(tmp_path, {
        "a.yaml": {"access_version": 1, "jurisdiction": {"level": "national", "code": "000000"},
                   "rules": [_rule("N1", "prohibit", industry=["C26"]),
                             _rule("N2", "restrict", industry=["C27"])]},
        "b.yaml": {"access_version": 1, "jurisdiction": {"level": "city", "code": "520100"},
                   "rules": [_rule("C1", "allow", industry=["C2614"])]},
    })
    rules = load_access_rules(d)
    first = rules.for_unit(UNIT["code"], UNIT["county"], UNIT["unit_class"])
    assert [r.id for r in first] == ["N1", "N2", "C1"]
    first.clear()  # a caller's list is its own
    again = rules.for_unit(UNIT["code"], UNIT["county"], UNIT["unit_class"])
    assert [r.id for r in again] == ["N1", "N2", "C1"]
    other = rules.for_unit("ZH62080220001", "620802", "key")
    assert [r.id for r in other] == ["N1", "N2"]  # another city: its own list
    # the joined texts of a row's rules: worked out once, the same objects each time
    j = rules.joined(again[:2])
    assert j[1] == "N1+N2" and "N1" in j[2] and "N2" in j[2]
    assert rules.joined(list(again[:2])) is j
    # pending rows of two projects share them
    f1 = evaluate_access(rules, [UNIT], {}, lambda s: None)
    f2 = evaluate_access(rules, [UNIT], {"nature": "新建"}, lambda s: None)
    c1 = [f.clause for f in f1 if "+" in f.rule_id]
    c2 = [f.clause for f in f2 if "+" in f.rule_id]
    assert c1 and c1 == c2 and all(x is y for x, y in zip(c1, c2))


def test_a_distance_is_measured_once_per_selection_whatever_the_limit(tmp_path):
    """Two clauses on the same rivers with different limits: one distance, two verdicts."""
    def near(**kw):  # a fresh dict each time (shared objects would be YAML aliases)
        return {"layer": "shoreline", "basin": ["长江"], **kw}

    d = _rules_dir(tmp_path, {
        "a.yaml": {"access_version": 1, "jurisdiction": {"level": "national", "code": "000000"},
                   "rules": [_rule("N1", "prohibit", industry=["C26"],
                                   spatial=near(within_m=1000)),
                             _rule("N2", "restrict", industry=["C26"],
                                   spatial=near(within_m=3000)),
                             _rule("N3", "restrict", industry=["C26"],
                                   spatial=near(order=["干流"], within_m=3000))]}})
    asked = []

    def distance(spatial):
        asked.append(dict(spatial))
        return 2000.0

    f = evaluate_access(load_access_rules(d), [UNIT], {"industry": "C2614"}, distance)
    assert {x.rule_id: x.outcome for x in f} == {"N1": "not_applicable", "N2": "restricted",
                                                 "N3": "restricted"}
    assert len(asked) == 2  # 长江, and 长江（干流）: not once per clause


def test_thresholds_are_parameters(tmp_path):
    d = _rules_dir(tmp_path, {
        "a.yaml": {"access_version": 1, "jurisdiction": {"level": "national", "code": "000000"},
                   "definitions": {"two_high_industries": {"codes": ["C26"]}},
                   "parameters": {"two_high_min_energy_tce": None},
                   "rules": [_rule("N2H", "prohibit", two_high=True)]},
        "p.yaml": {"access_version": 1, "jurisdiction": {"level": "province", "code": "520000"},
                   "parameters": {"two_high_min_energy_tce": 10000}, "rules": []},
    })
    rules = load_access_rules(d)
    small = evaluate_access(rules, [UNIT], {"industry": "C2614", "energy_tce": 5000},
                            lambda s: None)
    big = evaluate_access(rules, [UNIT], {"industry": "C2614", "energy_tce": 20000},
                          lambda s: None)
    unknown = evaluate_access(rules, [UNIT], {"industry": "C2614"}, lambda s: None)
    assert [x.outcome for x in small] == ["not_applicable"]
    assert [x.outcome for x in big] == ["prohibited"]
    assert [x.outcome for x in unknown] == ["review"] and "年综合能耗" in unknown[0].finding
    # in a province without the parameter, industry alone decides
    gansu = dict(UNIT, code="ZH62080220001", county="620802")
    assert [x.outcome for x in evaluate_access(rules, [gansu], {"industry": "C2614",
                                                                "energy_tce": 5000},
                                               lambda s: None)] == ["prohibited"]


@pytest.mark.parametrize("rule,msg", [
    (_rule("R1", "prohibit", units=["ZH5201211000"]), "rule R1: malformed unit code"),
    (_rule("R2", "forbid"), "rule R2: effect 'forbid'"),
    (_rule("R3", "prohibit", dimension="布局"), "rule R3: dimension '布局'"),
    (_rule("R4", "prohibit", industry=["C98"]), "rule R4: 行业代码 'C98'"),
    (_rule("R5", "prohibit", energy_tce={"gte": "fifty"}), "rule R5: energy_tce threshold"),
    (_rule("R6", "prohibit", spatial={"layer": "roads", "within_m": 5}), "rule R6: spatial"),
    ({"id": "R7", "dimension": "空间布局约束", "effect": "prohibit", "text": "x"},
     "rule R7: 'source' needs"),
])
def test_bad_rule_files_name_file_and_rule(tmp_path, rule, msg):
    d = _rules_dir(tmp_path, {"bad.yaml": {"access_version": 1, "jurisdiction": {
        "level": "national", "code": "000000"}, "rules": [rule]}})
    with pytest.raises(CatalogError) as e:
        load_access_rules(d)
    assert msg in str(e.value) and "bad.yaml" in str(e.value)


def test_validate_reports_broken_rule_file(tmp_path):
    d = _rules_dir(tmp_path, {"bad.yaml": {"access_version": 1, "jurisdiction": {
        "level": "national", "code": "000000"}, "rules": [_rule("X", "forbid")]}})
    cat = write_catalog(tmp_path)
    text = cat.read_text("utf-8") + f"access_rules: {d}\n"
    cat.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["layers", "validate", "--catalog", str(cat), "--json"])
    reps = {x["name"]: x for x in json.loads(r.output)}
    assert reps["(access rules)"]["status"] == "error"
    assert "rule X: effect 'forbid'" in reps["(access rules)"]["errors"][0]
    assert r.exit_code == 1


def test_bundled_rules_label_real_and_demo():
    rules = load_access_rules()
    real = {r.id for r in rules.rules if r.real}
    assert {"NAT-CJ-1KM-CHEM", "NAT-2H-PARK", "GY-ENERGY-50K"} <= real
    assert {"U1-2H-BAN", "PL-JINGHE-1KM", "GZ-WUJIANG-PHOS"} <= {r.id for r in rules.rules
                                                                 if not r.real}
    for r in rules.rules:
        assert r.source.get("doc") and r.text
        if not r.real:
            assert "示例" in r.source["doc"] or "示例" in r.text


# ------------------------------------------------------------------ bad input and outputs


def test_unknown_industry_code_is_a_row_error(mini):
    from zoning.io.projects import project_table

    t = project_table([dict(row=1, project_id="x", geometry=shapely.box(106, 26, 106.01, 26.01),
                            kind="polygon", industry="Q9999")])
    res = screen(t, mini)
    assert res.results[0].status == "error" and "Q9999" in res.results[0].error
    r = CliRunner().invoke(main, ["check", str(seeds_dir() / "projects" / "GY-012_勘测定界.txt"),
                                  "--industry", "化工"])
    assert r.exit_code == 1 and "'化工' 不是 GB/T 4754-2017 代码" in r.output


def test_check_prints_compliance_table(monkeypatch):
    from rich.console import Console

    import zoning.cli.check

    monkeypatch.setattr(zoning.cli.check, "console", Console(width=250))
    r = CliRunner().invoke(main, ["check", str(seeds_dir() / "projects" / "GY-012_勘测定界.txt"),
                                  "--industry", "C2614", "--nature", "新建", "--detail"])
    assert r.exit_code == 0, r.output
    assert "生态环境准入清单符合性分析表" in r.output
    assert "空间布局约束" in r.output and "CJJJD-PARK-HEAVY" in r.output


def test_excel_has_compliance_sheet(sample_run):
    from openpyxl import load_workbook

    out, _ = sample_run
    wb = load_workbook(out / "screening.xlsx", read_only=True)
    assert "准入清单符合性分析" in wb.sheetnames
    rows = list(wb["准入清单符合性分析"].iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "项目编号", "项目名称", "管控单元编码")
    yy = [x for x in rows[1:] if x[1] == "YY-001" and x[9] == "NAT-CJ-1KM-CHEM"]
    assert yy and yy[0][-1] == "不符合（禁止）" and yy[0][12] == "真实"
    # EIA order: per project, per unit, per dimension
    dims = ["空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率要求"]
    for pid in {x[1] for x in rows[1:]}:
        seq = [(x[3], dims.index(x[7])) for x in rows[1:] if x[1] == pid]
        assert seq == sorted(seq)


def test_undecided_requirements_are_notes_and_undecided_bans_fail_closed(sample):
    """Findings: a pending requirement (年综合能耗 for a tracking clause) showed 需人工核查 beside
    总体结论 不涉及, and the unit's basis cited requirements as what kept it undecided."""
    _, res = sample
    gy6 = res["GY-006"]  # a data centre, I6450 新建, no energy figure
    assert gy6.access["outcome"] == "required"  # 需落实要求: a note, not a conflict
    [f] = [f for f in gy6.access["findings"] if f["outcome"] != "not_applicable"]
    # a clause that does not apply says so (不适用), not 不涉及 (the site may well be near)
    assert {x["outcome_zh"] for x in gy6.access["findings"]
            if x["outcome"] == "not_applicable"} == {"不适用"}
    assert f["rule_id"] == "GY-ENERGY-50K" and f["finding"].startswith("如适用须落实")
    assert gy6.layer("control_unit").state is State.NOT_INTERSECTING
    assert gy6.state is State.NOT_INTERSECTING and gy6.state_zh == "未发现冲突"  # not 不涉及
    gy9 = res["GY-009"]  # no industry code, no nature
    cu = gy9.layer("control_unit")
    assert cu.state is State.NEEDS_REVIEW
    # bans and restrictions (the park siting clauses among them), not the requirements
    assert set(cu.rule.split(",")) == {"GY-2H-GATE", "NAT-2H-PARK+GZ-PETCHEM-LAYOUT+U2-PARK"}
    assert "GY-ENERGY-50K" not in cu.basis and "未提供年综合能耗" not in cu.basis
    rows = [f for f in gy9.access["findings"] if f["outcome"] != "not_applicable"]
    for f in rows:  # the clause column holds the clauses' words, not the tool's
        assert not f["clause"].startswith("因项目信息不足")
        assert f["outcome"] == ("review" if f["needs_info"] else "required")
    # the note counts clauses, not rows
    n = sum(len(f["rule_id"].split("+")) for f in rows if f["outcome"] == "review")
    assert f"准入清单：{n} 条条款结论为“需人工核查”" in cu.notes[0]
