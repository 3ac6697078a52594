"""Dictionary phrase matching of skill labels and aliases (pyahocorasick).

Matching happens on *tokens* (see :mod:`skillatlas.extract.tokens`: ``C++``, ``C#``, ``.NET``, ``Node.js`` stay one
token), each normalised (casefold, unified apostrophes, simple plural stripping). Every distinct normalised
alias token gets a two-character symbol, an alias becomes the string of its tokens' symbols, and a document
becomes two symbols per token (tokens in no alias get a separator symbol); an Aho-Corasick automaton over
those strings finds every alias whose tokens appear as a contiguous token run. This guarantees word
boundaries ("Java" is not found inside "JavaScript"), a hit's end is a token index, and hits map back to
character offsets of the original text. A 4,000 character document is ~1,200 automaton steps, and the
per-token work is C-level: :func:`~skillatlas.extract.tokens.token_spans` tokenises without a regex pass over the text,
and :class:`~skillatlas.extract.tokens.TokenSymbols` maps a surface token to its symbols with one dict lookup.

Ambiguous aliases (short names and names that are ordinary English words, e.g. ``R``, ``C``, ``Go``,
``Excel``, ``Word``, ``Access``, ``Chef``, ``lead``) get a :class:`AliasRule`:

* pure function words are never matched;
* product names that are also common English words must appear with the taxonomy's capitalisation and not as
  the first word of a sentence ("Excel" matches in "use Excel daily", not in "excel at ..." nor in
  "Excel at customer service.");
* one- and two-character names must match case-sensitively *and* have a technical context in the same sentence
  (another technology hit or a cue word such as "programming" or "language");
* short all-capital acronyms must match case-sensitively.

Overlaps are resolved greedily: the longest hit (in tokens, then characters) wins, then the leftmost.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import ahocorasick

from skillatlas.extract.tokens import TokenSymbols, normalise_token, token_spans, tokenize

__all__ = [
    "AMBIGUOUS_WORDS",
    "STOP_WORDS",
    "AliasRule",
    "PhraseHit",
    "PhraseMatcher",
    "normalise_phrase",
    "normalise_token",
    "tokenize",
]

_SENTENCE_END = set(".!?:;•*\n\r\t|")
_SENTENCE_BREAKS = ("\n", "!", "?", ";", "•", ". ", ".\t")
_SENTENCE_WINDOW = 512  # characters searched around a hit before the whole text

STOP_WORDS: frozenset[str] = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either etc few for from
    further had has have having he her here hers him his how i if in into is it its itself just me
    more most my neither no nor not of off on once only or other our ours out over own per same she
    should so some such than that the their them then there these they this those through to too
    under until up upon us very via was we were what when where which while who whom why will with
    within without would yes yet you your e g ie eg i.e e.g plus new one two three well good great
    strong able must may way use using used work working"""
    .split()
)

# Ordinary English words that are also names of products / languages / tools in the taxonomy.  Matched only
# with the taxonomy's capitalisation and not sentence-initially.  (Extended from data by the caller, see
# PhraseMatcher.from_taxonomy.)
AMBIGUOUS_WORDS: frozenset[str] = frozenset(
    """access excel word lead chef go spark swift ruby rust shell make ant hive pig storm beam flask bottle
    express ember backbone meteor mercury gem rails jest mocha karma jasmine cucumber gulp grunt yarn composer
    dart elm crystal logo basic assembly scheme forth jet dig target project publisher outlook teams office
    paint notepad calculator calendar mail maps sheets slides docs drive keep photos forms sites meet chat
    groups answer notes orbit quest vantage sage insight focus impact pulse bridge compass anchor atlas
    spectrum vision prism summit pilot navigator explorer guardian sentinel tracker monitor planner manager
    studio workbench designer builder creator editor reader writer viewer player recorder server client agent
    console gateway portal hub cloud stream flow lens canvas palette sketch unity nuke fusion resolve animate
    audition dimension muse prelude rush stock fonts substance civil advance vault wave mint simple snap
    snapshot sonar ping trace path route switch router firewall patch fish hack opal pearl diamond jade less
    foundation ninja buck pants premiere inventor illustrator acrobat keynote pages numbers contribute
    director flash fireworks captain commander control connect contact express fit shape bond arc
    bones""".split()
) - STOP_WORDS

