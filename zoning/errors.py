"""Exceptions.  Every error names the file, layer, row or feature it is about.

Every public function of the package raises only :class:`ZoningError`
subclasses for bad data, bad options or refused outputs.  Each class also
derives from the builtin exception a caller would expect (``ValueError``,
``FileExistsError`` …), so ``except ValueError`` keeps working.  Each has a
stable English ``code`` for scripts; messages are written for the reader.
Library messages never name command-line flags: the CLI adds such hints.
"""

from __future__ import annotations

__all__ = [
    "ZoningError", "DataError", "InputError", "CatalogError", "RuleError", "CRSError",
    "OptionError", "OutputExistsError", "OutputLockedError", "ResourceLimitError",
    "DatabaseError", "MapError", "MissingExtraError", "MissingProgramError",
]


class ZoningError(Exception):
    """Base class for errors that the CLI reports as a message, not a traceback."""

    code = "error"


class DataError(ZoningError, ValueError):
    """Bad input data: a missing file or field, a wrong CRS, invalid geometry."""

    code = "data_error"

    def __init__(self, message: str, *, path=None, layer=None, row=None, feature=None):
        self.path = None if path is None else str(path)
        self.layer = layer
        self.row = row
        self.feature = feature
        where = []
        if self.path:
            where.append(self.path)
        if layer:
            where.append(f"layer {layer!r}")
        if row is not None:
            where.append(f"row {row}")
        if feature is not None:
            where.append(f"feature {feature}")
        self.message = message
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class InputError(DataError):
    """A footprint or project list that cannot be read or understood."""

    code = "input_error"


class CatalogError(DataError):
    """A layer catalog manifest that cannot be read or does not follow the schema."""

    code = "catalog_error"


class RuleError(CatalogError):
    """A verdict rule file or 三线一单 access file that does not follow its schema."""

    code = "rule_error"


class CRSError(DataError):
    """A missing, unknown or inconsistent coordinate reference system."""

    code = "crs_error"


class ResourceLimitError(DataError):
    """An input over a size, count, expansion or time limit."""

    code = "resource_limit"


class OptionError(ZoningError, ValueError):
    """An option value out of its range (a negative radius, an infinite tolerance …)."""

    code = "option_error"


class OutputExistsError(ZoningError, FileExistsError):
    """An output that already exists and may not be replaced."""

    code = "output_exists"


class OutputLockedError(ZoningError, BlockingIOError):
    """An output folder that another run is writing right now."""

    code = "output_locked"


class DatabaseError(ZoningError, ConnectionError):
    """A database that cannot be reached or refuses a statement."""

    code = "database_error"


class MapError(ZoningError, ValueError):
    """A map that cannot be drawn with the options given."""

    code = "map_error"


class MissingExtraError(ZoningError, ImportError):
    """An optional feature whose extra is not installed (``pip install "zoning[NAME]"``)."""

    code = "missing_extra"

    def __init__(self, extra: str, what: str):
        self.extra = extra
        super().__init__(f"{what} needs the optional extra {extra!r}: "
                         f'pip install "zoning[{extra}]"')


class MissingProgramError(ZoningError, FileNotFoundError):
    """A system program a feature needs (LibreOffice for PDF) that is not installed."""

    code = "missing_program"


def require(module: str, extra: str, what: str):
    """Import an optional module, or raise :class:`MissingExtraError` naming its extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(extra, what) from None
