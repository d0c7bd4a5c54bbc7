"""Files shipped inside the package: vendored web assets and templates."""

from __future__ import annotations

from pathlib import Path

__all__ = ["static_path", "static_text", "static_bytes", "read_template"]

_STATIC = Path(__file__).resolve().parent.parent / "report" / "static"


def static_path(rel: str) -> Path:
    """Path of a shipped static file, e.g. ``"leaflet/leaflet.js"``."""
    p = (_STATIC / rel).resolve()
    if _STATIC.resolve() not in p.parents:
        raise ValueError(f"not a static file: {rel!r}")
    return p


def static_text(rel: str) -> str:
    return static_path(rel).read_text("utf-8")


def static_bytes(rel: str) -> bytes:
    return static_path(rel).read_bytes()


def read_template(path) -> bytes:
    """A user's Word template (.docx): its content, or a clear error for a missing or
    non-.docx file."""
    from zoning.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError("Word 模板文件不存在", path=path)
    data = path.read_bytes()
    if not data.startswith(b"PK"):
        raise DataError("不是 Word .docx 文件（是否为 .doc 或其他格式？）", path=path)
    return data
