"""Exceptions.  Every error names the file, layer, row or feature it is about."""

from __future__ import annotations


class ZoningError(Exception):
    """Base class for errors that the CLI reports as a message, not a traceback."""


class DataError(ZoningError):
    """Bad input data: a missing file or field, a wrong CRS, invalid geometry."""

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


class CatalogError(DataError):
    """A layer catalog manifest that cannot be read or does not follow the schema."""


class CRSError(DataError):
    """A missing, unknown or inconsistent coordinate reference system."""
