"""Row-for-row digests of screening results, to compare engines and code versions.

    python bench/digest.py [projects.csv] [--catalog C ...]   # prints the digest of a screening

The digest hashes every result's ``to_dict()`` (the values users see, rounded as
they are reported), in input order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _canon(v):
    """Floats to 10 significant digits: the same areas summed in another order differ in
    the last bits only."""
    if isinstance(v, float):
        return float(f"{v:.10g}")
    if isinstance(v, dict):
        return {k: _canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    return v


def result_rows(results) -> list[str]:
    """One canonical JSON line per result."""
    return [json.dumps(_canon(r.to_dict()), sort_keys=True, ensure_ascii=False, default=str)
            for r in results]


def digest(results) -> str:
    h = hashlib.sha256()
    for line in result_rows(results):
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("projects", nargs="?", default=str(ROOT / "seeds/projects/sample_projects.csv"))
    ap.add_argument("--catalog", action="append", default=[])
    ap.add_argument("--dump", help="write the JSON lines here")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from zoning.catalog import resolve_catalogs
    from zoning.io.projects import read_projects
    from zoning.screen import screen

    table = read_projects(a.projects)
    res = screen(table, resolve_catalogs(a.catalog) if a.catalog else None)
    if a.dump:
        Path(a.dump).write_text("\n".join(result_rows(res.results)) + "\n", encoding="utf-8")
    print(digest(res.results), len(res.results))


if __name__ == "__main__":
    main()
