"""The fast tokenizer and the automaton symbols agree exactly with the reference regex and normaliser."""

from __future__ import annotations

import random

import pytest

from skillatlas.extract.tokens import UNKNOWN_SYMBOL, TokenSymbols, normalise_token, token_spans, tokenize

TRICKY = ["C++", "C#", ".NET", "Node.js", "node_js", "_python", "python_", "e.g.", "i.e.,", "R.", "R,", "Go", "x++y",
          "😀Python😀", "Straße", "İstanbul", "ﬁnance", "Excel", "...", "a..b", "++x", "it's", "team’s", "’s", "’",
          "machine-learning", "machine\nlearning", "SQL/NoSQL", "(Java)", "𝐏𝐲𝐭𝐡𝐨𝐧", "Ｐｙｔｈｏｎ", "café", "naïve",
          "Databases", "\u00a0Access", "•Excel", "Word:", "1.5", "3D", "?", "??", "a?b", "'quoted'", "O'Reilly",
          "end.", "end..", "end.'", "x.'y", "\t", " ", "#", "+", "_", "data\u200bbase", "\u0301e", "ǰ", "ß", "K8s",
          "U.S.", "v2.0.1", "a_b_c", "x'", "x’", "\ud800", "Ω", "٣", "²", "Ⅻ", "日本語", "中文,英文"]


def reference(text: str) -> tuple[list[str], list[int]]:
    spans = tokenize(text)
    return [text[s:e] for s, e in spans], [s for s, _ in spans]


@pytest.mark.parametrize("piece", TRICKY)
def test_tricky_pieces_alone_and_in_context(piece: str) -> None:
    for text in (piece, f"use {piece} daily", f"{piece}. Next", f"x{piece}y", f"({piece})"):
        assert token_spans(text) == reference(text), text


def test_random_mixtures_match_the_regex() -> None:
    rnd = random.Random(20261122)
    for _ in range(3000):
        text = "".join(rnd.choice(TRICKY + [" ", " ", ".", "'", "-", "word", "Skills"])
                       for _ in range(rnd.randint(0, 30)))
        assert token_spans(text) == reference(text), repr(text)


def test_every_bmp_character_is_classified_like_the_regex() -> None:
    # each character in the positions that matter (inside a word, before and after a joiner), 1,024 at a time
    for first in range(0, 0x10000, 1024):
        chars = [chr(c) for c in range(first, first + 1024)]
        for pattern in ("a{}b", "{}.x", "x.{}", "{}'s", "{}"):
            text = " ".join(pattern.format(c) for c in chars)
            if token_spans(text) != reference(text):
                bad = [c for c in chars if token_spans(pattern.format(c)) != reference(pattern.format(c))]
                pytest.fail(f"{pattern!r} differs for {[f'U+{ord(c):04X}' for c in bad][:10]}")


def test_empty_and_separator_only_text() -> None:
    assert token_spans("") == ([], [])
    assert token_spans(" ,;-- ... ") == ([], [])


def test_symbols_fold_case_and_plurals_and_mark_unknown_tokens() -> None:
    symbols = TokenSymbols(["database", "policy", "machine"])
    assert symbols.text(["Databases", "database", "policies"]) == (
        symbols.of("database") + symbols.of("database") + symbols.of("policy"))
    assert symbols.text(["unrelated"]) == UNKNOWN_SYMBOL
    # first and second characters come from disjoint ranges, so codes cannot match out of step
    firsts = {s[0] for s in symbols.vocabulary.values()}
    seconds = {s[1] for s in symbols.vocabulary.values()}
    assert not firsts & seconds and UNKNOWN_SYMBOL[0] not in firsts | seconds
    assert len(set(symbols.vocabulary.values())) == 3


def test_symbol_memo_is_bounded() -> None:
    symbols = TokenSymbols(["data"], memo_limit=10)
    symbols.text([f"word{i}" for i in range(25)])
    assert len(symbols._memo) <= 10
    assert symbols.text(["Data"]) == symbols.of(normalise_token("Data"))
