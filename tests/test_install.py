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
    """The wheel, built by the project's PEP 517 backend as ``pip wheel`` would call it (in
    this process: pip's own start-up took longer than the build)."""
    build = pytest.importorskip("hatchling.build", reason="hatchling is not installed")
    out = tmp_path_factory.mktemp("wheel")
    here = os.getcwd()
    os.chdir(ROOT)
    compressor = zipfile._get_compressor  # type: ignore[attr-defined]

    # deflate level 1: the same files, compressed in a third of the time (the bundled seeds
    # are most of the wheel); what the wheel holds is under test, not its compression
    def fast(compress_type, compresslevel=None):
        return compressor(compress_type, 1 if compresslevel is None else compresslevel)

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(zipfile, "_get_compressor", fast)
            name = build.build_wheel(str(out))
    finally:
        os.chdir(here)
    return out / name


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
            "print(len(c.resolve_catalogs()), flush=True); "
            "from zoning.cli import main; main(['layers', 'validate', '--region', 'yunyang'])")
    r = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    root, n = r.stdout.split()[:2]
    assert root.startswith(str(site)) and n == "3"
    assert "yunyang" in r.stdout
