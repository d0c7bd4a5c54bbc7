"""Options of a check: area method, tolerances, reporting threshold, radius."""

from __future__ import annotations

import math
from dataclasses import dataclass

from zoning.errors import OptionError, finite_nonnegative

__all__ = ["CheckOptions", "AREA_METHODS", "MAX_TOLERANCE", "zone_meridian"]

#: area methods: ellipsoidal, planar GK in each footprint's own 3° zone, planar GK in one
#: fixed central meridian (as official tables do: "高斯投影面积而非椭球面积")
AREA_METHODS = ("ellipsoidal", "gk", "gk-fixed")

#: the largest geometric tolerance (m² for areas, m for lengths): anything larger would hide
#: real overlaps; a reporting threshold is min_report_m2, whose overlaps are still noted
MAX_TOLERANCE = 1.0


def zone_meridian(zone: int, width: int = 3) -> float:
    """Central meridian (°E) of Gauss–Krüger zone ``zone`` of a 3° or 6° zoning.

    Examples
    --------
    >>> zone_meridian(40), zone_meridian(20, 6)
    (120.0, 117.0)
    """
    if width == 3 and 25 <= zone <= 45:
        return 3.0 * zone
    if width == 6 and 13 <= zone <= 23:
        return 6.0 * zone - 3.0
    raise OptionError(f"zone {zone} is not a Chinese {width}° Gauss–Krüger zone "
                      "(3°: 25–45, 6°: 13–23)")


@dataclass
class CheckOptions:
    """How a check measures and judges.

    Attributes
    ----------
    area_method : {"ellipsoidal", "gk", "gk-fixed"}
        Ellipsoidal (CGCS2000/GRS80) areas, planar in the footprint's 3° GK zone, or
        planar in one fixed central meridian (official 投影面积).
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
    central_meridian : float or None
        Degrees east, for ``area_method="gk-fixed"``.

    Examples
    --------
    >>> CheckOptions(area_method="gk", radius_m=500).radius_m
    500.0
    >>> CheckOptions(tolerance_m2=float("inf"))
    Traceback (most recent call last):
    ...
    zoning.errors.OptionError: tolerance_m2 应为不小于 0 的有限数值，而不是 inf
    """

    area_method: str = "ellipsoidal"  # ellipsoidal | gk | gk-fixed
    tolerance_m2: float = 1e-4  # geometric: at or below this, polygons only touch
    tolerance_m: float = 1e-4  # the same for line overlap lengths
    min_report_m2: float = 0.0  # reporting threshold for overlap areas
    #: overlaps below min_report_m2 leave the verdict too (an explicit opt-out; by
    #: default they stay hits, flagged 低于报告阈值, and the verdict reflects them)
    min_area_drops: bool = False
    radius_m: float = 0.0  # list features within this distance (setback rules)
    subdivide_vertices: int = 256
    keep_geometry: bool = False  # keep overlap geometries (for the GeoPackage output)
    central_meridian: float | None = None  # °E, for area_method="gk-fixed"
    #: statistics only: ids and areas, never overlap geometry or layer features in maps
    no_geometry: bool = False

    def __post_init__(self) -> None:
        if self.area_method not in AREA_METHODS:
            raise OptionError(f"area_method must be one of {', '.join(AREA_METHODS)}")
        self._check_meridian()
        for name in ("tolerance_m2", "tolerance_m", "min_report_m2", "radius_m"):
            setattr(self, name, finite_nonnegative(getattr(self, name), name, OptionError))
        for name in ("tolerance_m2", "tolerance_m"):
            if getattr(self, name) > MAX_TOLERANCE:
                raise OptionError(f"{name} must be at most {MAX_TOLERANCE:g} (a geometric "
                                  "tolerance, not a reporting threshold), not "
                                  f"{getattr(self, name)!r}")
        if not isinstance(self.subdivide_vertices, int) or self.subdivide_vertices < 0:
            raise OptionError("subdivide_vertices must be 0 (off) or a positive integer")

    def _check_meridian(self) -> None:
        cm = self.central_meridian
        if self.area_method != "gk-fixed":
            if cm is not None:
                raise OptionError("central_meridian applies to area_method='gk-fixed' only")
            return
        if cm is None:
            raise OptionError("area_method='gk-fixed' needs central_meridian (°E), e.g. 120")
        try:
            cm = float(cm)
        except (TypeError, ValueError):
            raise OptionError(f"central_meridian must be a number, not {cm!r}") from None
        if not math.isfinite(cm) or not 60.0 <= cm <= 150.0:
            raise OptionError(f"central_meridian {cm!r} is not a meridian over China "
                              "(60–150°E)")
        self.central_meridian = cm

    @property
    def area_label(self) -> str:
        """How areas are computed, in words for a report (Chinese, with the method id)."""
        if self.area_method == "gk-fixed":
            return (f"高斯-克吕格投影平面面积，固定中央经线 {self.central_meridian:g}°E"
                    "（CGCS2000，gk-fixed）")
        if self.area_method == "gk":
            return "高斯-克吕格投影平面面积，项目所在 3° 带（CGCS2000，gk）"
        return "椭球面积（CGCS2000 椭球，ellipsoidal）"
