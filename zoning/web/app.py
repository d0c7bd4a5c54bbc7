"""The ASGI application: the review page, the JSON API and the OpenAPI docs.

Built with FastAPI; run by ``zoning serve`` on uvicorn.  Every error is JSON
``{code, message}`` (see :mod:`zoning.web.errors`); every response carries a
Content-Security-Policy; request bodies are size-limited before they are
read; ``/api`` needs the access token when one is set.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from zoning import __version__
from zoning.errors import ZoningError, require
from zoning.options import CheckOptions
from zoning.web.config import WebConfig
from zoning.web.errors import (
    STATUS,
    BadRequest,
    Timeout,
    TooLarge,
    Unauthorized,
    error_body,
)
from zoning.web.service import DOWNLOADS, LIST_SUFFIXES, SITE_SUFFIXES, Service

require("fastapi", "web", "zoning serve ")

from fastapi import FastAPI, Query, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import (  # noqa: E402
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

__all__ = ["create_app", "create_app_from_env"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
LEAFLET = Path(__file__).resolve().parents[1] / "report" / "static" / "leaflet"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob: https://*.tile.openstreetmap.org https://*.tianditu.gov.cn; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
_ATTR_FIELDS = ("industry", "nature", "takes_land", "activity", "major_project",
                "project_type", "energy_tce", "tailings", "purpose")
_OPTION_FIELDS = ("radius_m", "min_report_m2", "area_method")


# --------------------------------------------------------------------------- middleware


class Guard:
    """Pure ASGI middleware: body size limit, token for /api, security headers."""

    def __init__(self, app, config: WebConfig):
        self.app = app
        self.limit = config.max_upload_bytes + 64_000  # the multipart framing
        self.token = config.token

    def _authorised(self, scope) -> bool:
        if not self.token:
            return True
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        cookie = headers.get(b"cookie", b"").decode("latin-1")
        given = [auth[7:].strip()] if auth.lower().startswith("bearer ") else []
        given += [c.split("=", 1)[1] for c in cookie.split("; ") if c.startswith("zoning_token=")]
        return any(hmac.compare_digest(g.encode(), self.token.encode()) for g in given)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        t0 = time.perf_counter()

        async def send_headers(message):
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - t0) * 1000:.2f}".encode()
                message["headers"] = list(message.get("headers", [])) + _HEADERS + [
                    (b"server-timing", took)]
            await send(message)

        path = scope.get("path", "")
        if path.startswith("/api/") and path != "/api/health" and not self._authorised(scope):
            return await _json(send_headers, 401, error_body("unauthorized"))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _json(send_headers, 413, error_body(
                "too_large", f"请求体超过 {self.limit // 1_000_000} MB 上限"))
        seen = [0]

        async def counted():
            message = await receive()
            seen[0] += len(message.get("body", b""))
            if seen[0] > self.limit:
                raise TooLarge(f"请求体超过 {self.limit // 1_000_000} MB 上限")
            return message

        return await self.app(scope, counted, send_headers)


async def _json(send, status: int, body: dict) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


# --------------------------------------------------------------------------- errors


def _clean_detail(text: str, service: Service | None, filename: str = "") -> str:
    """An error's text without server paths (uploads are named by the client's file name)."""
    if service is not None:
        root = re.escape(str(service.store.root))
        text = text.replace("/vsizip/", "")
        text = re.sub(root + r"[/\\][0-9a-f]{32}[/\\]input[/\\](?:upload\.\w+|list\.csv)",
                      lambda m: filename or "上传文件", text)
        text = re.sub(root + r"[/\\]?([0-9a-f]{32}[/\\]?)?", "", text)
    return text


def _error_response(code: str, detail: str, status: int | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, detail), status_code=status or STATUS.get(code, 400))


def _install_error_handlers(app: FastAPI) -> None:
    async def zoning_error(request: Request, exc: ZoningError):
        service = getattr(request.app.state, "service", None)
        return _error_response(exc.code, _clean_detail(str(exc), service))

    async def validation_error(request: Request, exc: RequestValidationError):
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', '')}"
                 for e in exc.errors()[:5]]
        return _error_response("bad_request", "; ".join(parts), 422)

    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "bad_request")
        return _error_response(code, "" if code == "not_found" else str(exc.detail),
                               exc.status_code)

    async def internal_error(request: Request, exc: Exception):
        log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
        resp = _error_response("internal_error", "", 500)
        resp.headers.update({k.decode(): v.decode() for k, v in _HEADERS})
        return resp

    app.add_exception_handler(ZoningError, zoning_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)


# --------------------------------------------------------------------------- helpers


async def _read_request(request: Request, config: WebConfig) -> tuple[dict, Any]:
    """(fields, upload or None) of a multipart/urlencoded form or a JSON body."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except ValueError as e:
            raise BadRequest(f"请求体不是有效的 JSON：{e}") from None
        if not isinstance(body, dict):
            raise BadRequest("JSON 请求体应为对象")
        return body, None
    if not (ctype.startswith("multipart/form-data")
            or ctype.startswith("application/x-www-form-urlencoded")):
        raise BadRequest("请用 multipart/form-data（上传文件）或 application/json 提交")
    try:
        form = await request.form(max_files=1, max_fields=config.max_form_fields,
                                  max_part_size=config.max_upload_bytes)
    except StarletteHTTPException as e:
        raise BadRequest(str(e.detail)) from None
    fields: dict[str, Any] = {}
    upload = None
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields[key] = value
        elif value.filename is not None:
            upload = value
    return fields, upload


