from __future__ import annotations

from skillatlas.extract.text import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


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
