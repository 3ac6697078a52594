"""Fault test: >= 200 hostile files mixed with ~20 good ones in one ingest.

Each hostile file must become exactly one clear record with the expected error kind (and message) — a ledger
row, or for files over the size limit (refused by the inbox sensor before any byte is read) a `skipped_uploads`
row — every good file must be extracted, and the memory of the run must stay bounded (zip bombs, 50 MB files
and 10,000-deep HTML included). Files are made unique (the inbox skips re-uploads of identical content).
"""

import resource
import shutil
import struct
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.partitions import partition_range_tags
from skillatlas.store.tables import DOCUMENT_SKILLS, DOCUMENT_TEXT, ITEM_FAILURES
from tests.conftest import make_resources, sample_files
from tests.faults.helpers import PeakRss
from tests.support import bad_files as bf
from tests.support.documents import ASSETS, register

pytestmark = pytest.mark.slow

RSS_GROWTH_LIMIT = 1_500_000_000
GOOD_COURSES, GOOD_JOBS = 8, 12


def _with_zip_comment(data: bytes, comment: bytes) -> bytes:
    """Set the end-of-central-directory comment of a zip (no existing comment): same archive, new bytes."""
    assert data[-22:-18] == b"PK\x05\x06" and data[-2:] == b"\x00\x00"
    return data[:-2] + struct.pack("<H", len(comment)) + comment


def build_hostile_corpus(inbox: Path, scratch: Path, total: int) -> dict[str, tuple[str, str]]:
    """`total` unique hostile files under inbox/{courses,jobs}; relpath -> (expected kind, message fragment)."""
    templates = {
        "corrupt_pdf": bf.make_corrupt_pdf(scratch)[0].read_bytes(),
        "encrypted_pdf": bf.make_encrypted_pdf(scratch)[0].read_bytes(),
        "binary_txt": bf.make_binary_txt(scratch)[0].read_bytes(),
        "invalid_utf8_txt": bf.make_invalid_utf8_txt(scratch)[0].read_bytes(),
        "docx_zip_bomb": bf.make_docx_zip_bomb(scratch)[0].read_bytes(),
        "nested_html": bf.make_nested_html(scratch)[0].read_bytes(),
    }
    suffix = {"corrupt_pdf": ".pdf", "encrypted_pdf": ".pdf", "binary_txt": ".txt", "invalid_utf8_txt": ".txt",
              "docx_zip_bomb": ".docx", "nested_html": ".html", "oversized": ".txt", "whitespace_txt": ".txt"}
    cycle = ["corrupt_pdf", "encrypted_pdf", "oversized", "binary_txt", "invalid_utf8_txt", "docx_zip_bomb",
             "nested_html", "whitespace_txt"]
    expected: dict[str, tuple[str, str]] = {}
    # the one zero-byte file (all zero-byte files have the same content, so a second one is a re-upload)
    (inbox / "jobs" / "bad_0000_empty.txt").write_bytes(b"")
    expected["jobs/bad_0000_empty.txt"] = (str(bf.ErrorKind.NO_TEXT), bf.EXPECTED_MESSAGE["empty"])
    for i in range(1, total):
        kind = cycle[i % len(cycle)]
        folder = "courses" if i % 3 == 0 else "jobs"
        relpath = f"{folder}/bad_{i:04d}_{kind}{suffix[kind]}"
        path = inbox / relpath
        tag = f"unique {i}".encode()
        if kind == "oversized":
            with open(path, "wb") as fh:  # sparse: 50 MB, no disk blocks
                fh.write(b"Large file " + tag + b"\n")
                fh.truncate(52_428_800)
            want = (str(bf.ErrorKind.TOO_LARGE), bf.EXPECTED_MESSAGE["oversized"])
        elif kind == "whitespace_txt":
            path.write_bytes(b" \n\t" + b" " * i + b"\n...\n")
            want = (str(bf.ErrorKind.NO_TEXT), bf.EXPECTED_MESSAGE["whitespace_txt"])
        else:
            data = templates[kind]
            if kind == "docx_zip_bomb":
                data = _with_zip_comment(data, tag)
            elif kind == "nested_html":
                data = data + b"<!-- " + tag + b" -->"
            elif kind == "invalid_utf8_txt":
                data = data + b"\x81\xff " + tag + b"\n"
            else:
                data = data + b"\n%" + tag + b"\n"
            path.write_bytes(data)
            kind_enum = {
                "corrupt_pdf": bf.ErrorKind.INVALID_FORMAT, "encrypted_pdf": bf.ErrorKind.INVALID_FORMAT,
                "binary_txt": bf.ErrorKind.INVALID_FORMAT, "invalid_utf8_txt": bf.ErrorKind.INVALID_FORMAT,
                "docx_zip_bomb": bf.ErrorKind.TOO_LARGE, "nested_html": bf.ErrorKind.INVALID_FORMAT,
            }[kind]
            want = (str(kind_enum), bf.EXPECTED_MESSAGE[kind])
        expected[relpath] = want
    return expected