def _options(fields: dict) -> CheckOptions:
    raw = fields.get("options") if isinstance(fields.get("options"), dict) else fields
    kw = {k: raw[k] for k in _OPTION_FIELDS if raw.get(k) not in (None, "")}
    return CheckOptions(**kw)


def _attributes(fields: dict) -> dict:
    raw = fields.get("attributes") if isinstance(fields.get("attributes"), dict) else fields
    return {k: raw.get(k) for k in _ATTR_FIELDS}


def _client_name(upload) -> str:
    name = str(upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:200]


async def _upload_bytes(upload, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"文件超过 {limit // 1_000_000} MB 上限")
    if not data:
        raise BadRequest("上传的文件是空的")
    return data


async def _in_thread(request: Request, fn, *args, timeout: float | None = None):
    """Run ``fn(*args)`` in the check pool, within the per-request time limit."""
    if timeout is None:
        timeout = request.app.state.service.config.check_timeout_s
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(request.app.state.pool, partial(fn, *args))
    try:
        return await asyncio.wait_for(fut, timeout)
    except TimeoutError:
        raise Timeout(f"超过 {timeout:g} 秒") from None


# --------------------------------------------------------------------------- check


def _site(service: Service, folder: Path, fields: dict, upload_path: Path | None):
    crs = fields.get("crs") or None
    coord_sys = fields.get("coord_sys") or None
    if upload_path is not None:
        return service.site_from_upload(upload_path, crs, coord_sys)
    gj = fields.get("geojson", fields.get("geometry"))
    if gj not in (None, ""):
        if isinstance(gj, str):
            if len(gj) > service.config.max_coordinate_chars:
                raise TooLarge("GeoJSON 文本过长")
            try:
                gj = json.loads(gj)
            except ValueError as e:
                raise BadRequest(f"GeoJSON 不是有效的 JSON：{e}") from None
        return service.site_from_geojson(gj, crs, coord_sys)
    text = fields.get("coordinates")
    if text:
        return service.site_from_text(str(text), str(fields.get("shape") or "polygon"),
                                      coord_sys)
    raise BadRequest("没有项目范围：请上传文件、提交 GeoJSON 或粘贴坐标")


