"""Text normalisation and sentence splitting.

``normalise`` is applied to *both* sides of every comparison (taxonomy labels and document text), so it only
has to be consistent and conservative: it merges the obvious variants (case, Unicode forms, dash and quote
styles, regular plurals) and never merges two different words.

Token rules
-----------
* Tokens are separated by whitespace and by ``, ; | ( ) [ ] { } < > " ! ?`` (and their full-width forms).
* Each token is NFKC-normalised (so PDF ligatures such as "ﬁ" become "fi") and casefolded; all dash
  characters become ``-`` and curly quotes become straight ones.
* Punctuation and symbols are stripped at the token edges, except the meaningful ones: a trailing ``+``/``#``
  after a letter or ``+`` (``c++``, ``c#``, ``f#``) and one leading ``.`` before a letter (``.net``). Inner
  punctuation is kept (``node.js``, ``ci/cd``, ``3.5``, ``data-driven``). A possessive ``'s`` is dropped.

Plural folding (alphabetic tokens only, see :func:`fold_plural`)
----------------------------------------------------------------
* ``-ies`` -> ``-y`` when the token has 5+ letters (``technologies`` -> ``technology``);
* ``-sses``, ``-shes``, ``-ches``, ``-xes``, ``-zzes`` -> drop ``es`` (``processes`` -> ``process``);
* otherwise a final ``s`` is dropped when the token has 4+ letters and does not end in ``ss``, ``us``, ``is``
  or ``ics`` (``databases`` -> ``database``, ``skills`` -> ``skill``; ``business``, ``analysis``, ``status``,
  ``statistics`` and ``physics`` are kept);
* a fixed list of singular words ending in ``s`` is never folded (``sales``, ``news``, ``series``,
  ``pandas``, ``kubernetes``, ``jenkins``, ``devops``, ``windows``, ``does``, ...).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold_plural", "normalise", "normalise_token", "split_sentences", "tokens_with_offsets"]

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035\u0060\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"
_PUNCT_TABLE = str.maketrans(
    {**{c: "-" for c in _DASHES}, **{c: "'" for c in _SINGLE_QUOTES}, **{c: '"' for c in _DOUBLE_QUOTES}}
)

# Characters that always separate tokens (besides whitespace).
_SEPARATORS = (
    ',;|()[]{}<>"!?\uff0c\uff1b\uff5c\uff08\uff09\uff3b\uff3d\uff5b\uff5d\uff1c\uff1e\uff02\uff01\uff1f'
)
_TOKEN_RE = re.compile("[^\\s" + re.escape(_SEPARATORS + _DOUBLE_QUOTES) + "]+")

_NO_FOLD = frozenset(
    """
    sales news series species means lens plus minus bonus gas bias alias canvas atlas chaos kudos ethos
    pathos cosmos pros cons thanks earnings savings proceedings headquarters clothes lodgings outskirts
    diabetes herpes measles mumps rabies always perhaps whereas towards afterwards besides does goes
    yes this thus various previous numerous serious famous nervous was has his its hers ours yours theirs
    pandas numpy kubernetes jenkins windows macos ios watchos tvos rails keras postgres redis aws sas sass
    less express nodejs nextjs vuejs reactjs d3js threejs devops mlops dataops finops gitops secops devsecops
    aiops llmops chemicals gymnastics athletics physics politics mathematics economics ethics logistics
    """.split()
)
_IES_KEEP = frozenset(
    """
    series species movies cookies zombies rookies calories selfies smoothies
    hippies pixies goodies freebies newbies lies ties pies dies
    """.split()
)
_ES_KEEP = frozenset(
    """
    caches niches cliches headaches avalanches moustaches mustaches axes apaches psyches
    """.split()
)
_PLURAL_ACRONYMS = {
    "cpus": "cpu",
    "gpus": "gpu",
    "tpus": "tpu",
    "npus": "npu",
    "apis": "api",
    "kpis": "kpi",
    "guis": "gui",
    "okrs": "okr",
}


def fold_plural(token: str) -> str:
    """Fold a regular English plural to its singular (conservatively; see the module docstring)."""
    n = len(token)
    if n < 4 or not token.isalpha() or token in _NO_FOLD:
        return token
    if token in _PLURAL_ACRONYMS:
        return _PLURAL_ACRONYMS[token]
    if token.endswith("ies"):
        if n >= 5 and token not in _IES_KEEP:
            return token[:-3] + "y"
        return token[:-1] if token in {"lies", "ties", "pies", "dies"} else token
    if token.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return token[:-1] if token in _ES_KEEP else token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is", "ics")):
        return token[:-1]
    return token


@lru_cache(maxsize=256)
def _is_edge_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _edge_bounds(raw: str) -> tuple[int, int]:
    """(start, end) of the token core after stripping edge punctuation, per the module rules."""
    start, end = 0, len(raw)
    while start < end and _is_edge_punct(raw[start]):
        # keep one leading '.' directly before a letter: ".net"
        if raw[start] == "." and start + 1 < end and raw[start + 1].isalpha():
            if start == 0 or raw[start - 1] != ".":
                break
        start += 1
    while end > start and _is_edge_punct(raw[end - 1]):
        ch = raw[end - 1]
        if ch in "+#" and end - 2 >= start:
            # c++ / c# / f#: keep the run of '+'/'#' when it follows a letter
            k = end - 1
            while k > start and raw[k - 1] in "+#":
                k -= 1
            if k > start and raw[k - 1].isalpha() and end - k <= 2:
                break
        end -= 1
    return start, end


def normalise_token(raw: str) -> list[str]:
    """Normalise one raw token (which may yield 0..n tokens, e.g. NFKC can introduce spaces)."""
    text = unicodedata.normalize("NFKC", raw).casefold().translate(_PUNCT_TABLE)
    out: list[str] = []
    for piece in _TOKEN_RE.findall(text):
        s, e = _edge_bounds(piece)
        core = piece[s:e]
        if core.endswith("'s"):
            core = core[:-2]
        core = core.strip("'")
        if core:
            out.append(fold_plural(core))
    return out


def tokens_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Normalised tokens of ``text`` with the (start, end) character offsets of their raw form in ``text``."""
    out: list[tuple[str, int, int]] = []
    for m in _TOKEN_RE.finditer(text):
        raw = m.group()
        s, e = _edge_bounds(raw)
        if s >= e:
            continue
        for tok in normalise_token(raw[s:e]):
            out.append((tok, m.start() + s, m.start() + e))
    return out


def normalise(s: str) -> str:
    """Casefolded, NFKC, punctuation-unified, whitespace-collapsed, plural-folded form of ``s``."""
    return " ".join(tok for tok, _, _ in tokens_with_offsets(s))


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
