"""One skills taxonomy with stable ids: ESCO skills + O*NET technology skills.

``build_taxonomy`` returns one row per skill:

* ``skill_id``: ``esco:<uuid>`` (the tail of the ESCO concept URI) or ``onet:<slug>`` (slug of the normalised
  O*NET technology example, e.g. ``onet:microsoft-excel``, ``onet:c-plus-plus``); deterministic functions of
  the source data, so they are stable across rebuilds.
* ``label``, ``source`` ("esco" | "onet_tech"), ``aliases`` (list, includes the label), ``description``,
  ``esco_uri`` (ESCO rows) and ``same_as`` (O*NET rows naming the same thing as an ESCO skill: that skill id).
* extra columns ``skill_type`` and ``reuse_level`` (ESCO; None for O*NET) and ``hot_technology`` (O*NET).

Aliases are compared in normalised form (:func:`skillatlas.extract.phrase_match.normalise_phrase`: casefold, unified
punctuation, simple plural stripping), the same normalisation the phrase matcher uses.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd

from skillatlas.extract.phrase_match import AMBIGUOUS_WORDS, STOP_WORDS, normalise_phrase, tokenize

__all__ = [
    "TAXONOMY_COLUMNS",
    "build_taxonomy",
    "common_words",
    "load_taxonomy",
    "onet_slug",
    "skill_id_for_esco_uri",
]

TAXONOMY_COLUMNS = ["skill_id", "label", "source", "aliases", "description", "esco_uri", "same_as",
                    "skill_type", "reuse_level", "hot_technology"]

_PAREN_RE = re.compile(r"\s*\(([^()]*)\)\s*")
_SLUG_SUBS = (("c++", "c-plus-plus"), ("++", "-plus-plus"), ("c#", "c-sharp"), ("f#", "f-sharp"),
              ("#", "-sharp"), ("+", "-plus"), (".net", "dot-net"), ("&", "-and-"), ("@", "-at-"))


def skill_id_for_esco_uri(uri: str) -> str:
    """``http://data.europa.eu/esco/skill/<uuid>`` -> ``esco:<uuid>``."""
    return "esco:" + uri.rstrip("/").rsplit("/", 1)[-1]


def onet_slug(example: str) -> str:
    """Readable slug of an O*NET technology example (before collision handling)."""
    s = normalise_phrase(example)
    for a, b in _SLUG_SUBS:
        s = s.replace(a, b)
    s = re.sub(r"[^0-9a-z]+", "-", s).strip("-")
    return s or "x"


def _strip_parens(label: str) -> str:
    return re.sub(r"\s+", " ", _PAREN_RE.sub(" ", label)).strip()


def common_words(texts: Sequence[str], *, min_docs: int = 4) -> frozenset[str]:
    """Lowercase words that occur in at least ``min_docs`` of ``texts`` (ordinary English in descriptions).

    A product name spelled like one of these ("Excel", "Access", "Word") is ambiguous in free text.
    """
    return _common_words(tuple(texts), min_docs)


@lru_cache(maxsize=4)
def _common_words(texts: tuple[str, ...], min_docs: int) -> frozenset[str]:
    counts: Counter[str] = Counter()
    for t in texts:
        words = {t[s:e] for s, e in tokenize(t)}
        counts.update(w for w in words if w.islower() and w.isalpha())
    return frozenset(w for w, c in counts.items() if c >= min_docs)


def _onet_aliases(example: str, vendors: set[str], common: frozenset[str]) -> list[str]:
    """The example itself plus derived names: without parenthetical, trailing acronym, vendor-less name."""
    out = [example]
    base = _strip_parens(example)
    if base != example and base:
        out.append(base)
    for inner in _PAREN_RE.findall(example):
        inner = inner.strip()
        if 2 <= len(inner) <= 8 and inner.replace(" ", "").isupper():
            out.append(inner)
    words = base.split()
    # "Extensible stylesheet language XSL" -> "XSL", "Extensible stylesheet language"
    if len(words) >= 3 and words[-1].isupper() and words[-1].isalpha() and len(words[-1]) >= 3:
        initials = "".join(w[0] for w in words[:-1]).upper()
        if words[-1][0] == initials[0]:
            out.append(words[-1])
            out.append(" ".join(words[:-1]))
    # "Microsoft Excel" -> "Excel" (vendor prefix), only when the rest is not an ordinary word
    if len(words) >= 2 and words[0] in vendors:
        rest = " ".join(words[1:])
        rest_norm = normalise_phrase(rest)
        rest_tokens = rest_norm.split()
        generic = all((t in common and t not in AMBIGUOUS_WORDS) or t in STOP_WORDS for t in rest_tokens)
        if rest_tokens and not generic and rest_norm not in {"software", "system", "suite"}:
            out.append(rest)
    return _distinct_aliases(out)