def _run_check(service: Service, folder: Path, job_id: str, fields: dict,
               upload_path: Path | None, filename: str, store: bool) -> tuple[bytes, float]:
    """The check's JSON and the milliseconds its work took (in this thread)."""
    t0 = time.perf_counter()
    site = _site(service, folder, fields, upload_path)
    stem = Path(filename).stem if filename else ""
    name = str(fields.get("name") or stem)
    project = service.project(site, _attributes(fields),
                              str(fields.get("project_id") or stem or ""), name)
    result, overlaps = service.check(project, _options(fields))
    body = json.dumps(result.to_dict(), ensure_ascii=False).encode("utf-8")
    if store and folder.is_dir():  # not when the request has timed out meanwhile
        service.record(folder, b"[" + body + b"]", [project], overlaps)
        st = service.store.first_status(job_id, "check", filename=filename)
        service.store.write_status(job_id, dict(st, state="done", total=1, done=1, counts={
            "rows": 1, "ok": int(result.ok)}, finished=time.time()))
    return body, (time.perf_counter() - t0) * 1000


async def check_endpoint(request: Request, store: bool = Query(
        True, description="keep the result for the map and downloads (GET /api/jobs/{id})")):
    """Check one site: a file, GeoJSON or pasted coordinates, plus the project attributes.

    Returns the ``zoning.check/1`` JSON (``CheckResult.to_dict()``).  The job id
    (for ``/api/jobs/{id}/map`` and the downloads) is in the ``X-Zoning-Job`` header.
    """
    service: Service = request.app.state.service
    cfg = service.config
    fields, upload = await _read_request(request, cfg)
    filename = _client_name(upload) if upload is not None else ""
    job_id, folder = service.store.create("check", announce=False)
    upload_path = None
    try:
        if upload is not None:
            data = await _upload_bytes(upload, cfg.max_upload_bytes)
            upload_path = service.save_upload(folder, filename, data, SITE_SUFFIXES)
        body, work_ms = await _in_thread(request, _run_check, service, folder, job_id, fields,
                                         upload_path, filename, store,
                                         timeout=cfg.check_timeout_s)
    except ZoningError as e:
        service.store.remove(job_id)
        return _error_response(e.code, _clean_detail(str(e), service, filename))
    except BaseException:
        service.store.remove(job_id)
        raise
    if not store:
        service.store.remove(job_id)
    headers = {"X-Zoning-Job": job_id, "Location": f"/api/jobs/{job_id}"} if store else {}
    headers["Server-Timing"] = f"work;dur={work_ms:.2f}"
    return Response(body, media_type="application/json", headers=headers)


_CHECK_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "部标 TXT, KML/KMZ, zipped shapefile, GeoJSON, DXF or "
                                    "GeoPackage"},
            "geojson": {"type": "string", "description": "GeoJSON text (instead of a file)"},
            "coordinates": {"type": "string",
                            "description": "one 'lon lat' a line, decimal or 度分秒"},
            "shape": {"type": "string", "enum": ["polygon", "line", "point"]},
            "coord_sys": {"type": "string", "enum": ["cgcs2000", "wgs84", "gcj02", "bd09"]},
            "crs": {"type": "string", "description": "CRS of a file without one"},
            "name": {"type": "string"}, "project_id": {"type": "string"},
            **{k: {"type": "string"} for k in _ATTR_FIELDS + _OPTION_FIELDS}}}},
        "application/json": {"schema": {"type": "object", "properties": {
            "geometry": {"type": "object", "description": "GeoJSON geometry, Feature or "
                                                          "FeatureCollection (lon/lat)"},
            "coordinates": {"type": "string"}, "shape": {"type": "string"},
            "coord_sys": {"type": "string"}, "name": {"type": "string"},
            "attributes": {"type": "object", "properties": {
                k: {"type": ["string", "number", "boolean", "null"]} for k in _ATTR_FIELDS}},
            "options": {"type": "object"}}}},
    },
}


# --------------------------------------------------------------------------- batch


