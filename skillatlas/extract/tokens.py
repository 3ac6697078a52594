"""Tokens for phrase matching: the reference definition and a vectorised encoder for the hot path.

A token is an optional leading dot (".NET"), an alphanumeric, then word characters, with internal dots and
apostrophes ("Node.js", "O'Reilly") and trailing ``+``/``#`` ("C++", "C#"); hyphens, slashes, spaces and other
punctuation separate tokens. :func:`tokenize` is that definition as a regex; :func:`normalise_token` folds a
token for comparison (casefold, one apostrophe, simple English plurals).

The phrase matcher's hot path needs every token of a document as a string, fast: :func:`token_spans` gives
exactly the tokens of :func:`tokenize` without running the regex over the whole text, and :class:`TokenSymbols`
turns tokens into the two-character symbols the Aho-Corasick automaton runs over.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np

__all__ = ["TokenSymbols", "normalise_token", "token_spans", "tokenize"]

TOKEN_RE = re.compile(r"\.?[^\W_][\w+#]*(?:['’.][^\W_][\w+#]*)*", re.UNICODE)
_NO_STRIP_SUFFIX = ("ss", "us", "is", "ys", "as", "os")


@lru_cache(maxsize=262_144)
def normalise_token(token: str) -> str:
    """Casefold, unify apostrophes, strip simple English plural endings ("databases" -> "database")."""
    t = token.casefold().replace("’", "'")
    if t.endswith("'s"):
        t = t[:-2]
    if len(t) > 4 and t.isalpha():
        if t.endswith("ies"):
            return t[:-3] + "y"
        if t.endswith(("sses", "shes", "ches", "xes")):
            return t[:-2]
        if t.endswith("s") and not t.endswith(_NO_STRIP_SUFFIX):
            return t[:-1]
    elif len(t) == 4 and t.isalpha() and t.endswith("s") and not t.endswith(_NO_STRIP_SUFFIX):
        return t[:-1]
    return t


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token character spans of ``text`` (see the module docstring for what a token is)."""
    return [m.span() for m in TOKEN_RE.finditer(text)]


# ------------------------------------------------------------------------------------------ fast tokenizer
# Character classes: 0 separator (never in a token), 1 alphanumeric (``[^\W_]``, as the regex says),
# 2 "_" "+" "#" (inside or at the end of a token), 3 joiner "." "'" "’" (in a token only before an alphanumeric).
_ALNUM_RE = re.compile(r"[^\W_]", re.UNICODE)


def _char_class(ch: str) -> int:
    if _ALNUM_RE.match(ch):
        return 1
    return 2 if ch in "_+#" else 3 if ch in ".'’" else 0


_ASCII_CLASS = [_char_class(chr(c)) for c in range(128)]
# separators -> space, other bytes unchanged (the bytes are ASCII or the placeholders below)
_SEPARATORS_TO_SPACE = bytes(32 if c < 128 and _ASCII_CLASS[c] == 0 else c for c in range(256))
# after that: 1 for a token byte other than an alphanumeric (its chunk goes through the regex), else 0
_PUNCT_TO_ONE = bytes(int(c < 128 and _ASCII_CLASS[c] in (2, 3)) for c in range(256))
# a non-ASCII character stands in the bytes as a placeholder of its class (0 means separator)
_PLACEHOLDER = {0: 32, 1: ord("a"), 2: ord("_"), 3: ord("'")}


@lru_cache(maxsize=4096)
def _placeholder(ch: str) -> int:
    return _PLACEHOLDER[_char_class(ch)]


