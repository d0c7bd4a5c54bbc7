"""PostGIS as a layer store, against a real PostgreSQL + PostGIS server.

CI starts one (scripts/pg-test-server.sh, called by .ci/run) and sets
ZONING_TEST_PG_DSN.  Locally the tests skip with the reason when no server
answers.
"""

import os
import time
import uuid

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from zoning.catalog import load_catalog, resolve_catalogs
from zoning.errors import DataError
from zoning.io.projects import read_projects
from zoning.options import CheckOptions
from zoning.results import State
from zoning.screen import check, screen

from .minicat import CRS, B, L, write_catalog

psycopg = pytest.importorskip("psycopg")


def _server():
    dsn = os.environ.get("ZONING_TEST_PG_DSN")
    if not dsn:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostGIS tests: .ci/run starts a server and sets "
                        "ZONING_TEST_PG_DSN")
        pytest.skip("no PostGIS server: set ZONING_TEST_PG_DSN "
                    "(eval \"$(scripts/pg-test-server.sh)\" starts one)")
    try:
        with psycopg.connect(dsn, connect_timeout=5) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostGIS server at ZONING_TEST_PG_DSN does not answer: {e}")
    return dsn


@pytest.fixture(scope="module")
def dsn():
    base = _server()
    name = f"zoning_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    test_dsn = base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(test_dsn, autocommit=True) as c:
        c.execute("CREATE EXTENSION postgis")
    yield test_dsn
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _import(dsn, catalog_path, out, *extra):
    from zoning.cli import main

    r = CliRunner().invoke(main, ["layers", "import", "--dsn", dsn, "--catalog",
                                  str(catalog_path), "--write-catalog", str(out), *extra])
    assert r.exit_code == 0, r.output
    return load_catalog(out)


@pytest.fixture(scope="module")
def mini_pair(dsn, tmp_path_factory):
    d = tmp_path_factory.mktemp("pgmini")
    files = load_catalog(write_catalog(d))
    pg = _import(dsn, files.path, d / "pg.yaml", "--schema", "mini")
    return files, pg


FOOTPRINTS = [B(500, 0, 1500, 1000), B(-1700, 2300, -1300, 2700), B(5400, 0, 5600, 1000),
              L((-500, 500), (1500, 500)), B(-8000, -8000, -7000, -7000),
              B(1200, 0, 1300, 100), shapely.Point(36_500_000 + 500, 3_320_000 + 500),
              B(-100, -2000, 100, -1500), B(9000, 9000, 9100, 9100)]


def test_import_makes_indexed_cgcs2000_tables(dsn, mini_pair):
    files, pg = mini_pair
    spec = pg.layers["farmland"]
    assert spec.path is None and spec.postgis["table"] == "mini.mini_farmland"
    with psycopg.connect(dsn) as c:
        srid = c.execute("SELECT Find_SRID('mini', 'mini_farmland', 'geom')").fetchone()[0]
        n = c.execute("SELECT count(*) FROM mini.mini_farmland").fetchone()[0]
        idx = c.execute("SELECT indexdef FROM pg_indexes WHERE tablename='mini_farmland'"
                        ).fetchall()
    assert srid == 4524 and n == 3  # the source's own CGCS2000 GK CRS is kept
    assert any("gist" in i[0].lower() for i in idx)


def test_results_match_file_layers(mini_pair):
    files, pg = mini_pair
    opts = CheckOptions(area_method="gk", radius_m=300)
    for fp in FOOTPRINTS:
        a = check(fp, files, crs=CRS, options=opts, industry="C2614", nature="新建")
        b = check(fp, pg, crs=CRS, options=opts, industry="C2614", nature="新建")
        da, db = a.to_dict(), b.to_dict()
        assert da == db, fp.wkt


def test_pushdown_fetches_only_nearby_features(dsn, tmp_path):
    # a layer of 2,500 patches; a check near one corner must not read the table
    cells = [B(-9000 + i * 100, 5000 + j * 100, -8960 + i * 100, 5040 + j * 100)
             for i in range(50) for j in range(50)]
    layers = dict(__import__("tests.minicat", fromlist=["LAYERS"]).LAYERS)
    layers["farmland"] = gpd.GeoDataFrame({"TBBH": [f"T{k}" for k in range(len(cells))]},
                                          geometry=cells, crs=CRS)
    files = load_catalog(write_catalog(tmp_path, layers=layers))
    pg = _import(dsn, files.path, tmp_path / "pg.yaml", "--schema", "push")
    from zoning.screen import load_index

    index = load_index(pg)
    (spec, src), = index.remote["farmland"]
    fp = B(-9000, 5000, -8850, 5150)
    r = check(fp, pg, crs=CRS)
    f = r.layer("farmland")
    assert {h.feature_id for h in f.hits} == {"T0", "T1", "T50", "T51"}
    geo = gpd.GeoSeries([fp], crs=CRS).to_crs("EPSG:4490").values
    fetched = src.fetch(geo, 5000.0)
    assert 0 < len(fetched) < len(cells)  # the spatial filter ran in the database
    assert r.to_dict() == check(fp, files, crs=CRS).to_dict()