async def screen_endpoint(request: Request):
    """Start a batch screening of a project list (xlsx/csv, or a vector file).

    Returns ``202`` with the job id; poll ``GET /api/jobs/{id}`` for progress.
    """
    service: Service = request.app.state.service
    cfg = service.config
    fields, upload = await _read_request(request, cfg)
    if upload is None:
        raise BadRequest("请上传项目清单文件（xlsx/csv，或每个要素一个项目的矢量文件）")
    filename = _client_name(upload)
    data = await _upload_bytes(upload, cfg.max_upload_bytes)
    opts = _options(fields)
    job_id, folder = service.store.create("screen", filename=filename)
    try:
        path = service.save_upload(folder, filename, data, LIST_SUFFIXES)
        service.start_batch(job_id, path, fields.get("crs"), fields.get("coord_sys"), opts)
    except ZoningError:
        service.store.remove(job_id)
        raise
    return JSONResponse({"id": job_id, "status": f"/api/jobs/{job_id}"}, status_code=202,
                        headers={"Location": f"/api/jobs/{job_id}"})


def _job_view(service: Service, job_id: str) -> dict:
    st = service.store.status(job_id)
    total = st.get("total") or 0
    out = {k: st.get(k) for k in ("id", "kind", "state", "done", "total", "counts",
                                  "filename", "created", "finished")}
    out["percent"] = 100.0 if st.get("state") == "done" else (
        round(100.0 * (st.get("done") or 0) / total, 1) if total else 0.0)
    if st.get("error"):
        err = st["error"]
        out["error"] = error_body(err.get("code", "error"),
                                  _clean_detail(err.get("detail", ""), service,
                                                st.get("filename") or ""))
    if st.get("state") == "done":
        out["results"] = [_summary(d) for d in service.results(job_id)]
        reports = service.reports() if st.get("kind") == "check" else []
        out["downloads"] = {n: f"/api/jobs/{job_id}/files/{n}" for n in DOWNLOADS
                            if not n.startswith("report.") or n in reports}
    return out


def _summary(d: dict) -> dict:
    return {k: d.get(k) for k in ("row", "project_id", "name", "status", "error", "region",
                                  "geometry_type", "area", "length_m", "state", "state_zh")}


# --------------------------------------------------------------------------- app


def _routes(app: FastAPI) -> None:
    from zoning.web import meta

    app.add_api_route("/api/check", check_endpoint, methods=["POST"], tags=["check"],
                      summary="检查一个项目 (check one site)",
                      openapi_extra={"requestBody": _CHECK_BODY})
    app.add_api_route("/api/screen", screen_endpoint, methods=["POST"], status_code=202,
                      summary="批量筛查 (start a batch screening)",
                      tags=["batch"], openapi_extra={"requestBody": _CHECK_BODY | {
                          "description": "a project list file (field 'file')"}})

    @app.get("/api/jobs/{job_id}", tags=["batch"])
    async def job(job_id: str, request: Request):
        """A job's state and progress; when done, a summary row per project and downloads."""
        return await _in_thread(request, _job_view, request.app.state.service, job_id)

    @app.get("/api/jobs/{job_id}/results", tags=["batch"])
    async def job_results(job_id: str, request: Request):
        """Every result of a job, each ``zoning.check/1``."""
        return await _in_thread(request, request.app.state.service.results, job_id)

    @app.get("/api/jobs/{job_id}/map", tags=["batch"])
    async def job_map(job_id: str, request: Request, row: int = 1):
        """GeoJSON of one project's footprint, overlaps and nearby layer features."""
        return await _in_thread(request, request.app.state.service.map_data, job_id, row)

    @app.get("/api/jobs/{job_id}/files/{name}", tags=["batch"])
    async def job_file(job_id: str, name: str, request: Request):
        """Download: report.docx / report.pdf (a single check), screening.xlsx,
        overlaps.geojson, footprints.geojson, results.json, outputs.zip."""
        service = request.app.state.service
        data = await _in_thread(request, service.download, job_id, name)
        media = DOWNLOADS[name][0]
        save = await _in_thread(request, service.save_name, job_id, name)
        return Response(data, media_type=media, headers={  # RFC 6266: ASCII, then UTF-8
            "Content-Disposition": f'attachment; filename="{name}"; '
                                   f"filename*=UTF-8''{quote(save, safe='')}"})

    meta.add_routes(app)
    _pages(app)


