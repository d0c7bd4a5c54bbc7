"""Writing files, atomically: a file appears complete under its final name or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from glob import escape as glob_escape
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from zoning.errors import OutputExistsError, OutputLockedError

__all__ = ["OutputFolder", "atomic_path", "gdal_target", "write_text", "write_bytes", "write_json",
           "write_layers", "write_cog"]


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputExistsError(f"无法创建文件夹 {path.parent}：该位置已有同名文件") from None
    except PermissionError:
        raise OutputExistsError(f"无法创建文件夹 {path.parent}：没有权限") from None


@contextlib.contextmanager
def atomic_path(path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputExistsError(f"{path} 是文件夹，不是文件")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} 已存在")
    _make_parent(path)
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


@contextlib.contextmanager
def gdal_target(tmp: Path) -> Iterator[str]:
    """The path to hand pyogrio for writing ``tmp`` (a temporary file of
    :func:`atomic_path`).

    pyogrio parses paths as URIs: a ``!`` anywhere (an output folder named ``结果!``)
    or a ``;`` in the file name would make it write another file, or fail.  Such a
    ``tmp`` is written in a private temporary folder and moved beside its target
    afterwards (with any sidecar files, e.g. a shapefile's ``.dbf``); the final rename
    stays atomic.
    """
    text = str(tmp)
    if "!" not in text and ";" not in tmp.name:
        yield text
        return
    folder = Path(tempfile.mkdtemp(prefix="zoning-write-"))
    try:
        yield str(folder / f"x{tmp.suffix}")
        for f in folder.iterdir():
            shutil.move(str(f), str(tmp.with_suffix(f.suffix)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_layers(
    path,
    layers: Mapping[str, gpd.GeoDataFrame],
    metadata: Mapping[str, str] | None = None,
    layer_metadata: Mapping[str, Mapping[str, str]] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write several layers into one GeoPackage, atomically."""
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp, gdal_target(tmp) as target:
        for i, (name, gdf) in enumerate(layers.items()):
            lm = dict((layer_metadata or {}).get(name, {}))
            pyogrio.write_dataframe(
                gdf,
                target,
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




# --------------------------------------------------------------------------- run folders

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on an open file; False if another process has it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class OutputFolder:
    """Write a whole run into a staging folder, then swap it in for ``path`` at once.

    Used as a context manager::

        with OutputFolder(out, overwrite=True) as stage:
            write_text(stage.tmp / "a.txt", "…")
        # out now holds exactly what was written into stage.tmp

    * A lock file beside ``path`` (``.NAME.lock``, an OS lock released when the
      process ends, even by SIGKILL) refuses a second concurrent run with
      :class:`~zoning.errors.OutputLockedError`.
    * The staging folder (``.NAME.tmp-PID-…``) is swapped in with one atomic
      exchange (Linux ``renameat2``), or with two renames elsewhere; a run
      killed between those renames is repaired by the next one.  So ``path``
      always holds either the whole previous run or the whole new one.
    * Staging folders left by killed runs are removed by the next run.
    * An existing ``path`` is replaced only with ``overwrite``, and only when
      it holds nothing but files of a run (``known`` names, or ``maps/``):
      a folder with other files is refused rather than swapped away.
    """

    def __init__(self, path, overwrite: bool = False, known: tuple[str, ...] = ()):
        self.path = Path(path).absolute()
        self.overwrite = overwrite
        self.known = set(known)
        self.tmp = self.path
        self._fd: int | None = None
        self.committed = False

    def _sibling(self, tag: str) -> Path:
        return self.path.parent / f".{self.path.name}.{tag}"

    def _leftovers(self, kind: str) -> list[Path]:
        return sorted(self.path.parent.glob(f".{glob_escape(self.path.name)}.{kind}-*"))

    def _recover(self) -> None:
        """Repair what a killed run left: restore a moved-away folder, drop staging folders."""
        olds = self._leftovers("old")
        if olds and not self.path.exists():
            os.rename(olds[-1], self.path)  # killed between the two renames: the old run wins
            olds = olds[:-1]
        for p in olds + self._leftovers("tmp"):
            shutil.rmtree(p, ignore_errors=True)

    def _check_existing(self) -> None:
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise OutputExistsError(f"{self.path} 已存在且不是文件夹")
        names = {p.name for p in self.path.iterdir()}
        ours = names & self.known
        if ours and not self.overwrite:
            raise OutputExistsError(f"{self.path} 中已有上次的结果（{', '.join(sorted(ours))}）")
        foreign = {n for n in names - self.known - {"maps"}
                   if not any(n.startswith(k + ".") for k in self.known)}  # e.g. .aux.xml
        if foreign and ours:
            raise OutputExistsError(f"{self.path} 中还有其他文件（{', '.join(sorted(foreign)[:5])}）"
                                    "，不会被替换：请换一个新文件夹")
        if foreign:
            raise OutputExistsError(f"{self.path} 不是空文件夹（{', '.join(sorted(foreign)[:5])}）"
                                    "：请换一个新的或空的文件夹")

    def __enter__(self) -> OutputFolder:
        _make_parent(self.path)
        self._fd = os.open(self._sibling("lock"), os.O_RDWR | os.O_CREAT, 0o644)
        if not _lock(self._fd):
            os.close(self._fd)
            self._fd = None
            raise OutputLockedError(f"{self.path} 正由另一次运行写入")
        try:
            os.ftruncate(self._fd, 0)
            os.write(self._fd, str(os.getpid()).encode())
            self._recover()
            self._check_existing()
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.tmp-{os.getpid()}-",
                                             dir=self.path.parent))
        except BaseException:
            self._release()
            raise
        return self

    def commit(self) -> None:
        """Swap the staging folder in (called by ``__exit__`` on success)."""
        if self.committed:
            return
        if not self.path.exists():
            os.rename(self.tmp, self.path)
        elif _exchange(self.tmp, self.path):
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.old-", dir=self.path.parent))
            os.rmdir(old)
            os.rename(self.path, old)
            os.rename(self.tmp, self.path)
            shutil.rmtree(old, ignore_errors=True)
        self.tmp = self.path
        self.committed = True

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the OS lock
            self._fd = None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.commit()
            elif self.tmp != self.path:
                shutil.rmtree(self.tmp, ignore_errors=True)
        finally:
            self._release()
