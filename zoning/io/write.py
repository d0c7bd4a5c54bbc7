"""Writing files, atomically: a file appears complete under its final name or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from zoning.errors import OutputExistsError

__all__ = ["atomic_path", "write_text", "write_bytes", "write_json", "write_layers",
           "write_cog"]


@contextlib.contextmanager
def atomic_path(path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(name)  # drivers want to create the file themselves
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_layers(
    path,
    layers: Mapping[str, gpd.GeoDataFrame],
    metadata: Mapping[str, str] | None = None,
    layer_metadata: Mapping[str, Mapping[str, str]] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write several layers into one GeoPackage, atomically."""
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        for i, (name, gdf) in enumerate(layers.items()):
            lm = dict((layer_metadata or {}).get(name, {}))
            pyogrio.write_dataframe(
                gdf,
                tmp,
                layer=name,
                driver="GPKG",
                append=i > 0,
                dataset_metadata=dict(metadata) if (metadata and i == 0) else None,
                layer_metadata=lm or None,
                promote_to_multi=False,
            )
    return path


def write_text(path, text: str, overwrite: bool = True, encoding: str = "utf-8") -> Path:
    """Write text atomically."""
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def write_bytes(path, data: bytes, overwrite: bool = True) -> Path:
    """Write bytes atomically."""
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return path


def write_json(path, obj, overwrite: bool = True) -> Path:
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_cog(path, array: np.ndarray, transform, crs, nodata=None, tags=None,
              band_tags=None, overwrite: bool = True) -> Path:
    """Write a single-band array as a Cloud-Optimized GeoTIFF, atomically."""
    import rasterio
    from rasterio.shutil import copy as rio_copy

    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        mem = tmp.with_suffix(".src.tif")
        try:
            with rasterio.open(
                mem, "w", driver="GTiff", width=array.shape[1], height=array.shape[0],
                count=1, dtype=array.dtype, crs=crs, transform=transform, nodata=nodata,
                tiled=True, blockxsize=512, blockysize=512, compress="deflate",
            ) as dst:
                dst.write(array, 1)
                if tags:
                    dst.update_tags(**tags)
                if band_tags:
                    dst.update_tags(1, **band_tags)
            rio_copy(mem, tmp, driver="COG", compress="deflate", level=9,
                     overview_resampling="mode", blocksize=512)
        finally:
            if mem.exists():
                mem.unlink()
    return path


