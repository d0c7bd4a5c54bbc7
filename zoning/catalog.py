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

from zoning.errors import CatalogError, DataError

__all__ = ["KINDS", "OPEN_FIELD_KINDS", "Kind", "LayerSpec", "Catalog", "load_catalog",
           "bundled_catalog_paths", "resolve_catalogs", "match_region", "kind_zh"]


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
    # any other statutory layer (水源保护区, 公益林, 压覆矿产 …): its verdicts come from a
    # rule file (``rules:``), its fields are whatever the rules read
    Kind("constraint", "管控图层", "polygon", (), ()),
    # 国土调查 (三调 / 年度变更调查) 地类图斑: the occupied area by GB/T 21010 地类
    Kind("landuse", "国土调查地类", "polygon", ("code",),
         ("name", "county", "area_m2", "deduction")),
)}

#: kinds whose ``fields`` may map any canonical name (the rules decide which they read)
OPEN_FIELD_KINDS = ("constraint",)

#: Layer kinds every region must provide for screening.
SCREENING_KINDS = ("eco_redline", "farmland", "urban_boundary", "protected_area",
                   "control_unit")

_LAYER_KEYS = {"kind", "title", "path", "postgis", "layer", "where", "crs", "id_field",
               "fields", "values", "encoding", "version", "source", "classes", "notes", "rules",
               "statistics_only"}


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
    #: constraint layers: their rule file (resolved path) or inline rules (a mapping)
    rules: Path | dict | None = None
    #: statistics only: never export this layer's overlap geometry or draw its features
    statistics_only: bool = False
    #: the kind as declared (a custom name such as ``water_source`` for a constraint layer)
    declared_kind: str = ""

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


def kind_zh(kind: str) -> str:
    """A layer kind's Chinese name (the kind itself when it is not a catalog kind).

    >>> kind_zh("farmland"), kind_zh("no_such_kind")
    ('永久基本农田', 'no_such_kind')
    """
    return KINDS[kind].zh if kind in KINDS else kind


def _as_list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return list(v)
    raise CatalogError(f"应为一个字段名或字段名列表，而不是 {v!r}")


def _layer_kind(name: str, raw: dict, err) -> str:
    """The layer's kind; any other name with ``rules:`` is a generic constraint layer."""
    kind = raw.get("kind")
    if kind in KINDS:
        if kind == "constraint" and not raw.get("rules"):
            raise err("constraint 图层需要 rules:（规则文件或内嵌规则）")
        if kind != "constraint" and raw.get("rules"):
            raise err(f"rules: 只用于 constraint 图层；kind {kind} 使用图层目录的判定规则"
                      "文件")
        return str(kind)
    if isinstance(kind, str) and kind.strip() and raw.get("rules"):
        return "constraint"
    raise err(f"kind {kind!r} 不在 {sorted(KINDS)} 之中；其他类型的图层需要 rules:"
              "（规则文件或内嵌规则），即作为 constraint 图层")


def _check_pg_names(pg: dict, err) -> None:
    from zoning.io.postgis import check_identifier

    try:
        check_identifier(pg["table"], "postgis: 中的 table")
        check_identifier(pg.get("geometry", "geom"), "postgis: 中的 geometry 列",
                         qualified=False)
    except CatalogError as e:
        raise err(e.message) from None


def _check_source(raw: dict, kind: str, err) -> None:
    """The layer's source: a path, or a PostGIS table (not both); a where clause that is
    a simple filter."""
    from zoning.io.vector import check_where

    pg = raw.get("postgis")
    if pg is not None:
        if not isinstance(pg, dict) or not pg.get("dsn") or not pg.get("table"):
            raise err("postgis: 需要 dsn 和 table（geometry 可选）")
        if set(pg) - {"dsn", "table", "geometry"}:
            raise err(f"postgis: 中有未知的键 {sorted(set(pg) - {'dsn', 'table', 'geometry'})}")
        if raw.get("path"):
            raise err("path: 和 postgis: 只能给出其中一个")
        if KINDS[kind].geometry == "raster":
            raise err("栅格图层不能来自 PostGIS")
        _check_pg_names(pg, err)
    elif not raw.get("path"):
        raise err("缺少 path:（或 postgis:）")
    try:
        check_where(raw.get("where"), "where: 条件")
    except CatalogError:
        raise
    except DataError as e:
        raise err(e.message) from None


