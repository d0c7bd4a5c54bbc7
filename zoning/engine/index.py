"""Layer and region indexes: frames in the region's work CRS, subdivided and STRtree-indexed.

Built from normalised frames (see :mod:`zoning.io.layers`); remote layers
(PostGIS) come in through a :class:`LayerSource`, whose ``fetch`` returns
normalised frames for the features near a chunk of footprints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from zoning.catalog import KINDS, Catalog
from zoning.crs import gk3_epsg
from zoning.engine.geometry import (
    GEO,
    ThreadPrepared,
    polygonal,
    reproject_dense,
    split_lines,
    subdivide,
)
from zoning.options import CheckOptions
from zoning.rules.access import (
    NO_SHORE_DATA,
    AccessRules,
    BoundedDistance,
    PartialDistance,
    shore_selection,
)
from zoning.rules.three_lines import RuleSet, is_missing

__all__ = ["LayerIndex", "RegionIndex", "LayerSource", "PieceSource", "LayerPieces",
           "SCREEN_KINDS", "EXTRA_KINDS", "prepare_geometries", "work_crs_for"]

SCREEN_KINDS = ("eco_redline", "farmland", "urban_boundary", "protected_area", "control_unit",
                "shoreline")
#: indexed too, checked by their own modules: generic constraint layers with their own
#: rules (:mod:`zoning.engine.constraints`) and 国土调查 地类 (:mod:`zoning.engine.landuse`)
EXTRA_KINDS = ("constraint", "landuse")
_OVERLAPPING = {"protected_area"}  # designations overlap: totals are unions, not sums
_ATTR_FIELDS = {
    "eco_redline": ("name", "county", "type", "pa_name", "pa_zone"),
    "farmland": ("county", "land_class"),
    "urban_boundary": ("county", "partition"),
    "protected_area": ("name", "zone", "pa_type", "level"),
    "control_unit": ("name", "unit_class", "county"),
    "shoreline": ("river", "basin", "order", "bank"),
    "landuse": ("code", "name", "deduction"),
}


def work_crs_for(coverage_geo) -> CRS:
    """The work CRS of a region: the CGCS2000 3° GK zone (prefixed) of its coverage centroid."""
    return CRS.from_epsg(gk3_epsg(shapely.centroid(coverage_geo).x, prefix=True))


#: vertices per run of a long line in the index (see :func:`prepare_geometries`)
_LINE_RUN = 16
#: vertices per run of a polygon piece's boundary for nearest distances (see
#: :meth:`LayerIndex.nearest`)
_NEAREST_RUN = 8


def prepare_geometries(kind: str, geoms, max_vertices: int):
    """Geometries of a layer in work CRS → (geometries, pieces, parent) as the index keeps them.

    Non-polygonal parts of polygon layers are dropped (an empty polygon when nothing is
    left); polygons above ``max_vertices`` are subdivided (0: never).  The prepared layer
    store (:mod:`zoning.io.store`) calls this too, so stored pieces equal indexed ones.
    """
    geoms = np.asarray(geoms, dtype=object)
    if KINDS[kind].geometry == "polygon":
        odd = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), (3, 6)))  # not polygonal
        if len(odd):
            geoms = geoms.copy()
            geoms[odd] = [polygonal(g) or shapely.Polygon() for g in geoms[odd]]
    pieces, parent = subdivide(geoms, max_vertices) if max_vertices else \
        (geoms, np.arange(len(geoms)))
    if KINDS[kind].geometry == "line" and max_vertices:
        # long lines (岸线) in runs: a nearest-distance query then tests a few short runs
        # instead of every segment of a river
        pieces, sub = split_lines(pieces, min(max_vertices, _LINE_RUN))
        parent = parent[sub]
    return geoms, pieces, parent


class _Column:
    __slots__ = ("values", "name")

    def __init__(self, values: np.ndarray, name: str = ""):
        self.values = values
        self.name = name


_NO_TREE = object()  # no tree built yet (a built one may be None: nothing picked)


class ArrayFrame:
    """The few frame operations the engine and the maps use (``frame[col].values``,
    ``frame.geometry.values``, ``frame.columns``, ``len``), over plain arrays: a chunk's
    features read from a prepared store need no pandas frame (building one cost more
    than a warm check's overlay)."""

    def __init__(self, columns: dict, geometry: np.ndarray, crs):
        self._cols = {c: _Column(np.asarray(v, dtype=object)) for c, v in columns.items()}
        self.geometry = _Column(np.asarray(geometry, dtype=object), "geometry")
        self.crs = crs
        self.columns = [*self._cols, "geometry"]

    def __len__(self) -> int:
        return len(self.geometry.values)

    def __getitem__(self, column: str) -> _Column:
        return self._cols[column]


@dataclass
class LayerPieces:
    """Features near a chunk, read from a prepared store: already in work CRS, subdivided.

    ``frame``: one row per feature (``_id``, canonical fields, geometry), ordered as in the
    layer; ``pieces``/``parent``: the stored pieces and their row in ``frame``;
    ``npieces``: how many pieces each feature has in the whole layer; ``areas``: the
    precomputed area of each whole feature per area method (``ellipsoidal``, ``gk``).
    """

    frame: ArrayFrame
    pieces: np.ndarray
    parent: np.ndarray
    npieces: np.ndarray
    areas: dict


class PieceSource(Protocol):
    """A prepared layer store: fetches the pieces near footprints given in its work CRS."""

    work_crs: CRS

    def fetch_pieces(self, footprints_work, radius_m: float) -> LayerPieces:
        """Pieces within ``radius_m`` of any footprint plus every footprint's nearest."""
        ...


class LayerSource(Protocol):
    """A layer kept outside memory (a database): fetches the features a chunk needs."""

    def fetch(self, footprints_geo, radius_m: float) -> gpd.GeoDataFrame:
        """Normalised features within ``radius_m`` of the footprints, plus the nearest ones."""
        ...


@dataclass
class LayerIndex:
    name: str
    kind: str
    frame: gpd.GeoDataFrame  # in work CRS
    pieces: np.ndarray
    parent: np.ndarray
    tree: shapely.STRtree
    version: str = ""
    source: str = ""
    npieces: np.ndarray | None = None  # pieces per feature (None: counted from parent)
    areas: dict = field(default_factory=dict)  # method -> area per feature (NaN: not yet)

    @classmethod
    def build(cls, name: str, kind: str, frame: gpd.GeoDataFrame, work_crs,
              max_vertices: int = 256, version: str = "", source: str = "") -> LayerIndex:
        f = frame.reset_index(drop=True)
        if frame.crs and not CRS(frame.crs).equals(work_crs):
            # edges stay where the data puts them: straight in the layer's own CRS
            f = f.set_geometry(reproject_dense(np.asarray(f.geometry.values, dtype=object),
                                               frame.crs, work_crs), crs=work_crs)
        before = np.asarray(f.geometry.values, dtype=object)
        geoms, pieces, parent = prepare_geometries(kind, before, max_vertices)
        if geoms is not before:
            f = f.set_geometry(geoms)
        return cls(name=name, kind=kind, frame=f, pieces=pieces, parent=parent,
                   tree=shapely.STRtree(pieces), version=version, source=source)

    @classmethod
    def from_pieces(cls, name: str, kind: str, lp: LayerPieces, version: str = "",
                    source: str = "") -> LayerIndex:
        """An index of features fetched from a prepared store (see :class:`LayerPieces`)."""
        return cls(name=name, kind=kind, frame=lp.frame, pieces=lp.pieces, parent=lp.parent,
                   tree=shapely.STRtree(lp.pieces), version=version, source=source,
                   npieces=lp.npieces, areas=dict(lp.areas))

    def __post_init__(self):
        # plain arrays: per-feature pandas access is far too slow in the hot loop
        self.ids = np.asarray(self.frame["_id"].values, dtype=object)
        self.geometries = np.asarray(self.frame.geometry.values, dtype=object)
        cols = _ATTR_FIELDS.get(self.kind) or (
            [c for c in self.frame.columns if c not in ("_id", self.frame.geometry.name)]
            if self.kind == "constraint" else ())
        self.attr_arrays = {c: np.asarray(self.frame[c].values, dtype=object)
                            for c in cols if c in self.frame.columns}
        if self.npieces is None:
            self.npieces = np.bincount(np.asarray(self.parent, dtype=np.int64),
                                       minlength=len(self.frame))
        self._positions: dict | None = None
        self._runs: tuple | None = None  # (tree of boundary runs, feature of each run)

    def positions(self) -> dict:
        """``{feature id: row}`` (the last row of an id that repeats), built once."""
        if self._positions is None:
            self._positions = {fid: k for k, fid in enumerate(self.ids)}
        return self._positions

    def nearest(self, fps: np.ndarray, which: np.ndarray) -> dict:
        """``{k: (feature, distance)}``: the nearest feature of each footprint ``fps[k]``,
        ``k`` in ``which``; of equally near features the first in layer order, so the
        answer does not depend on which other features are indexed.

        A footprint that meets no piece of a layer of large polygons is measured to the
        pieces' boundaries cut into short runs (:meth:`_boundary_runs`): the same
        segments, so the same distance, with far fewer segment pairs tried.
        """
        if not len(self.pieces) or not len(which):
            return {}
        which = np.asarray(which, dtype=np.int64)
        runs = self._boundary_runs()
        if runs is None:
            return self._nearest(self.tree, self.parent, fps[which], which)
        meets = np.zeros(len(which), dtype=bool)  # distance 0: inside or on a piece
        meets[self.tree.query(fps[which], predicate="intersects")[0]] = True
        out = self._nearest(self.tree, self.parent, fps[which[meets]], which[meets])
        out.update(self._nearest(runs[0], runs[1], fps[which[~meets]], which[~meets]))
        return out

    @staticmethod
    def _nearest(tree, parent: np.ndarray, geoms: np.ndarray, which: np.ndarray) -> dict:
        if not len(which):
            return {}
        (a, b), d = tree.query_nearest(geoms, return_distance=True, all_matches=True)
        feat = parent[b]
        order = np.lexsort((feat, a))  # per footprint, lowest feature first
        a, feat, d = a[order], feat[order], d[order]
        first = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        return {int(which[a[i]]): (int(feat[i]), float(d[i])) for i in first}

    def _boundary_runs(self) -> tuple | None:
        """(STRtree, feature per run) of the polygon pieces' rings cut into runs of
        :data:`_NEAREST_RUN` vertices (end vertices shared, none added), built once; None
        for lines and for pieces small enough to measure whole."""
        if self._runs is None:
            runs: tuple = ()
            if KINDS[self.kind].geometry == "polygon" and \
                    shapely.get_num_coordinates(self.pieces).mean() > 4 * _NEAREST_RUN:
                parts, pos = shapely.get_parts(shapely.boundary(self.pieces),
                                               return_index=True)
                lines, sub = split_lines(parts, _NEAREST_RUN)
                runs = (shapely.STRtree(lines), np.asarray(self.parent)[pos[sub]])
            self._runs = runs
        return self._runs or None

    def feature_areas(self, feats: np.ndarray, crs, method: str) -> np.ndarray:
        """Area (m²) of whole features by ``method``: precomputed, or measured once and kept.

        Concurrent callers may both measure a feature; they store the same value.
        """
        from zoning.engine.geometry import measure

        arr = self.areas.get(method)
        if arr is None:
            arr = self.areas[method] = np.full(len(self.frame), np.nan)
        todo = np.unique(feats[np.isnan(arr[feats])])
        if len(todo):
            geoms = self.geometries[todo]
            arr[todo] = measure(geoms, crs, method)[0]
        return arr[feats]


@dataclass
class RegionIndex:
    region: str
    region_name: str
    work_crs: CRS
    layers: dict  # kind -> [LayerIndex]
    #: union of the district polygons in work CRS (a ThreadPrepared), or None; read it as
    #: :attr:`coverage`
    coverage_shared: ThreadPrepared | None
    coverage_geo: object
    rules: RuleSet
    missing: list = field(default_factory=list)  # screening kinds with no layer
    #: shoreline layers of the catalog that could not be read (distances to shorelines are
    #: then partial: a nearer one may be among them)
    shore_unread: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # layers that could not be read
    access: AccessRules | None = None  # 三线一单 准入清单
    #: constraint layers declared in the catalog, in order: (layer name, title)
    constraints: list = field(default_factory=list)
    constraint_rules: dict = field(default_factory=dict)  # layer name -> ConstraintRules
    statistics_only: set = field(default_factory=set)  # layers whose geometry never leaves
    landuse_layers: list = field(default_factory=list)  # 地类 layers declared: (name, title)
    _shore_cache: dict = field(default_factory=dict)  # selection → tree
    _shore_trees: dict = field(default_factory=dict)  # pieces picked → tree
    _shore_keys: dict = field(default_factory=dict)  # id(condition) → (condition, key)

    @property
    def coverage(self):
        """The union of the district polygons in work CRS, prepared for the calling thread
        (None without a districts layer)."""
        return None if self.coverage_shared is None else self.coverage_shared.get()

    def shore_tree(self, spatial: dict):
        """The STRtree of the shoreline pieces a rule's selection picks (None when it picks
        none), built once; selections that pick the same pieces share one tree."""
        return self._shore(spatial)[0]

    def _shore(self, spatial: dict) -> tuple:
        """(tree, the (layer, feature id) pairs picked) of a selection, built once."""
        # a rule's condition is asked for again and again: its key is kept with the
        # condition itself (held, so its id names no other while kept)
        seen = self._shore_keys.get(id(spatial))
        if seen is not None and seen[0] is spatial:
            key = seen[1]
        else:
            key = shore_selection(spatial)
            if len(self._shore_keys) < 4096:
                self._shore_keys[id(spatial)] = (spatial, key)
        got = self._shore_cache.get(key, _NO_TREE)
        if got is _NO_TREE:
            masks: list[bytes] = []
            pieces: list = []
            maybe: list = []  # pieces of features the selection may pick: a value it tests
            # is missing (or the layer has no such field), so it cannot tell
            picked: set[tuple[str, str]] = set()
            for li in self.layers.get("shoreline", []):
                keep = np.ones(len(li.frame), dtype=bool)
                could = np.ones(len(li.frame), dtype=bool)
                for want, col in (("basin", "basin"), ("river", "river"), ("order", "order")):
                    if spatial.get(want):
                        vals = li.attr_arrays.get(col)
                        if vals is None:
                            keep &= False
                        else:
                            hit = np.isin(vals.astype(str), [str(x) for x in spatial[want]])
                            keep &= hit
                            could &= hit | np.array([is_missing(v) for v in vals],
                                                    dtype=bool)
                sel = keep[li.parent]
                masks.append(np.packbits(sel).tobytes())
                pieces.extend(li.pieces[sel])
                maybe.extend(li.pieces[(could & ~keep)[li.parent]])
                ids = [str(x) for x in li.ids]
                if len(set(ids)) == len(ids):  # an id names one feature (else no shortcut)
                    picked.update((li.name, ids[f]) for f in np.flatnonzero(keep))
            # the selected features' short runs in a tree: the distance to the nearest run
            # is the distance to the features, without testing every segment of a river
            tree = self._shore_trees.get(tuple(masks), _NO_TREE)
            if tree is _NO_TREE:
                tree = self._shore_trees[tuple(masks)] = \
                    shapely.STRtree(pieces) if pieces else None
            got = self._shore_cache[key] = (tree, frozenset(picked),
                                            shapely.STRtree(maybe) if maybe else None)
        return got

    def shoreline_distance(self, fp_work, spatial: dict, memo: dict | None = None,
                           known: tuple | None = None):
        """Distance (m) from a footprint to the shoreline features a rule selects, None when
        it selects none, or :data:`~zoning.rules.access.NO_SHORE_DATA` (NaN) when the region
        has no shoreline data loaded.

        ``memo``, one footprint's, keeps the distance per tree: the rules whose selections
        pick the same features (长江, 长江 支流 where every river is a 支流) measure it once.
        ``known``: (distance, {(layer, feature id), …}) of the footprint's nearest shoreline
        features over every shoreline layer, as the layer check found them (0 and the
        features hit, or the nearest distance and feature).  A selection that picks one of
        them is at that distance: no feature it picks can be nearer.
        """
        if not self.layers.get("shoreline"):
            return NO_SHORE_DATA  # no shoreline data here: the distance is unknown
        d = self._shoreline_distance(fp_work, spatial, memo, known)
        if not self.shore_unread:
            return d
        # some shoreline data could not be read: a picked feature may lie among it
        return NO_SHORE_DATA if d is None else PartialDistance(d)

    def _shoreline_distance(self, fp_work, spatial: dict, memo: dict | None,
                            known: tuple | None) -> float | None:
        tree, picked, maybe = self._shore(spatial)
        d = self._sure_distance(fp_work, tree, picked, memo, known)
        if maybe is None:
            return d
        # features it may pick (a value it selects on is missing): nearer ones bound it
        d_maybe = float(maybe.query_nearest(fp_work, return_distance=True,
                                            all_matches=False)[1][0])
        sure = math.inf if d is None else d
        return d if d_maybe >= sure else BoundedDistance(sure, d_maybe)

    def _sure_distance(self, fp_work, tree, picked, memo: dict | None,
                       known: tuple | None) -> float | None:
        if tree is None:
            return None
        if memo is not None and id(tree) in memo:
            return memo[id(tree)][1]
        if known is not None and not picked.isdisjoint(known[1]):
            d = np.array([known[0]])
        else:
            _idx, d = tree.query_nearest(fp_work, return_distance=True, all_matches=False)
        if memo is not None:  # the tree is kept with its distance: while the memo lives its
            # id names this tree, never a later one at the same address (two threads may
            # each build a selection's tree, and the first built can be dropped from the cache)
            memo[id(tree)] = (tree, float(d[0]))
        return float(d[0])

    remote: dict = field(default_factory=dict)  # kind -> [(spec, PostgisSource)]
    catalog: Catalog | None = None  # the catalog the index was built from

    @classmethod
    def build(cls, catalog: Catalog, frames: dict, rules: RuleSet,
              options: CheckOptions | None = None, remote: dict | None = None,
              access=None, problems: list | None = None,
              constraint_rules: dict | None = None) -> RegionIndex:
        """Index a region.

        ``frames``: layer name → normalised frame (see :func:`zoning.io.layers.read_layer`)
        or the whole of a prepared store as :class:`LayerPieces` (already in work CRS);
        ``remote``: layer name → a :class:`LayerSource` that fetches features per chunk;
        ``access``: the 三线一单 access rules, or None; ``problems``: messages about
        layers that could not be read (they are reported as data missing);
        ``constraint_rules``: layer name → :class:`~zoning.rules.constraints.ConstraintRules`
        of the catalog's constraint layers.
        """
        opts = options or CheckOptions()
        remote = remote or {}
        districts = [frames[s.name] for s in catalog.by_kind("districts") if s.name in frames]
        coverage_geo = None
        if districts:
            coverage_geo = shapely.union_all(np.concatenate(
                [reproject_dense(np.asarray(d.geometry.values, dtype=object), d.crs, GEO)
                 for d in districts]))
            work = work_crs_for(coverage_geo)
        else:
            any_frame = next(iter(frames.values()))
            lon0 = shapely.centroid(shapely.box(*any_frame.to_crs(GEO).total_bounds)).x
            work = CRS.from_epsg(gk3_epsg(lon0, prefix=True))
        layers: dict[str, list] = {}
        for spec in catalog.layers.values():
            if spec.kind not in SCREEN_KINDS + EXTRA_KINDS or spec.name not in frames:
                continue
            f = frames[spec.name]
            layers.setdefault(spec.kind, []).append(
                LayerIndex.from_pieces(spec.name, spec.kind, f, spec.version, spec.source)
                if isinstance(f, LayerPieces) else  # a whole prepared store
                LayerIndex.build(spec.name, spec.kind, f, work, opts.subdivide_vertices,
                                 spec.version, spec.source))
        coverage = None
        if coverage_geo is not None:
            coverage = ThreadPrepared(reproject_dense(coverage_geo, GEO, work))
        rem: dict = {}
        for name, src in remote.items():
            spec = catalog.layers[name]
            rem.setdefault(spec.kind, []).append((spec, src))
        missing = [k for k in SCREEN_KINDS if k not in layers and k not in rem
                   and k in rules.layers]
        crules = dict(constraint_rules or {})
        constraints = [(s.name, s.title or (crules[s.name].title if s.name in crules
                                            else s.name))
                       for s in catalog.by_kind("constraint")]
        return cls(region=catalog.region_id, region_name=catalog.region_name, work_crs=work,
                   layers=layers, coverage_shared=coverage, coverage_geo=coverage_geo, rules=rules,
                   missing=missing, remote=rem, access=access, problems=list(problems or []),
                   shore_unread=[s.name for s in catalog.by_kind("shoreline")
                                 if s.name not in frames],
                   constraints=constraints, constraint_rules=crules,
                   statistics_only={s.name for s in catalog.layers.values()
                                    if s.statistics_only},
                   landuse_layers=[(s.name, s.title) for s in catalog.by_kind("landuse")],
                   catalog=catalog)

    def chunk_layers(self, kind: str, footprints_geo, options: CheckOptions,
                     footprints_work=None) -> list:
        """The layer indexes to check a chunk against: the in-memory ones, plus, for layers
        kept in a database or a prepared store, an index of the features near this chunk's
        footprints (``footprints_work``: the same footprints as checked, in work CRS)."""
        out = list(self.layers.get(kind, []))
        for spec, src in self.remote.get(kind, []):
            if isinstance(getattr(src, "work_crs", None), CRS):  # a prepared store
                if footprints_work is None:
                    footprints_work = reproject_dense(
                        np.asarray(footprints_geo, dtype=object), GEO, self.work_crs)
                out.append(LayerIndex.from_pieces(
                    spec.name, kind, src.fetch_pieces(footprints_work, options.radius_m),
                    spec.version, spec.source))
                continue
            # features within the setback radius (touching included), plus the nearest
            # few of every footprint with none there: enough for hits, distances, radius
            frame = src.fetch(footprints_geo, options.radius_m)
            out.append(LayerIndex.build(spec.name, kind, frame, self.work_crs,
                                        options.subdivide_vertices, spec.version, spec.source))
        return out