def test_a_kept_source_holds_no_lock_between_fetches(dsn, tmp_path):
    """An index keeps its PostGIS sources open: between fetches none may sit in a
    transaction, holding a lock that makes a re-import or DROP wait (and that servers
    with idle_in_transaction_session_timeout end by closing the session)."""
    from zoning.io.postgis import PostgisSource

    pg = _import(dsn, load_catalog(write_catalog(tmp_path)).path, tmp_path / "pg.yaml",
                 "--schema", "kept")
    src = PostgisSource(pg.layers["farmland"])
    try:
        geo = gpd.GeoSeries([B(500, 0, 1500, 1000)], crs=CRS).to_crs("EPSG:4490").values
        assert len(src.fetch(geo, 100.0)) > 0
        assert src.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("SET lock_timeout = '2s'")
            c.execute("ALTER TABLE kept.mini_farmland ADD COLUMN probe int")  # no wait
    finally:
        src.close()


def test_a_warm_index_sees_an_edited_or_reimported_table(dsn, tmp_path, monkeypatch):
    """Finding: an index kept warm (the web service, one process screening many lists) held
    the districts and shoreline it had read from PostGIS until the catalog file changed: a
    table edited or imported again since went unseen, and the verdicts that depend on it."""
    from zoning.io import postgis
    from zoning.screen import load_index

    pg = _import(dsn, load_catalog(write_catalog(tmp_path)).path, tmp_path / "pg.yaml",
                 "--schema", "stamp")
    fp = B(8000, 0, 8500, 500)  # 东区, 3 km from the 长江 shoreline, nothing else near

    def chem():
        r = check(fp, pg, crs=CRS, industry="C2614", nature="新建")
        return r, [f["outcome"] for f in (r.access or {}).get("findings", [])
                   if f["rule_id"] == "NAT-CJ-1KM-CHEM"]

    r, outcome = chem()
    assert outcome == ["not_applicable"] and r.layer("shore").nearest_m == pytest.approx(3000)
    index = load_index(pg)
    monkeypatch.setattr(postgis, "STAMP_SECONDS", 0.0)  # ask the database at every check
    assert load_index(pg) is index  # nothing changed: the warm index is kept
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("UPDATE stamp.mini_shore SET geom = ST_Translate(geom, 0, 2200)")
    r, outcome = chem()
    assert outcome == ["prohibited"] and r.layer("shore").nearest_m == pytest.approx(800)
    assert r.state is State.PROHIBITED
    with psycopg.connect(dsn, autocommit=True) as c:  # the site's district taken out
        c.execute("DELETE FROM stamp.mini_districts WHERE code = '500002'")
    r = check(fp, pg, crs=CRS)
    assert r.state is State.DATA_MISSING and r.layer("coverage").share == pytest.approx(1.0)
    # a table fetched per chunk, dropped and made again (as a re-import does): new sources
    index = load_index(pg)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE stamp.f2 AS TABLE stamp.mini_farmland")
        c.execute("DROP TABLE stamp.mini_farmland")
        c.execute("ALTER TABLE stamp.f2 RENAME TO mini_farmland")
    assert load_index(pg) is not index
    # never read: the stamp equals no other, so the index is built and reports the failure
    assert postgis.table_stamp({"dsn": "postgresql://nobody@127.0.0.1:1/x",
                                "table": "stamp.mini_shore"}, rows=True)[0] == "unreadable"


