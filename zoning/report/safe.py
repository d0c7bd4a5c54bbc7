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

from branca.element import Element, MacroElement, Template

__all__ = ["esc", "HtmlElement", "HtmlMacro"]

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
