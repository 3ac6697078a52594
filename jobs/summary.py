"""The short summary `make run` prints: documents, failures, skills, top occupations for a few courses."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from resources.warehouse import WarehouseResource
from skillatlas.store.tables import (
    COURSE_OCCUPATION_SCORES,
    DOCUMENT_SKILLS,
    DOCUMENT_TEXT,
    ITEM_FAILURES,
    ONET_OCCUPATIONS,
)


def warehouse_of(defs: dg.Definitions) -> WarehouseResource:
    resource = (defs.resources or {})["warehouse"]
    assert isinstance(resource, WarehouseResource)
    return resource.process_config_and_initialize()


def summary_lines(warehouse: WarehouseResource, courses: int = 3) -> list[str]:
    # the columns summarised only: document_text holds every full text
    text = warehouse.read_table(DOCUMENT_TEXT, columns=["doc_id", "kind", "batch_id", "title"])
    skills = warehouse.read_table(DOCUMENT_SKILLS, columns=["doc_id", "skill_id", "method"])
    failures = warehouse.read_table(ITEM_FAILURES)
    lines = ["", "== skillatlas summary =="]
    if text.empty:
        return [*lines, "no documents ingested yet (is the inbox empty?)"]
    by_kind = text["kind"].value_counts().to_dict()
    lines.append(
        f"documents: {len(text)} parsed ({by_kind.get('course', 0)} courses, {by_kind.get('job', 0)} jobs) "
        f"in {text['batch_id'].nunique()} batch(es); "
        f"{0 if failures.empty else len(failures)} item failure(s)"
    )
    if not skills.empty:
        per_doc = skills.groupby("doc_id").size()
        lines.append(
            f"skills: {len(skills)} found, {skills['skill_id'].nunique()} distinct, "
            f"{per_doc.mean():.1f} per document; by method {skills['method'].value_counts().to_dict()}"
        )
    scores = warehouse.read_table(COURSE_OCCUPATION_SCORES)
    occupations = warehouse.read_table(ONET_OCCUPATIONS)
    if scores.empty:
        return lines
    titles = occupations.set_index("soc_code")["title"] if not occupations.empty else pd.Series(dtype=str)
    course_titles = text.set_index("doc_id")["title"]
    lines.append(f"top occupations for {courses} courses:")
    for course_id in sorted(scores["course_id"].unique())[:courses]:
        top = scores[scores["course_id"] == course_id].sort_values("rank").head(3)
        lines.append(f"  {course_titles.get(course_id, course_id)}")
        for row in top.itertuples(index=False):
            lines.append(
                f"    {row.rank}. {row.target_id} {titles.get(row.target_id, '')} "
                f"score {row.score:.2f} tier {row.tier}"
            )
    return lines


def print_summary(defs: dg.Definitions) -> None:
    print("\n".join(summary_lines(warehouse_of(defs))))
