"""Exceptions.  Every error names the file, layer, row or feature it is about.

Every public function of the package raises only :class:`ZoningError`
subclasses for bad data, bad options or refused outputs.  Each class also
derives from the builtin exception a caller would expect (``ValueError``,
``FileExistsError`` …), so ``except ValueError`` keeps working.  Each has a
stable English ``code`` for scripts and a Chinese ``title_zh`` saying what the code
means (the web service's error messages start with it); messages are written for
the reader.
Library messages never name command-line flags: the CLI adds such hints.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = [
    "ZoningError", "DataError", "InputError", "CatalogError", "RuleError", "CRSError",
    "OptionError", "OutputExistsError", "OutputLockedError", "ResourceLimitError",
    "DatabaseError", "MapError", "MissingExtraError", "MissingProgramError", "error_titles",
    "finite_nonnegative",
]


class ZoningError(Exception):
    """Base class for errors that the CLI reports as a message, not a traceback."""

    code = "error"
    title_zh = "处理失败"


class DataError(ZoningError, ValueError):
    """Bad input data: a missing file or field, a wrong CRS, invalid geometry."""

    code = "data_error"
    title_zh = "数据无法读取"

    def __init__(self, message: str, *, path=None, layer=None, row=None, feature=None):
        self.path = None if path is None else str(path)
        self.layer = layer
        self.row = row
        self.feature = feature
        where = []
        if self.path:
            where.append(self.path)
        if layer:
            where.append(f"图层 {layer!r}")
        if row is not None:
            where.append(f"第 {row} 行")
        if feature is not None:
            where.append(f"要素 {feature}")
        self.message = message
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class InputError(DataError):
    """A footprint or project list that cannot be read or understood."""

    code = "input_error"
    title_zh = "输入无法读取或理解"


class CatalogError(DataError):
    """A layer catalog manifest that cannot be read or does not follow the schema."""

    code = "catalog_error"
    title_zh = "图层目录有误"


class RuleError(CatalogError):
    """A verdict rule file or 三线一单 access file that does not follow its schema."""

    code = "rule_error"
    title_zh = "判定规则文件有误"


class CRSError(DataError):
    """A missing, unknown or inconsistent coordinate reference system."""

    code = "crs_error"
    title_zh = "坐标系有误"


class ResourceLimitError(DataError):
    """An input over a size, count, expansion or time limit."""

    code = "resource_limit"
    title_zh = "超出处理限制"


class OptionError(ZoningError, ValueError):
    """An option value out of its range (a negative radius, an infinite tolerance …)."""

    code = "option_error"
    title_zh = "参数有误"


class OutputExistsError(ZoningError, FileExistsError):
    """An output that already exists and may not be replaced."""

    code = "output_exists"
    title_zh = "输出已存在"


class OutputLockedError(ZoningError, BlockingIOError):
    """An output folder that another run is writing right now."""

    code = "output_locked"
    title_zh = "输出正被占用"


class DatabaseError(ZoningError, ConnectionError):
    """A database that cannot be reached or refuses a statement."""

    code = "database_error"
    title_zh = "数据库无法访问"


class MapError(ZoningError, ValueError):
    """A map that cannot be drawn with the options given."""

    code = "map_error"
    title_zh = "地图无法生成"


class MissingExtraError(ZoningError, ImportError):
    """An optional feature whose extra is not installed (``pip install "zoning[NAME]"``)."""

    code = "missing_extra"
    title_zh = "缺少可选组件"

    def __init__(self, extra: str, what: str):
        self.extra = extra
        super().__init__(f"{what}需要安装可选组件 {extra!r}："
                         f'pip install "zoning[{extra}]"')


class MissingProgramError(ZoningError, FileNotFoundError):
    """A system program a feature needs (LibreOffice for PDF) that is not installed."""

    code = "missing_program"
    title_zh = "缺少所需程序（如生成 PDF 的 LibreOffice）"


def error_titles() -> dict[str, str]:
    """Every error ``code`` of the package → its Chinese title (subclasses included)."""
    out: dict[str, str] = {}
    todo: list[type[ZoningError]] = [ZoningError]
    while todo:
        cls = todo.pop()
        out.setdefault(cls.code, cls.title_zh)
        todo.extend(cls.__subclasses__())
    return out


def finite_nonnegative(value, what: str,
                       error: Callable[[str], Exception] = DataError) -> float:
    """``value`` as a finite float ≥ 0, or raise ``error(message)`` naming ``what`` (NaN, ∞ and negatives
    refused: a negative energy or an infinite tolerance would turn a verdict silently)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise error(f"{what} 应为数字，而不是 {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise error(f"{what} 应为不小于 0 的有限数值，而不是 {value!r}")
    return x


def require(module: str, extra: str, what: str):
    """Import an optional module, or raise :class:`MissingExtraError` naming its extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(extra, what) from None
