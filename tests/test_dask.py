"""The dask engine gives the single-process results, row for row, even when workers die."""

import pytest

from zoning.catalog import resolve_catalogs
from zoning.options import CheckOptions
from zoning.paths import seeds_dir
from zoning.results import State

pytest.importorskip("distributed")

from zoning.scaleout import results_equal, screen_dask  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster (2 worker processes) for every dask test.

    Workers (and the restarts after the worker-death test's kills) are forked from a
    forkserver that has imported the engine once, rather than spawned, each importing
    it again: about 1 s of CPU per worker process saved.  The forkserver also builds the
    bundled regions' indexes once (:mod:`tests.dask_warm`): each worker built them itself."""
    import dask
    from distributed import LocalCluster
    from distributed.utils import get_mp_context

    # the worker-death test kills a worker per partition: on a loaded machine a task can be
    # caught in several deaths before its retry runs, so allow more than dask's default 3
    with dask.config.set({"distributed.scheduler.allowed-failures": 20,
                          "distributed.worker.multiprocessing-method": "forkserver"}):
        ctx = get_mp_context()  # distributed's own preload list, then the engine's
        ctx.set_forkserver_preload(["distributed", "dask", "numpy", "pandas", "shapely",
                                    "pyproj", "pyarrow.parquet", "pyogrio", "geopandas",
                                    "zoning.scaleout", "zoning.screen", "zoning.io.layers",
                                    "tests.dask_warm"])
        c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None)
        yield c.scheduler_address
        c.close()


@pytest.fixture(scope="module")
def local(sample_table, sample_result):
    return sample_table, CheckOptions(radius_m=1000, keep_geometry=True), sample_result


def test_dask_equals_local(local, cluster):
    t, opts, a = local
    b = screen_dask(t, resolve_catalogs(), options=opts, chunk_size=4, scheduler=cluster)
    assert results_equal(a, b)
    assert [r.row for r in b.results] == list(range(1, len(t) + 1))
    assert len(a.overlaps) == len(b.overlaps)


def test_cli_engine_dask(tmp_path, cluster):
    from click.testing import CliRunner

    from zoning.cli import main

    r = CliRunner().invoke(main, ["screen", str(seeds_dir() / "projects" / "sample_projects.csv"),
                                  "--out", str(tmp_path), "--engine", "dask", "--no-maps",
                                  "--chunk-size", "5", "--scheduler", cluster])
    assert r.exit_code == 0, r.output
    assert "输入 17 行，输出 17 行" in r.output


def test_worker_death_is_retried_without_losing_or_duplicating_rows(tmp_path, cluster):
    """On the small test catalog: the retries are under test, and a restarted worker reads
    it in a blink (the bundled regions took it seconds).  Last in the file: the restarted
    workers have no warm indexes."""
    from zoning.catalog import load_catalog
    from zoning.crs import reproject
    from zoning.io.projects import read_projects
    from zoning.screen import screen

    from .faults import die_once
    from .minicat import CRS, B, write_catalog

    (tmp_path / "cat").mkdir()
    (tmp_path / "marks").mkdir()
    cats = [load_catalog(write_catalog(tmp_path / "cat"))]
    squares = [B(x, y, x + 300, y + 300) for x in range(-2500, 6500, 1500)
               for y in (-3200, 200, 2200)]  # farmland, red line, core zone, shoreline …
    lst = tmp_path / "list.csv"
    lst.write_text("项目编号,wkt\n" + "".join(
        f'P{i:02d},"{reproject(g, CRS, "EPSG:4490").wkt}"\n' for i, g in enumerate(squares)),
        "utf-8")
    t = read_projects(lst)
    opts = CheckOptions(radius_m=1000, keep_geometry=True)
    a = screen(t, cats, options=opts)
    assert {lr.state for r in a.results for lr in r.layers} >= {State.PROHIBITED}
    b = screen_dask(t, cats, options=opts, chunk_size=9, scheduler=cluster,
                    task=die_once(str(tmp_path / "marks")))
    killed = sorted(p.name for p in (tmp_path / "marks").iterdir())
    assert len(killed) == 2  # every partition's first attempt killed its worker
    assert results_equal(a, b)
    assert [r.row for r in b.results] == list(range(1, len(t) + 1))