def _check_fields(raw: dict, kind: str, err) -> dict[str, list[str]]:
    info = KINDS[kind]
    if info.geometry != "raster" and not raw.get("id_field"):
        raise err("矢量图层必须给出 id_field:")
    fields_raw = raw.get("fields") or {}
    if not isinstance(fields_raw, dict):
        raise err("fields: 应为“标准字段名 → 字段名（或字段名列表）”的映射")
    try:
        fields = {str(k): _as_list(v) for k, v in fields_raw.items()}
    except CatalogError as e:
        raise err(f"fields: {e.message}") from None
    unknown_fields = set(fields) - set(info.required) - set(info.optional)
    if unknown_fields and kind not in OPEN_FIELD_KINDS:
        raise err(f"fields: 中的 {sorted(unknown_fields)} 不是 kind {kind} 的标准字段"
                  f"（可用：{sorted(info.required + info.optional)}）")
    missing = [f for f in info.required if f not in fields]
    if missing:
        raise err(f"kind {kind} 的 fields: 必须映射标准字段 {missing}")
    classes = raw.get("classes") or {}
    if kind == "landcover":
        if not isinstance(classes, dict) or not classes or \
                not all(isinstance(v, list) for v in classes.values()):
            raise err("landcover 图层需要 classes:，例如 {forest: [20], grass: [30]}")
    return fields


def _parse_layer(name: str, raw: Any, manifest: Path) -> LayerSpec:
    def err(msg):
        return CatalogError(msg, path=manifest, layer=name)

    if not isinstance(raw, dict):
        raise err("图层条目应为映射（键: 值）")
    unknown = set(raw) - _LAYER_KEYS
    if unknown:
        raise err(f"未知的键 {sorted(unknown)}；可用的键：{sorted(_LAYER_KEYS)}")
    kind = _layer_kind(name, raw, err)
    _check_source(raw, kind, err)
    fields = _check_fields(raw, kind, err)
    if raw.get("encoding") is not None:
        import codecs

        try:
            codecs.lookup(str(raw["encoding"]))
        except LookupError:
            raise err(f"encoding: {str(raw['encoding'])[:40]!r} 不是已知的文本编码"
                      "（如 UTF-8、GBK、GB18030）") from None
    classes = raw.get("classes") or {}
    pg = raw.get("postgis")
    rules = raw.get("rules")
    if rules is not None and not isinstance(rules, (str, dict)):
        raise err("rules: 应为规则文件路径或内嵌规则的映射")
    if not isinstance(raw.get("statistics_only", False), bool):
        raise err("statistics_only: 应为 true 或 false")
    return LayerSpec(
        name=name, kind=kind, path=_rel_path(raw["path"], manifest) if raw.get("path") else None,
        crs=raw.get("crs"), id_field=raw.get("id_field"),
        title=str(raw.get("title") or ("" if kind == "constraint" else KINDS[kind].zh)),
        layer=raw.get("layer"), where=raw.get("where"), fields=fields,
        values={k: dict(v) for k, v in (raw.get("values") or {}).items()},
        encoding=raw.get("encoding"), version=str(raw.get("version") or ""),
        source=str(raw.get("source") or ""),
        classes={k: [int(x) for x in v] for k, v in classes.items()}, manifest=manifest,
        postgis=dict(pg) if pg else None,
        rules=_rel_path(rules, manifest) if isinstance(rules, str) else rules,
        statistics_only=bool(raw.get("statistics_only", False)),
        declared_kind=str(raw.get("kind")))


def _rel_path(v, manifest: Path) -> Path:
    p = Path(str(v))
    return p if p.is_absolute() else (manifest.parent / p).resolve()


def _parse_layers(raw: dict, path: Path) -> dict[str, LayerSpec]:
    """The layer entries, checked; a value of the wrong type is reported by the JSON
    Schema (file and key), never as a traceback."""
    from zoning.io.yamlfile import check_schema

    try:
        layers = {str(n): _parse_layer(str(n), v, path) for n, v in raw["layers"].items()}
    except (TypeError, AttributeError, ValueError) as e:
        if isinstance(e, CatalogError):
            raise
        check_schema(raw, "catalog", path)
        raise CatalogError(f"图层条目中有类型不对的值（{e}）",
                           path=path) from None
    check_schema(raw, "catalog", path)
    return layers


