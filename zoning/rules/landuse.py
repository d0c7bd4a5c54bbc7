"""GB/T 21010-2017 《土地利用现状分类》 classes, as the 第三次全国国土调查 (三调) uses them,
and declared 地类 areas of a project.

* :data:`LEVEL1` / :data:`LEVEL2` — 一级类 and 二级类 codes and names.  三调's 工作分类 adds
  the 一级类 ``00`` 湿地, which gathers eight 二级类 that keep their GB/T 21010 codes
  (0303 红树林地 … 1108 沼泽地): :func:`level1_of` follows it.
* :data:`GROUPS` — the 三大类 (农用地 / 建设用地 / 未利用地) of the 《土地管理法》 as the
  三调 对照表 assigns the 二级类 (待核实: taken from memory of the 三调 工作分类 对照表).
* :func:`parse_declared` — a project's declared 地类 areas, e.g. ``"耕地 1.2; 0301=0.5 公顷"``.
"""

from __future__ import annotations

import math
import re

from zoning.errors import InputError
from zoning.results import M2_PER_HA, M2_PER_MU

__all__ = ["LEVEL1", "LEVEL2", "GROUPS", "WETLAND_CODES", "level1_of", "group_of", "name_of",
           "parse_declared", "resolve_key"]

LEVEL1 = {
    "00": "湿地", "01": "耕地", "02": "园地", "03": "林地", "04": "草地", "05": "商服用地",
    "06": "工矿仓储用地", "07": "住宅用地", "08": "公共管理与公共服务用地", "09": "特殊用地",
    "10": "交通运输用地", "11": "水域及水利设施用地", "12": "其他土地",
}

LEVEL2 = {
    "0101": "水田", "0102": "水浇地", "0103": "旱地",
    "0201": "果园", "0202": "茶园", "0203": "橡胶园", "0204": "其他园地",
    "0301": "乔木林地", "0302": "竹林地", "0303": "红树林地", "0304": "森林沼泽",
    "0305": "灌木林地", "0306": "灌丛沼泽", "0307": "其他林地",
    "0401": "天然牧草地", "0402": "沼泽草地", "0403": "人工牧草地", "0404": "其他草地",
    "0501": "零售商业用地", "0502": "批发市场用地", "0503": "餐饮用地", "0504": "旅馆用地",
    "0505": "商务金融用地", "0506": "娱乐用地", "0507": "其他商服用地",
    "0601": "工业用地", "0602": "采矿用地", "0603": "盐田", "0604": "仓储用地",
    "0701": "城镇住宅用地", "0702": "农村宅基地",
    "0801": "机关团体用地", "0802": "新闻出版用地", "0803": "教育用地", "0804": "科研用地",
    "0805": "医疗卫生用地", "0806": "社会福利用地", "0807": "文化设施用地", "0808": "体育用地",
    "0809": "公用设施用地", "0810": "公园与绿地",
    "0901": "军事设施用地", "0902": "使领馆用地", "0903": "监教场所用地", "0904": "宗教用地",
    "0905": "殡葬用地", "0906": "风景名胜设施用地",
    "1001": "铁路用地", "1002": "轨道交通用地", "1003": "公路用地", "1004": "城镇村道路用地",
    "1005": "交通服务场站用地", "1006": "农村道路", "1007": "机场用地", "1008": "港口码头用地",
    "1009": "管道运输用地",
    "1101": "河流水面", "1102": "湖泊水面", "1103": "水库水面", "1104": "坑塘水面",
    "1105": "沿海滩涂", "1106": "内陆滩涂", "1107": "沟渠", "1108": "沼泽地",
    "1109": "水工建筑用地", "1110": "冰川及永久积雪",
    "1201": "空闲地", "1202": "设施农用地", "1203": "田坎", "1204": "盐碱地", "1205": "沙地",
    "1206": "裸土地", "1207": "裸岩石砾地",
}

#: 三调 工作分类: these 二级类 form the 一级类 00 湿地
WETLAND_CODES = frozenset({"0303", "0304", "0306", "0402", "0603", "1105", "1106", "1108"})

