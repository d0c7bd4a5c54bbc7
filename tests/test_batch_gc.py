"""Batch bookkeeping that must not change results: the collector's freeze, result pickling."""

import copy
import gc
import pickle

import shapely

from zoning.batch import results_frozen, run_chunks
from zoning.results import FeatureHit


def test_feature_hits_pickle_and_copy_whole():
    """FeatureHit pickles by its fields (dask ships hundreds of thousands of them)."""
    h = FeatureHit("F1", 12.5, 3.0, 0.25, {"dlbm": "0101", "n": 2}, True)
    for back in (pickle.loads(pickle.dumps(h, protocol=p)) for p in (2, 5)):
        assert back == h and back.attributes is not h.attributes
    assert copy.deepcopy(h) == h and copy.copy(h) == h
    assert pickle.loads(pickle.dumps([h, h]))[1] == h


def test_batch_freezes_while_running_and_unfreezes_after():
    seen = []

    def check(_idx, chunk):
        seen.append(gc.get_freeze_count())
        return [object() for _ in chunk], []

    projects = [type("P", (), {"geometry": shapely.Point(i, i)})() for i in range(5)]
    out = list(run_chunks(None, projects, None, chunk_size=2, check=check))
    assert [len(c) for c, _, _ in out] == [2, 2, 1]
    assert all(n > 0 for n in seen)  # earlier chunks' results are out of the full scans
    assert gc.get_freeze_count() == 0  # handed back when the batch ends


def test_a_process_that_froze_objects_itself_is_left_alone():
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with results_frozen() as freeze:
            assert freeze is not gc.freeze
            freeze()
        # not handed back (objects may die meanwhile, so the count may drop a little)
        assert 0 < before - 1000 < gc.get_freeze_count() <= before
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_a_single_chunk_freezes_nothing():
    """One check (the web server's case) leaves the collector alone."""
    seen = []

    def check(_idx, chunk):
        seen.append(gc.get_freeze_count())
        return [object() for _ in chunk], []

    projects = [type("P", (), {"geometry": shapely.Point(0, 0)})()]
    list(run_chunks(None, projects, None, chunk_size=2, check=check))
    assert seen == [0]