# Cue words that make a one/two-character programming-language name (R, C, Go, J, D) plausible.
TECH_CUES: frozenset[str] = frozenset(
    """programming program programmer language languages code coding coder developer development develop
    software script scripting statistical statistics statistic analysis analytics compiler compile python java
    javascript sql c++ c# matlab sas stata spss julia scala rust golang perl php ruby kotlin swift typescript
    linux unix embedded backend back-end frontend fullstack engineer engineering data package packages library
    libraries framework tidyverse ggplot shiny cran rstudio goroutine gcc clang""".split()
)


@lru_cache(maxsize=262_144)
def _alias_tokens(alias: str) -> tuple[str, ...]:
    """Surface tokens of a (short, repeated) alias string."""
    return tuple(alias[s:e] for s, e in tokenize(alias))


@lru_cache(maxsize=262_144)
def normalise_phrase(text: str) -> str:
    """Normalised form used for alias comparison: normalised tokens joined by single spaces."""
    return " ".join(normalise_token(text[s:e]) for s, e in tokenize(text))


@dataclass(frozen=True)
class AliasRule:
    """How strictly one alias of one skill is matched."""

    skill_id: str
    alias: str  # surface form as written in the taxonomy
    case_sensitive: bool = False
    not_sentence_initial: bool = False
    needs_context: bool = False
    is_tech: bool = False  # a technology alias: counts as context for needs_context aliases
    exact_form: bool = False  # one-word alias only matched in its own spelling (no plural folding)


class PhraseHit(NamedTuple):
    """One accepted alias occurrence (a named tuple: thousands are made per second)."""

    skill_id: str
    alias: str  # the taxonomy alias that matched
    start: int  # character offsets into the text
    end: int
    n_tokens: int


def _hit_order(h: PhraseHit) -> tuple[int, int, str]:
    return h.start, -h.end, h.skill_id


def classify_alias(alias: str, *, common_words: frozenset[str] | set[str] = frozenset(),
                   is_tech: bool = False, preferred: bool = False) -> dict[str, bool] | None:
    """Matching flags for one alias, or None when the alias must not be matched at all.

    ``preferred``: the alias is the skill's own label (a one-word label such as "communication" is kept even
    if it is an ordinary word; the same word as a mere alternative label, e.g. "data" for "statistics", is
    dropped).
    """
    toks = _alias_tokens(alias)
    if not toks:
        return None
    norm = [normalise_token(t) for t in toks]
    common = common_words
    flags = {"case_sensitive": False, "not_sentence_initial": False, "needs_context": False}
    if len(toks) == 1:
        surface, n = toks[0], norm[0]
        if n != surface.casefold().replace("’", "'"):
            # 'securities' folds to 'security', 'sales' to 'sale': a one-word label whose plural carries
            # its own meaning is only matched as written
            flags["exact_form"] = True
        letters = sum(ch.isalpha() for ch in n)
        if n in STOP_WORDS or letters == 0:
            return None
        has_upper = any(ch.isupper() for ch in surface)
        if len(n) <= 2:
            # 'R', 'C', 'Go', 'J', 'xv': case-sensitive and only with technical context
            if not has_upper and len(n) == 1:
                return None
            flags.update(case_sensitive=True, needs_context=True)
            if n in AMBIGUOUS_WORDS or n in common:
                flags["not_sentence_initial"] = True
            return flags
        if not has_upper and n in common and n not in AMBIGUOUS_WORDS:
            return flags if preferred else None
        if n in AMBIGUOUS_WORDS or (has_upper and n in common):
            if not has_upper:
                return None  # lowercase alias that is a known ambiguous word (e.g. 'lead'): not matched
            # a product named like an ordinary word ('Excel', 'Access'): capitalised, not sentence-initial
            flags.update(case_sensitive=True, not_sentence_initial=True)
            return flags
        if surface.isupper() and len(n) <= 4:
            flags["case_sensitive"] = True  # short acronym: 'SAS', 'PHP', 'AWK'
        return flags
    # multi-word aliases made only of stop words / ambiguous words ("Go Go", "One Note")
    if all(t in STOP_WORDS for t in norm):
        return None
    if all(t in STOP_WORDS or t in AMBIGUOUS_WORDS or t in common for t in norm) and len(toks) <= 2:
        if any(ch.isupper() for ch in alias):
            flags.update(case_sensitive=True)
        elif all(t in STOP_WORDS or t in AMBIGUOUS_WORDS for t in norm):
            return None
    return flags


