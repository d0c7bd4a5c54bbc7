"""Layer catalogs: which statutory layers a region has, where, and how to read them.

A catalog is a YAML manifest (one per region, see ``layers/*.yaml``).  Each
layer entry names its *kind* (生态保护红线, 永久基本农田, …), the file and layer,
the declared CRS, the id field and a field mapping from the canonical names
that `zoning` uses to the names in the user's data.  A mapping value may be a
list of aliases; the first one present in the data is used, so real
deliveries (``XJXZQDM`` / ``XJXZQHDM`` / ``SZXJXZQDM`` …) plug in without code.

Paths are relative to the manifest file.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoning.errors import CatalogError

__all__ = ["KINDS", "Kind", "LayerSpec", "Catalog", "load_catalog", "bundled_catalog_paths",
           "resolve_catalogs"]


@dataclass(frozen=True)
class Kind:
    key: str
    zh: str
    geometry: str  # polygon | line | raster
    required: tuple = ()  # canonical fields every layer of this kind must map
    optional: tuple = ()


KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("eco_redline", "生态保护红线", "polygon", (),
         ("name", "county", "type", "pa_name", "pa_zone")),
    Kind("farmland", "永久基本农田", "polygon", (),
         ("county", "land_class", "area_m2")),
    Kind("urban_boundary", "城镇开发边界", "polygon", (),
         ("county", "partition")),
    Kind("protected_area", "自然保护地", "polygon", ("name", "zone"),
         ("pa_type", "level", "county")),
    Kind("control_unit", "环境管控单元", "polygon", ("name", "unit_class"),
         ("county", "spatial_layout", "emission", "risk", "resource_efficiency")),
    Kind("shoreline", "河流岸线", "line", ("river", "basin"),
         ("order", "bank")),
    Kind("districts", "行政区划", "polygon", ("name",), ()),
    Kind("landcover", "土地覆盖", "raster", (), ()),
)}

#: Layer kinds every region must provide for screening.
SCREENING_KINDS = ("eco_redline", "farmland", "urban_boundary", "protected_area",
                   "control_unit")

_LAYER_KEYS = {"kind", "title", "path", "postgis", "layer", "where", "crs", "id_field",
               "fields", "values", "encoding", "version", "source", "classes", "notes"}


@dataclass
class LayerSpec:
    """One layer entry of a catalog, with its path resolved."""

    name: str
    kind: str
    path: Path | None
    crs: str | None
    id_field: str | None
    title: str = ""
    layer: str | None = None
    where: str | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    encoding: str | None = None
    version: str = ""
    source: str = ""
    classes: dict[str, list[int]] = field(default_factory=dict)
    manifest: Path | None = None
    postgis: dict | None = None  # {dsn, table, geometry}: a PostGIS table instead of a file

    @property
    def kind_info(self) -> Kind:
        return KINDS[self.kind]

    @property
    def is_raster(self) -> bool:
        return self.kind_info.geometry == "raster"


@dataclass
class Catalog:
    path: Path
    region: dict[str, Any]
    layers: dict[str, LayerSpec]
    rules: Path | None = None  # verdict rule file; None = the bundled national rules
    access_rules: Path | None = None  # 准入清单 rule folder; None = the bundled layers/access

    @property
    def region_id(self) -> str:
        return str(self.region["id"])

    @property
    def region_name(self) -> str:
        return str(self.region.get("name", self.region_id))

    def by_kind(self, kind: str) -> list[LayerSpec]:
        return [spec for spec in self.layers.values() if spec.kind == kind]

    def missing_kinds(self, kinds=SCREENING_KINDS) -> list[str]:
        """Kinds the catalog does not provide (a screening of these fails closed)."""
        return [k for k in kinds if not self.by_kind(k)]


def _as_list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return list(v)
    raise TypeError(f"expected a field name or a list of names, got {v!r}")


def _check_source(raw: dict, kind: str, err) -> dict | None:
    """The ``postgis`` entry (or None for a file layer), checked."""
    pg = raw.get("postgis")
    if pg is not None:
        if not isinstance(pg, dict) or not pg.get("dsn") or not pg.get("table"):
            raise err("'postgis' needs dsn and table (and optionally geometry)")
        if set(pg) - {"dsn", "table", "geometry"}:
            raise err(f"unknown postgis key(s) {sorted(set(pg) - {'dsn', 'table', 'geometry'})}")
        if raw.get("path"):
            raise err("give either 'path' or 'postgis', not both")
        if KINDS[kind].geometry == "raster":
            raise err("raster layers cannot come from PostGIS")
    elif not raw.get("path"):
        raise err("'path' (or 'postgis') is required")
    return pg


def _check_fields(raw: dict, info: Kind, err) -> dict[str, list[str]]:
    """The field mapping, checked against the kind's canonical fields."""
    try:
        fields = {str(k): _as_list(v) for k, v in (raw.get("fields") or {}).items()}
    except TypeError as e:
        raise err(f"fields: {e}") from None
    unknown_fields = set(fields) - set(info.required) - set(info.optional)
    if unknown_fields:
        raise err(f"fields {sorted(unknown_fields)} are not canonical fields of kind "
                  f"{info.key} (allowed: {sorted(info.required + info.optional)})")
    missing = [f for f in info.required if f not in fields]
    if missing:
        raise err(f"fields must map the canonical field(s) {missing} for kind {info.key}")
    return fields


