"""Per-job folders on disk: uploads, status and results, removed after a time to live.

Every check and every batch screening is a *job* with a folder named by a
random id under the server's job root.  The folder holds the upload (under
a name the server chose), ``status.json`` (written atomically) and the
results.  Because the state lives on disk, any worker process can answer
for any job.  Nothing a client sends is ever used as a path: ids are checked
against a strict pattern and file names against a fixed list.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from zoning.errors import ZoningError
from zoning.io.write import write_bytes

__all__ = ["JobStore", "JobQueue", "BusyError", "NotFoundError"]

log = logging.getLogger(__name__)

_ID = re.compile(r"[0-9a-f]{32}")


class NotFoundError(ZoningError, LookupError):
    """A job or file that does not exist (or has expired)."""

    code = "not_found"
    title_zh = "未找到"


class BusyError(ZoningError, RuntimeError):
    """The job queue is full."""

    code = "busy"
    title_zh = "服务器繁忙，请稍后再试"


class JobStore:
    """Job folders under ``root``; ids are random 128-bit hex strings."""

    def __init__(self, root: Path, ttl_s: float = 3600.0, max_jobs: int = 20_000):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self.max_jobs = max_jobs

    def create(self, kind: str, announce: bool = True, **status: Any) -> tuple[str, Path]:
        """A new job folder; returns (id, folder).

        With ``announce`` its first status is written at once (the job is visible);
        otherwise the job exists once :meth:`write_status` is called.
        """
        job_id = secrets.token_hex(16)
        folder = self.root / job_id
        (folder / "input").mkdir(parents=True)
        if announce:
            self.write_status(job_id, self.first_status(job_id, kind, **status))
        return job_id, folder

    @staticmethod
    def first_status(job_id: str, kind: str, **status: Any) -> dict:
        return dict(id=job_id, kind=kind, state="queued", done=0, total=0, created=time.time(),
                    **status)

    def folder(self, job_id: str) -> Path:
        """The folder of an existing job; :class:`NotFoundError` otherwise."""
        if not isinstance(job_id, str) or not _ID.fullmatch(job_id):
            raise NotFoundError("没有这个任务")
        folder = self.root / job_id
        if not (folder / "status.json").is_file():
            raise NotFoundError("没有这个任务（可能已过期）")
        return folder

    def status(self, job_id: str) -> dict:
        path = self.folder(job_id) / "status.json"
        try:
            return json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            raise NotFoundError("没有这个任务（可能已过期）") from None

    def write_status(self, job_id: str, status: dict) -> None:
        data = json.dumps(dict(status, updated=time.time()), ensure_ascii=False)
        write_bytes(self.root / job_id / "status.json", data.encode("utf-8"))

    def update(self, job_id: str, **changes: Any) -> dict:
        st = self.status(job_id)
        st.update(changes)
        self.write_status(job_id, st)
        return st

    def remove(self, job_id: str) -> None:
        if _ID.fullmatch(job_id):
            shutil.rmtree(self.root / job_id, ignore_errors=True)

    def sweep(self, now: float | None = None) -> int:
        """Remove job folders idle longer than the TTL, and the oldest over the cap."""
        now = time.time() if now is None else now
        removed = 0
        try:
            entries = [(p.stat().st_mtime, p) for p in self.root.iterdir()
                       if p.is_dir() and _ID.fullmatch(p.name)]
        except OSError:
            return 0
        aged = []
        for mtime, p in entries:
            st = p / "status.json"
            try:
                mtime = max(mtime, st.stat().st_mtime)
            except OSError:
                pass
            aged.append((mtime, p))
        aged.sort()
        excess = len(aged) - self.max_jobs
        for i, (mtime, p) in enumerate(aged):
            if i < excess or now - mtime > self.ttl_s:
                shutil.rmtree(p, ignore_errors=True)
                removed += 1
        if removed:
            log.info("removed %d expired job folders", removed)
        return removed


class JobQueue:
    """A bounded queue of background jobs: one runs at a time, ``size`` may wait or run."""

    def __init__(self, size: int = 8, threads: int = 1):
        self.size = size
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="zoning-job")
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return self._pending

    def submit(self, fn, *args: Any) -> None:
        """Run ``fn(*args)`` in the background; :class:`BusyError` when the queue is full."""
        with self._lock:
            if self._pending >= self.size:
                raise BusyError(f"任务队列已满（{self.size} 个任务）")
            self._pending += 1

        def run() -> None:
            try:
                fn(*args)
            except Exception:  # the job records its own failure; never kill the pool
                log.exception("background job failed")
            finally:
                with self._lock:
                    self._pending -= 1

        self._pool.submit(run)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
