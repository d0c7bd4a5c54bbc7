"""Files shipped inside the package: vendored web assets and templates."""

from __future__ import annotations

from pathlib import Path

__all__ = ["static_path", "static_text", "static_bytes"]

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