def test_hostile_corpus_gives_one_clear_ledger_row_per_bad_file(
    tmp_path: Path, data_dir: Path, instance: dg.DagsterInstance
) -> None:
    started = time.perf_counter()
    inbox = tmp_path / "inbox"
    for kind, count in (("courses", GOOD_COURSES), ("jobs", GOOD_JOBS)):
        (inbox / kind).mkdir(parents=True)
        for f in sample_files(kind, count):
            shutil.copy2(f, inbox / kind / f.name)
    expected = build_hostile_corpus(inbox, tmp_path / "scratch", total=210)
    assert len(expected) >= 200

    resources = make_resources(data_dir, inbox)
    keys = register(instance, resources)
    assert len(keys) == 3  # 230 documents in batches of <= 100
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with PeakRss() as rss:
        result = dg.materialize(ASSETS, resources=resources, instance=instance,
                                tags=partition_range_tags(keys[0], keys[-1]))
    assert result.success
    warehouse = resources["warehouse"]

    # over the size limit: refused at the inbox, before hashing, with the same message the parser gave
    refused = warehouse.read_table("skipped_uploads")
    oversized = {item: want for item, want in expected.items() if "_oversized" in item}
    assert len(oversized) >= 20 and len(refused) == len(oversized)
    for row in refused.itertuples():
        assert row.reason_kind == "too_large" and oversized[row.relpath][1] in row.reason
    expected = {item: want for item, want in expected.items() if item not in oversized}

    ledger = warehouse.read_table(ITEM_FAILURES)
    assert not ledger.duplicated(["asset", "partition", "item"]).any()
    assert set(ledger["asset"]) == {"document_text"}  # the good files all went through extraction
    got = {row.item: (row.error_kind, row.message) for row in ledger.itertuples()}
    assert set(got) == set(expected)
    wrong = {
        item: (got[item], want)
        for item, want in expected.items()
        if got[item][0] != want[0] or want[1] not in got[item][1]
    }
    assert not wrong, f"{len(wrong)} hostile files with an unexpected ledger row, e.g. {list(wrong.items())[:3]}"
    assert (ledger["run_id"] == result.run_id).all()

    text = warehouse.read_table(DOCUMENT_TEXT)
    assert len(text) == GOOD_COURSES + GOOD_JOBS and not text["doc_id"].duplicated().any()
    assert not text["relpath"].str.contains("/bad_").any()
    skills = warehouse.read_table(DOCUMENT_SKILLS)
    assert skills["doc_id"].nunique() >= GOOD_COURSES + GOOD_JOBS - 1

    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"\nhostile corpus: {len(expected)} bad + {len(text)} good files, {len(keys)} batches, "
        f"{time.perf_counter() - started:.1f} s; sampled RSS {rss.start / 1e6:.0f} MB -> peak {rss.peak / 1e6:.0f} MB "
        f"(growth {rss.peak_growth / 1e6:.0f} MB); ru_maxrss {rss_before / 1e6:.0f} -> {rss_after / 1e6:.0f} MB"
    )
    assert rss.peak_growth < RSS_GROWTH_LIMIT
    assert rss_after - rss_before < RSS_GROWTH_LIMIT