class PhraseMatcher:
    """Aho-Corasick matcher over normalised alias token sequences."""

    def __init__(self, rules: Iterable[AliasRule]) -> None:
        self._automaton = ahocorasick.Automaton()
        buckets: dict[tuple[str, ...], list[tuple[AliasRule, tuple[str, ...]]]] = {}
        for rule in rules:
            surface = _alias_tokens(rule.alias)
            if not surface:
                continue
            key = tuple(normalise_token(t) for t in surface)
            bucket = buckets.setdefault(key, [])
            if any(r.skill_id == rule.skill_id and r == rule for r, _ in bucket):
                continue
            bucket.append((rule, surface))
        # the automaton runs over two symbols per token of the aliases' vocabulary (see TokenSymbols)
        self._symbols = TokenSymbols(tok for key in buckets for tok in key)
        one_word: list[str] = []
        for key, bucket in buckets.items():
            # a bucket whose rules need no check at all is accepted wholesale (most hits)
            checked = any(r.case_sensitive or r.exact_form or r.not_sentence_initial for r, _ in bucket)
            # checked buckets keep each rule's surface tokens for the case / form checks
            accepted: tuple[object, ...] = tuple(bucket) if checked else tuple(r for r, _ in bucket)
            self._automaton.add_word("".join(map(self._symbols.of, key)), (len(key), accepted, checked))
            if len(key) == 1 and all(r.not_sentence_initial or r.needs_context for r, _ in bucket):
                one_word.append(key[0])
        self.size = len(buckets)
        if self.size:
            self._automaton.make_automaton()
        # one-word aliases that are only matched under restrictions (ordinary words, 1-2 letter names):
        # semantic matching should not treat such a bare word as evidence either
        self.restricted_words: frozenset[str] = frozenset(one_word)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str] | tuple[str, str, bool]], *,
                   common_words: Iterable[str] = (), tech_ids: Iterable[str] = ()) -> PhraseMatcher:
        """Build from (skill_id, alias[, is_preferred_label]) tuples, applying :func:`classify_alias`."""
        common = frozenset(common_words)
        tech = frozenset(tech_ids)
        rules = []
        dropped: set[str] = set()
        for pair in pairs:
            skill_id, alias = pair[0], pair[1]
            preferred = bool(pair[2]) if len(pair) > 2 else False
            flags = classify_alias(alias, common_words=common, is_tech=skill_id in tech, preferred=preferred)
            if flags is None:
                norm = normalise_phrase(alias)
                if norm and " " not in norm and norm not in STOP_WORDS:
                    dropped.add(norm)
                continue
            rules.append(AliasRule(skill_id, alias, is_tech=skill_id in tech, **flags))
        matcher = cls(rules)
        matcher.restricted_words = matcher.restricted_words | frozenset(dropped)
        return matcher

    def find(self, text: str) -> list[PhraseHit]:
        """All accepted alias hits in ``text`` (overlaps resolved: longest wins), sorted by position."""
        if not self.size or not text:
            return []
        tokens, starts = token_spans(text)
        if not tokens:
            return []
        # two symbols per token: a hit ending at symbol i ends at token i // 2 (word boundaries by construction)
        symbols = self._symbols.text(tokens)
        # (first token, last token) -> accepted rules of the alias found there, in taxonomy order. A span holds
        # one normalised alias, so the automaton reports it once.
        found: dict[tuple[int, int], Sequence[AliasRule]] = {}
        for end, (n_tokens, rules, checked) in self._automaton.iter(symbols):
            last = end >> 1
            first = last - n_tokens + 1
            if not checked:
                found[(first, last)] = rules
                continue
            kept = []
            for rule, surface in rules:
                if rule.case_sensitive and tuple(tokens[first:last + 1]) != surface:
                    continue
                if rule.exact_form and tokens[first].casefold().replace("’", "'") != \
                        surface[0].casefold().replace("’", "'"):
                    continue
                if rule.not_sentence_initial and self._is_sentence_initial(text, starts[first], first):
                    continue
                kept.append(rule)
            if kept:
                found[(first, last)] = kept
        if not found:
            return []
        # character spans of the tokens that start or end a hit
        spans = {i: (starts[i], starts[i] + len(tokens[i])) for key in found for i in key}
        if any(r.needs_context for rules in found.values() for r in rules):
            found = self._check_context(text, tokens, starts, found)
        hits = [PhraseHit(r.skill_id, r.alias, spans[f][0], spans[la][1], la - f + 1)
                for f, la, r in self._resolve(found, spans)]
        hits.sort(key=_hit_order)
        return hits

    def _check_context(self, text: str, tokens: Sequence[str], starts: Sequence[int],
                       found: dict[tuple[int, int], Sequence[AliasRule]]
                       ) -> dict[tuple[int, int], Sequence[AliasRule]]:
        """Keep 1-2 letter names ('R', 'C', 'Go') only with a technical context in the same sentence: another
        technology hit or a cue word ("programming", "language", "statistics"...)."""
        tech_starts = [(starts[key[0]], key) for key, rules in found.items() if any(r.is_tech for r in rules)]
        out: dict[tuple[int, int], Sequence[AliasRule]] = {}
        for key, rules in found.items():
            if not any(r.needs_context for r in rules):
                out[key] = rules
                continue
            s0, s1 = self._sentence_bounds(text, starts[key[0]])
            # the sentence's tokens: no token crosses a sentence break, so they are the tokens starting inside
            in_sentence = tokens[bisect_left(starts, s0):bisect_left(starts, s1)]
            ok = any(s0 <= pos < s1 and other != key for pos, other in tech_starts) or \
                not TECH_CUES.isdisjoint(map(normalise_token, in_sentence))
            kept = [r for r in rules if ok or not r.needs_context]
            if kept:
                out[key] = kept
        return out

    @staticmethod
    def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
        """[start, end) of the sentence around character ``pos`` (breaks: newline ! ? ; • and '. ')."""
        # look near ``pos`` first: if any break is within the window, the nearest one overall is in it
        lo = max(0, pos - _SENTENCE_WINDOW)
        start = max(text.rfind(c, lo, pos) for c in _SENTENCE_BREAKS)
        if start == -1 and lo:
            start = max(text.rfind(c, 0, pos) for c in _SENTENCE_BREAKS)
        hi = pos + _SENTENCE_WINDOW
        ends = [i for i in (text.find(c, pos, hi) for c in _SENTENCE_BREAKS) if i != -1]
        if not ends and hi < len(text):
            ends = [i for i in (text.find(c, pos) for c in _SENTENCE_BREAKS) if i != -1]
        return start + 1, min(ends) if ends else len(text)

    @staticmethod
    def _resolve(found: Mapping[tuple[int, int], Sequence[AliasRule]], spans: Mapping[int, tuple[int, int]]
                 ) -> list[tuple[int, int, AliasRule]]:
        """Longest match wins (tokens, then characters, then leftmost); every skill of a winning span is kept
        (same surface, several skills), once per skill."""
        order = sorted(found, key=lambda k: (k[0] - k[1], spans[k[0]][0] - spans[k[1]][1], k[0]))
        taken: set[int] = set()
        out: list[tuple[int, int, AliasRule]] = []
        for f, la in order:
            if f == la:
                if f in taken:
                    continue
                taken.add(f)
            else:
                covered = range(f, la + 1)
                if not taken.isdisjoint(covered):
                    continue
                taken.update(covered)
            rules = found[(f, la)]
            if len(rules) == 1:
                out.append((f, la, rules[0]))
                continue
            seen: set[str] = set()
            for r in rules:
                if r.skill_id not in seen:
                    seen.add(r.skill_id)
                    out.append((f, la, r))
        return out

    @staticmethod
    def _is_sentence_initial(text: str, start: int, i: int) -> bool:
        """Is token ``i`` (starting at character ``start``) the first word of a sentence or list item?"""
        if i == 0:
            return True
        j = start - 1
        while j >= 0 and text[j] in " \u00a0\"'([{":
            j -= 1
        return j < 0 or text[j] in _SENTENCE_END or text[j] in "-–—"
