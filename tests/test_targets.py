from pathlib import Path

import pytest

from zoning.targets import load_targets

from .conftest import SHARED


def _find(ts, region, indicator, year=None, scope=None):
    out = [t for t in ts if t.region == region and t.indicator == indicator
           and (year is None or t.year == year) and (scope is None or t.scope == scope)]
    assert len(out) == 1, (region, indicator, year, out)
    return out[0]


def test_required_targets_present():
    ts = load_targets()
    assert _find(ts, "guiyang", "forest_cover", scope="贵阳市").value == 55
    assert _find(ts, "guiyang", "forest_cover", scope="贵安新区").value == 30
    assert _find(ts, "yunyang", "forest_cover").value == 60
    assert _find(ts, "pingliang", "forest_grass_cover", 2025).value == 47
    assert _find(ts, "pingliang", "forest_grass_cover", 2030).value == 48
    assert _find(ts, "pingliang", "protected_area_share").value == 6.07
    assert _find(ts, "guiyang", "soil_conservation").value == 78.55
    assert _find(ts, "pingliang", "soil_conservation").value == 84.33
    assert _find(ts, "guizhou", "forest_cover").value == 63
    for t in ts:
        assert t.unit == "%" and t.source.endswith(".txt") and t.quote


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="seed plans not beside the checkout")
def test_quotes_are_verbatim_from_the_plans():
    for t in load_targets():
        text = (SHARED / "seeds" / t.source).read_text("utf-8")
        assert t.quote in text, (t.source, t.quote)
        assert f"{t.value:g}" in t.quote


def test_bad_target_file(tmp_path):
    from zoning.errors import DataError

    p = Path(tmp_path) / "t.yaml"
    p.write_text("targets:\n  - {region: x, indicator: happiness, value: 1, unit: '%', "
                 "year: 2025, source: a.txt, quote: q}\n", encoding="utf-8")
    with pytest.raises(DataError, match="第 1 行: unknown indicator 'happiness'"):
        load_targets(p)
