"""Opening rasters (land cover) for the indicators."""

from __future__ import annotations

from typing import Any

from zoning.errors import DataError

__all__ = ["open_raster"]


def open_raster(path) -> Any:
    """An open rasterio dataset; a clear :class:`DataError` when it cannot be opened."""
    import rasterio

    from zoning.io.vector import check_input_file

    check_input_file(path)  # a FIFO or device would block the read
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as e:
        raise DataError(f"无法打开栅格：{e}", path=path) from None
