"""GB/T 4754-2017 国民经济行业分类 codes: normalisation and prefix matching."""

from __future__ import annotations

import re

from zoning.errors import InputError

__all__ = ["normalize_industry", "industry_matches", "validate_industry", "section_of"]

# GB/T 4754-2017 门类 → 大类 ranges (divisions are numbered 01–97 across sections)
_SECTIONS = {"A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50),
             "F": (51, 52), "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69),
             "K": (70, 70), "L": (71, 72), "M": (73, 75), "N": (76, 79), "O": (80, 82),
             "P": (83, 83), "Q": (84, 85), "R": (86, 90), "S": (91, 96), "T": (97, 97)}


def section_of(division: int) -> str | None:
    for s, (a, b) in _SECTIONS.items():
        if a <= division <= b:
            return s
    return None


def normalize_industry(code) -> str:
    """Normalise a GB/T 4754-2017 code: 'c 2614', '2614', 'C26' → 'C2614', 'C2614', 'C26'.

    A bare section letter ('C') is accepted.  Raises InputError (a ValueError) naming the code
    when it is malformed or its letter contradicts its division.
    """
    raw = str(code)
    s = re.sub(r"[\s\-_.]", "", raw).upper()
    m = re.fullmatch(r"([A-T])?(\d{2,4})?", s)
    if not s or not m or (m.group(1) is None and m.group(2) is None):
        raise InputError(f"行业代码 {raw!r} 不是 GB/T 4754-2017 代码（例如 C2614）")
    letter, digits = m.group(1), m.group(2)
    if digits is None:
        return letter
    div = int(digits[:2])
    sec = section_of(div)
    if sec is None:
        raise InputError(f"行业代码 {raw!r}：大类 {digits[:2]} 不存在（应为 01–97）")
    if letter and letter != sec:
        raise InputError(f"行业代码 {raw!r}：大类 {digits[:2]} 属于门类 {sec}，不属于 {letter}")
    return sec + digits


def industry_matches(code: str | None, prefixes) -> bool:
    """Whether a normalised code falls under any of the prefixes (C26 covers C2614)."""
    if code is None:
        return False
    return any(code.startswith(p) for p in prefixes)


def validate_industry(code) -> str | None:
    """Normalised code, or None for an empty cell; raises InputError when malformed."""
    if code is None or (isinstance(code, float) and code != code) or str(code).strip() == "":
        return None
    return normalize_industry(code)