def _parse_layer(name: str, raw: Any, manifest: Path) -> LayerSpec:
    def err(msg):
        return CatalogError(msg, path=manifest, layer=name)

    if not isinstance(raw, dict):
        raise err("a layer entry must be a mapping")
    unknown = set(raw) - _LAYER_KEYS
    if unknown:
        raise err(f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_LAYER_KEYS)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise err(f"kind {kind!r} is not one of {sorted(KINDS)}")
    pg = _check_source(raw, kind, err)
    info = KINDS[kind]
    if info.geometry != "raster" and not raw.get("id_field"):
        raise err("'id_field' is required for vector layers")
    fields = _check_fields(raw, info, err)
    classes = raw.get("classes") or {}
    if kind == "landcover":
        if not classes or not all(isinstance(v, list) for v in classes.values()):
            raise err("a landcover layer needs 'classes', e.g. {forest: [20], grass: [30]}")
    path = None
    if raw.get("path"):
        path = Path(str(raw["path"]))
        if not path.is_absolute():
            path = (manifest.parent / path).resolve()
    return LayerSpec(
        name=name, kind=kind, path=path, crs=raw.get("crs"), id_field=raw.get("id_field"),
        title=str(raw.get("title") or info.zh), layer=raw.get("layer"), where=raw.get("where"),
        fields=fields, values={k: dict(v) for k, v in (raw.get("values") or {}).items()},
        encoding=raw.get("encoding"), version=str(raw.get("version") or ""),
        source=str(raw.get("source") or ""),
        classes={k: [int(x) for x in v] for k, v in classes.items()}, manifest=manifest,
        postgis=dict(pg) if pg else None)


_PARSED: dict[str, tuple[tuple, Catalog]] = {}
_PARSED_LOCK = threading.Lock()


def load_catalog(path) -> Catalog:
    """Read and check a catalog manifest.  Raises :class:`CatalogError`.

    Each file is parsed once per process while its size and modification time stay
    the same (parsing dominates a warm check); callers get their own copy.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        raise CatalogError("catalog file not found", path=path) from None
    key, stamp = str(path.resolve()), (st.st_mtime_ns, st.st_size)
    with _PARSED_LOCK:
        hit = _PARSED.get(key)
    if hit is not None and hit[0] == stamp:
        return copy.deepcopy(hit[1])
    cat = _parse_catalog(path)
    with _PARSED_LOCK:
        _PARSED[key] = (stamp, cat)
    return copy.deepcopy(cat)


def _parse_catalog(path: Path) -> Catalog:
    from zoning.io.yamlfile import load_yaml

    raw = load_yaml(path)
    if not isinstance(raw, dict) or "layers" not in raw or "region" not in raw:
        raise CatalogError("a catalog needs top-level 'region' and 'layers'", path=path)
    if raw.get("catalog_version", 1) != 1:
        raise CatalogError(f"catalog_version {raw.get('catalog_version')} is not supported "
                           "(this zoning reads version 1)", path=path)
    region = raw["region"]
    if not isinstance(region, dict) or "id" not in region:
        raise CatalogError("'region' needs at least an 'id'", path=path)
    if not isinstance(raw["layers"], dict) or not raw["layers"]:
        raise CatalogError("'layers' must be a non-empty mapping of name → layer", path=path)
    layers = {str(n): _parse_layer(str(n), v, path) for n, v in raw["layers"].items()}
    def _rel(v):
        if v is None:
            return None
        p = Path(str(v))
        return p if p.is_absolute() else (path.parent / p).resolve()

    return Catalog(path=path.resolve(), region=region, layers=layers,
                   rules=_rel(raw.get("rules")), access_rules=_rel(raw.get("access_rules")))


def bundled_catalog_paths() -> list[Path]:
    from zoning.paths import layers_dir

    return sorted(p for p in layers_dir().glob("*.yaml") if not p.name.startswith("_"))


def resolve_catalogs(paths=(), region: str | None = None) -> list[Catalog]:
    """Catalogs from explicit paths (files or folders), else the bundled ones.

    ``region`` keeps only catalogs whose region id, code or name matches.
    """
    files: list[Path] = []
    for p in paths or ():
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")))
        else:
            files.append(p)
    if not paths:
        files = bundled_catalog_paths()
    cats = [load_catalog(f) for f in files]
    if region:
        keep = [c for c in cats if region in (c.region_id, str(c.region.get("code")),
                                               c.region.get("name"))]
        if not keep:
            known = ", ".join(f"{c.region_id} ({c.region_name})" for c in cats)
            raise CatalogError(f"no catalog for region {region!r}; known: {known}")
        cats = keep
    return cats
