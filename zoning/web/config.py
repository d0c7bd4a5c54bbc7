"""Settings of the web service: catalogs, access token, limits and the job folder.

A :class:`WebConfig` travels to every worker process as JSON in the
``ZONING_WEB_CONFIG`` environment variable, so ``--workers N`` processes
share one job folder and the same limits while each keeps its own warm
layer indexes.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field, fields

from zoning.errors import OptionError

__all__ = ["WebConfig", "ENV_VAR", "is_loopback"]

#: environment variable holding the JSON config for worker processes
ENV_VAR = "ZONING_WEB_CONFIG"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class WebConfig:
    """Everything a worker needs to serve; every limit has a safe default."""

    catalogs: list[str] = field(default_factory=list)  # manifest paths; empty: bundled
    region: str | None = None
    token: str | None = None
    job_root: str = ""  # shared folder of per-job subfolders (created by the server)
    tianditu_key: str | None = None
    max_upload_bytes: int = 20_000_000  # one request body
    max_form_fields: int = 40
    max_coordinate_chars: int = 200_000  # pasted coordinates / GeoJSON text
    max_vertices: int = 200_000  # of one footprint
    max_batch_rows: int = 5000
    check_timeout_s: float = 60.0  # one /api/check
    check_threads: int = 2  # concurrent checks per worker (the GIL: scale with workers)
    max_queued_jobs: int = 8  # batch jobs waiting or running per worker
    job_ttl_s: float = 3600.0  # job folders removed this long after their last change
    max_jobs: int = 20_000  # job folders kept at most (oldest removed first)
    preload: bool = True  # build the indexes when the worker starts

    def __post_init__(self) -> None:
        for f in ("max_upload_bytes", "max_form_fields", "max_coordinate_chars",
                  "max_vertices", "max_batch_rows", "check_threads", "max_queued_jobs",
                  "max_jobs"):
            if int(getattr(self, f)) < 1:
                raise OptionError(f"{f} must be at least 1")
        for f in ("check_timeout_s", "job_ttl_s"):
            if not float(getattr(self, f)) > 0:
                raise OptionError(f"{f} must be a positive number of seconds")
        if self.token is not None and len(self.token) < 8:
            raise OptionError("the access token must have at least 8 characters")

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> WebConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    @classmethod
    def from_env(cls) -> WebConfig:
        text = os.environ.get(ENV_VAR)
        return cls.from_json(text) if text else cls()
