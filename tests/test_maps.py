"""Folium maps: escaping, size, basemaps, and a real headless-Chromium check."""

import os
import re
import shutil
import subprocess
import warnings

import pytest
import shapely
from click.testing import CliRunner

from zoning.catalog import resolve_catalogs
from zoning.outputs import save_map
from zoning.report.maps import GCJ02Warning, project_map, region_map
from zoning.screen import check, load_index

EVIL = '<script>alert("x")</script>`${alert(2)}`'
SITE = shapely.box(106.700, 26.550, 106.706, 26.556)


@pytest.fixture(scope="module")
def guiyang():
    cat = resolve_catalogs(region="guiyang")[0]
    return cat, load_index(cat)


@pytest.fixture(scope="module")
def evil_map(guiyang, tmp_path_factory):
    cat, index = guiyang
    r = check(SITE, cat, name=EVIL, project_id="X<1>")
    path = tmp_path_factory.mktemp("map") / "evil.html"
    size = save_map(project_map(r, SITE, index, basemap="none"), path)
    return path, size


def test_user_text_is_escaped(evil_map):
    path, _ = evil_map
    text = path.read_text("utf-8")
    assert "<script>alert" not in text and "`${alert" not in text
    assert "&lt;script&gt;alert" in text
    assert "X&lt;1&gt;" in text


def test_map_is_self_contained_and_small(evil_map):
    path, size = evil_map
    text = path.read_text("utf-8")
    assert size == len(text.encode("utf-8")) and size < 1_500_000
    assert "cdn.jsdelivr" not in text and "code.jquery" not in text  # works offline
    assert "L.map(" in text or "L.map (" in text


def test_size_bound_enforced(guiyang, tmp_path):
    cat, index = guiyang
    r = check(SITE, cat)
    with pytest.raises(ValueError, match="map would be"):
        save_map(project_map(r, SITE, index, basemap="none"), tmp_path / "m.html",
                 max_bytes=10_000)
    assert not (tmp_path / "m.html").exists()


def test_basemaps(guiyang):
    cat, index = guiyang
    r = check(SITE, cat)
    with pytest.warns(GCJ02Warning, match="GCJ-02"):
        project_map(r, SITE, index, basemap="amap")
    with pytest.raises(ValueError, match="needs a key"):
        project_map(r, SITE, index, basemap="tianditu")
    html = project_map(r, SITE, index, basemap="tianditu", tianditu_key="k123") \
        .get_root().render()
    assert "tianditu.gov.cn" in html and "tk=k123" in html
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project_map(r, SITE, index, basemap="osm")


def test_screen_writes_a_map_per_project_and_an_index(sample_run):
    maps = sample_run[0] / "maps"
    index = (maps / "index.html").read_text("utf-8")
    pages = sorted(p.name for p in maps.glob("0*.html"))
    assert len(pages) == 14  # 17 rows: 2 failed, 1 outside every region
    for p in pages:
        assert f'href="{p}"' in index
        assert 'src="assets/leaflet.js"' not in (maps / p).read_text("utf-8")  # embedded
    assert not (maps / "assets").exists()


# ------------------------------------------------------------------ a real browser


def _chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium")
    pytest.skip("chromium not installed (make test installs it as root); skipping browser test")


def _open(path, tmp_path, shot=None):
    exe = _chromium()
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
            "--v=0", "--virtual-time-budget=5000", "--window-size=1200,900"]
    dom = subprocess.run(args + ["--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    if shot:
        subprocess.run(args + [f"--screenshot={shot}", path.as_uri()], capture_output=True,
                       timeout=120)
    return dom.stdout, console


def test_project_map_in_headless_chromium(evil_map, tmp_path):
    path, _ = evil_map
    keep = os.environ.get("ZONING_KEEP_SCREENSHOTS")
    shot = tmp_path / "project.png" if keep else None  # a second browser run: when asked
    dom, console = _open(path, tmp_path, shot)
    errors = [c for c in console if "Uncaught" in c or "Error" in c]
    assert not errors, errors
    # the layers were drawn: SVG paths of the footprint and the layer features
    assert len(re.findall(r"leaflet-interactive", dom)) >= 3
    assert "leaflet-control-layers" in dom and "leaflet-control-scale" in dom
    assert "项目范围" in dom and "图例" in dom
    if shot:
        assert shot.exists() and shot.stat().st_size > 10_000
        shutil.copy(shot, keep)


def test_region_map_in_headless_chromium(tmp_path):
    from zoning.indicators import indicators

    cat = resolve_catalogs(region="guiyang")[0]
    path = tmp_path / "region.html"
    save_map(region_map(indicators(cat), basemap="none"), path)
    dom, console = _open(path, tmp_path)
    assert not [c for c in console if "Uncaught" in c or "Error" in c], console
    assert len(re.findall(r"leaflet-interactive", dom)) >= 10  # ten districts
    assert "森林覆盖率" in dom and "与规划目标的差距" in dom


def test_cli_tianditu_without_key_is_a_message(tmp_path, monkeypatch):
    from zoning.cli import main
    from zoning.paths import seeds_dir

    monkeypatch.delenv("ZONING_TIANDITU_KEY", raising=False)
    txt = seeds_dir() / "projects" / "GY-012_勘测定界.txt"
    r = CliRunner().invoke(main, ["check", str(txt), "--map", str(tmp_path / "m.html"),
                                  "--basemap", "tianditu"])
    assert r.exit_code == 1 and "needs a key" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["check", str(txt), "--map", str(tmp_path / "m.html"),
                                  "--basemap", "none"])
    assert r.exit_code == 0 and (tmp_path / "m.html").exists()