def token_spans(text: str) -> tuple[list[str], list[int]]:
    """The tokens of ``text`` and their start offsets: exactly the tokens of :func:`tokenize`, faster.

    No token contains a separator, nor a joiner followed by a separator, so a C-level byte translation plus
    ``str.split`` cut the text into *chunks* (runs of the other characters) and numpy finds where they start.
    A chunk of ASCII alphanumerics is exactly one token (nearly all of them); any other chunk ("C++",
    "Node.js", "e.g", "it's", "café") is read back from the text and tokenised by the regex itself.
    """
    # one byte per character: a non-ASCII character becomes "?", then a placeholder of its class
    proxy = text.encode("ascii", "replace")
    special: list[int] = []
    if not text.isascii():
        buf = bytearray(proxy)
        for i in np.flatnonzero(np.frombuffer(proxy, dtype=np.uint8) == 63).tolist():
            ch = text[i]
            if ch != "?":
                buf[i] = _placeholder(ch)
                if buf[i] != 32:
                    special.append(i)
        proxy = bytes(buf)
    # A joiner before a separator is itself a separator ("experience. "): one pass catches nearly all; one
    # left over ("etc..") only sends its chunk through the regex. The trailing space closes the last chunk.
    cut = (proxy.translate(_SEPARATORS_TO_SPACE) + b" ").replace(b". ", b"  ").replace(b"' ", b"  ")
    chunks = cut.decode("ascii").split()
    if not chunks:
        return [], []
    in_chunk = np.frombuffer(cut, dtype=np.uint8) != 32
    starts = np.flatnonzero(in_chunk[1:] > in_chunk[:-1]) + 1
    chunk_starts: list[int] = starts.tolist()
    if in_chunk[0]:
        chunk_starts.insert(0, 0)
    impure_at = np.flatnonzero(np.frombuffer(cut.translate(_PUNCT_TO_ONE), dtype=np.bool_))
    if special:  # chunks holding a non-ASCII token character (a dangling "’" is no longer in any chunk)
        impure_at = np.sort(np.concatenate((impure_at, [i for i in special if in_chunk[i]])))
    if not len(impure_at):
        return chunks, chunk_starts
    tokens: list[str] = []
    offsets: list[int] = []
    prev = 0
    first_is_chunk = int(in_chunk[0])
    for k in dict.fromkeys((np.searchsorted(starts, impure_at, side="right") - 1 + first_is_chunk).tolist()):
        tokens += chunks[prev:k]
        offsets += chunk_starts[prev:k]
        prev = k + 1
        base = chunk_starts[k]
        chunk = text[base:base + len(chunks[k])]
        if chunk.isalnum():
            tokens.append(chunk)
            offsets.append(base)
            continue
        for m in TOKEN_RE.finditer(chunk):
            tokens.append(m.group())
            offsets.append(base + m.start())
    tokens += chunks[prev:]
    offsets += chunk_starts[prev:]
    return tokens, offsets


# ------------------------------------------------------------------------------------------ symbols
UNKNOWN_SYMBOL = "\0\0"  # a token whose normalised form is in no alias


class TokenSymbols:
    """Two automaton characters per token of a fixed vocabulary (normalised alias tokens).

    Why two: pyahocorasick scans a trie node's children linearly, so one character per token (~18k children
    at the root) would make every step slow; with a first character from U+0100.. and a second from U+4000..
    no node has more than ~sqrt(vocabulary) children. An alias can only match where a token's symbols start,
    because first and second characters never coincide.
    """

    def __init__(self, vocabulary: Iterable[str], memo_limit: int = 500_000) -> None:
        words = list(dict.fromkeys(vocabulary))
        base = max(2, math.isqrt(len(words)) + 1)
        self.vocabulary: Mapping[str, str] = {
            w: chr(0x100 + i // base) + chr(0x4000 + i % base) for i, w in enumerate(words)}
        self._memo = _SurfaceMemo(self.vocabulary, memo_limit)

    def of(self, normalised: str) -> str:
        """Symbols of one vocabulary token (KeyError for any other)."""
        return self.vocabulary[normalised]

    def text(self, tokens: list[str]) -> str:
        """The automaton text of a document's surface tokens: known tokens are C-level dict hits."""
        return "".join(map(self._memo.__getitem__, tokens))


class _SurfaceMemo(dict[str, str]):
    """Surface token -> symbols, filled on first sight (normalised once); dropped when it outgrows ``limit``
    (documents bring numbers, names and typos without end)."""

    def __init__(self, vocabulary: Mapping[str, str], limit: int) -> None:
        super().__init__()
        self._vocabulary = vocabulary
        self._limit = limit

    def __missing__(self, token: str) -> str:
        symbols = self._vocabulary.get(normalise_token(token), UNKNOWN_SYMBOL)
        if len(self) >= self._limit:
            self.clear()
        self[token] = symbols
        return symbols
