"""Reading YAML files safely: no Python tags, no aliases (billion laughs), bounded size."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from zoning.errors import CatalogError, ResourceLimitError

__all__ = ["load_yaml", "check_schema", "yaml_files", "MAX_YAML_BYTES"]

#: catalogs, rule and access files are small; anything larger is refused
MAX_YAML_BYTES = 4_000_000


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it


def _parse(text: str) -> Any:
    """Safe-load YAML, refusing anchors' aliases (they enable billion-laughs bombs):
    the events are scanned for an alias before anything is built."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            m = event.start_mark
            where = f"（第 {m.line + 1} 行第 {m.column + 1} 列）" if m else ""
            raise yaml.YAMLError(f"zoning 的 YAML 文件不接受别名（*name）{where}")
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def _schema(name: str):
    import json

    from jsonschema import Draft202012Validator

    if name not in _SCHEMAS:
        text = (_SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8")
        _SCHEMAS[name] = Draft202012Validator(json.loads(text))
    return _SCHEMAS[name]


_SCHEMA_DIR = Path(__file__).resolve().parent.parent / "rules" / "schemas"
_SCHEMAS: dict[str, Any] = {}


def _where(err) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    return path or "top level"


def check_schema(doc: Any, schema: str, path, error: type[CatalogError] = CatalogError) -> None:
    """Validate a parsed document against a shipped JSON Schema (``zoning/rules/schemas``).

    Raises ``error`` naming the file and the key path, e.g.
    ``layers.redline.fields.name: 5 is not valid under any of the given schemas``.
    """
    from jsonschema.exceptions import best_match

    errors = list(_schema(schema).iter_errors(doc))
    if errors:
        e = best_match(errors)
        msg = e.message if len(e.message) <= 200 else e.message[:200] + "…"
        raise error(f"{_where(e)}: {msg}", path=path)


def load_yaml(path, *, error: type[CatalogError] = CatalogError,
              max_bytes: int = MAX_YAML_BYTES, schema: str | None = None) -> Any:
    """Parse a UTF-8 YAML file; ``error`` (a :class:`CatalogError` subclass) names the file.

    ``schema`` ("catalog", "rules" or "access") validates the document against
    its JSON Schema; errors name the file and the key.
    """
    path = Path(path)
    key = _cache_key(path, schema, error, max_bytes)
    if key is not None:
        with _LOCK:
            doc = _CACHE.get(key)
            if doc is not None:
                _CACHE.move_to_end(key)
                return copy.deepcopy(doc)
    doc = _load(path, error, max_bytes, schema)
    if key is not None:
        with _LOCK:
            _CACHE[key] = copy.deepcopy(doc)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return doc


#: parsed (and schema-checked) documents by file identity: catalogs, rule and access
#: files are read again by every index build; a changed file has another key
_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_CACHE_SIZE = 256
_CACHE_MAX_BYTES = 256_000
_LOCK = threading.Lock()


def _cache_key(path: Path, schema, error, max_bytes) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size > _CACHE_MAX_BYTES:
        return None
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns,
            st.st_size, schema, error, max_bytes)


def _load(path: Path, error, max_bytes: int, schema: str | None) -> Any:
    try:
        if not path.is_file():
            raise error("文件不存在" if not path.exists() else "不是普通文件",
                        path=path)
        size = path.stat().st_size
        if size > max_bytes:
            raise ResourceLimitError(f"文件大小为 {size:,} 字节，超过 YAML 文件的上限 "
                                     f"{max_bytes:,} 字节", path=path)
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise error("必须是 UTF-8 编码的文本", path=path) from None
    except OSError as e:
        raise error(f"无法读取：{e.strerror}", path=path) from None
    try:
        doc = _parse(text)
    except yaml.YAMLError as e:
        raise error(f"不是有效的 YAML：{str(e)[:300]}", path=path) from None
    except RecursionError:
        raise error("YAML 嵌套层数过多", path=path) from None
    if schema is not None:
        check_schema(doc, schema, path, error)
    return doc


def yaml_files(folder) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of a folder, sorted; a file path gives itself."""
    p = Path(folder)
    if p.is_dir():
        return sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml"))
    return [p]
