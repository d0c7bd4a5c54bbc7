"""Where the bundled data lives.

In a source checkout the bundled layer catalogs and seed data are the top-level
``layers/`` and ``seeds/`` folders.  A wheel carries copies of both under
``zoning/_bundled/`` so that a non-editable install finds them from any working
directory.  Nothing else in the package builds paths to bundled data.
"""

from __future__ import annotations

from pathlib import Path

from zoning.errors import DataError

_PKG = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """Folder that holds ``layers/`` and ``seeds/``."""
    inside = _PKG / "_bundled"
    if (inside / "layers").is_dir():
        return inside
    checkout = _PKG.parent
    if (checkout / "layers").is_dir() and (checkout / "seeds").is_dir():
        return checkout
    raise DataError(
        f"bundled data not found: neither {inside} nor {checkout} holds layers/ and seeds/"
    )


def layers_dir() -> Path:
    return bundled_root() / "layers"


def seeds_dir() -> Path:
    return bundled_root() / "seeds"
