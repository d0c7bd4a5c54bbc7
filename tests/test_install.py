"""A non-editable install finds its bundled data from any working directory."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(out), str(ROOT)], capture_output=True, text=True)
    if r.returncode != 0 and "hatchling" in r.stderr:
        pytest.skip("hatchling is not installed in this environment")
    assert r.returncode == 0, r.stderr
    [whl] = out.glob("zoning-*.whl")
    return whl


def test_wheel_carries_catalogs_and_seeds(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for region in ("guiyang", "pingliang", "yunyang"):
        assert f"zoning/_bundled/layers/{region}.yaml" in names
        assert f"zoning/_bundled/seeds/{region}/layers.gpkg" in names
        assert f"zoning/_bundled/seeds/{region}/landcover.tif" in names
    assert "zoning/_bundled/seeds/targets.yaml" in names
    assert "zoning/_bundled/seeds/boundaries.gpkg" in names


def test_installed_wheel_validates_from_elsewhere(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    code = ("import zoning.paths as p, zoning.catalog as c; "
            "print(p.bundled_root()); "
            "print(len(c.resolve_catalogs()))")
    r = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    root, n = r.stdout.split()
    assert root.startswith(str(site)) and n == "3"
    r = subprocess.run([sys.executable, "-m", "zoning.cli", "layers", "validate", "--region",
                        "yunyang"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
