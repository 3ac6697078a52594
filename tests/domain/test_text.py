from __future__ import annotations

import pytest

from skillatlas.extract.text import fold_plural, normalise, split_sentences, tokens_with_offsets


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


# ---------------------------------------------------------------------------------------------- normalise
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Machine   LEARNING\t\n", "machine learning"),
        ("Databases", "database"),
        ("Communication Skills", "communication skill"),
        ("Emerging Technologies", "emerging technology"),
        ("business processes", "business process"),
        ("data analysis", "data analysis"),
        ("Sales", "sales"),
        ("statistics and physics", "statistics and physics"),
        ("status of the campus", "status of the campus"),
        ("Kubernetes, Pandas, Jenkins", "kubernetes pandas jenkins"),
        ("REST APIs on GPUs", "rest api on gpu"),
        ("C++, C#, .NET, F# and Node.js", "c++ c# .net f# and node.js"),
        ("(C++)", "c++"),
        ("Python 3.5.", "python 3.5"),
        ("CI/CD pipelines", "ci/cd pipeline"),
        ("data\u2013driven \u201cteam\u2019s\u201d work", "data-driven team work"),
        ("\uff30\uff59\uff54\uff48\uff4f\uff4e", "python"),  # full-width (NFKC)
        ("\ufb01nancial modelling", "financial modelling"),  # PDF ligature
        ("Stra\u00dfe", "strasse"),  # casefold
        ("bachelor's degree", "bachelor degree"),
        ("skills: SQL; Excel | Tableau!", "skill sql excel tableau"),
        ("\u2022 teamwork", "teamwork"),
        ("...", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_is_idempotent() -> None:
    for raw in ["C++ Databases and Node.js", "Emerging Technologies", "business analysis", ".NET developers"]:
        once = normalise(raw)
        assert normalise(once) == once


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("skills", "skill"),
        ("databases", "database"),
        ("libraries", "library"),
        ("classes", "class"),
        ("approaches", "approach"),
        ("boxes", "box"),
        ("caches", "cache"),
        ("keys", "key"),
        ("business", "business"),
        ("analysis", "analysis"),
        ("sales", "sales"),
        ("series", "series"),
        ("news", "news"),
        ("bus", "bus"),
        ("gas", "gas"),
        ("does", "does"),
        ("ties", "tie"),
        ("1990s", "1990s"),
        ("apis", "api"),
    ],
)
def test_fold_plural(token: str, expected: str) -> None:
    assert fold_plural(token) == expected


def test_tokens_with_offsets_point_into_the_original() -> None:
    text = "Use (C++) and Node.js, e.g. \u201cDatabases\u201d."
    tokens = tokens_with_offsets(text)
    assert [t for t, _, _ in tokens] == ["use", "c++", "and", "node.js", "e.g", "database"]
    assert [text[s:e] for _, s, e in tokens] == ["Use", "C++", "and", "Node.js", "e.g", "Databases"]


def test_tokens_with_offsets_after_nfkc_expansion() -> None:
    text = "\ufb01ne tuning"
    tokens = tokens_with_offsets(text)
    assert tokens == [("fine", 0, 3), ("tuning", 4, 10)]


# ---------------------------------------------------------------------------------------------- sentences
def test_split_on_sentence_punctuation() -> None:
    assert sentences("We use Python. You will build APIs! Ready? Yes.") == [
        "We use Python.",
        "You will build APIs!",
        "Ready?",
        "Yes.",
    ]


def test_no_split_inside_abbreviations_versions_and_names() -> None:
    text = "Use tools, e.g. Spark and Node.js 3.5 with Dr. Smith at Acme Inc. in the U.S. Army. Next one."
    assert sentences(text) == [
        "Use tools, e.g. Spark and Node.js 3.5 with Dr. Smith at Acme Inc. in the U.S. Army.",
        "Next one.",
    ]


def test_no_split_before_lowercase() -> None:
    assert sentences("Knowledge of approx. ten tools. Fine.") == ["Knowledge of approx. ten tools.", "Fine."]
    assert sentences("Version 2. released later") == ["Version 2. released later"]


def test_split_on_newlines_blank_lines_and_bullets() -> None:
    text = (
        "Requirements\n\n\u2022 SQL\n- Docker and Kubernetes\n* Git\n1. First item\n2) Second item\na) Third"
    )
    assert sentences(text) == [
        "Requirements",
        "SQL",
        "Docker and Kubernetes",
        "Git",
        "First item",
        "Second item",
        "Third",
    ]


def test_inline_bullets() -> None:
    assert sentences("Skills: Python \u2022 SQL \u2022 Excel") == ["Skills: Python", "SQL", "Excel"]


def test_hard_wrapped_lines_are_joined() -> None:
    text = (
        "Students will learn to design relational databases and write\n"
        "efficient queries for analytics. Then more.\n"
        "short line\n"
        "lowercase start stays separate"
    )
    assert sentences(text) == [
        "Students will learn to design relational databases and write\nefficient queries for analytics.",
        "Then more.",
        "short line",
        "lowercase start stays separate",
    ]


def test_offsets_are_trimmed_and_exact() -> None:
    text = "  Hello world.   Second sentence here.  \n\n   \u2022  Bullet item  "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Hello world.", "Second sentence here.", "Bullet item"]
    assert all(text[s] != " " and text[e - 1] != " " for s, e in spans)
    assert spans == sorted(spans)


def test_punctuation_only_lines_are_dropped() -> None:
    assert sentences("---\n***\n\u2022\nReal text") == ["Real text"]


def test_very_long_sentence_is_capped() -> None:
    text = "word " * 1000
    spans = split_sentences(text, max_len=200)
    assert len(spans) > 1
    assert all(e - s <= 200 for s, e in spans)
    assert " ".join(text[s:e] for s, e in spans) == text.strip()


def test_empty_text() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\n ") == []
