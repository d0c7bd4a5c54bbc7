from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from zoning.demo import synth
from zoning.paths import seeds_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


SAMPLE = seeds_dir() / "projects" / "sample_projects.csv"


@pytest.fixture(scope="session")
def sample_table():
    """The bundled sample project list, read once."""
    from zoning.io.projects import read_projects

    return read_projects(SAMPLE)


@pytest.fixture(scope="session")
def sample_result(sample_table):
    """One library screening of the sample list (radius 1 km, overlap geometries kept)."""
    from zoning.catalog import resolve_catalogs
    from zoning.options import CheckOptions
    from zoning.screen import screen

    return screen(sample_table, resolve_catalogs(),
                  options=CheckOptions(radius_m=1000, keep_geometry=True))


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """One CLI screening of the sample list with every output and map: (folder, output)."""
    from click.testing import CliRunner

    from zoning.cli import main

    out = tmp_path_factory.mktemp("sample-run")
    r = CliRunner().invoke(main, ["screen", str(SAMPLE), "--out", str(out), "--radius", "1000"])
    assert r.exit_code == 0, r.output
    return out, r.output


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
