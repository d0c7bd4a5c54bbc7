"""The web review page and HTTP API (``zoning serve``; the optional extra ``web``).

:func:`create_app` builds the ASGI app (FastAPI); :mod:`zoning.web.service`
holds the work without HTTP.  Importing this package needs no web library.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(config=None):
    """The ASGI app (see :func:`zoning.web.app.create_app`)."""
    from zoning.web.app import create_app as _create

    return _create(config)