def _pages(app: FastAPI) -> None:
    app.mount("/static/leaflet", StaticFiles(directory=LEAFLET), name="leaflet")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index(request: Request, token: str | None = None):
        cfg: WebConfig = request.app.state.service.config
        if token is not None and cfg.token:
            if not hmac.compare_digest(token.encode(), cfg.token.encode()):
                raise Unauthorized("令牌不正确")
            resp = RedirectResponse("/", status_code=303)
            resp.set_cookie("zoning_token", cfg.token, httponly=True, samesite="strict")
            return resp
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return FileResponse(STATIC / "docs.html", media_type="text/html; charset=utf-8")


#: a server's own job folder carries this file, touched at every sweep (a heartbeat)
ALIVE = ".alive"
#: another server's job folder whose heartbeat is older than this is a dead server's
DEAD_AFTER_S = 600.0


async def _sweeper(service: Service, own_root: bool) -> None:
    period = max(1.0, min(60.0, service.config.job_ttl_s / 4))
    while True:
        await asyncio.sleep(period)
        if own_root:
            Path(service.config.job_root, ALIVE).touch()
        await asyncio.to_thread(service.store.sweep)


def remove_dead_roots(parent: Path, now: float | None = None) -> list[Path]:
    """Remove the job folders (``zoning-web-*``) that servers killed before they could
    clean up left in ``parent``: those whose heartbeat (or, without one, the folder
    itself) is older than :data:`DEAD_AFTER_S`.  Returns the folders removed."""
    now = time.time() if now is None else now
    gone = []
    for root in Path(parent).glob("zoning-web-*"):
        try:
            beat = root / ALIVE
            last = (beat if beat.exists() else root).stat().st_mtime
        except OSError:
            continue
        if root.is_dir() and not root.is_symlink() and now - last > DEAD_AFTER_S:
            shutil.rmtree(root, ignore_errors=True)
            gone.append(root)
    return gone


def create_app(config: WebConfig | None = None) -> FastAPI:
    """The ASGI app of ``zoning serve``.

    Without ``config.job_root`` the app makes its own temporary job folder and
    removes it when it stops.
    """
    config = config or WebConfig()
    own_root = not config.job_root
    if own_root:
        dead = remove_dead_roots(Path(tempfile.gettempdir()))
        if dead:
            log.info("removed %d job folder(s) left by servers that were killed", len(dead))
        config.job_root = tempfile.mkdtemp(prefix="zoning-web-")
        Path(config.job_root, ALIVE).touch()
    service = Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if config.preload:
            await asyncio.to_thread(service.preload)
        task = asyncio.create_task(_sweeper(service, own_root))
        try:
            yield
        finally:
            task.cancel()
            service.queue.shutdown()
            app.state.pool.shutdown(wait=False, cancel_futures=True)
            if own_root:
                shutil.rmtree(config.job_root, ignore_errors=True)

    app = FastAPI(title="zoning 建设项目选址合规筛查 API", version=__version__,
                  docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Check a site against 三区三线, 自然保护地 and 三线一单. Errors are "
                              "JSON {code, message}.")
    app.state.service = service
    app.state.pool = ThreadPoolExecutor(max_workers=config.check_threads,
                                        thread_name_prefix="zoning-check")
    _install_error_handlers(app)
    _routes(app)
    app.add_middleware(Guard, config=config)
    return app


def create_app_from_env() -> FastAPI:
    """The app configured from ``ZONING_WEB_CONFIG`` (how worker processes start)."""
    return create_app(WebConfig.from_env())
