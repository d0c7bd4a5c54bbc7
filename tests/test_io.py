import zipfile
from types import SimpleNamespace

import geopandas as gpd
import pytest
from shapely.geometry import box

from zoning.errors import DataError
from zoning.io.vector import detect_dbf_encoding, read_vector
from zoning.io.write import atomic_path, write_json


def _gdf():
    return gpd.GeoDataFrame({"XMMC": ["花溪区污水处理厂", "乌当区物流园"]},
                            geometry=[box(106.6, 26.4, 106.61, 26.41),
                                      box(106.7, 26.6, 106.71, 26.61)], crs="EPSG:4490")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    write_json(target, {"a": "中文"})
    assert '"中文"' in target.read_text("utf-8")
    with pytest.raises(FileExistsError, match="已存在"):
        write_json(target, {}, overwrite=False)


def test_gbk_shapefile_read_without_mojibake(tmp_path):
    p = tmp_path / "proj.shp"
    _gdf().to_file(p, encoding="GBK")
    p.with_suffix(".cpg").unlink(missing_ok=True)
    assert detect_dbf_encoding(p.with_suffix(".dbf")) == "GB18030"
    got = read_vector(p)
    assert list(got.XMMC) == ["花溪区污水处理厂", "乌当区物流园"]
    assert got.attrs["encoding_how"] == "detected (no .cpg)"


def test_zipped_gbk_shapefile(tmp_path):
    p = tmp_path / "proj.shp"
    _gdf().to_file(p, encoding="GBK")
    z = tmp_path / "proj.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            zf.write(p.with_suffix(ext), f"sub/proj{ext}")
    got = read_vector(z)
    assert list(got.XMMC) == ["花溪区污水处理厂", "乌当区物流园"]
    assert got.crs.to_epsg() == 4490


def test_utf8_dbf_detected(tmp_path):
    p = tmp_path / "u.shp"
    _gdf().to_file(p, encoding="UTF-8")
    assert detect_dbf_encoding(p.with_suffix(".dbf")) == "UTF-8"


def test_missing_file_named(tmp_path):
    with pytest.raises(DataError, match="nope.gpkg: 文件不存在"):
        read_vector(tmp_path / "nope.gpkg")


def test_reading_layers_writes_nothing_beside_them(tmp_path):
    """GDAL wrote a .aux.xml next to every GeoPackage it read (seen in users' data folders)."""
    from zoning.io.layers import is_synthetic
    from zoning.io.vector import read_vector_layers

    path = tmp_path / "data" / "layers.gpkg"
    path.parent.mkdir()
    import pyogrio

    # metadata on the file and its layers, as the bundled layers and many exports carry
    pyogrio.write_dataframe(_gdf(), path, layer="XM", dataset_metadata={"SYNTHETIC": "yes"},
                            layer_metadata={"SYNTHETIC": "yes"})
    pyogrio.write_dataframe(_gdf(), path, layer="YY", layer_metadata={"A": "b"}, append=True)
    before = sorted(p.name for p in path.parent.iterdir())
    assert len(read_vector(path, layer="XM")) == 2
    assert [n for n, _ in read_vector_layers(path)] == ["XM", "YY"]

    spec = SimpleNamespace(path=str(path), layer="XM", is_raster=False, source="")
    assert is_synthetic(spec)  # the file's own metadata is still read
    assert sorted(p.name for p in path.parent.iterdir()) == before
