"""Offline skill extraction: dictionary phrase matching + MiniLM semantic matching (no network, no torch).

Phrase matching (:class:`skillatlas.extract.phrase_match.PhraseMatcher`) finds taxonomy labels and aliases on word
boundaries. Semantic matching embeds each sentence *and* its candidate spans (1-4 token windows that do not
start or end with a stop word nor cross a comma/bracket) with all-MiniLM-L6-v2 and compares them with one
prototype vector per skill::

    skill vector = normalise(emb(label) + emb("label: description") + 0.5 * normalise(mean(emb(alias))))
    score(skill) = cos(sentence, skill) + max_span cos(span, skill) + 0.3 * phrase_confidence(skill)

Scores are mapped to a confidence in [0, 1] with a logistic curve whose midpoint (0.5) sits where roughly half
of the candidates are correct, so ``min_confidence=0.5`` is a sensible default.

Skill vectors take minutes to compute (13.9k ESCO descriptions + 80k aliases), so they are cached in
``data/reference/taxonomy_vectors.npz`` (int8, one row per skill, with a per-row content hash and the model
version): :func:`load_taxonomy_vectors` reuses every row whose hash matches and recomputes only the others.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from skillatlas.extract.embeddings import DIM, MiniLMEmbedder, TokenStates
from skillatlas.extract.phrase_match import (
    STOP_WORDS,
    PhraseHit,
    PhraseMatcher,
    normalise_phrase,
    normalise_token,
    tokenize,
)
from skillatlas.extract.span_table import SpanVectorTable, default_span_table_path
from skillatlas.extract.span_tagger import SpanTagger, TaggedSpan, default_span_tagger_path
from skillatlas.extract.structure import TemplateMask, template_regions
from skillatlas.extract.text import split_sentences as split_text_sentences
from skillatlas.reference.taxonomy import _strip_parens, common_words
from skillatlas.settings import DEFAULT_MIN_CONFIDENCE

__all__ = [
    "VECTOR_RECIPE",
    "OfflineExtractor",
    "SkillMention",
    "candidate_spans",
    "default_vectors_path",
    "embed_taxonomy",
    "get_offline_extractor",
    "load_taxonomy_vectors",
    "save_taxonomy_vectors",
    "split_sentences",
]

VECTOR_RECIPE = "label+desc+0.5alias/v1"
ALIAS_WEIGHT = 0.5
PHRASE_BONUS = 0.3
# logistic calibration of the combined score (sentence cos + best span cos + phrase bonus)
CALIB_MID = 1.35
CALIB_SCALE = 0.08
GENERIC_LEADING_VERBS = frozenset({"use", "apply", "utilise", "utilize", "employ", "operate", "perform"})
AMBIGUOUS_SPAN_PENALTY = 0.1
PRODUCT_SEMANTIC_PENALTY = 0.15
MAX_SPAN_TOKENS = 4
MAX_SPANS_PER_SENTENCE = 96
# Precision rules of extract(), fitted on the SkillSpan *train* split only (benchmarks/tune_extraction.py,
# first 40 postings; objective = mean of skill recall, knowledge recall and on-gold share):
# at most this many skills per evidence span ("risk assessment" -> its best 2 skills, not 10 near-synonyms)
SKILLS_PER_EVIDENCE = 2
# a one-word evidence found only by similarity ("Public", "architecture") needs this confidence. Off (0.0):
# on train a 0.7 floor bought +0.013 on-gold share for -0.021 skill recall (0.8: +0.017 for -0.034); the
# junk single words were mostly template words, which the template mask removes.
SINGLE_WORD_MIN_CONFIDENCE = 0.0
_WORDISH = re.compile(r"\w")
# a span's cosine with a skill vector (minus its penalty) is at most this: the bound behind the exact
# skill pre-selection of OfflineExtractor._score_sentences (cosines of unit vectors never exceed 1)
SPAN_COS_BOUND = 1.0 + 1e-4
# texts longer than this are never looked up in the span table (sentences; the table holds 1-2 token spans)
SPAN_TABLE_MAX_CHARS = 64
# A two-token span missing from the span table is not *represented* by the normalised sum of its words' table
# vectors (on SkillSpan train that cost skill recall 0.261 -> 0.239), but that sum is a good cheap *prefilter*:
# with a span table, such a span whose words are both in it is embedded only if the sum's cosine with a skill
# its sentence can still reach is at least this (-1.0 = off); fitted on SkillSpan train, see
# docs/notes/issue12-speed-and-peer.md
SPAN_PREFILTER_MIN_COS = 0.4
_DROPPED = 1e3  # penalty marking a span the prefilter dropped
# With the learned span detector (skillatlas.extract.span_tagger), only the spans it finds are linked to skills:
# each detected span and its 1..max_span_tokens sub-windows are embedded, and a skill's score is the usual
# ``sentence cos + best unit cos + phrase bonus`` plus this bonus times the span's probability (the detector
# already says "a skill is written here"). Fitted with the threshold on the held-out fifth of SkillSpan train.
TAGGED_SPAN_BONUS = 1.0
# their scores (bonus included) reach well above the midpoint, so their confidence uses a wider logistic:
# 0.5 stays at the same score, and confidences spread over the linked spans instead of all reading ~1.0
LINK_CALIB_SCALE = 0.25
# phrase hits outside every detected span: "all" kept, "multiword" only hits of two or more tokens, "none"
PHRASE_OUTSIDE_SPANS = "multiword"
# ... and a detected span is linked to a skill only if one of its units has at least this cosine with it (the
# bonus says "a skill is written here", not which one: "stacks" must not become "stack goods")
LINK_MIN_COS = 0.5
# a detected clause longer than max_span_tokens is represented by the mean of its pieces' states from the
# sentence's own forward pass instead of a model run of its own (held-out train: 0.628 / 0.622 / 0.730 against
# 0.628 / 0.626 / 0.730 embedding it; the model embeds about half the texts)
CONTEXTUAL_CLAUSES = True


@dataclass(frozen=True)
class SkillMention:
    skill_id: str
    label: str
    confidence: float  # [0, 1]
    method: str  # "phrase" | "semantic" | "llm"
    start: int  # evidence char offsets into the document text
    end: int
    evidence: str
    # (start, end) of every occurrence in the document, the evidence above included (extract() only)
    occurrences: tuple[tuple[int, int], ...] = ()


class _SegmentScores(NamedTuple):
    """Scores of one sentence (segment): ``score`` over all vector rows; ``sentence`` its similarities;
    ``span`` the similarities of its candidate spans (rows, in ``offsets[1:]`` order) with the vector rows
    ``columns``; ``offsets`` unit 0 = the sentence, then the spans; without spans ``span`` is ``sentence``."""

    score: np.ndarray
    sentence: np.ndarray
    span: np.ndarray
    columns: np.ndarray
    offsets: list[tuple[int, int]]
    has_spans: bool


_SPAN_BREAK = re.compile(r"[,;:()\[\]{}/|\"•]|\s[-–—]\s|\n")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence character spans (``skillatlas.extract.text.split_sentences``)."""
    return [(int(s), int(e)) for s, e in split_text_sentences(text)]


