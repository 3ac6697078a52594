"""Sentence splitting with character offsets (:func:`split_sentences`).

Token normalisation lives in :mod:`skillatlas.extract.tokens`.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

# ----------------------------------------------------------------------------------------------------
# Sentence splitting
# ----------------------------------------------------------------------------------------------------

_BULLET_RE = re.compile(
    r"[ \t]*(?:[\u2022\u2023\u25aa\u25ab\u25cf\u25e6\u2043\u2219\u00b7\u25a0\u25a1"
    r"\u27a2\u2192\uf0b7\uf0a7*\-\u2013\u2014+>]|\(?\d{1,3}[.)]|\(?[a-zA-Z][)])[ \t]+"
)
_INLINE_BULLET_RE = re.compile(r"[ \t]+[\u2022\u25aa\u25cf\u25e6\u00b7\u25a0\uf0b7][ \t]+")
# A sentence end inside a line: [.!?] (+ closing quotes/brackets) + whitespace, followed by a sentence start.
_END_RE = re.compile(r"([.!?]+)[\"')\]\u201d\u2019]*\s+(?=[\"'(\[\u201c\u2018]?[A-Z0-9\u00c0-\u00de])")
_END_ANY_RE = re.compile(r"[!?]+[\"')\]\u201d\u2019]*\s+(?=\S)")
_ABBREVIATIONS = frozenset(
    """
    e.g i.e vs approx dept dr mr mrs ms prof inc ltd co corp jr sr st no nos fig figs vol eq ca cf al
    mt ph.d b.sc m.sc b.a m.a b.s m.s u.s u.k u.s.a jan feb mar apr jun jul aug sep sept oct nov dec
    """.split()
)
_TERMINAL = ".!?:;"
_WRAP_MIN_LINE = 50  # a line at least this long that ends mid-sentence is taken to be wrapped


def _is_abbreviation(text: str, dot: int) -> bool:
    """True if the '.' at ``dot`` ends an abbreviation or an initial rather than a sentence."""
    j = dot
    while j > 0 and not text[j - 1].isspace() and text[j - 1] not in "([\"'":
        j -= 1
    word = text[j:dot].casefold()
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # initials: "J. Smith", "U. S."
    return word in _ABBREVIATIONS or word.rstrip(".") in _ABBREVIATIONS


def _split_line(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    """Split text[start:end] (one logical line) at sentence ends and inline bullets; append trimmed spans."""
    cuts: list[tuple[int, int]] = []  # (end of previous piece, start of next piece)
    segment = text[start:end]
    for m in _END_RE.finditer(segment):
        dot = start + m.start(1) + len(m.group(1)) - 1
        if m.group(1) == "." and _is_abbreviation(text, dot):
            continue
        cuts.append((start + m.end(1), start + m.end()))
    for m in _END_ANY_RE.finditer(segment):
        cuts.append((start + m.start() + 1, start + m.end()))
    for m in _INLINE_BULLET_RE.finditer(segment):
        cuts.append((start + m.start(), start + m.end()))
    cuts.sort()
    pos = start
    for cut_end, next_start in cuts:
        if cut_end <= pos:
            pos = max(pos, next_start)
            continue
        _append_trimmed(text, pos, cut_end, out)
        pos = next_start
    _append_trimmed(text, pos, end, out)


def _append_trimmed(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        out.append((start, end))


def _cap_length(text: str, spans: list[tuple[int, int]], max_len: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > max_len:
            cut = text.rfind(" ", s + max_len // 2, s + max_len)
            cut = cut if cut > s else s + max_len
            _append_trimmed(text, s, cut, out)
            s = cut
        _append_trimmed(text, s, e, out)
    return out


def split_sentences(text: str, *, max_len: int = 1000) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``; ``text[start:end]`` is the trimmed sentence.

    Boundaries: ``.``/``!``/``?`` followed by whitespace and a capital letter, digit or opening quote (not
    after abbreviations such as "e.g." or initials; "Node.js" and "3.5" never split), ``!``/``?`` followed by
    whitespace, line breaks, blank lines, list bullets (``•``, ``-``, ``*``, ``1.``, ``a)`` at the start of a
    line, and ``•`` inside a line). A line break does *not* split when it looks like a hard wrap inside a
    sentence: the previous line is at least 50 characters long, does not end in ``.!?:;`` and the next line
    starts with a lowercase letter and no bullet. Leading bullets are excluded from the spans. Spans longer
    than ``max_len`` are cut at a space.
    """
    spans: list[tuple[int, int]] = []
    # logical lines: (start, end) of content, with bullets removed
    line_start = 0
    logical: list[tuple[int, int]] = []
    prev_wrappable = False
    n = len(text)
    while line_start <= n:
        nl = text.find("\n", line_start)
        line_end = n if nl < 0 else nl
        content_start = line_start
        bullet = _BULLET_RE.match(text, line_start, line_end)
        if bullet:
            content_start = bullet.end()
        line = text[content_start:line_end].strip()
        if not line:
            prev_wrappable = False
        else:
            continues = prev_wrappable and not bullet and bool(logical) and line[0].islower()
            if continues:
                logical[-1] = (logical[-1][0], line_end)
            else:
                logical.append((content_start, line_end))
            stripped = line.rstrip()
            prev_wrappable = len(stripped) >= _WRAP_MIN_LINE and stripped[-1] not in _TERMINAL
        if nl < 0:
            break
        line_start = nl + 1
    for s, e in logical:
        _split_line(text, s, e, spans)
    return _cap_length(text, spans, max_len) if any(e - s > max_len for s, e in spans) else spans
