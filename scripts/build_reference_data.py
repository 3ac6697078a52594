"""Compact the raw O*NET / ESCO / crosswalk downloads into data/reference/*.parquet.

Usage::

    python scripts/build_reference_data.py [RAW_DATA_DIR] [--out OUT_DIR]

RAW_DATA_DIR defaults to ``../shared/data`` relative to the repository root and must contain the folders
``esco/``, ``esco_onet_crosswalk/`` and ``onet/`` (each with a SOURCE.txt). The output is deterministic:
re-running on the same input produces byte-identical parquet files and the same MANIFEST.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RAW = (REPO_ROOT / ".." / "shared" / "data").resolve()
DEFAULT_OUT = REPO_ROOT / "data" / "reference"

ESCO_LICENCE = (
    "ESCO v1.1.1 (c) European Union, https://esco.ec.europa.eu - reuse authorised provided the source is "
    "acknowledged (Commission Decision 2011/833/EU); mirrored by tabiya-tech/tabiya-esco-datasets-and-tools"
)
ONET_LICENCE = (
    "This includes information from the O*NET 29.3 Database by the U.S. Department of Labor, Employment and "
    "Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET(R) is a trademark of "
    "USDOL/ETA. We have modified all or some of this information (format conversion, column selection). "
    "USDOL/ETA has not approved, endorsed, or tested these modifications."
)
CROSSWALK_LICENCE = (
    "ESCO-O*NET crosswalk (Nov 2020) from nestauk/mapping-career-causeways, MIT licence (c) 2021 Nesta; "
    "Kanders, Djumalieva, Sleeman, Orlik (2020) Mapping Career Causeways. SOC codes remapped to O*NET 29.3."
)


def _tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""], quoting=3)


def _split_labels(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    seen: dict[str, None] = {}
    for part in value.split("\n"):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


def _yn(series: pd.Series) -> pd.Series:
    return series.fillna("N").str.strip().str.upper().eq("Y").astype(bool)


# --------------------------------------------------------------------------------------------- builders
def build_esco_skills(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / "esco" / "skills_en.csv", dtype=str)
    out = pd.DataFrame(
        {
            "esco_uri": df["conceptUri"].str.strip(),
            "preferred_label": df["preferredLabel"].str.strip(),
            "alt_labels": df["altLabels"].map(_split_labels),
            "skill_type": df["skillType"],
            "reuse_level": df["reuseLevel"],
            "description": df["description"].fillna("").str.strip(),
        }
    )
    return out.sort_values("esco_uri", kind="stable").reset_index(drop=True)


def build_esco_occupations(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / "esco" / "occupations_en.csv", dtype=str)
    out = pd.DataFrame(
        {
            "esco_occupation_uri": df["conceptUri"].str.strip(),
            "preferred_label": df["preferredLabel"].str.strip(),
            "isco_group": df["iscoGroup"].str.strip(),
        }
    )
    return out.sort_values("esco_occupation_uri", kind="stable").reset_index(drop=True)


def build_esco_occupation_skills(raw: Path) -> pd.DataFrame:
    with zipfile.ZipFile(raw / "esco" / "ESCO_v1.1.1_relations_csv.zip") as zf:
        with zf.open("occupationSkillRelations.csv") as fh:
            df = pd.read_csv(fh, dtype=str, usecols=["occupationUri", "relationType", "skillUri"])
    out = pd.DataFrame(
        {
            "esco_occupation_uri": df["occupationUri"].str.strip(),
            "esco_uri": df["skillUri"].str.strip(),
            "relation_type": df["relationType"].str.strip().str.lower(),
        }
    ).drop_duplicates()
    return out.sort_values(["esco_occupation_uri", "esco_uri"], kind="stable").reset_index(drop=True)


def build_onet_occupations(raw: Path) -> pd.DataFrame:
    occ = _tsv(raw / "onet" / "Occupation Data.txt")
    jz = _tsv(raw / "onet" / "Job Zones.txt")[["O*NET-SOC Code", "Job Zone"]]
    merged = occ.merge(jz, on="O*NET-SOC Code", how="left")
    out = pd.DataFrame(
        {
            "soc_code": merged["O*NET-SOC Code"].str.strip(),
            "title": merged["Title"].str.strip(),
            "description": merged["Description"].fillna("").str.strip(),
            "job_zone": pd.to_numeric(merged["Job Zone"], errors="coerce").astype("Int64"),
        }
    )
    return out.sort_values("soc_code", kind="stable").reset_index(drop=True)


def remap_soc(code: str, known: set[str]) -> str | None:
    """Map a (possibly outdated) O*NET-SOC code onto one present in ``known``.

    Exact matches win; otherwise the same 6-digit SOC (``XX-XXXX``) with ``.00`` is preferred, then the
    lowest other detailed code. Returns None when the 6-digit SOC no longer exists.
    """
    if code in known:
        return code
    prefix = code[:7]
    if f"{prefix}.00" in known:
        return f"{prefix}.00"
    siblings = sorted(c for c in known if c.startswith(prefix + "."))
    return siblings[0] if siblings else None


def build_esco_onet_crosswalk(raw: Path, onet_codes: set[str]) -> pd.DataFrame:
    df = pd.read_csv(raw / "esco_onet_crosswalk" / "esco_onet_crosswalk_Nov2020.csv", dtype=str)
    original = df["onet_code"].str.strip()
    mapped = original.map(lambda c: remap_soc(c, onet_codes))
    out = pd.DataFrame(
        {
            "esco_occupation_uri": df["concept_uri"].str.strip(),
            "soc_code": mapped,
            "confidence": pd.to_numeric(df["confidence"], errors="coerce").astype("float64"),
            "original_soc_code": original,
            "remapped": mapped.ne(original) & mapped.notna(),
        }
    )
    out = out[out["soc_code"].notna()].drop_duplicates(["esco_occupation_uri", "soc_code"])
    return out.sort_values(["esco_occupation_uri", "soc_code"], kind="stable").reset_index(drop=True)


def build_onet_alternate_titles(raw: Path) -> pd.DataFrame:
    df = _tsv(raw / "onet" / "Alternate Titles.txt")
    out = pd.DataFrame(
        {"soc_code": df["O*NET-SOC Code"].str.strip(), "alternate_title": df["Alternate Title"].str.strip()}
    )
    out = out[out["alternate_title"].notna() & out["alternate_title"].ne("")].drop_duplicates()
    return out.sort_values(["soc_code", "alternate_title"], kind="stable").reset_index(drop=True)


def build_onet_technology_skills(raw: Path) -> pd.DataFrame:
    df = _tsv(raw / "onet" / "Technology Skills.txt")
    out = pd.DataFrame(
        {
            "soc_code": df["O*NET-SOC Code"].str.strip(),
            "example": df["Example"].str.strip(),
            "commodity_code": df["Commodity Code"].str.strip(),
            "commodity_title": df["Commodity Title"].str.strip(),
            "hot_technology": _yn(df["Hot Technology"]),
            "in_demand": _yn(df["In Demand"]),
        }
    )
    return out.sort_values(["soc_code", "example", "commodity_code"], kind="stable").reset_index(drop=True)


def build_onet_tasks(raw: Path) -> pd.DataFrame:
    df = _tsv(raw / "onet" / "Task Statements.txt")
    out = pd.DataFrame(
        {
            "soc_code": df["O*NET-SOC Code"].str.strip(),
            "task_id": pd.to_numeric(df["Task ID"], errors="coerce").astype("Int64"),
            "task": df["Task"].str.strip(),
            "task_type": df["Task Type"].str.strip(),
        }
    )
    return out.sort_values(["soc_code", "task_id"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------- writing
DICTIONARY_COLUMNS = {
    "skill_type",
    "reuse_level",
    "isco_group",
    "relation_type",
    "esco_occupation_uri",
    "esco_uri",
    "soc_code",
    "original_soc_code",
    "commodity_code",
    "commodity_title",
    "task_type",
}


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    # Strip pandas metadata that embeds library versions so the output is byte-stable across installs.
    table = table.replace_schema_metadata(None)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=19,
        use_dictionary=[c for c in df.columns if c in DICTIONARY_COLUMNS],
        write_statistics=False,
        row_group_size=1_000_000,
    )


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", nargs="?", type=Path, default=DEFAULT_RAW, help="raw data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (data/reference)")
    args = parser.parse_args(argv)
    raw: Path = args.raw.resolve()
    out: Path = args.out
    for sub in ("esco", "esco_onet_crosswalk", "onet"):
        if not (raw / sub).is_dir():
            parser.error(f"{raw / sub} does not exist; pass the raw data folder (e.g. /work/shared/data)")
    out.mkdir(parents=True, exist_ok=True)

    onet_occ = build_onet_occupations(raw)
    onet_codes = set(onet_occ["soc_code"])
    esco = "esco/SOURCE.txt"
    onet = "onet/SOURCE.txt"
    tables: list[tuple[str, Callable[[], pd.DataFrame], str, str]] = [
        ("esco_skills", lambda: build_esco_skills(raw), f"{esco}: skills_en.csv", ESCO_LICENCE),
        (
            "esco_occupations",
            lambda: build_esco_occupations(raw),
            f"{esco}: occupations_en.csv",
            ESCO_LICENCE,
        ),
        (
            "esco_occupation_skills",
            lambda: build_esco_occupation_skills(raw),
            f"{esco}: ESCO_v1.1.1_relations_csv.zip/occupationSkillRelations.csv",
            ESCO_LICENCE,
        ),
        (
            "esco_onet_crosswalk",
            lambda: build_esco_onet_crosswalk(raw, onet_codes),
            "esco_onet_crosswalk/SOURCE.txt: esco_onet_crosswalk_Nov2020.csv",
            CROSSWALK_LICENCE,
        ),
        ("onet_occupations", lambda: onet_occ, f"{onet}: Occupation Data.txt + Job Zones.txt", ONET_LICENCE),
        (
            "onet_alternate_titles",
            lambda: build_onet_alternate_titles(raw),
            f"{onet}: Alternate Titles.txt",
            ONET_LICENCE,
        ),
        (
            "onet_technology_skills",
            lambda: build_onet_technology_skills(raw),
            f"{onet}: Technology Skills.txt",
            ONET_LICENCE,
        ),
        ("onet_tasks", lambda: build_onet_tasks(raw), f"{onet}: Task Statements.txt", ONET_LICENCE),
    ]
    files = []
    for name, build, source, licence in tables:
        df = build()
        path = out / f"{name}.parquet"
        write_parquet(df, path)
        entry = {
            "file": path.name,
            "table": name,
            "rows": int(len(df)),
            "columns": list(df.columns),
            "bytes": path.stat().st_size,
            "sha256": sha256(path),
            "source": source,
            "licence": licence,
        }
        if name == "esco_onet_crosswalk":
            entry["note"] = (
                f"{int(df['remapped'].sum())} rows remapped to a sibling O*NET 29.3 code of the same 6-digit "
                "SOC (.00 preferred); crosswalk rows whose SOC no longer exists were dropped"
            )
        files.append(entry)
        print(f"{name:26s} {len(df):>8,d} rows {path.stat().st_size / 1e6:7.2f} MB", file=sys.stderr)
    manifest = {
        "generated_by": "scripts/build_reference_data.py",
        "files": files,
        "total_bytes": sum(f["bytes"] for f in files),
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"total {manifest['total_bytes'] / 1e6:.2f} MB -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
