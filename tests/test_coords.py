import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

import zoning.crs as coords
import zoning.gcj02 as gcj

lon_s = st.floats(min_value=74.0, max_value=134.0)
lat_s = st.floats(min_value=18.0, max_value=53.0)
geod = Geod(ellps="WGS84")


@settings(max_examples=200, deadline=None)
@given(lon_s, lat_s)
def test_gcj02_inverse_roundtrip(lon, lat):
    glon, glat = gcj.wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj.gcj02_to_wgs84(glon, glat)
    assert abs(float(wlon) - lon) < 1e-7 and abs(float(wlat) - lat) < 1e-7


@settings(max_examples=100, deadline=None)
@given(lon_s, lat_s)
def test_bd09_roundtrip(lon, lat):
    blon, blat = gcj.gcj02_to_bd09(*gcj.wgs84_to_gcj02(lon, lat))
    wlon, wlat = gcj.bd09_to_wgs84(blon, blat)
    assert abs(float(wlon) - lon) < 1e-5 and abs(float(wlat) - lat) < 1e-5


def test_gcj02_shift_magnitude_in_guiyang_and_beijing():
    # the offset is hundreds of metres: far beyond any overlay tolerance
    for lon, lat in [(116.397, 39.909), (106.714, 26.568)]:
        glon, glat = gcj.wgs84_to_gcj02(lon, lat)
        _, _, d = geod.inv(lon, lat, float(glon), float(glat))
        assert 200 < d < 800, d


def test_outside_china_unchanged():
    lon, lat = gcj.wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert lon[0] == 2.35 and lat[0] == 48.85


@pytest.mark.parametrize("lon,prefix,epsg", [
    (116.397, True, 4527), (116.397, False, 4548),   # domain.md worked example (Beijing)
    (106.714, True, 4524), (108.70, True, 4524),      # Guiyang and Yunyang: zone 36
    (75.0, True, 4513), (135.0, False, 4554),
])
def test_gk3_epsg(lon, prefix, epsg):
    assert coords.gk3_epsg(lon, prefix=prefix) == epsg


def test_gk3_epsg_outside_range():
    with pytest.raises(ValueError):
        coords.gk3_epsg(2.0)


def test_zone_from_easting():
    assert coords.zone_from_easting(39438683.652) == 39
    assert coords.zone_from_easting(438683.652) is None
