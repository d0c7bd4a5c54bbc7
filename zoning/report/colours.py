"""Colours and legend words shared by the web maps and the printed figures.

Verdict colours are saturated hues that no layer fill uses, so a legend never
reads two ways: layers are light tints, verdicts (drawn on the overlaps) are
strong colours.
"""

from __future__ import annotations

from zoning.catalog import kind_zh
from zoning.results import State

__all__ = ["STATE_COLOUR", "LAYER_COLOUR", "state_colour", "OTHER_STATE_COLOUR",
           "layer_colour", "layer_legend", "web_style", "NOT_DRAWN"]

#: layer kinds no map draws (三调 地类: reported as a table, and too dense to read on a map)
NOT_DRAWN = frozenset({"landuse"})

#: verdict colours (overlaps, footprint, index pages)
STATE_COLOUR = {
    State.NOT_INTERSECTING: "#607d8b", State.CROSSING_NO_LAND_USE: "#00acc1",
    State.LIMITED_ACTIVITY: "#e91e63", State.MAJOR_PROJECT: "#ff6d00",
    State.NEEDS_REVIEW: "#8e24aa",
    State.DATA_MISSING: "#212121", State.PROHIBITED: "#d50000",
}
#: a state without its own colour (one added later) still gets a distinct one
OTHER_STATE_COLOUR = "#795548"
#: layer kind → (outline, fill): light tints, none close to a verdict colour
LAYER_COLOUR = {
    "eco_redline": ("#1b5e20", "#a5d6a7"), "farmland": ("#9e7700", "#fff59d"),
    "urban_boundary": ("#616161", "#e0e0e0"), "protected_area": ("#4a148c", "#d1c4e9"),
    "control_unit": ("#0d47a1", "#bbdefb"), "shoreline": ("#0277bd", "#0277bd"),
    "constraint": ("#004d40", "#b2dfdb"),  # any other constraint layer (水源保护区 …)
}


def state_colour(state: State | None) -> str:
    """The verdict colour of any state (a state added later gets a fallback colour)."""
    return STATE_COLOUR.get(state, OTHER_STATE_COLOUR) if state is not None else \
        OTHER_STATE_COLOUR


#: (outline, fill) for the catalog's other constraint layers, one each in catalog order (水源保护区,
#: 湿地, 压覆矿产 … were all one teal and one legend entry): light tints, none close to a verdict
CONSTRAINT_COLOURS = [("#004d40", "#b2dfdb"), ("#5d4037", "#d7ccc8"), ("#33691e", "#dcedc8"),
                      ("#006064", "#b2ebf2"), ("#827717", "#f0f4c3"), ("#37474f", "#cfd8dc")]


def layer_colour(kind: str, name: str = "", constraints: list | None = None) -> tuple[str, str]:
    """(outline, fill) of a layer: by kind, and for a constraint layer by its place among the
    catalog's constraint layers ``constraints`` ([(name, title) …])."""
    if kind != "constraint":
        return LAYER_COLOUR.get(kind, ("#555", "#eeeeee"))
    names = [n for n, _ in constraints or []]
    k = names.index(name) if name in names else 0
    return CONSTRAINT_COLOURS[k % len(CONSTRAINT_COLOURS)]


def layer_legend(kind: str, name: str = "", constraints: list | None = None
                 ) -> tuple[str, tuple[str, str]]:
    """(words, (outline, fill)) of a layer in a legend: a constraint layer by its title in
    its own colour, any other by its kind."""
    words = kind_zh(kind)
    if kind == "constraint":
        words = dict(constraints or []).get(name) or words
    return words, layer_colour(kind, name, constraints)


def web_style() -> dict:
    """The colours and words the review page draws with (``GET /api/options``), so that the
    page, the HTML maps and the report figures show a verdict or a layer in one colour:
    ``states`` (verdict → colour), ``layers`` (kind → [outline, fill]), ``kinds`` (kind →
    Chinese name)."""
    return {"states": {s.value: state_colour(s) for s in State},
            "layers": {k: list(v) for k, v in LAYER_COLOUR.items()},
            "kinds": {k: kind_zh(k) for k in LAYER_COLOUR}}
