"""Resource limits for untrusted inputs, with one place to raise them.

Every reader of footprints, project lists, archives and rule files checks
these limits and raises :class:`~zoning.errors.ResourceLimitError` naming the
limit, so a hostile or broken file ends as a clear error, not as gigabytes of
memory or a hang.  A deployment with bigger inputs raises them::

    from zoning.limits import LIMITS
    LIMITS.max_features = 5_000_000
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits", "LIMITS"]


@dataclass
class Limits:
    """The limits in force (process-wide; see :data:`LIMITS`)."""

    #: size of one input file (footprint, project list, TXT, catalog layer read from a path)
    max_file_bytes: int = 2_000_000_000
    #: size of a text input read whole (部标 TXT, CSV list, YAML rule/catalog files)
    max_text_bytes: int = 200_000_000
    #: YAML files: catalogs, rules, access, targets
    max_yaml_bytes: int = 5_000_000
    #: total uncompressed size of the members of an archive (zip, kmz)
    max_archive_bytes: int = 1_000_000_000
    #: uncompressed / compressed size of an archive
    max_archive_ratio: float = 200.0
    #: members of an archive
    max_archive_members: int = 10_000
    #: features of a footprint file or project list
    max_features: int = 1_000_000
    #: features of a catalog layer (the reviewer's own statutory data: a province's
    #: 永久基本农田 runs to millions of patches, so this is only a guard against runaway files)
    max_layer_features: int = 500_000_000
    #: vertices of one footprint
    max_vertices: int = 2_000_000
    #: area of one polygon footprint, km² (a site, not a province: 10,000 km² is about
    #: the largest reservoir or mining area a single project claims)
    max_footprint_km2: float = 10_000.0
    #: seconds the SQL of a GeoPackage view or a catalog ``where:`` clause may run (in
    #: SQLite, before GDAL reads the layer); other reads have no clock: the size and count
    #: limits above bound them
    read_timeout_s: float = 120.0


#: the limits every reader checks
LIMITS = Limits()
