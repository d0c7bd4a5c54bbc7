"""Safe building blocks for HTML pages made with folium/branca.

branca's ``Element(text)`` treats ``text`` as *Jinja2 template source*, so a
project name such as ``{{ 7*7 }}`` would be evaluated.  Every piece of text
built from data goes into a page through :class:`HtmlElement` or
:class:`HtmlMacro`, whose templates are fixed and take the text as a
*variable*; the text is never parsed as a template.  :func:`esc` escapes
HTML and, in depth, the characters that template engines and JavaScript
template literals give a meaning (``{ } ` $``).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import folium
from branca.element import Element, Figure, MacroElement, Template
from folium.template import Template as FoliumTemplate

__all__ = ["esc", "HtmlElement", "HtmlMacro", "verbatim_macros", "Tooltip", "Popup"]

_EXTRA = str.maketrans({"`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;"})


def esc(v) -> str:
    """HTML-escape text, and neutralise ``{ } ` $`` as character references.

    Examples
    --------
    >>> esc("{{ 7*7 }} <b>")
    '&#123;&#123; 7*7 &#125;&#125; &lt;b&gt;'
    """
    return html.escape("" if v is None else str(v), quote=True).translate(_EXTRA)


class HtmlElement(Element):
    """A piece of ready HTML placed in a page verbatim (never parsed as a template)."""

    _template = Template("{{ this.html_text }}")

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "HtmlElement"
        self.html_text = html_text


class HtmlMacro(MacroElement):
    """A piece of ready HTML placed in the page body (the ``html`` macro of a MacroElement)."""

    _template = Template("{% macro html(this, kwargs) %}{{ this.html_text }}{% endmacro %}")

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "HtmlMacro"
        self.html_text = html_text


class _Rendered(Element):
    """A macro's rendered output, placed in the page as it is.

    branca puts each macro's output into ``Element(output)``, which compiles the
    output (the page's whole script, GeoJSON data included) as Jinja template
    source a second time.  This element gives the same text without that: Jinja
    only normalises newlines and drops one trailing newline, and so does this.
    """

    _template = Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self._name = "Rendered"
        lines = _NEWLINE.split(text)
        if lines and lines[-1] == "":
            lines.pop()
        self.text = "\n".join(lines)

    def render(self, **kwargs) -> str:
        return self.text


_NEWLINE = re.compile(r"\r\n|\r|\n")
_VERBATIM = threading.local()
_MACRO_RENDER = MacroElement.render


def _macro_render(self, **kwargs):
    """branca's ``MacroElement.render`` (0.8), with the macros' output kept verbatim while
    :func:`verbatim_macros` is active in this thread."""
    if not getattr(_VERBATIM, "on", False):
        return _MACRO_RENDER(self, **kwargs)
    figure = self.get_root()
    assert isinstance(figure, Figure), "You cannot render this Element if it is not in a Figure."
    module = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = module.get(part)
        if macro is not None:
            getattr(figure, part).add_child(_Rendered(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


MacroElement.render = _macro_render  # type: ignore[method-assign]


@contextmanager
def verbatim_macros() -> Iterator[None]:
    """Render folium/branca pages in this thread without parsing any macro's output as
    template source again: data in a page (names, GeoJSON properties) stays text even
    unescaped, and a map renders several times faster (the page's data is not lexed by
    Jinja).  Other threads and code outside the block render as branca does.
    """
    before = getattr(_VERBATIM, "on", False)
    _VERBATIM.on = True
    try:
        yield
    finally:
        _VERBATIM.on = before


#: GeoJsonDetail's table style (folium 0.20), compiled once instead of at every render
_DETAIL_STYLE = FoliumTemplate(
    """
                    <style>
                        .{{ this.class_name }} {
                            {{ this.style }}
                        }
                       .{{ this.class_name }} table{
                            margin: auto;
                        }
                        .{{ this.class_name }} tr{
                            text-align: left;
                        }
                        .{{ this.class_name }} th{
                            padding: 2px; padding-right: 8px;
                        }
                    </style>
            """)


class _Detail:
    """folium's ``GeoJsonDetail.render`` for a GeoJson parent, with the same output, its
    style template compiled once (folium compiles it anew for every tooltip and popup)."""

    def render(self, **kwargs):
        parent = self._parent  # type: ignore[attr-defined]
        if not isinstance(parent, folium.GeoJson):
            raise TypeError(f"{type(self).__name__} belongs to a GeoJson layer")
        feats = parent.data["features"]
        keys = tuple(k for k in (feats[0]["properties"].keys() if feats else ())
                     if k not in ("style", "highlight"))
        self.warn_for_geometry_collections()  # type: ignore[attr-defined]
        for value in self.fields:  # type: ignore[attr-defined]
            if value not in keys:
                raise ValueError(f"The field {value} is not available in the data. "
                                 f"Choose from: {keys}.")
        self.get_root().header.add_child(  # type: ignore[attr-defined]
            _Rendered(_DETAIL_STYLE.render(this=self)),
            name=self.get_name() + "tablestyle")  # type: ignore[attr-defined]
        MacroElement.render(self)  # type: ignore[arg-type]


class Tooltip(_Detail, folium.GeoJsonTooltip):
    """folium's GeoJsonTooltip, rendered without recompiling its style template."""


class Popup(_Detail, folium.GeoJsonPopup):
    """folium's GeoJsonPopup, rendered without recompiling its style template."""


#: characters XML 1.0 does not allow (openpyxl refuses them): C0 controls but tab, LF, CR
_ILLEGAL_XML = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF])
#: a spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(v):
    """A value made safe for a spreadsheet cell (xlsx or csv); non-text passes unchanged.

    Characters XML cannot hold (NUL, vertical tab …) are removed, and text that
    a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR)
    gets a leading apostrophe, so it shows as the text it is.

    Examples
    --------
    >>> cell_text("=HYPERLINK(\\"http://x\\")"), cell_text("a\\x00b"), cell_text(3)
    ('\\'=HYPERLINK("http://x")', 'ab', 3)
    """
    if not isinstance(v, str):
        return v
    v = v.translate(_ILLEGAL_XML)
    if v.startswith(_FORMULA_START):
        v = "'" + v
    return v


def safe_row(values) -> list:
    """:func:`cell_text` applied to every value of a row."""
    return [cell_text(v) for v in values]
