"""`document_skills` rows carry every occurrence of a skill (issue 12, item 3)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from skillatlas.extract.offline import SkillMention
from skillatlas.ingest.batches import occurrences_json, skill_rows


def test_rows_list_every_occurrence() -> None:
    doc = SimpleNamespace(batch_id="b1", doc_id="d1", kind="job")
    many = SkillMention("esco:x", "Python", 0.9, "phrase", 10, 16, "Python", occurrences=((40, 46), (10, 16)))
    one = SkillMention("esco:y", "SQL", 0.8, "phrase", 21, 24, "SQL")  # no occurrences (e.g. the LLM)
    rows = skill_rows(doc, [many, one], "v1")
    assert json.loads(str(rows[0]["occurrences"])) == [[10, 16], [40, 46]]
    assert json.loads(str(rows[1]["occurrences"])) == [[21, 24]]
    assert (rows[0]["evidence_start"], rows[0]["evidence_end"]) == (10, 16)  # best evidence unchanged
    assert occurrences_json(one) == "[[21,24]]"