def test_a_warm_index_outlives_a_database_it_cannot_ask(dsn, tmp_path, monkeypatch):
    """Review findings: a stamp that could not be asked (the database away, its connection
    killed) rebuilt the warm index without the shoreline, and a 禁止 read 需人工核查; a view
    (no xmin) was rebuilt every second; an evicted index's sources failed a running batch."""
    from zoning.io import postgis
    from zoning.screen import load_index

    pg = _import(dsn, load_catalog(write_catalog(tmp_path)).path, tmp_path / "pg.yaml",
                 "--schema", "outage")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("UPDATE outage.mini_shore SET geom = ST_Translate(geom, 0, 2200)")
    fp = B(8000, 0, 8500, 500)  # 800 m from the 长江: a chemical plant is prohibited
    assert check(fp, pg, crs=CRS, industry="C2614", nature="新建").state is State.PROHIBITED
    index = load_index(pg)
    monkeypatch.setattr(postgis, "STAMP_SECONDS", 0.0)
    shore = pg.layers["shore"].postgis
    conn = postgis._stamp_conns[postgis.resolve_dsn(shore["dsn"])]
    with psycopg.connect(dsn, autocommit=True) as c:  # its connection dropped: asked again
        c.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    assert load_index(pg) is index
    assert postgis._stamp_conns[postgis.resolve_dsn(shore["dsn"])] is not conn  # a new one
    calls = []

    def away(*a, **kw):
        calls.append(1)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(postgis, "_ask_stamp", away)  # the database away: the last stamps
    r = check(fp, pg, crs=CRS, industry="C2614", nature="新建")
    assert load_index(pg) is index and r.state is State.PROHIBITED
    assert len(calls) == 2 * len(pg.layers)  # each table asked, then once more
    assert load_index(pg) is index and len(calls) == 2 * len(pg.layers)  # then it waits
    never = {"dsn": dsn, "table": "outage.never_read"}
    token = postgis.table_stamp(never, rows=True)
    assert token[0] == "unreadable" and postgis.table_stamp(never, rows=True) == token
    monkeypatch.undo()
    monkeypatch.setattr(postgis, "STAMP_SECONDS", 0.0)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE VIEW outage.shore_view AS SELECT * FROM outage.mini_shore")
    view = dict(shore, table="outage.shore_view")
    first = postgis.table_stamp(view, rows=True)
    assert first[0] != "unreadable" and postgis.table_stamp(view, rows=True) == first
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("UPDATE outage.mini_shore SET geom = ST_Translate(geom, 0, 1)")
    assert postgis.table_stamp(view, rows=True) != first  # its rows' content changed
    # a source closed (its index evicted) while a batch still uses it: a new connection
    (_spec, src), = index.remote["farmland"]
    src.close()
    geo = gpd.GeoSeries([B(-1900, 100, -1800, 200)], crs=CRS).to_crs("EPSG:4490").values
    assert len(src.fetch(geo, 100.0)) > 0


def test_threads_sharing_a_source_survive_its_connection_closed_or_killed(dsn, mini_pair):
    """Review finding: a thread retrying on a new connection closed the one another thread
    had just opened, and the batch stopped with a DatabaseError; a data fault was retried
    and reported as a database failure."""
    import dataclasses
    import threading

    from zoning.errors import DatabaseError
    from zoning.io.postgis import PostgisSource

    _files, pg = mini_pair  # read only
    src = PostgisSource(pg.layers["farmland"])
    geo = gpd.GeoSeries([B(-1900, 100, -1800, 200)], crs=CRS).to_crs("EPSG:4490").values
    errors: list = []
    done = threading.Event()

    def work():
        while not done.is_set():
            try:
                assert len(src.fetch(geo, 100.0)) > 0
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            for k in range(8):
                time.sleep(0.1)
                if k % 2:
                    src.close()  # an eviction while the batch runs
                else:
                    conn = src.conn
                    if conn is not None and not conn.closed:  # the server drops it
                        c.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert errors == [] and src.queries > 8
    src.close()
    bad = PostgisSource(dataclasses.replace(pg.layers["farmland"], id_field="NOPE"))
    before = bad.queries
    with pytest.raises(DataError) as e:
        bad.fetch(geo, 100.0)
    assert not isinstance(e.value, DatabaseError) and bad.queries - before <= 2  # not again
    bad.close()


def test_failed_import_leaves_no_table(dsn, tmp_path):
    cat = load_catalog(write_catalog(tmp_path))
    (tmp_path / "mini.gpkg").rename(tmp_path / "gone.gpkg")  # layers after the first fail
    broken = tmp_path / "broken.yaml"
    text = (tmp_path / "mini.yaml").read_text("utf-8")
    # first layer readable, the rest point at a missing file
    import yaml

    doc = yaml.safe_load(text)
    names = list(doc["layers"])
    doc["layers"][names[0]]["path"] = "gone.gpkg"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    from zoning.io.postgis import import_catalog

    with pytest.raises(DataError, match="mini.gpkg: 文件不存在"):
        import_catalog(load_catalog(broken), dsn, schema="broken")
    with psycopg.connect(dsn) as c:
        tables = c.execute("SELECT table_name FROM information_schema.tables WHERE "
                           "table_schema='broken'").fetchall()
    assert tables == []  # the first layer's table was rolled back with the rest
    # the catalog object given to the import is untouched: its layers still name their files
    assert {s.path.name for s in cat.layers.values() if s.path} == {"mini.gpkg"}