def _distinct_aliases(aliases: Sequence[str]) -> list[str]:
    """``aliases`` without those whose normalised form is empty or repeats an earlier one (order kept)."""
    seen: set[str] = set()
    uniq = []
    for a in aliases:
        n = normalise_phrase(a)
        if n and n not in seen:
            seen.add(n)
            uniq.append(a)
    return uniq


def build_taxonomy(esco_skills: pd.DataFrame, onet_tech: pd.DataFrame) -> pd.DataFrame:
    """Merge ESCO skills and O*NET technology examples into one table (see module docstring)."""
    # ---- ESCO
    esco_rows = []
    for rec in esco_skills.itertuples(index=False):
        uri = str(rec.esco_uri)
        label = str(rec.preferred_label).strip()
        raw_alts = rec.alt_labels if rec.alt_labels is not None else []
        alts = [str(a).strip() for a in raw_alts if str(a).strip()]
        aliases = [label]
        stripped = _strip_parens(label)
        if stripped and stripped != label:
            aliases.append(stripped)
        aliases.extend(alts)
        uniq = _distinct_aliases(aliases)
        desc = str(getattr(rec, "description", "") or "").strip()
        esco_rows.append({
            "skill_id": skill_id_for_esco_uri(uri), "label": label, "source": "esco", "aliases": uniq,
            "description": str(desc), "esco_uri": uri, "same_as": None,
            "skill_type": getattr(rec, "skill_type", None), "reuse_level": getattr(rec, "reuse_level", None),
            "hot_technology": False,
        })
    esco = pd.DataFrame(esco_rows)
    esco = esco.drop_duplicates("skill_id").sort_values("skill_id", kind="stable")

    common = common_words(esco["description"].tolist()) | AMBIGUOUS_WORDS

    # ---- O*NET technology examples, grouped by normalised name
    tech = onet_tech.copy()
    tech["example"] = tech["example"].astype(str).str.strip()
    tech = tech[tech["example"] != ""]
    tech["norm"] = tech["example"].map(normalise_phrase)
    first_words = Counter(ex.split()[0] for ex in tech["example"].drop_duplicates() if len(ex.split()) >= 2)
    vendors = {w for w, c in first_words.items() if c >= 5 and w[:1].isupper() and w.lower() not in common}
    groups: dict[str, dict[str, Any]] = {}
    for norm, g in tech.groupby("norm", sort=True):
        label = Counter(g["example"]).most_common(1)[0][0]
        titles = [t for t, _ in Counter(g["commodity_title"].astype(str)).most_common(3)]
        hot = bool(g["hot_technology"].astype(bool).any()) if "hot_technology" in g else False
        groups[norm] = {"label": label, "description": "; ".join(titles), "hot": hot}
    # slugs with deterministic collision handling
    slug_owner: dict[str, list[str]] = defaultdict(list)
    for norm, info in groups.items():
        slug_owner[onet_slug(info["label"])].append(norm)
    onet_rows = []
    derived: dict[str, list[str]] = {}
    for slug, norms in slug_owner.items():
        for norm in sorted(norms):
            info = groups[norm]
            sid = "onet:" + slug
            if len(norms) > 1:
                sid += "-" + hashlib.sha1(norm.encode()).hexdigest()[:6]
            aliases = _onet_aliases(info["label"], vendors, common)
            derived[sid] = aliases
            onet_rows.append({
                "skill_id": sid, "label": info["label"], "source": "onet_tech", "aliases": aliases,
                "description": info["description"], "esco_uri": None, "same_as": None,
                "skill_type": None, "reuse_level": None, "hot_technology": info["hot"],
            })
    # derived (vendor-less / acronym) aliases must be unambiguous within O*NET
    alias_count: Counter[str] = Counter()
    for aliases in derived.values():
        alias_count.update({normalise_phrase(a) for a in aliases})
    for row in onet_rows:
        row["aliases"] = [row["aliases"][0]] + [a for a in row["aliases"][1:]
                                                if alias_count[normalise_phrase(a)] == 1]

    # ---- same_as: exact normalised match against ESCO preferred label (also without parenthetical),
    # then ESCO alternative labels; ambiguous matches are left unmapped.
    pref_index: dict[str, set[str]] = defaultdict(set)
    alt_index: dict[str, set[str]] = defaultdict(set)
    for rec in esco.itertuples(index=False):
        pref_index[normalise_phrase(rec.label)].add(rec.skill_id)
        pref_index[normalise_phrase(_strip_parens(rec.label))].add(rec.skill_id)
        for a in rec.aliases[1:]:
            alt_index[normalise_phrase(a)].add(rec.skill_id)
    esco_label = dict(zip(esco["skill_id"], esco["label"], strict=True))
    proposals: dict[str, tuple[str, str]] = {}  # onet id -> (esco id, "pref" | "alt")
    for row in onet_rows:
        names = [normalise_phrase(row["label"]), normalise_phrase(_strip_parens(row["label"]))]
        derived_names = [normalise_phrase(a) for a in row["aliases"][1:]]
        for kind, index, keys in (("pref", pref_index, names), ("alt", alt_index, names),
                                  ("pref", pref_index, derived_names)):
            cands = set().union(*(index.get(n, set()) for n in keys))
            if row["label"].isupper():  # an acronym product ("SAND") is not a lowercase ESCO concept ("sand")
                cands = {c for c in cands if not esco_label[c].islower()}
            if keys is derived_names:  # "Oracle Java" -> "Java": the derived one-word name must match exactly
                surfaces = {_strip_parens(a) for a in row["aliases"][1:] if len(a.split()) == 1}
                multi = {normalise_phrase(a) for a in row["aliases"][1:] if len(a.split()) > 1}
                cands = {c for c in cands if _strip_parens(esco_label[c]) in surfaces
                         or normalise_phrase(_strip_parens(esco_label[c])) in multi}
            if len(cands) == 1:
                proposals[row["skill_id"]] = (next(iter(cands)), kind)
            if cands:
                break
    # an alternative-label match is a synonym only when the ESCO skill is not a category that lists several
    # products ("computer programming" has alt labels "Ada", "AWK", "Bash"...) and the names share a word
    alt_hits = Counter(e for e, kind in proposals.values() if kind == "alt")
    generic = {"software", "system", "tool", "application", "program", "use", "management"}
    for row in onet_rows:
        prop = proposals.get(row["skill_id"])
        if prop is None:
            continue
        target, kind = prop
        if kind == "alt":
            onet_words = set(normalise_phrase(row["label"]).split()) - generic - STOP_WORDS
            esco_words = set(normalise_phrase(esco_label[target]).split()) - generic - STOP_WORDS
            if alt_hits[target] > 1 or not (onet_words & esco_words):
                continue
        row["same_as"] = target

    onet = pd.DataFrame(onet_rows, columns=TAXONOMY_COLUMNS).sort_values("skill_id", kind="stable")
    out = pd.concat([esco[TAXONOMY_COLUMNS], onet], ignore_index=True)
    out["hot_technology"] = out["hot_technology"].astype(bool)
    for col in ("esco_uri", "same_as", "skill_type", "reuse_level"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


@lru_cache(maxsize=1)
def load_taxonomy() -> pd.DataFrame:
    """The taxonomy built from the shipped reference data (cached; treat as read-only)."""
    from skillatlas.reference.sources import load_esco_skills, load_onet_technology_skills

    return build_taxonomy(load_esco_skills(), load_onet_technology_skills())
