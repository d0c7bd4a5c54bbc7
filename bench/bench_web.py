"""Load and soak test of ``zoning serve`` against the 1.2 M-patch Guiyang catalog (loopback only).

    .venv/bin/python bench/bench_web.py                   # load 60 s x 16 clients, then soak
    .venv/bin/python bench/bench_web.py --duration 20 --soak 2000   # shorter

Load: 16 client threads POST /api/check (GeoJSON of one 0.5–20 ha site each) for
``--duration`` seconds, at most ``--max-requests``.  Reported: client and server-side
(``Server-Timing``) latency percentiles, throughput, errors, and the server's RSS sampled
every second.  Baseline for the ratios: ``zoning.check()`` of the same sites called
in-process in this script (no HTTP), measured in the same run.

Soak: ``--soak`` mixed requests (checks, 部标 TXT uploads, malformed uploads, bad JSON,
over-limit bodies, unsupported types, job views, workbook downloads, layer listings) from
8 threads; then the server must still answer, its RSS must not have grown, and after the
job TTL its temporary folder must be empty (the server runs with ``TMPDIR`` set to a
folder of this script).

The data are made once by ``zoning seeds generate --scale 24 --region guiyang`` into
``--work`` (default /tmp/zoning-bench/web).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def prepare(work: Path) -> Path:
    """The scale-24 Guiyang layers and a catalog pointing at them."""
    import yaml

    gpkg = work / "s24" / "guiyang" / "layers.gpkg"
    if not gpkg.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "zoning", "seeds", "generate", "--scale", "24",
                        "--region", "guiyang", "--res-arcsec", "10", "--overwrite",
                        "--out", str(work / "s24")], check=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
        print(f"generated the scale-24 layers in {time.perf_counter() - t:.0f} s", flush=True)
    doc = yaml.safe_load((ROOT / "layers" / "guiyang.yaml").read_text("utf-8"))
    here = ROOT / "layers"
    for entry in doc["layers"].values():
        p = str(entry.get("path", ""))
        if p.endswith("guiyang/layers.gpkg"):
            entry["path"] = str(gpkg)
        elif p.endswith("landcover.tif"):
            entry["path"] = str(gpkg.with_name("landcover.tif"))
        elif p and not Path(p).is_absolute():
            entry["path"] = str((here / p).resolve())
        if entry.get("rules") and not Path(entry["rules"]).is_absolute():
            entry["rules"] = str((here / entry["rules"]).resolve())
    for key in ("rules", "access_rules"):
        if isinstance(doc.get(key), str) and not Path(doc[key]).is_absolute():
            doc[key] = str((here / doc[key]).resolve())
    cat = work / "catalog.yaml"
    cat.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return cat


def sites(n: int, seed: int = 7) -> list[dict]:
    """n irregular sites of 0.5–20 ha inside Guiyang's districts, as GeoJSON geometries."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import mapping

    d = gpd.read_file(ROOT / "seeds" / "boundaries.gpkg", layer="districts")
    d = d[d.region == "guiyang"].to_crs("EPSG:4545")
    region = shapely.union_all(d.geometry.values)
    shapely.prepare(region)
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = region.bounds
    polys = []
    while len(polys) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if not shapely.contains_xy(region, x, y):
            continue
        r = np.sqrt(rng.uniform(0.5e4, 20e4) / np.pi)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
        rad = r * rng.uniform(0.7, 1.3, 9)
        polys.append(shapely.Polygon(np.c_[x + rad * np.cos(ang), y + rad * np.sin(ang)]))
    geo = gpd.GeoSeries(polys, crs="EPSG:4545").to_crs("EPSG:4490")
    return [mapping(g) for g in geo]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(catalog: Path, port: int, tmp: Path, ttl: float,
                 threads: int = 2, workers: int = 1) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    log = open(tmp.parent / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    # the 1.2 M-patch layer is over the reader's default feature limit (meant for uploads)
    launcher = ("import sys; from zoning.limits import LIMITS; LIMITS.max_features = 5_000_000; "
                "from zoning.cli import main; sys.argv[0] = 'zoning'; main()")
    return subprocess.Popen([sys.executable, "-c", launcher, "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--catalog", str(catalog),
                             "--job-ttl", str(ttl), "--max-upload-mb", "2",
                             "--threads", str(threads), "--workers", str(workers)],
                            cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def wait_up(base: str, proc: subprocess.Popen, timeout: float = 600) -> float:
    import httpx

    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(base + "/api/health", timeout=2).json().get("warm"):
                return time.perf_counter() - t
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not start")


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self.stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]  # --workers
                self.samples.append((time.perf_counter() - t0,
                                     sum(p.memory_info().rss for p in procs) / 2 ** 20))
            except Exception:
                return
            self.stop.wait(1.0)

    def summary(self) -> dict:
        mb = np.array([m for _, m in self.samples])
        ts = np.array([t for t, _ in self.samples])
        half = len(mb) // 2
        slope = float(np.polyfit(ts[half:], mb[half:], 1)[0] * 60) if len(mb) > 4 else 0.0
        return {"rss_start_mb": round(float(mb[0]), 0), "rss_end_mb": round(float(mb[-1]), 0),
                "rss_max_mb": round(float(mb.max()), 0),
                "rss_slope_2nd_half_mb_per_min": round(slope, 1)}


def pct(a, q) -> float:
    return round(float(np.percentile(a, q)), 2) if len(a) else float("nan")


def load(base: str, geoms: list[dict], clients: int, duration: float, max_requests: int) -> dict:
    import httpx

    lat, srv, work, errors, states = [], [], [], [], {}
    lock = threading.Lock()
    count = [0]
    deadline = time.perf_counter() + duration

    def client(k: int) -> None:
        rnd = random.Random(k)
        with httpx.Client(base_url=base, timeout=60) as c:
            while time.perf_counter() < deadline:
                with lock:
                    if count[0] >= max_requests:
                        return
                    count[0] += 1
                g = geoms[rnd.randrange(len(geoms))]
                t = time.perf_counter()
                try:
                    r = c.post("/api/check", json={"geometry": g, "attributes": {
                        "industry": "C2614"}})
                except httpx.HTTPError as e:
                    with lock:
                        errors.append(repr(e))
                    if isinstance(e, httpx.ConnectError):  # the server is gone: stop
                        return
                    continue
                dt = (time.perf_counter() - t) * 1000
                timing = dict(v.split(";dur=") for v in r.headers.get_list("server-timing"))
                with lock:
                    lat.append(dt)
                    srv.append(float(timing.get("app", "nan")))
                    work.append(float(timing.get("work", "nan")))
                    if r.status_code != 200:
                        errors.append(r.status_code)
                    else:
                        s = r.json()["state"]
                        states[s] = states.get(s, 0) + 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    return {"requests": len(lat), "seconds": round(took, 1),
            "throughput_rps": round(len(lat) / took, 1), "errors": len(errors),
            "client_p50_ms": pct(lat, 50), "client_p95_ms": pct(lat, 95),
            "client_p99_ms": pct(lat, 99), "server_p50_ms": pct(srv, 50),
            "server_p95_ms": pct(srv, 95), "server_p99_ms": pct(srv, 99),
            "work_p50_ms": pct(work, 50), "work_p95_ms": pct(work, 95),
            "work_p99_ms": pct(work, 99), "states": states}


def warm_up(base: str, geoms: list[dict], passes: int, clients: int) -> None:
    """Every site ``passes`` times, so each worker's layer row-group cache holds what the
    sites touch before memory is watched (the cache is bounded; filling it is not a leak)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    def post(g: dict) -> None:
        httpx.post(base + "/api/check", params={"store": "false"}, json={
            "geometry": g, "attributes": {"industry": "C2614"}}, timeout=60)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, [g for _ in range(passes) for g in geoms]))


def inprocess_baseline(catalog: Path, geoms: list[dict], n: int = 300) -> dict:
    """zoning.check() of the same sites without HTTP (same catalog, warm index)."""
    from shapely.geometry import shape

    from zoning.catalog import load_catalog
    from zoning.limits import LIMITS
    from zoning.screen import check, load_index

    LIMITS.max_features = 5_000_000  # as the server (see start_server)
    cat = load_catalog(catalog)
    load_index(cat)
    ts = []
    for g in geoms[:n]:
        t = time.perf_counter()
        # coord_sys declared as the server's GeoJSON sites are: an undeclared lon/lat
        # footprint would also be checked as GCJ-02 for the warning (twice the work)
        check(shape(g), cat, coord_sys="wgs84", industry="C2614")
        ts.append((time.perf_counter() - t) * 1000)
    return {"inprocess_p50_ms": pct(ts, 50), "inprocess_p95_ms": pct(ts, 95)}


def _malformed() -> list[tuple[str, bytes]]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.shp", b"\0" * 100)
    return [("bad.kml", b"<kml><Document><Placemark>"), ("bad.zip", buf.getvalue()[:-10]),
            ("bad.zip", buf.getvalue()), ("bad.geojson", b"{\"type\": \"Polygon\"}"),
            ("bad.txt", "[地块坐标]\nJ1,1,abc\n".encode("gbk")), ("bad.exe", b"MZ"),
            ("bad.dxf", b"0\nSECTION\n"), ("bad.gpkg", b"SQLite format 3\0" + b"\0" * 200),
            ("empty.kml", b"")]


def _soak_one(c, i: int, rnd: random.Random, geoms, txt: bytes, bad, job_ids) -> int:
    kind = rnd.random()
    if kind < 0.40:
        r = c.post("/api/check", json={"geometry": geoms[rnd.randrange(len(geoms))]})
        if r.status_code == 200 and len(job_ids) < 200:
            job_ids.append(r.headers["x-zoning-job"])
    elif kind < 0.55:
        r = c.post("/api/check", files={"file": ("GY-012.txt", txt)})
    elif kind < 0.80:
        name, data = bad[rnd.randrange(len(bad))]
        r = c.post("/api/check", files={"file": (name, data)})
        assert r.status_code >= 400 and set(r.json()) == {"code", "message"}, r.text
    elif kind < 0.84:
        r = c.post("/api/check", content=b"{not json", headers={
            "content-type": "application/json"})
    elif kind < 0.86:
        import httpx

        try:  # refused before it is read: a 413, or a reset while the client still sends
            r = c.post("/api/check", files={"file": ("big.txt", b"x" * 2_500_000)})
        except httpx.TransportError:
            return -413
        assert r.status_code == 413
    elif kind < 0.90:
        r = c.post("/api/check", data={"coordinates": "106.7 x\n" * 3})
    elif kind < 0.95 and job_ids:
        r = c.get(f"/api/jobs/{rnd.choice(job_ids)}")
    elif kind < 0.97 and job_ids:
        r = c.get(f"/api/jobs/{rnd.choice(job_ids)}/files/screening.xlsx")
    else:
        r = c.get("/api/layers")
    return r.status_code


def soak(base: str, geoms, n: int, threads: int = 8) -> dict:
    import httpx

    txt = (ROOT / "seeds" / "projects" / "GY-012_勘测定界.txt").read_bytes()
    bad = _malformed()
    codes: dict[int, int] = {}
    failures: list[str] = []
    job_ids: list[str] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker(k: int) -> None:
        rnd = random.Random(100 + k)
        with httpx.Client(base_url=base, timeout=120) as c:
            for i in counter:
                try:
                    code = _soak_one(c, i, rnd, geoms, txt, bad, job_ids)
                except Exception as e:  # noqa: BLE001 - counted and reported
                    with lock:
                        failures.append(f"{type(e).__name__}: {str(e)[:200]}")
                    continue
                with lock:
                    codes[code] = codes.get(code, 0) + 1

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return {"requests": sum(codes.values()), "seconds": round(time.perf_counter() - t0, 1),
            "status_codes": dict(sorted(codes.items())), "client_failures": len(failures),
            "failure_samples": failures[:5], "server_500": codes.get(500, 0)}


def files_under(path: Path) -> int:
    """Files below ``path`` (folders may vanish meanwhile: the server sweeps them)."""
    return sum(len(files) for _, _, files in os.walk(path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/zoning-bench/web"))
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--max-requests", type=int, default=200_000)
    ap.add_argument("--soak", type=int, default=10_000)
    ap.add_argument("--ttl", type=float, default=20.0, help="job TTL of the server (s)")
    ap.add_argument("--threads", type=int, default=2, help="the server's --threads")
    ap.add_argument("--workers", type=int, default=1, help="the server's --workers")
    ap.add_argument("--warmup-passes", type=int, default=1,
                    help="requests per site before the load (fills the bounded caches)")
    args = ap.parse_args()
    import httpx

    args.work.mkdir(parents=True, exist_ok=True)
    catalog = prepare(args.work)
    geoms = sites(2000)
    tmp = args.work / "tmp"
    tmp.mkdir(exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(catalog, port, tmp, args.ttl, args.threads, args.workers)
    out: dict = {}
    try:
        out["startup_s"] = round(wait_up(base, proc), 1)
        layers = httpx.get(base + "/api/layers").json()[0]
        out["catalog_problems"] = layers.get("missing")
        out.update(inprocess_baseline(catalog, geoms))
        t = time.perf_counter()
        warm_up(base, geoms, args.warmup_passes, args.clients)
        out["warmup_s"] = round(time.perf_counter() - t, 1)
        rss = RssSampler(proc.pid)
        rss.start()
        out["load"] = load(base, geoms, args.clients, args.duration, args.max_requests)
        rss.stop.set()
        rss.join()
        out["load"].update(rss.summary())
        out["load"]["work_p50_vs_inprocess"] = round(
            out["load"]["work_p50_ms"] / out["inprocess_p50_ms"], 2)
        print(json.dumps(out, ensure_ascii=False), flush=True)
        if args.soak:
            rss = RssSampler(proc.pid)
            rss.start()
            out["soak"] = soak(base, geoms, args.soak)
            rss.stop.set()
            rss.join()
            out["soak"].update(rss.summary())
            out["soak"]["alive_after"] = httpx.get(base + "/api/health").status_code == 200
            out["soak"]["files_right_after"] = files_under(tmp)
            time.sleep(args.ttl + 10)
            out["soak"]["files_after_ttl"] = files_under(tmp)
    finally:
        t = time.perf_counter()
        proc.terminate()
        proc.wait(timeout=600)
        out["shutdown_s"] = round(time.perf_counter() - t, 1)
    out["files_after_stop"] = files_under(tmp)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