def candidate_spans(text: str, start: int = 0, end: int | None = None, *, max_tokens: int = MAX_SPAN_TOKENS,
                    limit: int = MAX_SPANS_PER_SENTENCE, skip_words: frozenset[str] = frozenset()
                    ) -> list[tuple[int, int]]:
    """Noun-phrase-ish windows of 1..max_tokens tokens inside ``text[start:end]`` (absolute offsets).

    A window does not start or end with a stop word and does not cross a comma, bracket, colon or dash.
    One-token windows whose normalised token is in ``skip_words`` (ambiguous words such as "excel", "go")
    are left out. Identical surface strings are kept once; at most ``limit`` windows (shorter first).
    """
    end = len(text) if end is None else end
    toks = [(s + start, e + start) for s, e in tokenize(text[start:end])]
    low = [text[s:e].casefold() for s, e in toks]
    breaks = [bool(_SPAN_BREAK.search(text[toks[i][1]:toks[i + 1][0]])) for i in range(len(toks) - 1)]
    seen: set[str] = set()
    out: list[tuple[int, int]] = []
    for n in range(1, max_tokens + 1):
        for i in range(len(toks) - n + 1):
            j = i + n - 1
            if low[i] in STOP_WORDS or low[j] in STOP_WORDS or any(breaks[i:j]):
                continue
            if n == 1 and normalise_token(low[i]) in skip_words:
                continue
            s, e = toks[i][0], toks[j][1]
            key = text[s:e].casefold()
            if key in seen:
                continue
            seen.add(key)
            out.append((s, e))
    return out[:limit]


# ---------------------------------------------------------------------------------------------- vectors
def _skill_texts(taxonomy: pd.DataFrame) -> tuple[list[str], list[str], list[list[str]]]:
    labels, descs, aliases = [], [], []
    for label, desc, source, al in zip(taxonomy["label"], taxonomy["description"], taxonomy["source"],
                                       taxonomy["aliases"], strict=True):
        label = str(label)
        desc = " ".join(desc.split()) if isinstance(desc, str) else ""
        labels.append(label)
        if not desc:
            descs.append(label)
        elif source == "esco":
            descs.append(f"{label}: {desc}")
        else:
            descs.append(f"{label} ({desc})")
        al = list(al) if isinstance(al, list | tuple | np.ndarray) else []
        aliases.append([str(a) for a in al[1:]])
    return labels, descs, aliases


def _row_hashes(taxonomy: pd.DataFrame, model_version: str) -> np.ndarray:
    labels, descs, aliases = _skill_texts(taxonomy)
    out = np.empty(len(labels), dtype="S16")
    for i, (sid, lab, d, al) in enumerate(zip(taxonomy["skill_id"], labels, descs, aliases, strict=True)):
        h = hashlib.blake2b(digest_size=8)
        h.update("\x1f".join([VECTOR_RECIPE, model_version, str(sid), lab, d, *al]).encode())
        out[i] = h.hexdigest().encode()
    return out


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return out


def embed_taxonomy(taxonomy: pd.DataFrame, embedder: MiniLMEmbedder, *, use_cache: bool = True,
                   batch_size: int = 64) -> np.ndarray:
    """float32 (len(taxonomy), 384), row-aligned, L2-normalised skill prototype vectors (see module doc).

    Computing every row takes ~15 minutes on 2 cores, so by default rows whose content hash is in the shipped
    cache (``data/reference/taxonomy_vectors.npz``) are read from it and only the others are embedded (the
    cache file is not modified; :func:`load_taxonomy_vectors` does update it). ``use_cache=False`` embeds all.
    """
    if use_cache:
        return load_taxonomy_vectors(taxonomy, embedder, write=False)
    return _embed_rows(taxonomy, embedder, batch_size=batch_size)


def _embed_rows(taxonomy: pd.DataFrame, embedder: MiniLMEmbedder, *, batch_size: int = 64) -> np.ndarray:
    labels, descs, aliases = _skill_texts(taxonomy)
    n = len(labels)
    if n == 0:
        return np.zeros((0, DIM), dtype=np.float32)
    lab = embedder.encode(labels, batch_size=batch_size)
    desc = embedder.encode(descs, batch_size=batch_size)
    owner = np.array([i for i, al in enumerate(aliases) for _ in al], dtype=np.int64)
    flat = [a for al in aliases for a in al]
    cent = np.zeros((n, DIM), dtype=np.float32)
    if flat:
        np.add.at(cent, owner, embedder.encode(flat, batch_size=batch_size))
    has_alias = np.bincount(owner, minlength=n)[:, None] > 0
    cent = np.where(has_alias, _normalise_rows(cent + 1e-12), 0.0)
    return _normalise_rows(lab + desc + ALIAS_WEIGHT * cent).astype(np.float32)


