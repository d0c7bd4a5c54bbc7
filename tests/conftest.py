from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from zoning.demo import synth
from zoning.paths import seeds_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


SAMPLE = seeds_dir() / "projects" / "sample_projects.csv"


def pytest_configure(config):
    """Each test process keeps the bundled regions' indexes warm across test files: the
    product's cache holds 3, and the tests' many small catalogs evicted the bundled ones
    again and again (each rebuilt in about 0.5 s)."""
    import gc

    from zoning.screen import INDEX_CACHE, NEAR_CACHE

    INDEX_CACHE.size = 16
    NEAR_CACHE.size = 8  # the check command's, as many regions and test catalogs
    # The suite builds thousands of small frames, indexes and documents: with the default
    # thresholds the collector ran ~3,500 times per test process and took 3 s of each
    # one's time; collecting less often takes about 0.5 s (garbage is the same)
    gc.set_threshold(50_000, 20, 20)

def pytest_unconfigure(config):
    """A test process leaves at once when pytest is done with it: freeing the warm
    indexes, frames and documents of a whole run one object at a time took it a second or
    more, while the run waited for it (its results are reported by then)."""
    import atexit

    if os.environ.get("PYTEST_XDIST_WORKER"):
        atexit.register(_leave)


def _leave() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


#: session fixtures worth computing once: the test files that take one run in one worker
SHARED_FIXTURES = ("sample_table", "sample_result", "sample_run", "small_yunyang",
                   "small_pingliang")


def _file_groups() -> dict[str, str]:
    """Test file → work unit for pytest-xdist: a file stays in one worker (its module
    fixtures, PostGIS schemas and temp folders are never shared between two), and files
    whose functions take the same expensive session fixture share a unit, so it is built
    once."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        name = f"tests/{path.name}"
        params = " ".join(re.findall(r"def \w+\(([^)]*)\)", path.read_text("utf-8")))
        for fixture in SHARED_FIXTURES:
            if re.search(rf"\b{fixture}\b", params):
                parent[find(name)] = find(fixture)
    return {f: find(f) for f in parent if f.startswith("tests/")}


#: seconds a file's tests took (2026-12-07, 2 workers): only the order in which the work units
#: are handed out depends on it — the longest first, so the run does not end with one worker
#: busy on a long file (the wheel install, the browser) while the other is idle
FILE_SECONDS = {"report": 12.4, "hardening": 10.0, "web_browser": 7.9, "readme": 7.7,
                "postgis": 7.1, "dask": 7.1, "house": 7.0, "web_api": 6.8, "access": 5.7,
                "oracle": 5.4, "store": 3.8, "properties": 3.8, "synth": 3.6, "maps": 3.4,
                "fuzz": 2.9, "install": 2.8, "engine": 2.7, "edges": 1.8, "indicators": 1.7,
                "layout": 1.7, "cli_screen": 1.5, "bundled": 1.5}


def pytest_collection_modifyitems(config, items):
    """Hand out the work units longest first (see :data:`FILE_SECONDS`); the tests of a
    unit keep their order."""
    groups = _file_groups()
    unit_of = [groups.get(f, f) for f in (it.nodeid.split("::", 1)[0] for it in items)]
    weight: dict[str, float] = {}
    for f in dict.fromkeys(it.nodeid.split("::", 1)[0] for it in items):
        known = FILE_SECONDS.get(Path(f).stem[5:]) if f.startswith("tests/test_") else None
        unit = groups.get(f, f)
        weight[unit] = weight.get(unit, 0.0) + (known or 0.5)
    first = {u: i for i, u in reversed(list(enumerate(unit_of)))}
    order = sorted(range(len(items)), key=lambda i: (-weight[unit_of[i]], first[unit_of[i]], i))
    items[:] = [items[i] for i in order]


def pytest_xdist_make_scheduler(config, log):
    """Schedule whole files (grouped as above) on the workers: ``-n 2 --dist loadfile``."""
    from xdist.scheduler import LoadFileScheduling

    groups = _file_groups()

    class Grouped(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            f = nodeid.split("::", 1)[0]
            return groups.get(f, f)

    return Grouped(config, log)


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