_PARSED: dict[str, tuple[tuple, Catalog]] = {}
_PARSED_LOCK = threading.Lock()


def load_catalog(path) -> Catalog:
    """Read and check a catalog manifest.

    Each file is parsed once per process while its size and modification time stay
    the same (parsing dominates a warm check); callers get their own copy.

    Raises
    ------
    CatalogError
        Naming the file and the key that does not follow the schema.

    Examples
    --------
    >>> from zoning.paths import layers_dir
    >>> cat = load_catalog(layers_dir() / "guiyang.yaml")
    >>> cat.region_id, cat.region_name
    ('guiyang', '贵阳市')
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        raise CatalogError("图层目录文件不存在", path=path) from None
    key, stamp = str(path.resolve()), (st.st_mtime_ns, st.st_size)
    with _PARSED_LOCK:
        hit = _PARSED.get(key)
    if hit is not None and hit[0] == stamp:
        return _own_copy(hit[1])
    cat = _parse_catalog(path)
    with _PARSED_LOCK:
        _PARSED[key] = (stamp, cat)
    return _own_copy(cat)


def _own_copy(cat: Catalog) -> Catalog:
    """A caller's copy of a parsed catalog: its own catalog, region and layer entries
    (attributes can be reassigned freely); nested values are shared and read-only.
    A deep copy cost more than the rest of a warm check."""
    return Catalog(path=cat.path, region=dict(cat.region),
                   layers={k: copy.copy(v) for k, v in cat.layers.items()},
                   rules=cat.rules, access_rules=cat.access_rules)


def _parse_catalog(path: Path) -> Catalog:
    from zoning.io.yamlfile import load_yaml

    raw = load_yaml(path)
    if not isinstance(raw, dict) or "layers" not in raw or "region" not in raw:
        raise CatalogError("图层目录的顶层需要 region: 和 layers:", path=path)
    if raw.get("catalog_version", 1) != 1:
        raise CatalogError(f"不支持 catalog_version {raw.get('catalog_version')}"
                           "（本版 zoning 只能读取版本 1）", path=path)
    region = raw["region"]
    if not isinstance(region, dict) or "id" not in region:
        raise CatalogError("region: 中至少需要 id:", path=path)
    if not isinstance(raw["layers"], dict) or not raw["layers"]:
        raise CatalogError("layers: 应为非空的“图层名 → 图层条目”映射", path=path)
    layers = _parse_layers(raw, path)

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


def _bare(name: str) -> str:
    name = name.strip().lower()
    for suffix in ("自治州", "地区", "市", "县", "区", "州", "盟", "旗"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def match_region(cats: list[Catalog], region: str) -> list[Catalog]:
    """Catalogs whose region id, 6-digit code or name matches ``region``.

    Names match with or without their 市/县/区 suffix (贵阳市, 贵阳), ids without
    regard to case (guiyang, Guiyang).
    """
    want = str(region).strip()
    exact = [c for c in cats if want in (c.region_id, str(c.region.get("code")),
                                         c.region.get("name"))]
    if exact:
        return exact
    bare = _bare(want)
    return [c for c in cats if bare in (c.region_id.lower(), _bare(c.region_name))]


def resolve_catalogs(paths=(), region: str | None = None) -> list[Catalog]:
    """Catalogs from explicit paths (files or folders), else the bundled ones.

    ``region`` keeps only catalogs whose region id, code or name matches.

    Examples
    --------
    >>> [c.region_id for c in resolve_catalogs()]
    ['guiyang', 'pingliang', 'yunyang']
    >>> resolve_catalogs(region="520100")[0].region_name
    '贵阳市'
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
        keep = match_region(cats, region)
        if not keep:
            known = ", ".join(f"{c.region_id} ({c.region_name})" for c in cats)
            raise CatalogError(f"没有区域 {region!r} 的图层目录；已有：{known}")
        cats = keep
    return cats
