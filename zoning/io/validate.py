"""Check that a catalog's layers exist and hold what the catalog says they hold.

For each layer the report gives the feature count, CRS, text encoding, the
number of invalid and empty geometries, and every problem found: a missing
file, layer or mapped field, a CRS that differs from the declared one, data
outside China or with swapped axes, geometry of the wrong type, duplicate ids.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer

from zoning.catalog import KINDS, Catalog, LayerSpec
from zoning.crs import CHINA_BBOX
from zoning.errors import DataError, ZoningError
from zoning.io.vector import source_encoding

__all__ = ["LayerReport", "validate_catalog", "validate_layer"]

_POLY = {"Polygon", "MultiPolygon"}
_LINE = {"LineString", "MultiLineString"}


@dataclass
class LayerReport:
    region: str
    name: str
    kind: str
    path: str
    status: str = "ok"  # ok | warning | error
    features: int | None = None
    crs: str | None = None
    encoding: str | None = None
    invalid: int | None = None
    empty: int | None = None
    wrong_type: int | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, msg: str):
        self.errors.append(msg)
        self.status = "error"

    def warn(self, msg: str):
        self.warnings.append(msg)
        if self.status == "ok":
            self.status = "warning"

    def to_dict(self) -> dict:
        return asdict(self)


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _check_crs(rep: LayerReport, spec: LayerSpec, file_crs: CRS | None) -> CRS | None:
    declared = None
    if spec.crs:
        try:
            declared = CRS.from_user_input(spec.crs)
        except Exception as e:  # pyproj raises CRSError subclasses of Exception
            rep.error(f"图层目录中声明的 crs: {spec.crs!r} 不是有效的坐标系（{e}）")
    if file_crs is None:
        if declared is None:
            rep.error("文件没有坐标系，图层目录中也没有用 crs: 声明")
            return None
        rep.warn(f"文件没有坐标系：按图层目录声明的 {_crs_name(declared)} 读取")
        rep.crs = _crs_name(declared)
        return declared
    rep.crs = _crs_name(file_crs)
    if declared is not None and not file_crs.equals(declared, ignore_axis_order=True):
        rep.error(f"坐标系不一致：文件为 {_crs_name(file_crs)}，图层目录声明为 "
                  f"{_crs_name(declared)}")
    return file_crs


def _check_extent(rep: LayerReport, crs: CRS | None, bounds) -> None:
    if crs is None or bounds is None or not np.all(np.isfinite(bounds)):
        return
    x0, y0, x1, y1 = bounds
    if crs.is_geographic:
        if 0 <= x0 and x1 <= 56 and 72 <= y0 and y1 <= 138:
            rep.error(f"坐标看起来是（纬度，经度）：x 在 [{x0:.3f}, {x1:.3f}]，"
                      f"y 在 [{y0:.3f}, {y1:.3f}]，坐标轴颠倒了")
            return
        lon0, lat0, lon1, lat1 = x0, y0, x1, y1
    else:
        try:
            t = Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
            lon0, lat0, lon1, lat1 = t.transform_bounds(x0, y0, x1, y1)
        except Exception as e:
            rep.error(f"无法把范围转换到 CGCS2000：{e}")
            return
    c0, d0, c1, d1 = CHINA_BBOX
    if not (c0 <= lon0 and lon1 <= c1 and d0 <= lat0 and lat1 <= d1):
        rep.error(f"范围（经度 [{lon0:.3f}, {lon1:.3f}]，纬度 [{lat0:.3f}, {lat1:.3f}]）落在"
                  "中国境外：坐标系是否有误、是否缺少带号前缀或坐标轴颠倒？")


def _validate_raster(rep: LayerReport, spec: LayerSpec) -> None:
    import rasterio

    from zoning.errors import ZoningError
    from zoning.io.vector import check_input_file

    try:
        check_input_file(spec.path)
    except ZoningError as e:
        rep.error(getattr(e, "message", str(e)))
        return
    try:
        src = rasterio.open(spec.path)
    except rasterio.errors.RasterioIOError as e:
        rep.error(f"无法打开栅格：{e}")
        return
    with src:
        file_crs = CRS.from_user_input(src.crs) if src.crs else None
        crs = _check_crs(rep, spec, file_crs)
        _check_extent(rep, crs, tuple(src.bounds))
        rep.features = src.width * src.height
        # class presence, from a decimated read (cheap on a COG with overviews)
        f = max(1, max(src.width, src.height) // 2048)
        arr = src.read(1, out_shape=(max(1, src.height // f), max(1, src.width // f)),
                       resampling=rasterio.enums.Resampling.nearest)
        present = set(np.unique(arr).tolist())
        for group, codes in spec.classes.items():
            if not present.intersection(codes):
                rep.warn(f"栅格中没有 classes: 中 {group!r} 的取值 {codes}")
        tags = src.tags()
        if tags.get("SYNTHETIC") == "yes":
            rep.notes.append("合成的演示数据（元数据 SYNTHETIC=yes）")


def _validate_postgis(rep: LayerReport, spec: LayerSpec) -> None:
    from zoning.errors import ZoningError
    from zoning.io.postgis import check_layer_table

    try:
        t = check_layer_table(spec)
    except ZoningError as e:
        rep.error(str(e))
        return
    rep.features, rep.invalid, rep.empty = t["features"], t["invalid"], t["empty"]
    rep.encoding = "UTF-8"
    names = set(t["columns"])
    _check_fields(rep, spec, names)
    _check_crs(rep, spec, CRS.from_epsg(t["srid"]) if t["srid"] else None)
    if not t["gist"]:
        rep.warn("几何列上没有 GiST 索引：每次检查都要扫描整张表")
    if rep.invalid:
        rep.warn(f"{rep.invalid} 个几何无效，读取时用 make_valid 修复")


def validate_layer(spec: LayerSpec, region: str = "") -> LayerReport:
    """Check one catalog layer: file, layers, fields, CRS, extent, geometries, ids, metadata."""
    rep = LayerReport(region=region, name=spec.name, kind=spec.kind,
                      path=str(spec.path) if spec.path else
                      f"postgis:{(spec.postgis or {}).get('table')}")
    if spec.postgis:
        _validate_postgis(rep, spec)
        return rep
    if spec.path is None or not spec.path.exists():
        rep.error(f"文件不存在：{spec.path}")
        return rep
    if spec.is_raster:
        _validate_raster(rep, spec)
        return rep
    _validate_vector(rep, spec, spec.path)
    return rep


def _check_encoding(rep: LayerReport, spec: LayerSpec, path: Path) -> tuple[bool, str | None]:
    """(readable, the encoding to read with: None for the format's own) — the encoding
    :func:`~zoning.io.vector.read_vector` uses, a zipped shapefile's included."""
    try:
        enc, how = source_encoding(path, spec.encoding)
        rep.encoding = enc or "UTF-8"
        if how.startswith("detected"):
            rep.warn(f"没有 .cpg 文件：编码 {rep.encoding} 是从 DBF 内容推断的"
                     "（可在图层目录中用 encoding: 明确声明）")
    except DataError as e:
        rep.error(e.message)
        return False, None
    return True, enc


def _check_layer_name(rep: LayerReport, spec: LayerSpec, path: Path) -> bool:
    try:
        layers = [n for n, _ in pyogrio.list_layers(str(path))]
    except Exception as e:
        rep.error(f"无法打开：{e}")
        return False
    if spec.layer and spec.layer not in layers:
        rep.error(f"文件中没有图层 {spec.layer!r}（文件中的图层：{layers}）")
        return False
    if not spec.layer and len(layers) > 1:
        rep.error(f"文件中有 {len(layers)} 个图层 {layers}：请用 layer: 指明其中一个")
        return False
    return True


def _check_fields(rep: LayerReport, spec: LayerSpec, names: set) -> None:
    wanted: list[tuple[str, list[str]]] = [("id_field", [str(spec.id_field)])]
    wanted += list(spec.fields.items())
    for canon, aliases in wanted:
        if not any(a in names for a in aliases):
            rep.error(f"图层中没有字段 {' / '.join(aliases)}（用于 {canon}）；图层中的字段："
                      f"{sorted(names)}")


def _guard(rep: LayerReport, spec: LayerSpec, path: Path) -> bool:
    """The checks every read makes first: no FIFOs or devices, archive and DBF limits,
    a simple where clause, time-limited GeoPackage views (see :mod:`zoning.io.vector`)."""
    from zoning.errors import ZoningError
    from zoning.io.vector import _check_gpkg_sql, _gdal_source, check_where

    try:
        _gdal_source(path)
        check_where(spec.where)
        if path.suffix.lower() == ".gpkg":
            _check_gpkg_sql(path, [spec.layer], spec.where)
    except ZoningError as e:
        rep.error(getattr(e, "message", str(e)))
        return False
    return True


def _validate_vector(rep: LayerReport, spec: LayerSpec, path: Path) -> None:
    if not _guard(rep, spec, path):
        return
    readable, enc = _check_encoding(rep, spec, path)
    if not readable or not _check_layer_name(rep, spec, path):
        return
    kw = {"encoding": enc} if enc else {}
    info = pyogrio.read_info(str(path), layer=spec.layer, **kw)
    _check_fields(rep, spec, set(info["fields"]))
    file_crs = CRS.from_user_input(info["crs"]) if info.get("crs") else None
    crs = _check_crs(rep, spec, file_crs)
    if rep.errors:
        return
    try:
        # GDAL's Arrow stream: several times faster than feature by feature
        df = pyogrio.read_dataframe(str(path), layer=spec.layer, columns=[spec.id_field],
                                    where=spec.where, use_arrow=True, **kw)
    except Exception as e:
        rep.error(f"无法读取要素：{e}")
        return
    rep.features = len(df)
    if rep.features == 0:
        rep.error(f"图层中没有符合 where 条件 {spec.where!r} 的要素" if spec.where
                  else "图层中没有要素")
        return
    arr = np.asarray(df.geometry.values)
    empty = _check_geometries(rep, spec, arr, df[spec.id_field])
    _check_ids(rep, spec, df[spec.id_field])
    if crs is not None:
        _check_extent(rep, crs, tuple(shapely.total_bounds(arr[~empty])) if (~empty).any()
                      else None)
    meta = info.get("layer_metadata") or {}
    ds_meta = info.get("dataset_metadata") or {}
    if meta.get("SYNTHETIC") == "yes" or ds_meta.get("SYNTHETIC") == "yes":
        rep.notes.append("合成的演示数据（元数据 SYNTHETIC=yes）")


_TYPE_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                        "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)


def _check_geometries(rep: LayerReport, spec: LayerSpec, arr: np.ndarray, ids) -> np.ndarray:
    """Count empty, invalid and wrong-type geometries; returns the empty mask."""
    empty = shapely.is_missing(arr) | shapely.is_empty(arr)
    rep.empty = int(empty.sum())
    valid = shapely.is_valid(arr)
    rep.invalid = int((~valid & ~empty).sum())
    want = _POLY if spec.kind_info.geometry == "polygon" else _LINE
    types = shapely.get_type_id(arr)
    tnames = np.where(types >= 0, _TYPE_NAMES[np.clip(types, 0, 7)], "None")
    wrong = ~np.isin(tnames, list(want)) & ~empty
    rep.wrong_type = int(wrong.sum())
    if rep.invalid:
        first = np.flatnonzero(~valid & ~empty)[:3]
        some = ", ".join(str(ids.iloc[i]) for i in first)
        reason = shapely.is_valid_reason(arr[first[0]])
        rep.warn(f"{rep.invalid} 个几何无效（如 {spec.id_field}={some}：{reason}），"
                 "读取时用 make_valid 修复")
    if rep.empty:
        rep.warn(f"{rep.empty} 个几何为空或缺失")
    if rep.wrong_type:
        rep.error(f"{rep.wrong_type} 个要素的几何类型不是 {'/'.join(sorted(want))}")
    return empty


def _check_ids(rep: LayerReport, spec: LayerSpec, ids) -> None:
    if spec.kind == "control_unit":
        from zoning.rules.access import UNIT_CODE

        bad = [str(x) for x in ids.dropna() if not UNIT_CODE.match(str(x))]
        if bad:
            rep.warn(f"{len(bad)} 个单元编码不符合“ZH + 6 位行政区划代码 + 1 位类别码 + "
                     f"4 位序号”的格式（如 {bad[0]!r}）")
    if ids.isna().any():
        rep.warn(f"{int(ids.isna().sum())} 个要素没有 {spec.id_field}")
    dup = ids[ids.duplicated() & ids.notna()]
    if len(dup):
        rep.warn(f"{len(dup)} 个 {spec.id_field} 值重复（如 {dup.iloc[0]}）")


def _validate_rule_files(cat: Catalog) -> list[LayerReport]:
    """The verdict rules and the 准入清单 rules the catalog uses."""
    from zoning.errors import ZoningError
    from zoning.rules.access import load_access_rules
    from zoning.rules.three_lines import default_rules_path, load_rules

    out = []
    rules_path = cat.rules or default_rules_path()
    rep = LayerReport(region=cat.region_id, name="(verdict rules)", kind="rules",
                      path=str(rules_path))
    try:
        rs = load_rules(cat.rules)
        rep.features = sum(len(v) for v in rs.layers.values())
    except ZoningError as e:
        rep.error(str(e))
    out.append(rep)
    from zoning.paths import layers_dir

    acc_path = cat.access_rules or layers_dir() / "access"
    rep = LayerReport(region=cat.region_id, name="(access rules)", kind="access_rules",
                      path=str(acc_path))
    try:
        acc = load_access_rules(cat.access_rules)
        rep.features = len(acc.rules)
        demo = sum(not r.real for r in acc.rules)
        rep.notes.append(f"{len(acc.files)} 个文件共 {len(acc.rules)} 条规则"
                         f"（真实 {len(acc.rules) - demo} 条，演示 {demo} 条）")
        _check_parameters(rep, acc)
    except ZoningError as e:
        rep.error(str(e))
    out.append(rep)
    out += _validate_constraint_rules(cat)
    return out


def _validate_constraint_rules(cat: Catalog) -> list[LayerReport]:
    """The rule set of every constraint layer (a rule file or inline rules)."""
    from zoning.errors import ZoningError
    from zoning.rules.constraints import load_constraint_rules
    from zoning.rules.three_lines import load_rules

    try:
        vocab = load_rules(cat.rules).vocabularies
    except ZoningError:
        vocab = {}  # already reported with the verdict rules
    out = []
    for spec in cat.by_kind("constraint"):
        rep = LayerReport(region=cat.region_id, name=f"({spec.name} rules)", kind="rules",
                          path=str(spec.rules) if not isinstance(spec.rules, dict)
                          else f"inline in {cat.path}")
        try:
            rs = load_constraint_rules(spec.rules, vocab,
                                       where=dict(path=cat.path, layer=spec.name))
            rep.features = len(rs.cases)
            rep.notes.append(f"{rs.title}：{len(rs.cases)} 种情形，"
                             f"{'真实' if rs.real else '演示'}规则"
                             + (f"，待核实：{rs.verify}" if rs.verify else ""))
        except ZoningError as e:
            rep.error(str(e))
        out.append(rep)
    return out


def _check_parameters(rep: LayerReport, acc) -> None:
    """Every ``param:NAME`` a rule uses must be set by some rule file, or the threshold
    silently never applies."""
    known = {k for f in acc.files for k in f["parameters"]}
    for r in acc.rules:
        for v in (r.energy_tce or {}).values():
            if isinstance(v, str) and v.startswith("param:") and v[6:] not in known:
                rep.error(f"规则 {r.id}：阈值 {v!r} 引用的参数在任何规则文件中都没有设置")


def _check_zones(rep: LayerReport, spec: LayerSpec, known: tuple) -> None:
    """Warn about zone or partition values of a 生态保护红线, 自然保护地 or 城镇开发边界 layer
    that the verdict rules do not know (after the catalog's ``values:`` mapping): a site on
    such a feature reads 需补充信息 wherever the zone decides."""
    from zoning.rules.three_lines import UNKNOWN_ZONE, ZONE_FIELD, is_missing, zone_fact

    field_ = ZONE_FIELD[spec.kind]
    if field_ not in spec.fields:
        rep.warn(f"没有映射{'保护地分区' if spec.kind != 'urban_boundary' else '规划分区'}"
                     f"字段（fields: {field_}）：判定取决于分区时结论为“需补充信息”")
        return
    if spec.postgis or spec.path is None:
        return  # a table `layers import` wrote holds the mapped values already
    try:  # the zone field alone, no geometry: a layer of any size
        enc, _how = source_encoding(spec.path, spec.encoding)
        cols = set(pyogrio.read_info(str(spec.path), layer=spec.layer,
                                     **({"encoding": enc} if enc else {}))["fields"])
        src = next((a for a in spec.fields[field_] if a in cols), None)
        if src is None:
            return  # reported as a missing field
        values = pyogrio.read_dataframe(str(spec.path), layer=spec.layer, columns=[src],
                                        read_geometry=False, where=spec.where,
                                        **({"encoding": enc} if enc else {}))[src]
    except Exception as e:  # noqa: BLE001 - any reading problem is worth a warning
        rep.warn(f"无法读取分区字段检查其取值：{e}")
        return
    mapping = spec.values.get(field_) or {}
    odd: dict[str, int] = {}
    for v, n in values.value_counts(dropna=False).items():
        z = zone_fact(spec.kind, None if is_missing(v) else mapping.get(str(v), v),
                      known=known)
        if z is not None and z.startswith(UNKNOWN_ZONE):
            key = z[len(UNKNOWN_ZONE):] or "空值"
            odd[key] = odd.get(key, 0) + int(n)
    if odd:
        items = sorted(odd.items())
        what = "、".join(f"{k}（{n} 个要素）" for k, n in items[:8])
        more = f" 等 {len(items)} 种" if len(items) > 8 else ""
        rep.warn(f"字段 {src} 中有判定规则不认识的值：{what}{more}；涉及这些要素且判定取决于"
                 f"分区时结论为“需补充信息”（可在 values: {field_} 中映射为 {'/'.join(known)}）")


def validate_catalog(cat: Catalog) -> list[LayerReport]:
    reports = [validate_layer(spec, cat.region_id) for spec in cat.layers.values()]
    try:
        from zoning.rules.three_lines import ZONE_KEYS, load_rules

        rules = load_rules(cat.rules)
        for rep, spec in zip(reports, cat.layers.values()):
            if spec.kind in ZONE_KEYS and rep.status != "error":
                _check_zones(rep, spec, rules.zone_keys(spec.kind))
    except ZoningError:
        pass  # a rule file that cannot be read is reported below
    reports += _validate_rule_files(cat)
    for kind in cat.missing_kinds():
        r = LayerReport(region=cat.region_id, name=f"({kind})", kind=kind, path=str(cat.path))
        r.error(f"图层目录中没有 {kind}（{KINDS[kind].zh}）图层：筛查时该项结论为“数据缺失”")
        reports.append(r)
    return reports


def summary_path(p) -> str:
    """A path shown relative to the working directory when that is shorter."""
    p = Path(p)
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)
