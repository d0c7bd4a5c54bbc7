"""Prepared layer stores: build and read back, staleness, near-only reads, identical
results with and without a store, threads."""

from __future__ import annotations

import copy
import json
import os

import geopandas as gpd
import numpy as np
import pyarrow.parquet as pq
import pytest
import shapely

from tests.minicat import LAYERS, OX, OY, big_farmland, write_catalog
from zoning.catalog import load_catalog
from zoning.engine.geometry import measure
from zoning.io.store import build_store, hilbert_keys, open_store, store_paths, store_status
from zoning.options import CheckOptions
from zoning.prepare import build_stores, region_frame
from zoning.project import Project
from zoning.screen import IndexCache, screen_projects


@pytest.fixture(autouse=True)
def per_chunk(monkeypatch):
    """Small test stores are read per chunk, as big ones are."""
    import zoning.screen

    monkeypatch.setattr(zoning.screen, "STORE_IN_MEMORY", 0)


@pytest.fixture()
def cat_path(tmp_path):
    layers = dict(LAYERS, farmland=big_farmland())
    return write_catalog(tmp_path, layers)


def _build_farmland(cat, **kw):
    work, extent = region_frame(cat)
    return build_store(cat.layers["farmland"], work, 256, extent=extent, **kw)


def _projects(geoms_local):
    from zoning.crs import reproject

    out = []
    for i, g in enumerate(geoms_local):
        geo = reproject(shapely.transform(g, lambda xy: xy + [OX, OY]), "EPSG:4524",
                        "EPSG:4490")
        out.append(Project(row=i + 1, project_id=f"P{i}", name="", geometry=geo,
                           kind="polygon", attrs={}, warnings=[]))
    return out


# footprints: over many grid patches, wholly around some, across the big circle, touching
# a patch's edge, far from everything (nearest), inside a hole-free gap
FOOTPRINTS = [shapely.box(-9450, -9450, -8000, -8200), shapely.box(-9510, -9510, -9300, -9300),
              shapely.Point(-3000, 6000).buffer(700), shapely.box(-3000, 5000, -2500, 6500),
              shapely.box(-9420, -9500, -9400, -9440), shapely.box(8000, 8000, 8100, 8100),
              shapely.box(-5000, -2000, -4900, -1900), shapely.box(-9000, -6000, -5000, -5000)]


def _rows(res):
    def canon(v):
        if isinstance(v, float):
            return float(f"{v:.10g}")
        if isinstance(v, dict):
            return {k: canon(x) for k, x in v.items()}
        if isinstance(v, list):
            return [canon(x) for x in v]
        return v
    return [json.dumps(canon(r.to_dict()), sort_keys=True, ensure_ascii=False) for r in res]


def test_hilbert_keys_follow_the_curve():
    # order-1 curve: (0,0) → (0,1) → (1,1) → (1,0)
    k = hilbert_keys(np.array([0., 0, 1, 1]), np.array([0., 1, 1, 0]), (0, 0, 1, 1), bits=1)
    assert list(k) == [0, 1, 2, 3]