def default_vectors_path() -> Path:
    from skillatlas.paths import REFERENCE_DIR

    return Path(REFERENCE_DIR) / "taxonomy_vectors.npz"


def _quantise(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.maximum(np.abs(v).max(axis=1), 1e-12).astype(np.float32) / 127.0
    q = np.clip(np.rint(v / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def save_taxonomy_vectors(path: Path, taxonomy: pd.DataFrame, vectors: np.ndarray,
                          model_version: str) -> None:
    """Write the int8 cache atomically (skill ids, per-row hashes, model version, vectors)."""
    q, scale = _quantise(np.asarray(vectors, dtype=np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, skill_ids=taxonomy["skill_id"].astype(str).to_numpy().astype("U"),
                                row_hash=_row_hashes(taxonomy, model_version), vectors=q, scale=scale,
                                model_version=np.array(model_version), recipe=np.array(VECTOR_RECIPE))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache is shipped data
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_taxonomy_vectors(taxonomy: pd.DataFrame, embedder: MiniLMEmbedder | None = None,
                          path: Path | None = None, *, write: bool = True) -> np.ndarray:
    """Row-aligned float32 skill vectors from the cache; rows missing or stale are (re)computed.

    Needs ``embedder`` only when something must be computed; then the cache file is rewritten if ``write``,
    the file is writable and ``taxonomy`` is not much smaller than the cached one. Raises ``RuntimeError``
    if rows are stale and no embedder is given.
    """
    from skillatlas.extract.embeddings import model_version as current_model_version

    path = Path(path) if path is not None else default_vectors_path()
    version = embedder.model_version if embedder is not None else current_model_version()
    want = _row_hashes(taxonomy, version)
    out = np.zeros((len(taxonomy), DIM), dtype=np.float32)
    have = np.zeros(len(taxonomy), dtype=bool)
    cached_rows = 0
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            cached_rows = len(z["row_hash"])
            pos = {h: i for i, h in enumerate(z["row_hash"].tolist())}
            idx = np.array([pos.get(h, -1) for h in want.tolist()], dtype=np.int64)
            have = idx >= 0
            if have.any():
                rows = idx[have]
                out[have] = z["vectors"][rows].astype(np.float32) * z["scale"][rows][:, None]
                out[have] = _normalise_rows(out[have])
    if not have.all():
        if embedder is None:
            raise RuntimeError(f"{int((~have).sum())} taxonomy vectors missing or stale in {path}; "
                               "pass an embedder to compute them")
        missing = np.where(~have)[0]
        out[missing] = _embed_rows(taxonomy.iloc[missing], embedder)
        # never replace a cache with one for a much smaller taxonomy (e.g. a test fixture)
        if write and len(taxonomy) >= cached_rows // 2:
            try:
                save_taxonomy_vectors(path, taxonomy, out, version)
            except OSError:
                pass
    return out


# ---------------------------------------------------------------------------------------------- extractor
class OfflineExtractor:
    """Phrase matching over labels/aliases, plus semantic matching when an embedder is given.

    With ``canonical=True`` (default) an O*NET technology skill that has ``same_as`` is reported under the
    ESCO id it names, so one concept yields one mention.
    """

    def __init__(self, taxonomy: pd.DataFrame, embedder: MiniLMEmbedder | None = None,
                 taxonomy_vectors: np.ndarray | None = None, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                 canonical: bool = True, max_span_tokens: int = MAX_SPAN_TOKENS, use_structure: bool = True,
                 skills_per_evidence: int = SKILLS_PER_EVIDENCE,
                 single_word_min_confidence: float = SINGLE_WORD_MIN_CONFIDENCE,
                 span_table: SpanVectorTable | None | bool = True,
                 span_tagger: SpanTagger | None | bool = True) -> None:
        if not 1 <= max_span_tokens <= MAX_SPAN_TOKENS:
            raise ValueError(f"max_span_tokens must be between 1 and {MAX_SPAN_TOKENS}, got {max_span_tokens}")
        # Shorter candidate windows mean fewer texts to embed per sentence (speed vs. recall of long skills).
        self.max_span_tokens = max_span_tokens
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.min_confidence = float(min_confidence)
        self.canonical = canonical
        self.use_structure = use_structure
        self.skills_per_evidence = skills_per_evidence
        self.single_word_min_confidence = single_word_min_confidence
        ids = taxonomy["skill_id"].astype(str).tolist()
        self._ids = ids
        self._labels = dict(zip(ids, taxonomy["label"].astype(str), strict=True))
        same_as = taxonomy["same_as"].tolist() if "same_as" in taxonomy else [None] * len(ids)
        self._canon = {sid: (sa if canonical and isinstance(sa, str) and sa in self._labels else sid)
                       for sid, sa in zip(ids, same_as, strict=True)}
        sources = taxonomy["source"].astype(str).tolist()
        tech_ids = {self._canon[sid] for sid, src in zip(ids, sources, strict=True) if src == "onet_tech"}
        pairs: list[tuple[str, str, bool]] = []
        for sid, aliases in zip(ids, taxonomy["aliases"], strict=True):
            target = self._canon[sid]
            label = self._labels[sid]
            label_forms = {normalise_phrase(label), normalise_phrase(_strip_parens(label))}
            for a in aliases if aliases is not None else []:
                pairs.append((target, str(a), normalise_phrase(str(a)) in label_forms))
            # "use cooking techniques" is written "cooking techniques" in syllabi and ads
            words = label.split()
            if len(words) >= 3 and words[0] in GENERIC_LEADING_VERBS and "(" not in label:
                pairs.append((target, " ".join(words[1:]), False))
        esco_desc = taxonomy.loc[taxonomy["source"] == "esco", "description"].fillna("").astype(str).tolist()
        self.matcher = PhraseMatcher.from_pairs(pairs, common_words=common_words(esco_desc),
                                                tech_ids=tech_ids)
        fp = hashlib.sha1("\n".join(ids).encode()).hexdigest()[:10]
        model = embedder.model_version if embedder is not None else "phrase-only"
        spans = f":spans{max_span_tokens}" if max_span_tokens != MAX_SPAN_TOKENS else ""
        rules = "" if (use_structure, skills_per_evidence, single_word_min_confidence) == (
            True, SKILLS_PER_EVIDENCE, SINGLE_WORD_MIN_CONFIDENCE) else \
            f":rules{int(use_structure)},{skills_per_evidence},{single_word_min_confidence:g}"
        self.version = f"offline-1.1:{fp}:{model}:{VECTOR_RECIPE if embedder is not None else ''}{spans}{rules}"

        self.vectors: np.ndarray | None = None
        if embedder is not None:
            if taxonomy_vectors is None:  # cached rows + embed the others (the cache file is left alone)
                taxonomy_vectors = load_taxonomy_vectors(taxonomy, embedder, write=False)
            vecs = taxonomy_vectors
            vecs = np.asarray(vecs, dtype=np.float32)
            if vecs.shape != (len(ids), DIM):
                raise ValueError(f"taxonomy_vectors must have shape ({len(ids)}, {DIM}), got {vecs.shape}")
            # canonical rows only: an O*NET row with same_as is represented by its ESCO row
            keep = np.array([self._canon[sid] == sid for sid in ids], dtype=bool)
            self._vec_rows = np.where(keep)[0]
            self.vectors = np.ascontiguousarray(vecs[keep])
            self._vec_ids = [ids[i] for i in self._vec_rows]
            self._vec_pos = {sid: i for i, sid in enumerate(self._vec_ids)}
            # a named product (O*NET technology example) is only evidenced by its name: semantic
            # similarity alone ("Excel" ~ "Google Sheets") is discounted
            src = np.asarray(sources, dtype=object)[self._vec_rows]
            self._row_penalty = np.where(src == "onet_tech", PRODUCT_SEMANTIC_PENALTY, 0.0).astype(np.float32)
        # precomputed vectors of frequent span strings (True: the shipped table, if it fits the model)
        self.span_table: SpanVectorTable | None = None
        if embedder is not None and span_table is True:
            self.span_table = SpanVectorTable.load(default_span_table_path(), embedder.model_version,
                                                   embedder.normalise)
        elif isinstance(span_table, SpanVectorTable):
            self.span_table = span_table
        # the learned span detector (True: the shipped one, if it fits the model); None = every candidate window
        self.span_tagger: SpanTagger | None = None
        if embedder is not None and span_tagger is True:
            self.span_tagger = SpanTagger.load(default_span_tagger_path(), embedder.model_version)
        elif isinstance(span_tagger, SpanTagger):
            self.span_tagger = span_tagger
        self.tagged_span_bonus = TAGGED_SPAN_BONUS
        self.phrase_outside_spans = PHRASE_OUTSIDE_SPANS
        self.link_min_cos = LINK_MIN_COS
        self.contextual_spans = CONTEXTUAL_CLAUSES
        if self.span_tagger is not None:
            self.version += f":tagger-{self.span_tagger.fingerprint}"
        self.span_prefilter_min_cos = SPAN_PREFILTER_MIN_COS
        self._label_alias: dict[tuple[str, str], bool] = {}  # (skill id, alias) -> alias is the label
        self.unit_cache_size = 20_000
        self._unit_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    # ------------------------------------------------------------------ phrase
    @staticmethod
    def _phrase_confidence(hit: PhraseHit, n_skills: int) -> float:
        conf = 0.9 if hit.n_tokens >= 2 else 0.8
        if len(hit.alias) <= 2:
            conf = 0.65
        return conf / (1.0 + 0.5 * (n_skills - 1))

    def _is_label_alias(self, hit: PhraseHit) -> bool:
        """Is the matched alias the skill's own label (rather than one of its alternative labels)?"""
        key = (hit.skill_id, hit.alias)
        known = self._label_alias.get(key)
        if known is None:
            label = self._labels[hit.skill_id]
            n = normalise_phrase(hit.alias)
            known = n == normalise_phrase(label) or n == normalise_phrase(_strip_parens(label))
            self._label_alias[key] = known
        return known

    def phrase_mentions(self, text: str) -> list[SkillMention]:
        """Mentions from alias hits. When several skills share the matched alias, the skills whose own label
        it is keep the full confidence and the others (alias is only an alternative label) are discounted."""
        hits = self.matcher.find(text)
        per_span: dict[tuple[int, int], list[PhraseHit]] = {}
        for h in hits:
            per_span.setdefault((h.start, h.end), []).append(h)
        out = []
        labels = self._labels
        for h in hits:
            group = per_span[(h.start, h.end)]
            if len(group) == 1:
                conf = self._phrase_confidence(h, 1)
            elif self._is_label_alias(h):
                conf = self._phrase_confidence(h, sum(map(self._is_label_alias, group)))
            else:
                primary = any(map(self._is_label_alias, group))
                conf = self._phrase_confidence(h, len(group)) * (0.7 if primary else 1.0)
            out.append(SkillMention(h.skill_id, labels[h.skill_id], conf, "phrase", h.start, h.end,
                                    text[h.start:h.end]))
        return out

    # ------------------------------------------------------------------ semantic
    @staticmethod
    def calibrate(score: np.ndarray | float) -> np.ndarray | float:
        """Combined score -> confidence in [0, 1] (logistic, midpoint CALIB_MID)."""
        return 1.0 / (1.0 + np.exp(-(np.asarray(score) - CALIB_MID) / CALIB_SCALE))

    def _sentence_units(self, text: str, sentences: Sequence[tuple[int, int]],
                        accepted: frozenset[tuple[int, int]] = frozenset()
                        ) -> tuple[list[str], list[tuple[int, int]], list[tuple[int, int]], np.ndarray]:
        """Texts to embed: each sentence followed by its candidate spans; per-sentence index ranges; and a
        per-unit penalty: a bare ambiguous word ("Excel", "Go", "cloud") is weak evidence unless the phrase
        matcher accepted it there (``accepted`` spans)."""
        texts: list[str] = []
        offsets: list[tuple[int, int]] = []
        ranges: list[tuple[int, int]] = []
        penalty: list[float] = []
        restricted = self.matcher.restricted_words
        for s, e in sentences:
            first = len(texts)
            texts.append(text[s:e])
            offsets.append((s, e))
            penalty.append(0.0)
            for a, b in candidate_spans(text, s, e, max_tokens=self.max_span_tokens):
                if (a, b) != (s, e):
                    texts.append(text[a:b])
                    offsets.append((a, b))
                    word = normalise_phrase(text[a:b])
                    weak = word in restricted and (a, b) not in accepted
                    penalty.append(AMBIGUOUS_SPAN_PENALTY if weak else 0.0)
            ranges.append((first, len(texts)))
        return texts, offsets, ranges, np.asarray(penalty, dtype=np.float32)

    @staticmethod
    def _composed(text: str, table: SpanVectorTable) -> np.ndarray | None:
        """A two-token span missing from the table, as the normalised sum of its two words' table vectors
        (``None`` unless ``text`` is two tokens that are both in the table)."""
        toks = tokenize(text)
        if len(toks) != 2:
            return None
        v1 = table.get(text[toks[0][0]:toks[0][1]])
        if v1 is None:
            return None
        v2 = table.get(text[toks[1][0]:toks[1][1]])
        if v2 is None:
            return None
        v: np.ndarray = v1 + v2
        out: np.ndarray = v / max(float(np.linalg.norm(v)), 1e-12)
        return out

    def _encode_units(self, texts: list[str]) -> np.ndarray:
        """Embeddings of sentence/span texts, through a bounded LRU cache (spans repeat across documents) and
        the precomputed span table (:mod:`skillatlas.extract.span_table`); the model embeds the rest."""
        out, todo = self._lookup_units(texts)
        self._embed_todo(out, todo)
        return out

    def _lookup_units(self, texts: list[str]) -> tuple[np.ndarray, dict[str, list[int]]]:
        """Vectors found in the LRU cache or the span table, and the texts (-> indices) the model must embed."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        table = self.span_table
        for i, t in enumerate(texts):
            v = self._unit_cache.get(t)
            if v is None and table is not None and len(t) <= SPAN_TABLE_MAX_CHARS:
                v = table.get(t)
                if v is not None:
                    out[i] = v
                    continue
            if v is None:
                todo.setdefault(t, []).append(i)
            else:
                self._unit_cache.move_to_end(t)
                out[i] = v
        return out, todo

    def _embed_todo(self, out: np.ndarray, todo: dict[str, list[int]]) -> None:
        """Embed the ``todo`` texts with the model into ``out`` (and the LRU cache)."""
        assert self.embedder is not None
        if not todo:
            return
        keys = list(todo)
        emb = self.embedder.encode(keys)
        for key, v in zip(keys, emb, strict=True):
            out[todo[key]] = v
            self._unit_cache[key] = v
        while len(self._unit_cache) > self.unit_cache_size:
            self._unit_cache.popitem(last=False)

    def score_floor(self) -> float | None:
        """Lowest combined score whose confidence reaches ``min_confidence`` (``None`` when every score does)."""
        if not 0.0 < self.min_confidence < 1.0:
            return None
        return float(CALIB_MID + CALIB_SCALE * np.log(self.min_confidence / (1.0 - self.min_confidence)))

    def _score_sentences(self, text: str, sentences: Sequence[tuple[int, int]], phrase: list[SkillMention],
                         floor: float | None = None) -> list[_SegmentScores]:
        """Per sentence: combined scores over vector rows, and the similarities behind them.

        Unit 0 of each sentence is the sentence itself, the others its candidate spans. With ``floor`` (a
        combined score, see :meth:`score_floor`) span similarities are computed only for the skills that can
        still reach it - ``sentence cos + phrase bonus - penalty + SPAN_COS_BOUND >= floor`` - since a span
        adds at most ``SPAN_COS_BOUND``; the other skills' scores are left below the floor. This is exact
        for every skill at or above the floor (what :meth:`find_occurrences` keeps) and saves most of the
        span-by-skill products; ``rank`` passes no floor and gets every score. With a floor and a span table,
        spans missing from the table go through :meth:`_prefilter_spans` before the model embeds them.
        """
        assert self.embedder is not None and self.vectors is not None
        accepted = frozenset((m.start, m.end) for m in phrase)
        texts, offsets, ranges, penalty = self._sentence_units(text, sentences, accepted)
        if not texts:
            return []
        heads = np.array([a for a, _ in ranges], dtype=np.int64)
        prefilter = floor is not None and self.span_table is not None and self.span_prefilter_min_cos > -1.0
        if prefilter:  # sentences first; spans missing from the table wait for the prefilter below
            emb, todo = self._lookup_units(texts)
            is_head = np.zeros(len(texts), dtype=bool)
            is_head[heads] = True
            self._embed_todo(emb, {t: ix for t, ix in todo.items() if is_head[ix].any()})
            later = {t: ix for t, ix in todo.items() if not is_head[ix].any()}
        else:
            emb = self._encode_units(texts)
            later = {}
        sent_all = emb[heads] @ self.vectors.T - penalty[heads][:, None]
        bases: list[np.ndarray] = []
        columns: list[np.ndarray] = []
        for k, (s, e) in enumerate(sentences):
            base = sent_all[k] - self._row_penalty
            for m in phrase:
                if s <= m.start and m.end <= e:
                    j = self._vec_pos.get(m.skill_id)
                    if j is not None:
                        base[j] += PHRASE_BONUS * m.confidence + self._row_penalty[j]
            bases.append(base)
            columns.append(np.arange(len(base)) if floor is None else
                           np.nonzero(base >= floor - SPAN_COS_BOUND)[0])
        vectors = self.vectors
        blocks: dict[int, np.ndarray] = {}

        def block(k: int) -> np.ndarray:
            """Vectors of sentence k's still-reachable skills, copied once per sentence (not once per span)."""
            if k not in blocks:
                blocks[k] = vectors if floor is None else vectors[columns[k]]
            return blocks[k]

        if later:
            self._prefilter_spans(emb, later, ranges, block, penalty)
        out = []
        for k, (a, b) in enumerate(ranges):
            sent, base, cols = sent_all[k], bases[k], columns[k]
            live = penalty[a + 1:b] < _DROPPED
            if not live.any():  # no candidate span (or none left): the sentence stands for its best span
                out.append(_SegmentScores(base + sent, sent, sent[None, :], np.arange(len(sent)), offsets[a:b],
                                          False))
                continue
            span = emb[a + 1:b] @ block(k).T - penalty[a + 1:b, None]
            score = base.copy()
            if len(cols):
                score[cols] += span.max(axis=0)
            out.append(_SegmentScores(score, sent, span, cols, offsets[a:b], True))
        return out

    def _prefilter_spans(self, emb: np.ndarray, later: dict[str, list[int]], ranges: Sequence[tuple[int, int]],
                         block: Callable[[int], np.ndarray], penalty: np.ndarray) -> None:
        """Spans missing from the span table: a two-token span whose words are both in the table is embedded
        only if the normalised sum of their vectors has a cosine of at least ``span_prefilter_min_cos`` with
        one of its sentence's still-reachable skills; the others are dropped (``penalty`` = ``_DROPPED``)."""
        assert self.vectors is not None and self.span_table is not None
        seg = np.empty(len(emb), dtype=np.int64)
        for k, (a, b) in enumerate(ranges):
            seg[a:b] = k
        embed: dict[str, list[int]] = {}
        for t, ix in later.items():
            approx = self._composed(t, self.span_table)
            if approx is None:
                embed[t] = ix
                continue
            keep = False
            for i in ix:
                reachable = block(int(seg[i]))
                if len(reachable) and float((reachable @ approx).max()) >= self.span_prefilter_min_cos:
                    keep = True
                    break
            if keep:
                embed[t] = ix
            else:
                penalty[ix] = _DROPPED
        self._embed_todo(emb, embed)

    # ------------------------------------------------------------------ public
    def template_mask(self, text: str) -> TemplateMask | None:
        """Template regions (labels, headings, placeholders, boilerplate) whose words are not skills."""
        return TemplateMask(template_regions(text)) if self.use_structure else None

    @staticmethod
    def _content_segments(text: str, sentences: Sequence[tuple[int, int]], mask: TemplateMask | None
                          ) -> list[tuple[int, int]]:
        """Sentences minus template regions ("Job type: Full-time Industry: Media" -> "Media")."""
        if mask is None or not len(mask):
            return list(sentences)
        out = []
        for s, e in sentences:
            for a, b in mask.gaps(s, e):
                while a < b and not text[a].isalnum():
                    a += 1
                while b > a and not (text[b - 1].isalnum() or text[b - 1] in "+#)"):
                    b -= 1
                if b > a and _WORDISH.search(text[a:b]):
                    out.append((a, b))
        return out

    def _prune(self, mentions: list[SkillMention]) -> list[SkillMention]:
        """Precision rules: one-word similarity-only evidence needs a high confidence; an evidence span keeps
        its best ``skills_per_evidence`` skills."""
        kept: list[SkillMention] = []
        for m in mentions:
            if m.method == "semantic" and len(tokenize(m.evidence)) <= 1 and \
                    m.confidence < self.single_word_min_confidence:
                continue
            kept.append(m)
        if self.skills_per_evidence <= 0:
            return kept
        per_span: dict[tuple[int, int], int] = {}
        out = []
        for m in sorted(kept, key=lambda m: (-m.confidence, m.start, m.skill_id)):
            n = per_span.get((m.start, m.end), 0)
            if n < self.skills_per_evidence:
                per_span[(m.start, m.end)] = n + 1
                out.append(m)
        return out

    def extract(self, text: str) -> list[SkillMention]:
        """One mention per skill (its best evidence), ranked by confidence, at least ``min_confidence``;
        ``occurrences`` lists the offsets of every place the skill was found.

        Template regions of the document (see :mod:`skillatlas.extract.structure`) yield nothing, and
        :meth:`_prune` keeps a small ranked set of skills per evidence span.
        """
        return self.group_occurrences(self.find_occurrences(text))

    def find_occurrences(self, text: str) -> list[SkillMention]:
        """Every (skill, evidence span) found, after the template mask and the precision rules."""
        if not text or not text.strip():
            return []
        mask = self.template_mask(text)
        phrase = [m for m in self.phrase_mentions(text) if mask is None or not mask.covers(m.start, m.end)]
        # every occurrence: (skill, evidence span) -> mention; the same span keeps its best confidence
        occ: dict[tuple[str, int, int], SkillMention] = {}
        for m in phrase:
            cur = occ.get((m.skill_id, m.start, m.end))
            if cur is None or m.confidence > cur.confidence:
                occ[(m.skill_id, m.start, m.end)] = m
        if self.embedder is not None and self.vectors is not None:
            sentences = self._content_segments(text, split_sentences(text) or [(0, len(text))], mask)
            if self.span_tagger is not None:
                self._tagged_occurrences(text, sentences, phrase, occ)
            else:
                phrase_in: dict[tuple[int, str], SkillMention] = {}
                for k, (s, e) in enumerate(sentences):
                    for m in phrase:
                        if s <= m.start and m.end <= e:
                            cur = phrase_in.get((k, m.skill_id))
                            if cur is None or m.confidence > cur.confidence:
                                phrase_in[(k, m.skill_id)] = m
                for k, seg in enumerate(self._score_sentences(text, sentences, phrase, self.score_floor())):
                    conf = np.asarray(self.calibrate(seg.score))
                    offsets = seg.offsets
                    for j in np.nonzero(conf >= self.min_confidence)[0]:
                        sid = self._vec_ids[j]
                        c = float(conf[j])
                        ph = phrase_in.get((k, sid))
                        if ph is not None:
                            # the phrase hit is the evidence; similarity only raises its confidence
                            if c > ph.confidence:
                                occ[(sid, ph.start, ph.end)] = SkillMention(sid, ph.label, c, "phrase", ph.start,
                                                                            ph.end, ph.evidence)
                            continue
                        # evidence: the best-matching span, unless the whole sentence matches better
                        a, b = offsets[0]
                        if seg.has_spans:
                            col = seg.span[:, int(np.searchsorted(seg.columns, j))]
                            u = int(col.argmax())
                            if col[u] >= seg.sentence[j]:
                                a, b = offsets[u + 1]
                        cur = occ.get((sid, a, b))
                        if cur is None or c > cur.confidence:
                            occ[(sid, a, b)] = SkillMention(sid, self._labels[sid], c, "semantic", a, b, text[a:b])
        return self._prune([m for m in occ.values() if m.confidence >= self.min_confidence])

    def detect_spans(self, text: str, segments: Sequence[tuple[int, int]]
                     ) -> tuple[np.ndarray, list[list[TaggedSpan]], list[TokenStates]]:
        """Sentence vectors of ``segments``, the skill spans the detector finds in each, and the token states
        they came from (one forward pass)."""
        assert self.embedder is not None and self.span_tagger is not None
        pieces = [text[s:e] for s, e in segments]
        vecs, states = self.embedder.encode_with_states(pieces)
        found = self.span_tagger.spans_many(pieces, states, [s for s, _ in segments])
        return vecs, [[t for t in (self._trim(text, t) for t in spans) if t is not None] for spans in found], states

    @staticmethod
    def _trim(text: str, span: TaggedSpan) -> TaggedSpan | None:
        """A detected span without leading/trailing stop words and punctuation ("REST and" -> "REST",
        "with custom UI" -> "custom UI"); ``None`` when nothing is left."""
        toks = tokenize(text[span.start:span.end])
        words = [text[span.start + a:span.start + b].casefold() for a, b in toks]
        i, j = 0, len(toks)
        while i < j and words[i] in STOP_WORDS:
            i += 1
        while j > i and words[j - 1] in STOP_WORDS:
            j -= 1
        if i == j:
            return None
        a, b = span.start + toks[i][0], span.start + toks[j - 1][1]
        return span if (a, b) == (span.start, span.end) else TaggedSpan(a, b, span.probability)

    def _tagged_occurrences(self, text: str, segments: Sequence[tuple[int, int]], phrase: list[SkillMention],
                            occ: dict[tuple[str, int, int], SkillMention]) -> None:
        """Skills of the spans the learned detector finds (see ``TAGGED_SPAN_BONUS``), added to ``occ``.

        Phrase hits inside a detected span stay (their skill's similarity may raise their confidence); those
        outside follow ``phrase_outside_spans``. Each detected span is linked to its best skills: units = the
        span and its candidate sub-windows; score = sentence cos + best unit cos + phrase bonus + the bonus.
        """
        assert self.embedder is not None and self.vectors is not None
        if not segments:
            return
        sent_vecs, detected, states = self.detect_spans(text, segments)
        all_spans = sorted((t.start, t.end) for spans in detected for t in spans)

        def inside_any(a: int, b: int) -> bool:
            # detected spans do not overlap, so the last one starting before b reaches furthest right
            k = bisect.bisect_left(all_spans, (b, b))
            return k > 0 and all_spans[k - 1][1] > a

        for key, m in list(occ.items()):
            if inside_any(m.start, m.end):
                continue
            if self.phrase_outside_spans == "none" or (
                    self.phrase_outside_spans == "multiword" and len(tokenize(m.evidence)) < 2):
                del occ[key]
        # units: each detected span, then its sub-windows
        accepted = frozenset((m.start, m.end) for m in phrase)
        restricted = self.matcher.restricted_words
        texts: list[str] = []
        penalty: list[float] = []
        owners: list[tuple[int, TaggedSpan, int, int]] = []  # segment, span, first unit, end unit
        contextual: dict[int, np.ndarray] = {}
        for k, spans in enumerate(detected):
            for t in spans:
                first = len(texts)
                if self.contextual_spans and len(tokenize(text[t.start:t.end])) > self.max_span_tokens:
                    # a clause longer than any sub-window: its pieces' states, mean-pooled, stand for it
                    hidden, offsets, s0 = states[k].hidden, states[k].offsets, segments[k][0]
                    rows = [i for i, (x, y) in enumerate(offsets) if y > x and t.start <= x + s0 and y + s0 <= t.end]
                    if rows:
                        v = hidden[rows].mean(axis=0)
                        contextual[first] = v / max(float(np.linalg.norm(v)), 1e-12)
                windows = [(t.start, t.end)] + [w for w in candidate_spans(text, t.start, t.end,
                                                                           max_tokens=self.max_span_tokens)
                                                 if w != (t.start, t.end)]
                for a, b in windows:
                    texts.append(text[a:b])
                    weak = normalise_phrase(text[a:b]) in restricted and (a, b) not in accepted
                    penalty.append(AMBIGUOUS_SPAN_PENALTY if weak else 0.0)
                owners.append((k, t, first, len(texts)))
        if not texts:
            return
        pen = np.asarray(penalty, dtype=np.float32)
        # every unit against every skill in one product (a few hundred units per document); a span can only
        # be linked to a skill one of its units reaches ``link_min_cos`` with, so only those are scored
        if contextual:
            unit_vecs = np.zeros((len(texts), DIM), dtype=np.float32)
            rest = [i for i in range(len(texts)) if i not in contextual]
            unit_vecs[rest] = self._encode_units([texts[i] for i in rest])
            for i, v in contextual.items():
                unit_vecs[i] = v
        else:
            unit_vecs = self._encode_units(texts)
        unit_sims = unit_vecs @ self.vectors.T - pen[:, None]
        hit_units, reach = np.nonzero(unit_sims >= self.link_min_cos)  # row-major: grouped by unit
        bounds = np.searchsorted(hit_units, [a for _, _, a, _ in owners] + [len(texts)])
        for n, (k, t, a, b) in enumerate(owners):
            cols = np.unique(reach[bounds[n]:bounds[n + 1]])
            if not len(cols):
                continue
            score = sent_vecs[k] @ self.vectors[cols].T - self._row_penalty[cols] + \
                self.tagged_span_bonus * t.probability + unit_sims[a:b, cols].max(axis=0)
            inside: dict[str, SkillMention] = {}  # skill -> its best phrase hit inside the span
            for m in phrase:
                if not (t.start <= m.start and m.end <= t.end):
                    continue
                if m.skill_id not in inside or m.confidence > inside[m.skill_id].confidence:
                    inside[m.skill_id] = m
                j = self._vec_pos.get(m.skill_id)
                at = int(np.searchsorted(cols, j)) if j is not None else len(cols)
                if at < len(cols) and cols[at] == j:
                    score[at] += PHRASE_BONUS * m.confidence + self._row_penalty[j]
            conf = 1.0 / (1.0 + np.exp(-(score - CALIB_MID) / LINK_CALIB_SCALE))
            one_word = len(tokenize(text[t.start:t.end])) <= 1
            linked = 0
            passing = np.nonzero(conf >= self.min_confidence)[0]
            for i in passing[np.argsort(-conf[passing], kind="stable")]:
                sid = self._vec_ids[int(cols[i])]
                c = float(conf[i])
                if sid in inside:  # the phrase hit is the evidence; similarity only raises its confidence
                    ph = inside[sid]
                    if c > ph.confidence:
                        occ[(sid, ph.start, ph.end)] = dataclasses.replace(ph, confidence=c)
                    continue
                if one_word and c < self.single_word_min_confidence:
                    continue  # _prune would drop it
                if 0 < self.skills_per_evidence <= linked:
                    continue  # _prune keeps the best skills_per_evidence of this evidence: these are better
                linked += 1
                cur = occ.get((sid, t.start, t.end))
                if cur is None or c > cur.confidence:
                    occ[(sid, t.start, t.end)] = SkillMention(sid, self._labels[sid], c, "semantic", t.start,
                                                              t.end, text[t.start:t.end])

    @staticmethod
    def group_occurrences(kept: Sequence[SkillMention]) -> list[SkillMention]:
        """One mention per skill: its best occurrence, carrying the offsets of all of them."""
        by_skill: dict[str, list[SkillMention]] = {}
        for m in kept:
            by_skill.setdefault(m.skill_id, []).append(m)
        out = []
        for ms in by_skill.values():
            top = min(ms, key=lambda m: (-m.confidence, m.start))
            spans = tuple(sorted({(m.start, m.end) for m in ms}))
            out.append(dataclasses.replace(top, occurrences=spans))
        out.sort(key=lambda m: (-m.confidence, m.start, m.skill_id))
        return out

    def rank(self, sentence: str, k: int = 10) -> list[tuple[str, float]]:
        """Top-k (skill_id, confidence) for one sentence, best first (no threshold)."""
        phrase = self.phrase_mentions(sentence)
        if self.embedder is None or self.vectors is None or not sentence.strip():
            scores: dict[str, float] = {}
            for m in phrase:
                scores[m.skill_id] = max(scores.get(m.skill_id, 0.0), m.confidence)
            return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        score = self._score_sentences(sentence, [(0, len(sentence))], phrase)[0].score
        k = min(k, len(score))
        top = np.argpartition(-score, k - 1)[:k] if k < len(score) else np.arange(len(score))
        top = top[np.argsort(-score[top], kind="stable")]
        conf = np.asarray(self.calibrate(score[top]))
        return [(self._vec_ids[j], float(c)) for j, c in zip(top, conf, strict=True)]


@lru_cache(maxsize=2)
def get_offline_extractor(
    semantic: bool = True, min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> OfflineExtractor:
    """Shared extractor over :func:`skillatlas.reference.taxonomy.load_taxonomy` (semantic: cached taxonomy vectors)."""
    from skillatlas.extract.embeddings import get_embedder
    from skillatlas.reference.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    if not semantic:
        return OfflineExtractor(taxonomy, min_confidence=min_confidence)
    embedder = get_embedder()
    vectors = load_taxonomy_vectors(taxonomy, embedder)
    return OfflineExtractor(taxonomy, embedder, vectors, min_confidence=min_confidence)
