"""Imported once by the dask tests' forkserver: the bundled regions' indexes are built
there, so every worker forked from it (and every worker restarted after a kill) starts
with them warm instead of building them itself."""

from zoning.catalog import resolve_catalogs
from zoning.options import CheckOptions
from zoning.screen import INDEX_CACHE

for _cat in resolve_catalogs():
    INDEX_CACHE.load(_cat, CheckOptions())
