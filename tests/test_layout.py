"""The package's layering: io/ touches the outside world, engine/ computes, nothing imports demo/."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import zoning

PKG = Path(zoning.__file__).resolve().parent
#: calls that open files, archives or connections
OPENS = re.compile(r"(?<![\w.])open\(|\.(read_text|read_bytes|write_text|write_bytes|"
                   r"read_file|read_dataframe|read_parquet|to_file|to_parquet|safe_load|"
                   r"connect)\(|ZipFile\(")
#: modules whose import means talking to files or servers
IO_MODULES = ("pyogrio", "fiona", "psycopg", "zipfile", "yaml", "sqlite3", "duckdb")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def _modules(sub: str = "") -> list[Path]:
    return sorted((PKG / sub).rglob("*.py"))


def test_engine_imports_no_io_report_or_cli():
    bad = {str(p.relative_to(PKG)): sorted(m for m in _imports(p)
                                           if m.startswith(("zoning.io", "zoning.report",
                                                            "zoning.cli", "zoning.outputs")))
           for p in _modules("engine")}
    assert not {k: v for k, v in bad.items() if v}


def test_nothing_outside_demo_imports_demo():
    users = [str(p.relative_to(PKG)) for p in _modules()
             if "demo" not in p.parts[len(PKG.parts):-1] and p.parent.name != "demo"
             and any(m.startswith("zoning.demo") for m in _imports(p))]
    # the CLI's demo and seeds commands run the demo tools; nothing else may
    assert sorted(users) == ["cli/demo.py", "cli/seeds.py"]


def test_only_io_opens_files():
    offenders = []
    for p in _modules():
        rel = p.relative_to(PKG)
        if rel.parts[0] in ("io", "demo", "web") or rel.name == "__main__.py":
            continue
        for i, line in enumerate(p.read_text("utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if OPENS.search(code) and "import" not in code and "mem.open" not in code:
                offenders.append(f"{rel}:{i}: {line.strip()}")
        offenders += [f"{rel}: imports {m}" for m in sorted(_imports(p))
                      if m.split(".")[0] in IO_MODULES]
    assert offenders == []


def test_import_and_check_stay_light():
    """`import zoning` and `zoning check` load neither dask, distributed, psycopg nor demo."""
    txt = PKG.parent / "seeds" / "projects" / "GY-012_勘测定界.txt"
    if not txt.exists():
        txt = PKG / "_bundled" / "seeds" / "projects" / "GY-012_勘测定界.txt"
    for args in (["-c", "import zoning"], ["-m", "zoning", "check", str(txt), "--json"]):
        r = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        loaded = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines()
                  if line.startswith("import time:")}
        heavy = sorted(m for m in loaded if m.split(".")[0] in ("dask", "distributed", "psycopg")
                       or m.startswith("zoning.demo"))
        assert heavy == [], (args, heavy)
        assert "zoning" in loaded  # the probe itself works


def test_public_errors_are_zoning_errors():
    """Bad data raises ZoningError subclasses that keep the builtin a caller expects."""
    import pytest
    from shapely import Point

    from zoning.errors import InputError, OptionError, ZoningError
    from zoning.options import CheckOptions

    with pytest.raises(OptionError) as e:
        CheckOptions(tolerance_m2=float("inf"))
    assert isinstance(e.value, ValueError) and isinstance(e.value, ZoningError)
    with pytest.raises(InputError):
        zoning.check(Point(106.5, 26.9), no_such_attribute=1)
    with pytest.raises(InputError):
        zoning.check(Point(106.5, 26.9), energy_tce=-5)
