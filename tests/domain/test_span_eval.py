"""SkillSpan span evaluation: document rebuilding, gold offsets, recall and on-gold share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from skillatlas.evaluation.extraction import GoldSentence, select_part, split_part
from skillatlas.evaluation.spans import _bio_spans, evaluate_postings, read_skillspan


def _write(tmp_path: Path) -> Path:
    rows = [
        {"idx": 1, "tokens": ["Job", "description"], "tags_skill": ["O", "O"], "tags_knowledge": ["O", "O"],
         "source": "tech"},
        {"idx": 1, "tokens": ["Experience", "in", "Python", "and", "work", "with", "teams"],
         "tags_skill": ["O", "O", "O", "O", "B", "I", "I"], "tags_knowledge": ["O", "O", "B", "O", "O", "O", "O"],
         "source": "tech"},
        {"idx": 2, "tokens": ["Java"], "tags_skill": ["O"], "tags_knowledge": ["B"], "source": "tech"},
    ]
    path = tmp_path / "mini.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@dataclass(frozen=True)
class _M:
    start: int
    end: int
    label: str
    occurrences: tuple[tuple[int, int], ...] = ()


class _Fixed:
    def __init__(self, by_text: dict[str, list[_M]]) -> None:
        self.by_text = by_text

    def extract(self, text: str) -> list[_M]:
        return self.by_text.get(text, [])


def test_bio_spans() -> None:
    assert _bio_spans(["O", "B", "I", "B", "O", "I", "I"]) == [(1, 3), (3, 4), (5, 7)]


def test_read_and_offsets(tmp_path: Path) -> None:
    p1, p2 = read_skillspan(_write(tmp_path))
    assert p1.text == "Job description\nExperience in Python and work with teams"
    assert [p1.text[a:b] for a, b in p1.skill_spans] == ["work with teams"]
    assert [p1.text[a:b] for a, b in p1.knowledge_spans] == ["Python"]
    assert [p2.text[a:b] for a, b in p2.knowledge_spans] == ["Java"]
    assert len(read_skillspan(_write(tmp_path), limit=1)) == 1


def test_recall_and_on_gold(tmp_path: Path) -> None:
    p1, p2 = read_skillspan(_write(tmp_path))
    i = p1.text.index("Python")
    j = p1.text.index("description")
    ex = _Fixed({p1.text: [_M(i, i + 6, "Python"), _M(j, j + 11, "write job descriptions")], p2.text: []})
    r = evaluate_postings(ex, [p1, p2])
    assert r.knowledge_recall == 0.5 and r.skill_recall == 0.0 and r.on_gold_share == 0.5
    assert r.junk["description"] == 1
    w = p1.text.index("work")
    ex = _Fixed({p1.text: [_M(i, i + 6, "Python", ((i, i + 6), (w, w + 4)))]})
    assert evaluate_postings(ex, [p1], occurrences=False).skill_recall == 0.0
    assert evaluate_postings(ex, [p1], occurrences=True).skill_recall == 1.0


def test_decorte_split_is_fixed_and_covers_everything() -> None:
    gold = [GoldSentence(f"sentence {i}", ("x",)) for i in range(200)]
    tune, held = select_part(gold, "tune"), select_part(gold, "heldout")
    assert len(tune) + len(held) == 200 and 60 < len(tune) < 140
    assert {g.sentence for g in tune}.isdisjoint({g.sentence for g in held})
    assert all(split_part(g.sentence) == "tune" for g in tune)
    assert select_part(list(reversed(gold)), "tune") == list(reversed(tune))
