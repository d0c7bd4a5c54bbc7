from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from zoning.demo import synth
from zoning.paths import seeds_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def districts():
    return gpd.read_file(seeds_dir() / "boundaries.gpkg", layer="districts")


@pytest.fixture(scope="session")
def specs():
    return synth.load_specs(seeds_dir() / "regions.yaml")


def small_spec(spec, patches=400):
    s = synth.RegionSpec.from_config(spec.slug, {
        "code": spec.code, "name": spec.name, "province": spec.province,
        "districts": spec.districts, "synth": dict(spec.synth, farmland_patches=patches)})
    return s


@pytest.fixture(scope="session")
def small_yunyang(specs, districts):
    """Yunyang at a small scale: 400 farmland patches, 4″ land cover."""
    spec = small_spec(specs["yunyang"])
    return spec, synth.generate(spec, districts[districts.region == "yunyang"], res_arcsec=4)


@pytest.fixture(scope="session")
def small_pingliang(specs, districts):
    """Pingliang (7 counties) at a small scale."""
    spec = small_spec(specs["pingliang"], patches=600)
    return spec, synth.generate(spec, districts[districts.region == "pingliang"], res_arcsec=6)
