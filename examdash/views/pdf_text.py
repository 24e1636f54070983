"""Text from the data (names, school, site and room names, tickets) on the printable materials: each cell's
text on one line inside the cell, whatever it holds.

- Too wide, it is first set smaller (down to `shrink_to` points, where the caller allows), then cut with
  "…" (measured with fpdf2's get_string_width, as the cell draws it): never wrapped, never over the next
  cell or label, never off the page. In a line of several pieces (「考点：{site}　第{room}考场」) only the
  pieces from the data are cut, the widest to equal shares, so the room and the time stay readable.
- A character the Chinese font has no glyph for is drawn in the second font (DejaVu Sans: Arabic, Hebrew,
  many symbols), else replaced by "□"; format characters (zero-width joiners, bidi overrides) are left
  out, control characters become spaces. Text with none of its own glyphs left prints as "□", never blank.
- Right-to-left letters are put in visual order (fpdf2's bidi algorithm), unshaped: Arabic letters print
  in their isolated forms. Joined Arabic needs fpdf2's text shaping, which needs uharfbuzz (not installed).

The data keep the text as it is: only what is drawn changes (the .xlsx materials carry it unchanged).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import os
import string
import unicodedata
from pathlib import Path

import pandas as pd

REPLACEMENT = "□"  # in Noto Sans CJK
ELLIPSIS = "…"
SECOND_FONT = "second"
# The second font, looked for as config.CJK_FONTS are: Debian's fonts-dejavu-core (Fedora's and Arch's
# paths after it), or the file EXAMDASH_FALLBACK_FONT names ("" for none: replacements only).
FALLBACK_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
# Letters that fonts draw as nothing (Hangul fillers, the blank Braille pattern).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_RTL = frozenset(("R", "AL"))


def fallback_font() -> Path | None:
    named = os.environ.get("EXAMDASH_FALLBACK_FONT")
    if named is not None:
        return Path(named) if named and Path(named).is_file() else None
    return next((Path(p) for p in FALLBACK_FONTS if Path(p).is_file()), None)


@functools.cache
def _code_points(path: str) -> frozenset[int]:
    """The characters a font has glyphs for (read once per process, without loading it into a PDF)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font["cmap"].getBestCmap())


def visible(ch: str) -> bool:
    """Whether a character leaves a mark on paper (not a space, a mark on its own or a filler)."""
    return not ch.isspace() and unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cc", "Zs") and ch not in _BLANK


def printable(pdf, text: str) -> str:
    """`text` as the PDF can draw it in the current font or the second one (added to `pdf` when needed)."""
    main = pdf.current_font.cmap
    if text.isprintable() and all(ord(ch) in main for ch in text):
        return text
    path = fallback_font()
    second = _code_points(str(path)) if path is not None else frozenset()
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif ord(ch) in main:
            out.append(ch)
        elif ord(ch) in second:
            out.append(ch)
            if SECOND_FONT not in pdf.fonts:  # fpdf2 then draws in it what the current font lacks
                pdf.add_font(SECOND_FONT, fname=str(path))
                pdf.set_fallback_fonts([SECOND_FONT], exact_match=False)
        elif category in ("Mn", "Me") or 0x1F3FB <= ord(ch) <= 0x1F3FF:
            continue  # a combining mark or skin tone no font has: its letter or emoji stays
        else:
            out.append(" " if ch.isspace() else REPLACEMENT)
    return "".join(out)


def _shown(pdf, value) -> str:
    """printable(value), or "□" when the value has text but none of it would leave a mark."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    shown = printable(pdf, text)
    return shown if not text or any(visible(ch) for ch in shown) else REPLACEMENT


def _visual(text: str) -> str:
    """Right-to-left runs in the order they are drawn (left to right on the page)."""
    if not any(unicodedata.bidirectional(ch) in _RTL for ch in text):
        return text
    from fpdf.bidi import BidiParagraph  # fpdf2's Unicode bidi algorithm (pinned 2.8.9)

    return BidiParagraph(text).get_reordered_string()


def _widths(pdf, text: str) -> list[float]:
    """Each character's width at the current font size, as get_string_width gives it (fpdf2 adds up the
    glyphs' advances: no kerning without text shaping), each character measured once per size."""
    memo = pdf.__dict__.setdefault("_examdash_char_widths", {})
    size = pdf.font_size_pt
    out = []
    for ch in text:
        w = memo.get((size, ch))
        if w is None:
            w = memo[(size, ch)] = pdf.get_string_width(ch)
        out.append(w)
    return out


def width_of(pdf, text: str) -> float:
    return sum(_widths(pdf, text))


def cut(pdf, text: str, width: float) -> str:
    """`text` if it fits `width` (mm, at the current font size), else its longest beginning that fits with "…"."""
    if not text:
        return text
    sums = list(itertools.accumulate(_widths(pdf, text)))
    if sums[-1] <= width:
        return text
    k = bisect.bisect_right(sums, width - width_of(pdf, ELLIPSIS))
    while k > 0 and pdf.get_string_width(text[:k] + ELLIPSIS) > width:  # measured as drawn, to the last digit
        k -= 1
    return text[:k] + ELLIPSIS


def _share(pdf, fields: list[str], budget: float) -> list[str]:
    """The fields cut so that together they fit `budget`: the narrow ones whole, the wide ones cut to an equal share."""
    widths = [width_of(pdf, f) for f in fields]
    out = list(fields)
    left = len(fields)
    for i in sorted(range(len(fields)), key=widths.__getitem__):
        share = max(budget, 0) / left
        if widths[i] > share:
            out[i] = cut(pdf, fields[i], share)
        budget -= width_of(pdf, out[i])
        left -= 1
    return out


def _fill(pdf, pieces: list[tuple[str, bool]], width: float) -> str:
    """The pieces (text, whether it comes from the data) joined and fitted into `width` at the current size."""
    fixed = sum(width_of(pdf, t) for t, data in pieces if not data)
    fields = iter(_share(pdf, [t for t, data in pieces if data], width - fixed))
    return cut(pdf, "".join(next(fields) if data else t for t, data in pieces), width)  # the fixed text may be too wide


def cell(pdf, w: float, h: float, text: object = "", *, fields: dict[str, object] | None = None,
         shrink_to: float | None = None, **kwargs) -> str:
    """pdf.cell(w, h, …) for text from the data, fitted as this module says; returns what was drawn (in
    logical order). `shrink_to` (points) lets text that would not fit be set smaller, if then it all fits.

    Without `fields`, `text` is data throughout. With them, `text` is a template ("考点：{site}") whose
    literal parts are kept and whose fields are the data. w=0 reaches the right margin, as in pdf.cell.
    """
    if fields is None:
        pieces = [(_shown(pdf, text), True)]
    else:
        pieces = []
        for literal, name, _, _ in string.Formatter().parse(str(text)):
            pieces += [(literal, False), (_shown(pdf, fields[name]), True) if name is not None else ("", True)]
        pieces = [(t, data) for t, data in pieces if t]
    width = (w if w else pdf.w - pdf.r_margin - pdf.x) - 2 * pdf.c_margin
    size = pdf.font_size_pt
    drawn = "".join(t for t, _ in pieces)
    wide = width_of(pdf, drawn)
    if wide > width:
        smaller = int(size * width / wide * 2) / 2  # in half points: the widths scale with the size
        if shrink_to is not None and smaller >= shrink_to:
            pdf.set_font_size(smaller)
        drawn = _fill(pdf, pieces, width)
    pdf.cell(w, h, _visual(drawn), **kwargs)
    if pdf.font_size_pt != size:
        pdf.set_font_size(size)
    return drawn