def test_store_round_trip(cat_path):
    cat = load_catalog(cat_path)
    # small batches and row groups: the bucketed (bounded-memory) path
    meta = _build_farmland(cat, batch_size=300, row_group_size=64)
    store, side = store_paths(cat.layers["farmland"])
    assert side.exists() and meta["features"] == 1601
    assert meta["pieces"] > meta["features"]  # the circle was subdivided
    gdf = gpd.read_parquet(store)  # a valid GeoParquet 1.1 file, bbox covering recognised
    assert len(gdf) == meta["pieces"] and "bbox" not in gdf.columns
    geo = json.loads(pq.read_schema(store).metadata[b"geo"])
    assert geo["columns"]["geometry"]["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    assert gdf.crs.to_epsg() == 4524
    assert sorted(gdf["_fid"].unique()) == list(range(1601))
    big = gdf[gdf["_id"] == "BIG"]
    assert len(big) == big["_npieces"].iloc[0] > 1
    whole = shapely.union_all(big.geometry.values)
    assert whole.area == pytest.approx(np.pi * 600 ** 2, rel=1e-3)
    ell = measure([LAYERS_BIG_CIRCLE()], "EPSG:4524", "ellipsoidal")[0][0]
    assert big["_area_ell"].iloc[0] == pytest.approx(ell, rel=1e-12)
    assert gdf["_valid"].all()
    # row groups are spatially compact: far fewer than all rows meet a small window
    src = open_store(cat.layers["farmland"])
    assert src is not None and src._pf.metadata.num_row_groups > 20
    # LZ4: a row group decodes in about half zstd's time (a batch reads hundreds)
    rg = src._pf.metadata.row_group(0)
    assert {rg.column(i).compression for i in range(rg.num_columns)} == {"LZ4"}


def LAYERS_BIG_CIRCLE():
    return shapely.Point(OX - 3000, OY + 6000).buffer(600, quad_segs=500)


def test_check_reads_only_near_row_groups(cat_path):
    cat = load_catalog(cat_path)
    meta = _build_farmland(cat, row_group_size=64)
    cache = IndexCache()
    res = screen_projects(_projects([FOOTPRINTS[1]]), [cat], cache=cache)
    idx = cache.load(cat)
    src = idx.remote["farmland"][0][1]
    assert res[0].layer("farmland").hits  # found its patches
    assert 0 < src.rows_read <= 4 * 64 < meta["pieces"] / 5


def test_far_footprint_finds_true_nearest_with_few_reads(cat_path):
    cat = load_catalog(cat_path)
    _build_farmland(cat, row_group_size=64)
    with_store = screen_projects(_projects([FOOTPRINTS[5]]), [cat], cache=IndexCache())
    for f in store_paths(cat.layers["farmland"]):
        f.unlink()
    plain = screen_projects(_projects([FOOTPRINTS[5]]), [cat], cache=IndexCache())
    a, b = with_store[0].layer("farmland"), plain[0].layer("farmland")
    assert a.nearest_id == b.nearest_id == "BIG" and a.nearest_m == pytest.approx(b.nearest_m)


@pytest.mark.parametrize("opts, in_memory", [
    (CheckOptions(), 0), (CheckOptions(area_method="gk", radius_m=250.0), 0),
    (CheckOptions(), 10**9)])
def test_results_identical_with_and_without_store(cat_path, opts, in_memory, monkeypatch):
    import zoning.screen

    monkeypatch.setattr(zoning.screen, "STORE_IN_MEMORY", in_memory)  # whole, or per chunk
    cat = load_catalog(cat_path)
    projects = _projects(FOOTPRINTS)
    plain = screen_projects(projects, [cat], options=opts, cache=IndexCache())
    build_stores(cat, opts)
    cache = IndexCache()
    stored = screen_projects(projects, [cat], options=opts, cache=cache, chunk_size=3)
    idx = cache.load(cat, opts)
    kinds = {"farmland", "eco_redline", "protected_area", "control_unit", "urban_boundary"}
    assert set(idx.remote) == (kinds if not in_memory else set())
    if in_memory:
        assert idx.layers["farmland"][0].areas["ellipsoidal"].size == 1601  # from the store
    assert _rows(stored) == _rows(plain)
    assert stored[0].layer("farmland").overlap_m2 > 0


def test_stale_store_is_detected_and_not_used(cat_path):
    cat = load_catalog(cat_path)
    _build_farmland(cat)
    spec = cat.layers["farmland"]
    assert store_status(spec).fresh
    os.utime(spec.path, ns=(1, 1))  # touched, same content: the hash keeps it fresh
    assert store_status(spec).fresh
    assert open_store(spec) is not None  # the new time was recorded
    with open(spec.path, "ab") as f:
        f.write(b"\0" * 10)
    st = store_status(spec)
    assert st.state == "stale" and "的大小已改变" in st.reasons[0]
    assert open_store(spec) is None
    cache = IndexCache()
    cache.load(cat)
    assert "farmland" not in cache.load(cat).remote  # read from the source instead
    assert "farmland" in cache.load(cat).layers


def test_changed_catalog_entry_makes_store_stale(cat_path):
    cat = load_catalog(cat_path)
    _build_farmland(cat)
    text = cat_path.read_text("utf-8").replace("id_field: TBBH", "id_field: fid")
    cat_path.write_text(text, encoding="utf-8")
    st = store_status(load_catalog(cat_path).layers["farmland"])
    assert st.state == "stale" and "图层目录中该图层的条目" in st.reasons[0]


def test_threaded_batch_gives_the_same_results(cat_path):
    cat = load_catalog(cat_path)
    rng = np.random.default_rng(3)
    x = rng.uniform(-9800, 9800, 120)
    y = rng.uniform(-9800, 9800, 120)
    w = rng.uniform(20, 800, 120)
    projects = _projects([shapely.box(a, b, a + c, b + c * 0.7) for a, b, c in zip(x, y, w)])
    one = screen_projects(projects, [cat], chunk_size=10, cache=IndexCache())
    build_stores(cat)
    two = screen_projects(projects, [cat], chunk_size=10, threads=2, cache=IndexCache())
    assert _rows(two) == _rows(one)
    assert [r.project_id for r in two] == [p.project_id for p in projects]


def test_threads_read_row_groups_outside_the_lock_once_each(cat_path, monkeypatch):
    """Threads fetching from one store: reads of different row groups run side by side
    (neither waits for the other's read), a group both want is read once, and the pieces
    equal a lone fetch's."""
    import threading
    import time

    from zoning.crs import reproject

    cat = load_catalog(cat_path)
    _build_farmland(cat, row_group_size=64)
    spec = cat.layers["farmland"]
    src = open_store(spec, cache_rows=10**9)

    def work(g):
        return np.array([reproject(shapely.transform(g, lambda xy: xy + [OX, OY]),
                                   "EPSG:4524", str(src.work_crs))], dtype=object)

    far_apart = [work(FOOTPRINTS[1]), work(FOOTPRINTS[3])]  # south-west grid, big circle
    lone = [open_store(spec, cache_rows=10**9).fetch_pieces(f, 0.0) for f in far_apart]
    lock, inside, most, starts = threading.Lock(), [0], [0], []
    real = pq.ParquetFile.read_row_group

    def slow(self, *a, **kw):  # every read takes a while: overlapping reads show up
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            starts.append(a[0])
        time.sleep(0.05)
        try:
            return real(self, *a, **kw)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", slow)

    def both(fps):
        out: list = [None, None]
        go = threading.Barrier(2)

        def run(i):
            go.wait()
            out[i] = src.fetch_pieces(fps[i], 0.0)

        ts = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        return out

    got = both(far_apart)
    assert most[0] == 2  # the two threads' reads overlapped
    for a, b in zip(got, lone):
        assert shapely.equals_exact(a.pieces, b.pieces, 0).all()
        assert (a.parent == b.parent).all()
        assert list(a.frame["_id"].values) == list(b.frame["_id"].values)
    src.close()
    del starts[:]
    same = work(FOOTPRINTS[0])
    got = both([same, same])  # both want the same groups at once
    assert starts and len(starts) == len(set(starts))  # each read once
    assert shapely.equals_exact(got[0].pieces, got[1].pieces, 0).all()


def test_dask_partitions_are_spatial_and_keep_every_row():
    from zoning.io.projects import project_table
    from zoning.scaleout import spatial_partitions

    # two clusters far apart, interleaved in input order, plus a row without geometry
    rows = [dict(row=i + 1, project_id=f"P{i}", geometry=shapely.box(
        106 + (i % 2) * 1.0 + i * 1e-3, 26, 106.0005 + (i % 2) * 1.0 + i * 1e-3, 26.0005))
        for i in range(8)] + [dict(row=9, project_id="bad", geometry=None)]
    parts = spatial_partitions(project_table(rows), 4)
    pos = sorted(int(p) for part in parts for p in part["_pos"])
    assert pos == list(range(9))
    # each full partition holds one cluster only
    for part in parts[:2]:
        xs = {round(g.centroid.x) for g in part.geometry.values if g is not None}
        assert len(xs) == 1


def test_near_reads_use_the_gpkg_rtree_and_give_the_same_results(cat_path):
    cat = load_catalog(cat_path)
    projects = _projects(FOOTPRINTS)
    opts = CheckOptions(radius_m=250.0)
    whole = screen_projects(projects, [cat], options=opts, cache=IndexCache())
    cache = IndexCache(near_reads=True)
    near = screen_projects(projects, [cat], options=opts, cache=cache)
    assert _rows(near) == _rows(whole)
    # alone, far from everything: every layer's window grows to its nearest feature
    alone = screen_projects(projects[5:6], [cat], options=opts,
                            cache=IndexCache(near_reads=True))
    assert _rows(alone) == _rows(whole[5:6])
    src = cache.load(cat, opts).remote["farmland"][0][1]
    assert src.reads >= 1
    # a small footprint's window meets a handful of the 1,601 patches, not the layer
    frame = src.fetch(np.array([projects[1].geometry], dtype=object), 0.0)
    assert 0 < len(frame) < 20
    # far from everything: the window grows until the true nearest is in it
    far = src.fetch(np.array([projects[5].geometry], dtype=object), 0.0)
    assert "BIG" in set(far["_id"]) and len(far) < 1601
    # the empty windows on the way are looked up in the R-tree, not read: two reads (the
    # first window that holds a feature, then the one widened to the nearest), and the
    # same frame as reading every window in turn
    before = src.reads
    again = src.fetch(np.array([projects[5].geometry], dtype=object), 0.0)
    assert src.reads - before == 2
    blind = copy.copy(src)
    blind._rtree = None
    assert blind.fetch(np.array([projects[5].geometry], dtype=object), 0.0).equals(again)
    assert blind.reads - src.reads > 2  # each empty window was read
    assert again.equals(far)


def test_check_command_keeps_its_near_read_index_until_a_layer_changes(tmp_path, monkeypatch):
    """``zoning check`` run again in one process reuses its index (big layers still read
    near each footprint); an edited layer file is read again."""
    from click.testing import CliRunner

    import zoning.screen
    from zoning.cli import main
    from zoning.crs import reproject

    built = []
    build = zoning.screen._build_index
    monkeypatch.setattr(zoning.screen, "_build_index",
                        lambda cat, opts, cache: built.append(cache) or build(cat, opts, cache))
    site = tmp_path / "site.geojson"
    gpd.GeoDataFrame(geometry=[reproject(shapely.transform(FOOTPRINTS[1], lambda xy: xy + [
        OX, OY]), "EPSG:4524", "EPSG:4490")], crs="EPSG:4490").to_file(site)

    cat_path = write_catalog(tmp_path)

    def check():
        r = CliRunner().invoke(main, ["check", str(site), "--catalog", str(cat_path), "--json"])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    first = check()
    assert check() == first and len(built) == 1 and built[0].near_reads
    farmland = load_catalog(cat_path).layers["farmland"].path
    os.utime(farmland, ns=(os.stat(farmland).st_atime_ns, os.stat(farmland).st_mtime_ns + 10**9))
    assert check() == first and len(built) == 2


def test_rtree_lookup_only_trusts_a_gpkg_rtree(tmp_path):
    from zoning.io.vector import gpkg_rtree, gpkg_rtree_meets

    gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:4524")
    gdf.to_file(tmp_path / "a.gpkg", layer="t")
    gdf.to_file(tmp_path / "a.gpkg", layer="u")
    assert gpkg_rtree(tmp_path / "a.gpkg", "t") == "rtree_t_geom"
    assert gpkg_rtree(tmp_path / "a.gpkg", None) is None  # two layers: which one is read?
    assert gpkg_rtree(tmp_path / "a.gpkg", "missing") is None
    assert gpkg_rtree_meets(tmp_path / "a.gpkg", "rtree_t_geom", (5, 5, 20, 20))
    assert gpkg_rtree_meets(tmp_path / "a.gpkg", "rtree_t_geom", (10, 10, 11, 11))  # touching
    assert not gpkg_rtree_meets(tmp_path / "a.gpkg", "rtree_t_geom", (11, 0, 20, 5))
    assert gpkg_rtree_meets(tmp_path / "a.gpkg", "no_such_table", (11, 0, 20, 5))  # unsure
    gdf.to_file(tmp_path / "b.gpkg", layer="t", SPATIAL_INDEX="NO")
    assert gpkg_rtree(tmp_path / "b.gpkg", "t") is None
    gdf.to_file(tmp_path / "c.geojson")
    assert gpkg_rtree(tmp_path / "c.geojson", None) is None


def test_catalog_parsed_once_each_caller_gets_its_own_entries(cat_path):
    a = load_catalog(cat_path)
    a.layers["farmland"].id_field = "changed"
    a.layers.pop("udb")
    b = load_catalog(cat_path)
    assert b.layers["farmland"].id_field == "TBBH" and "udb" in b.layers
    cat_path.write_text(cat_path.read_text("utf-8").replace("测试区", "测试区二"), "utf-8")
    assert load_catalog(cat_path).region_name == "测试区二"  # an edited file is parsed again
