"""zoning: check where a construction project may be built against China's statutory layers.

The public API (imported lazily, so ``import zoning`` stays light):

* :func:`check` — one footprint against every layer of its region;
* :func:`screen` — a project table (see :func:`zoning.io.projects.read_projects`);
* :class:`CheckOptions`, :class:`State`, :class:`CheckResult`, :class:`ScreenResult`;
* :func:`load_index`, :func:`resolve_catalogs`, :func:`indicators`.

>>> import zoning
>>> zoning.State.PROHIBITED.zh
'禁止'
"""

from __future__ import annotations

import logging
from typing import Any

__version__ = "0.2.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {
    "check": "zoning.screen", "screen": "zoning.screen", "load_index": "zoning.screen",
    "ScreenResult": "zoning.screen", "IndexCache": "zoning.screen",
    "CheckOptions": "zoning.options", "State": "zoning.results",
    "CheckResult": "zoning.results", "LayerResult": "zoning.results",
    "Project": "zoning.project", "resolve_catalogs": "zoning.catalog",
    "indicators": "zoning.indicators", "read_projects": "zoning.io.projects",
    "read_footprint": "zoning.io.projects", "ZoningError": "zoning.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoning' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