def test_import_takes_layers_bigger_than_the_input_limit(dsn, tmp_path, monkeypatch):
    """A catalog layer is imported under the layer feature limit, not the limit on input
    files (a province's farmland has millions of patches)."""
    from zoning.io.postgis import import_catalog
    from zoning.limits import LIMITS

    cat = load_catalog(write_catalog(tmp_path))
    monkeypatch.setattr(LIMITS, "max_features", 2)
    _, info = import_catalog(cat, dsn, schema="biglayers")
    assert info["biglayers.mini_farmland"]["features"] == 3


def test_bundled_region_through_postgis(dsn, tmp_path):
    """The 云阳 sample projects give the same results from PostGIS as from the files."""
    from zoning.paths import seeds_dir

    files = resolve_catalogs(region="yunyang")[0]
    pg = _import(dsn, files.path, tmp_path / "yy.yaml", "--schema", "yy")
    t = read_projects(seeds_dir() / "projects" / "sample_projects.csv")
    t = t[t.project_id.str.startswith("YY")]
    opts = CheckOptions(radius_m=1000)
    a = screen(t, [files], options=opts)
    b = screen(t, [pg], options=opts)
    strip = lambda d: {**d, "layers": [{k: v for k, v in lr.items() if k != "source"}
                                       for lr in d["layers"]]}
    assert [strip(r.to_dict()) for r in a.results] == [strip(r.to_dict()) for r in b.results]
    assert b.results[0].state.value == "prohibited"


def test_validate_postgis_catalog(mini_pair):
    from zoning.io.validate import validate_catalog

    _, pg = mini_pair
    reps = {r.name: r for r in validate_catalog(pg)}
    assert reps["farmland"].status == "ok" and reps["farmland"].features == 3
    assert reps["farmland"].crs == "EPSG:4524"


def test_env_dsn_and_bad_dsn(tmp_path, monkeypatch):
    from zoning.errors import CatalogError
    from zoning.io.postgis import connect, resolve_dsn

    monkeypatch.delenv("ZONING_NO_SUCH_DSN", raising=False)
    with pytest.raises(CatalogError, match="ZONING_NO_SUCH_DSN"):
        resolve_dsn("env:ZONING_NO_SUCH_DSN")
    with pytest.raises(DataError, match="无法连接 PostGIS"):
        connect("postgresql://nobody@127.0.0.1:1/none")


def test_source_columns_named_fid_and_geom_are_renamed(dsn, tmp_path):
    """Columns named fid/geom used to break the import (the table has its own)."""
    import yaml

    layers = dict(__import__("tests.minicat", fromlist=["LAYERS"]).LAYERS)
    far = layers["farmland"].copy()
    far["fid"] = [7, 8, 9]
    far["geom"] = ["a", "b", "c"]
    far.to_file(tmp_path / "farmland.shp")  # a GeoPackage cannot even hold such columns
    cat = write_catalog(tmp_path, layers=layers)
    doc = yaml.safe_load(cat.read_text("utf-8"))
    doc["layers"]["farmland"].update(path="farmland.shp", id_field="fid")
    doc["layers"]["farmland"].pop("layer")
    cat.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    pg = _import(dsn, cat, tmp_path / "pg.yaml", "--schema", "fidgeom")
    spec = pg.layers["farmland"]
    assert spec.id_field == "src_fid"
    r = check(B(-1900, 100, -1800, 200), pg, crs=CRS)
    assert [h.feature_id for h in r.layer("farmland").hits] == ["7"]


def test_concurrent_imports_into_a_new_schema_both_succeed(dsn, tmp_path):
    """Two simultaneous `layers import` runs raced on creating the schema."""
    import threading

    from zoning.io.postgis import import_catalog

    cat = load_catalog(write_catalog(tmp_path, region_id="race"))
    errors = []

    def run():
        try:
            import_catalog(cat, dsn, schema="racy")
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    ts = [threading.Thread(target=run) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    # the schema race is gone; concurrent imports of the same tables may still wait on
    # each other's locks, but none fails on creating the schema
    assert not [e for e in errors if "schema" in str(e).lower() or "pg_namespace" in str(e)]


@pytest.mark.parametrize("table,geometry", [("pg_catalog.pg_authid", "geom"),
                                            ("public.spatial_ref_sys", "geom"),
                                            ("public.spatial_ref_sys", "nope")])
def test_tables_that_are_not_layers_are_messages(dsn, tmp_path, table, geometry):
    """Found by the hostile sweep: Find_SRID's exception reached the user as a traceback."""
    import yaml

    from zoning.errors import ZoningError
    from zoning.io.layers import read_layer

    p = write_catalog(tmp_path)
    doc = yaml.safe_load(p.read_text("utf-8"))
    lay = doc["layers"]["districts"]
    lay.pop("path")
    lay.pop("layer")
    lay["postgis"] = {"dsn": dsn, "table": table, "geometry": geometry}
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ZoningError, match="无法作为图层读取"):
        read_layer(load_catalog(p).layers["districts"])