_FARM_EXTRA = {"1006", "1103", "1104", "1107", "1202", "1203"}
_BUILT_EXTRA = {"1109", "1201"}
_UNUSED = {"0404", "1101", "1102", "1105", "1106", "1108", "1110", "1204", "1205", "1206",
           "1207"}
GROUPS = ("农用地", "建设用地", "未利用地")

_UNITS = {"m2": 1.0, "m²": 1.0, "平方米": 1.0, "㎡": 1.0, "ha": M2_PER_HA, "hm2": M2_PER_HA,
          "hm²": M2_PER_HA, "公顷": M2_PER_HA, "亩": M2_PER_MU, "mu": M2_PER_MU,
          "km2": 1e6, "km²": 1e6, "平方公里": 1e6, "平方千米": 1e6}
_ENTRY = re.compile(r"^\s*(?P<key>[^\s:=：0-9.][^:=：]*?|\d{2}|\d{4})\s*[:=：]?\s*"
                    r"(?P<num>[-+]?\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[^\d\s]*)\s*$")


def level1_of(code: str) -> str:
    """The 三调 一级类 of a 二级类 code (湿地 codes → ``00``)."""
    code = str(code).strip()
    if code in WETLAND_CODES:
        return "00"
    return code[:2]


def name_of(code: str) -> str | None:
    """The class name of a 一级 or 二级 code, or of a 三大类 name; None if unknown."""
    return LEVEL2.get(code) or LEVEL1.get(code) or (code if code in GROUPS else None)


def group_of(code: str) -> str | None:
    """农用地 / 建设用地 / 未利用地 of a 二级类 code (None for an unknown code)."""
    if code not in LEVEL2:
        return None
    if code in _UNUSED:
        return "未利用地"
    if code in _FARM_EXTRA or code[:2] in ("01", "02", "03", "04"):
        return "农用地"
    if code in _BUILT_EXTRA or code[:2] in ("05", "06", "07", "08", "09", "10"):
        return "建设用地"
    return "未利用地"


def resolve_key(key: str) -> str:
    """A declared class as a code (``0103``, ``01``) or a 三大类 name; raise ValueError."""
    k = str(key).strip()
    if k in LEVEL2 or k in LEVEL1 or k in GROUPS:
        return k
    for table in (LEVEL1, LEVEL2):
        for code, name in table.items():
            if k == name:
                return code
    raise ValueError(f"{key!r} is neither a GB/T 21010 地类 code or name nor one of "
                     f"{', '.join(GROUPS)}")


def parse_declared(text) -> dict[str, float] | None:
    """Declared 地类 areas in m², keyed by class code (or 三大类 name).

    Entries are separated by ``;`` ``；`` ``,`` ``，`` or ``、``; each is a class (code or
    name) and an area with an optional unit (公顷/ha — the default, as in the 部标 TXT —
    m², 亩, km²).  A class given twice is summed.

    >>> parse_declared("耕地 1.2; 0301=5000 m²；建设用地：3亩")
    {'01': 12000.0, '0301': 5000.0, '建设用地': 2000.0}
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    if isinstance(text, dict):  # already parsed: {class: m²}
        try:
            return {resolve_key(k): float(v) for k, v in text.items()} or None
        except (TypeError, ValueError) as e:
            raise InputError(f"declared 地类 areas {text!r}: {e}") from None
    items = [p for p in re.split(r"[;；,，、\n]", str(text)) if p.strip()]
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        m = _ENTRY.match(item)
        if not m:
            raise InputError(f"declared 地类 area {item.strip()!r} is not '<地类> <面积>[单位]'")
        unit = m["unit"] or "公顷"
        if unit.lower() not in _UNITS:
            raise InputError(f"declared 地类 area {item.strip()!r}: unknown unit {unit!r} "
                             f"(use {', '.join(sorted(set(_UNITS)))})")
        try:
            key = resolve_key(m["key"])
        except ValueError as e:
            raise InputError(f"declared 地类 area {item.strip()!r}: {e}") from None
        value = float(m["num"]) * _UNITS[unit.lower()]
        if value < 0:
            raise InputError(f"declared 地类 area {item.strip()!r} is negative")
        out[key] = out.get(key, 0.0) + value
    return out
