"""User strings in figures: shown as written, never parsed as mathtext, always drawable.

A variant's name is user text of any length and script. The HTML report shows it whole
(the browser has fonts for emoji and CJK); in a figure it is cut to two short lines, and
characters the figure's font has no glyph for become ``?`` instead of a missing-glyph
warning and an empty box.
"""

from __future__ import annotations

import functools
import textwrap

# A title over one panel of a figure fits about this many characters per line.
LINE_CHARS = 32
LINES = 2


def plain(text: object) -> str:
    """A figure-safe version of ``text``: ``$`` escaped, missing glyphs replaced, wrapped.

    An unbalanced ``$`` would otherwise make matplotlib raise while rendering, and a
    balanced pair would silently turn part of a variant's name into a formula.

    Examples
    --------
    >>> plain("l2 $0.1$")
    'l2 \\\\$0.1\\\\$'
    >>> plain("🚀 dropout")
    '? dropout'
    >>> plain("x" * 500).count("\\n"), len(plain("x" * 500))
    (1, 65)
    """
    drawable = "".join(c if _has_glyph(c) else "?" for c in str(text))
    lines = textwrap.wrap(drawable, LINE_CHARS, break_long_words=True, drop_whitespace=False)
    if len(lines) > LINES:
        lines = [*lines[: LINES - 1], lines[LINES - 1][:-1] + "…"]
    return "\n".join(lines or [""]).replace("$", r"\$")


def _has_glyph(char: str) -> bool:
    return char.isascii() or ord(char) in _font_characters()


@functools.cache
def _font_characters() -> frozenset[int]:
    """The code points of the font matplotlib draws text with (DejaVu Sans by default)."""
    from matplotlib import font_manager

    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties()))
    return frozenset(font.get_charmap())
