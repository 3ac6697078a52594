"""Phrase matcher: word boundaries, overlaps, ambiguous short aliases, offsets."""

from __future__ import annotations

import pytest

from skillatlas.extract.phrase_match import PhraseMatcher, classify_alias, normalise_phrase, tokenize

PAIRS = [
    ("java", "Java"),
    ("javascript", "JavaScript"),
    ("ms", "Microsoft SQL Server"),
    ("sql", "SQL"),
    ("sqlserver", "SQL Server"),
    ("excel", "Microsoft Excel"),
    ("excel", "Excel"),
    ("word", "Microsoft Word"),
    ("word", "Word"),
    ("r", "R"),
    ("c", "C"),
    ("cpp", "C++"),
    ("csharp", "C#"),
    ("go", "Go"),
    ("chef", "Chef"),
    ("lead", "lead"),
    ("leadteam", "lead a team"),
    ("ml", "machine learning"),
    ("db", "databases"),
    ("sas", "SAS"),
    ("dotnet", ".NET"),
    ("node", "Node.js"),
]


@pytest.fixture(scope="module")
def matcher() -> PhraseMatcher:
    return PhraseMatcher.from_pairs(PAIRS, common_words={"excel", "word", "chef", "lead", "access"},
                                    tech_ids={"java", "javascript", "sql", "cpp", "csharp", "node", "dotnet"})


def found(matcher: PhraseMatcher, text: str) -> list[tuple[str, str]]:
    return [(h.skill_id, text[h.start:h.end]) for h in matcher.find(text)]


def test_tokenizer_keeps_tech_tokens() -> None:
    text = "C++, C#, .NET and Node.js."
    assert [text[s:e] for s, e in tokenize(text)] == ["C++", "C#", ".NET", "and", "Node.js"]
    assert normalise_phrase("Relational Databases") == normalise_phrase("relational database")


def test_word_boundaries(matcher: PhraseMatcher) -> None:
    assert found(matcher, "Senior JavaScript developer") == [("javascript", "JavaScript")]
    assert found(matcher, "Java and JavaScript") == [("java", "Java"), ("javascript", "JavaScript")]
    assert found(matcher, "Javanese cooking") == []
    assert found(matcher, "MySQL tuning") == []


def test_longest_match_wins(matcher: PhraseMatcher) -> None:
    assert found(matcher, "We run Microsoft SQL Server.") == [("ms", "Microsoft SQL Server")]
    assert found(matcher, "SQL Server or plain SQL") == [("sqlserver", "SQL Server"), ("sql", "SQL")]
    hits = matcher.find("lead a team of engineers")
    assert [(h.skill_id, h.n_tokens) for h in hits] == [("leadteam", 3)]


def test_offsets_point_at_text(matcher: PhraseMatcher) -> None:
    text = "Knowledge of  machine   learning and relational databases."
    for h in matcher.find(text):
        assert 0 <= h.start < h.end <= len(text)
        assert normalise_phrase(text[h.start:h.end]) == normalise_phrase(h.alias)
    assert ("db", "databases") in found(matcher, text)
    assert ("ml", "machine   learning") in found(matcher, text)


def test_ambiguous_common_words(matcher: PhraseMatcher) -> None:
    # verbs / common nouns are not products
    assert found(matcher, "You excel at customer service and word processing.") == []
    assert found(matcher, "Excel at customer service.") == []  # sentence-initial capital
    assert found(matcher, "You will lead the project.") == []
    assert found(matcher, "The chef prepares meals.") == []
    # capitalised product names in running text are
    assert ("excel", "Excel") in found(matcher, "Reports are built in Excel and Word.")
    assert ("word", "Word") in found(matcher, "Reports are built in Excel and Word.")
    assert found(matcher, "Use Microsoft Excel daily") == [("excel", "Microsoft Excel")]


def test_short_aliases_need_case_and_context(matcher: PhraseMatcher) -> None:
    assert ("r", "R") in found(matcher, "Statistical programming in R and SQL.")
    assert ("c", "C") in found(matcher, "Embedded software in C and C++.")
    assert ("go", "Go") in found(matcher, "Backend services in Go and Java.")
    assert found(matcher, "We go to the office.") == []
    assert found(matcher, "Plan B and option C are both fine.") == []  # no technical context
    assert found(matcher, "programming in r") == []  # lowercase single letter
    assert ("sas", "SAS") in found(matcher, "Analytics with SAS.")
    assert found(matcher, "The sas were fine.") == []


def test_classify_alias_rules() -> None:
    assert classify_alias("the") is None
    assert classify_alias("a") is None
    assert classify_alias("R") == {"case_sensitive": True, "not_sentence_initial": False,
                                   "needs_context": True}
    assert classify_alias("Excel", common_words=frozenset({"excel"}))["not_sentence_initial"] is True
    assert classify_alias("lead", common_words=frozenset({"lead"})) is None
    assert classify_alias("machine learning") == {"case_sensitive": False, "not_sentence_initial": False,
                                                 "needs_context": False}


def test_plural_label_matches_only_as_written() -> None:
    m = PhraseMatcher.from_pairs([("sec", "securities"), ("db", "database"), ("ml", "machine learning")])
    assert [h.skill_id for h in m.find("IT security and financial securities")] == ["sec"]
    assert [h.skill_id for h in m.find("relational databases")] == ["db"]
    assert [h.skill_id for h in m.find("Machine Learnings")] == ["ml"]  # multi-word aliases fold plurals


def test_sentence_bounds_reach_past_the_search_window() -> None:
    # breaks further than the 512-character window around a hit are still found
    filler = "word " * 300
    text = f"First line\nWe use R {filler}in statistics work. Next sentence"
    pos = text.index("R ")
    start, end = PhraseMatcher._sentence_bounds(text, pos)
    assert text[start:end].startswith("We use R") and text[start:end].endswith("statistics work")
    naive_start = max(text.rfind(c, 0, pos) for c in ("\n", "!", "?", ";", "•", ". ", ".\t")) + 1
    assert start == naive_start


def test_context_cue_far_from_a_short_name_in_the_same_sentence(matcher: PhraseMatcher) -> None:
    text = "We use R " + "and more " * 120 + "for statistics."
    assert ("r", "R") in found(matcher, text)
    assert ("r", "R") not in found(matcher, "We use R " + "and more " * 120 + "for fun.")
