"""``zoning serve``: the review page and HTTP API on uvicorn."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

import click

from zoning.cli.common import catalog_option, err_console, region_option


def _open_when_up(url: str, health: str, timeout_s: float = 120.0) -> None:
    """Open the page in the default browser once the server answers."""
    import time
    import urllib.request
    import webbrowser

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(health, timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    webbrowser.open(url)
                    return
        except OSError:
            time.sleep(0.5)


def _exit_on_term(signum, frame) -> None:
    """SIGTERM ends the server like Ctrl-C, so the job folder is removed on the way out."""
    raise SystemExit(0)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@catalog_option
@region_option
@click.option("--token", envvar="ZONING_WEB_TOKEN",
              help="Access token for the API (or ZONING_WEB_TOKEN); open the page once "
                   "with ?token=… to sign in.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes; each keeps its own warm layer indexes.")
@click.option("--threads", "check_threads", type=click.IntRange(1, 64), default=2,
              show_default=True,
              help="Checks run at once per worker (more wait in line; use --workers to scale).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the browser.")
@click.option("--tianditu-key", envvar="ZONING_TIANDITU_KEY",
              help="天地图 key offered to the page (or ZONING_TIANDITU_KEY).")
@click.option("--max-upload-mb", type=click.FloatRange(0.1, 2000), default=20.0,
              show_default=True, help="Largest request body.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(1, 3600), default=60.0,
              show_default=True, help="Time limit of one check (s).")
@click.option("--job-ttl", "job_ttl_s", type=click.FloatRange(1, 30 * 86400),
              default=3600.0, show_default=True,
              help="Uploads and results are removed this long after a job's last change (s).")
def serve_cmd(host, port, catalogs, region, token, workers, check_threads, open_browser,
              tianditu_key, max_upload_mb, timeout_s, job_ttl_s):
    """Serve the review page and the JSON API (needs the extra: pip install "zoning[web]")."""
    from zoning.errors import require
    from zoning.web.config import ENV_VAR, WebConfig, is_loopback

    uvicorn = require("uvicorn", "web", "zoning serve ")
    require("fastapi", "web", "zoning serve ")
    if not is_loopback(host) and not token:
        raise click.UsageError(f"--host {host} accepts connections from other machines: "
                               "give --token (or ZONING_WEB_TOKEN) to protect the API")
    root = Path(tempfile.mkdtemp(prefix="zoning-web-"))
    config = WebConfig(catalogs=[str(c) for c in catalogs], region=region, token=token,
                       job_root=str(root), tianditu_key=tianditu_key,
                       max_upload_bytes=int(max_upload_mb * 1_000_000),
                       check_timeout_s=timeout_s, job_ttl_s=job_ttl_s,
                       check_threads=check_threads)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    err_console.print(f"zoning serve: {url}  (API 文档 http://{shown}:{port}/docs)")
    if open_browser:
        threading.Thread(target=_open_when_up, daemon=True,
                         args=(url, f"http://{shown}:{port}/api/health")).start()
    # uvicorn re-raises the signal it stopped on; a handler of ours makes that a clean exit
    signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        if workers == 1:
            from zoning.web.app import create_app

            uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
        else:
            os.environ[ENV_VAR] = config.to_json()
            uvicorn.run("zoning.web.app:create_app_from_env", factory=True, host=host,
                        port=port, workers=workers, log_level="warning")
    finally:
        shutil.rmtree(root, ignore_errors=True)
