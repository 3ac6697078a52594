"""Loaders of the shipped reference data (ESCO v1.1.1, O*NET 29.3, ESCO-O*NET crosswalk).

The parquet files live in :data:`skillatlas.paths.REFERENCE_DIR` and are produced by
``scripts/build_reference_data.py``. Every loader is cached; callers must treat the returned
DataFrames as read-only (``.copy()`` before mutating).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from skillatlas import paths

BUILD_SCRIPT = "scripts/build_reference_data.py"

__all__ = [
    "BUILD_SCRIPT",
    "clear_cache",
    "load_esco_occupation_skills",
    "load_esco_occupations",
    "load_esco_onet_crosswalk",
    "load_esco_skills",
    "load_onet_alternate_titles",
    "load_onet_occupations",
    "load_onet_tasks",
    "load_onet_technology_skills",
    "reference_dir",
]


def reference_dir() -> Path:
    """The folder the loaders read (``SKILLATLAS_REFERENCE_DIR`` or ``data/reference``)."""
    return paths.REFERENCE_DIR


def _read(name: str, columns: list[str], dtypes: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """``columns`` of the reference table ``name`` (categoricals as plain objects), cast to ``dtypes``."""
    path = reference_dir() / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"reference table {path.name!r} not found at {path}; build it with "
            f"`python {BUILD_SCRIPT} /path/to/raw/data` (or set SKILLATLAS_REFERENCE_DIR)"
        )
    table = pq.read_table(path, columns=columns)
    df = table.to_pandas()
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    df = df[columns]
    for col, dtype in (dtypes or {}).items():
        df[col] = df[col].astype(dtype)
    return df

@lru_cache(maxsize=1)
def load_esco_skills() -> pd.DataFrame:
    """esco_uri, preferred_label, alt_labels (list[str]), skill_type, reuse_level, description."""
    df = _read("esco_skills", ["esco_uri", "preferred_label", "alt_labels", "skill_type", "reuse_level",
                               "description"])
    df["alt_labels"] = [list(v) if v is not None else [] for v in df["alt_labels"]]
    df["description"] = df["description"].fillna("")
    return df


@lru_cache(maxsize=1)
def load_esco_occupations() -> pd.DataFrame:
    """esco_occupation_uri, preferred_label, isco_group."""
    return _read("esco_occupations", ["esco_occupation_uri", "preferred_label", "isco_group"])


@lru_cache(maxsize=1)
def load_esco_occupation_skills() -> pd.DataFrame:
    """esco_occupation_uri, esco_uri (skill), relation_type ("essential" | "optional")."""
    return _read("esco_occupation_skills", ["esco_occupation_uri", "esco_uri", "relation_type"])


@lru_cache(maxsize=1)
def load_esco_onet_crosswalk() -> pd.DataFrame:
    """esco_occupation_uri, soc_code, confidence (float), original_soc_code, remapped (bool).

    Only SOC codes present in O*NET 29.3; codes of the 2010-SOC based crosswalk that vanished were mapped to
    the same 6-digit SOC (``remapped`` is True for those rows).
    """
    return _read("esco_onet_crosswalk",
                 ["esco_occupation_uri", "soc_code", "confidence", "original_soc_code", "remapped"],
                 {"confidence": "float64", "remapped": bool})


@lru_cache(maxsize=1)
def load_onet_occupations() -> pd.DataFrame:
    """soc_code, title, description, job_zone (Int64, may be NA)."""
    return _read("onet_occupations", ["soc_code", "title", "description", "job_zone"], {"job_zone": "Int64"})


@lru_cache(maxsize=1)
def load_onet_alternate_titles() -> pd.DataFrame:
    """soc_code, alternate_title."""
    return _read("onet_alternate_titles", ["soc_code", "alternate_title"])


@lru_cache(maxsize=1)
def load_onet_technology_skills() -> pd.DataFrame:
    """soc_code, example, commodity_code, commodity_title, hot_technology (bool), in_demand (bool)."""
    return _read("onet_technology_skills",
                 ["soc_code", "example", "commodity_code", "commodity_title", "hot_technology", "in_demand"],
                 {"hot_technology": bool, "in_demand": bool})


@lru_cache(maxsize=1)
def load_onet_tasks() -> pd.DataFrame:
    """soc_code, task_id (Int64), task, task_type ("Core" | "Supplemental" | None)."""
    return _read("onet_tasks", ["soc_code", "task_id", "task", "task_type"], {"task_id": "Int64"})


_LOADERS = (
    load_esco_skills,
    load_esco_occupations,
    load_esco_occupation_skills,
    load_esco_onet_crosswalk,
    load_onet_occupations,
    load_onet_alternate_titles,
    load_onet_technology_skills,
    load_onet_tasks,
)


def clear_cache() -> None:
    """Forget cached tables (e.g. after changing ``paths.REFERENCE_DIR`` in tests)."""
    for loader in _LOADERS:
        loader.cache_clear()
