"""Options of a check: area method, tolerances, reporting threshold, radius."""

from __future__ import annotations

import math
from dataclasses import dataclass

from zoning.errors import OptionError

__all__ = ["CheckOptions"]


@dataclass
class CheckOptions:
    """How a check measures and judges.

    Attributes
    ----------
    area_method : {"ellipsoidal", "gk"}
        Ellipsoidal (CGCS2000/GRS80) areas, or planar in the footprint's 3° GK zone.
    tolerance_m2, tolerance_m : float
        At or below these, a polygon or line only touches (geometric noise).
    min_report_m2 : float
        Reporting threshold for overlap areas.
    radius_m : float
        Also list layer features within this distance.
    subdivide_vertices : int
        Cut layer polygons into pieces of at most this many vertices (0: off).
    keep_geometry : bool
        Keep the overlap geometries (for the GeoPackage output).

    Examples
    --------
    >>> CheckOptions(area_method="gk", radius_m=500).radius_m
    500.0
    >>> CheckOptions(tolerance_m2=float("inf"))
    Traceback (most recent call last):
    ...
    zoning.errors.OptionError: tolerance_m2 must be a finite number ≥ 0, not inf
    """

    area_method: str = "ellipsoidal"  # ellipsoidal | gk
    tolerance_m2: float = 1e-4  # geometric: at or below this, polygons only touch
    tolerance_m: float = 1e-4  # the same for line overlap lengths
    min_report_m2: float = 0.0  # reporting threshold for overlap areas
    radius_m: float = 0.0  # list features within this distance (setback rules)
    subdivide_vertices: int = 256
    keep_geometry: bool = False  # keep overlap geometries (for the GeoPackage output)
    #: statistics only: ids and areas, never overlap geometry or layer features in maps
    no_geometry: bool = False

    def __post_init__(self) -> None:
        if self.area_method not in ("ellipsoidal", "gk"):
            raise OptionError("area_method must be 'ellipsoidal' or 'gk'")
        for name in ("tolerance_m2", "tolerance_m", "min_report_m2", "radius_m"):
            v = getattr(self, name)
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise OptionError(f"{name} must be a number, not {v!r}") from None
            if not math.isfinite(v) or v < 0:
                raise OptionError(f"{name} must be a finite number ≥ 0, not {v!r}")
            setattr(self, name, v)
        if not isinstance(self.subdivide_vertices, int) or self.subdivide_vertices < 0:
            raise OptionError("subdivide_vertices must be 0 (off) or a positive integer")

