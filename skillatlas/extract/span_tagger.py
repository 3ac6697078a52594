"""Learned skill-span detector: which words of a sentence are a skill or knowledge mention, as people write them.

A two-layer perceptron over MiniLM's last hidden states (the forward pass that embeds the sentence anyway, so
tagging costs a few small matrix products) labels each word piece **O** (outside), **B** (first piece of a
span) or **I** (inside). Input per piece: its own state and those of its ``context`` neighbours on each side.
Runs of pieces whose in-span probability (P(B) + P(I)) reaches a threshold become spans, widened to whole
words: "work closely with stakeholders", "ensure compliance with safety regulations", "Python".

Trained on the SkillSpan **train** split only (skill and knowledge spans alike) by
``scripts/train_span_tagger.py``, which writes ``data/reference/span_tagger.npz`` (weights, the MiniLM
version they belong to, the recipe and the training figures). numpy only at run time; the tagger is ignored
when the installed model differs from the one it was trained on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skillatlas.extract.embeddings import TokenStates

__all__ = ["SpanTagger", "TaggedSpan", "default_span_tagger_path", "piece_labels", "train_tagger"]

# the default in-span probability a piece needs; scripts/train_span_tagger.py fits it on held-out train
# postings and stores it with the weights, so this is only the fallback for a file without one
DEFAULT_THRESHOLD = 0.5
_WORD = re.compile(r"[\w+#]")


@dataclass(frozen=True)
class TaggedSpan:
    start: int  # character offsets into the text that was tagged
    end: int
    probability: float  # mean in-span probability of its pieces


def default_span_tagger_path() -> Path:
    from skillatlas.paths import REFERENCE_DIR

    return Path(REFERENCE_DIR) / "span_tagger.npz"


def piece_features(hidden: np.ndarray, context: int) -> np.ndarray:
    """Each piece's state followed by its neighbours' (zeros past either end): (n, dim * (2 * context + 1))."""
    h = np.asarray(hidden, dtype=np.float32)
    n, dim = h.shape
    parts = [h]
    for o in range(1, context + 1):
        before = np.zeros((n, dim), np.float32)
        after = np.zeros((n, dim), np.float32)
        if o < n:
            before[o:] = h[:-o]
            after[:-o] = h[o:]
        parts += [before, after]
    return np.hstack(parts)


def piece_labels(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Training labels (0 = O, 1 = B, 2 = I) of the pieces at ``offsets`` for gold character ``spans``."""
    y = np.zeros(len(offsets), dtype=np.int64)
    for a, b in spans:
        first = True
        for k, (s, e) in enumerate(offsets):
            if e > s and s >= a and e <= b:
                y[k] = 1 if first else 2
                first = False
    return y


@dataclass
class SpanTagger:
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    context: int
    model_version: str
    threshold: float = DEFAULT_THRESHOLD
    info: dict[str, object] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Short hash of the weights and threshold (part of the extractor version)."""
        h = hashlib.sha1()
        for a in (self.w1, self.b1, self.w2, self.b2):
            h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
        h.update(f"{self.context}:{self.threshold:g}".encode())
        return h.hexdigest()[:8]

    def probabilities(self, hidden: np.ndarray) -> np.ndarray:
        """(pieces, 3) probabilities of O, B, I."""
        return self.probabilities_of(piece_features(hidden, self.context))

    def probabilities_of(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of O, B, I from :func:`piece_features` rows."""
        z = np.maximum(x @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2
        z -= z.max(axis=1, keepdims=True)
        p: np.ndarray = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def spans_many(self, texts: Sequence[str], states: Sequence[TokenStates], bases: Sequence[int]
                   ) -> list[list[TaggedSpan]]:
        """:meth:`spans` of several texts, their pieces classified in one batch (one pair of products)."""
        sizes = [len(st.offsets) for st in states]
        if not sum(sizes):
            return [[] for _ in texts]
        probs = self.probabilities_of(np.vstack([piece_features(st.hidden, self.context) for st in states]))
        cuts = np.cumsum([0, *sizes])
        return [self.spans(text, st.hidden, st.offsets, base=base, probabilities=probs[cuts[i]:cuts[i + 1]])
                for i, (text, st, base) in enumerate(zip(texts, states, bases, strict=True))]

    def spans(self, text: str, hidden: np.ndarray, offsets: Sequence[tuple[int, int]], *, base: int = 0,
              threshold: float | None = None, probabilities: np.ndarray | None = None) -> list[TaggedSpan]:
        """Spans of ``text`` (offsets + ``base``): runs of pieces at or above the threshold, whole words."""
        if len(offsets) == 0:
            return []
        tau = self.threshold if threshold is None else threshold
        p = self.probabilities(hidden) if probabilities is None else probabilities
        inside = p[:, 1] + p[:, 2]
        out: list[TaggedSpan] = []
        run: list[int] = []

        def close() -> None:
            if not run:
                return
            a, b = offsets[run[0]][0], offsets[run[-1]][1]
            while a > 0 and _WORD.match(text[a - 1]) and _WORD.match(text[a]):  # whole words
                a -= 1
            while b < len(text) and _WORD.match(text[b]) and _WORD.match(text[b - 1]):
                b += 1
            prob = float(inside[run].mean())
            if out and a + base < out[-1].end:  # a word shared with the previous run: one span
                prev = out.pop()
                a, prob = prev.start - base, (prev.probability + prob) / 2
            out.append(TaggedSpan(a + base, b + base, prob))
            run.clear()

        for k, (s, e) in enumerate(offsets):
            if e <= s:  # [CLS], [SEP]
                continue
            if inside[k] >= tau:
                # a confident B after a run starts a new span ("Python, SQL" tagged piece by piece)
                if run and p[k, 1] > p[k, 2] and p[k, 1] >= 0.5:
                    close()
                run.append(k)
            else:
                close()
        close()
        return [t for t in out if any(ch.isalnum() for ch in text[t.start - base:t.end - base])]

    # ------------------------------------------------------------------ storage
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            np.savez_compressed(fh, w1=self.w1.astype(np.float16), b1=self.b1.astype(np.float32),
                                w2=self.w2.astype(np.float32), b2=self.b2.astype(np.float32),
                                context=np.array(self.context), model_version=np.array(self.model_version),
                                threshold=np.array(self.threshold), info=np.array(json.dumps(self.info)))

    @classmethod
    def load(cls, path: Path, model_version: str | None = None) -> SpanTagger | None:
        """The tagger at ``path``; ``None`` when the file is missing or was trained on another model."""
        if not Path(path).is_file():
            return None
        with np.load(path, allow_pickle=False) as z:
            if model_version is not None and str(z["model_version"]) != model_version:
                return None
            return cls(w1=z["w1"].astype(np.float32), b1=z["b1"], w2=z["w2"], b2=z["b2"],
                       context=int(z["context"]), model_version=str(z["model_version"]),
                       threshold=float(z["threshold"]), info=json.loads(str(z["info"])))


def train_tagger(features: np.ndarray, labels: np.ndarray, *, hidden: int = 256, epochs: int = 4,
                 dropout: float = 0.3, lr: float = 1e-3, weight_decay: float = 1e-4, batch: int = 256,
                 seed: int = 0, log: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit the two-layer perceptron (ReLU, softmax over O/B/I) with Adam and input dropout; numpy only.

    Deterministic for a given ``seed`` and input. Returns ``(w1, b1, w2, b2)``.
    """
    rng = np.random.default_rng(seed)
    x_all = np.asarray(features, dtype=np.float32)
    n, f = x_all.shape
    params = {"w1": (rng.standard_normal((f, hidden)) * np.sqrt(2 / f)).astype(np.float32),
              "b1": np.zeros(hidden, np.float32),
              "w2": (rng.standard_normal((hidden, 3)) * np.sqrt(1 / hidden)).astype(np.float32),
              "b2": np.zeros(3, np.float32)}
    m1 = {k: np.zeros_like(v) for k, v in params.items()}
    m2 = {k: np.zeros_like(v) for k, v in params.items()}
    step = 0
    for epoch in range(epochs):
        perm = rng.permutation(n)
        total = 0.0
        for b in range(0, n, batch):
            idx = perm[b:b + batch]
            x, y = x_all[idx], labels[idx]
            if dropout:
                x = x * (rng.random(x.shape) > dropout) / (1 - dropout)
            h = np.maximum(x @ params["w1"] + params["b1"], 0.0)
            z = h @ params["w2"] + params["b2"]
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            total += float(-np.log(p[np.arange(len(y)), y] + 1e-9).sum())
            g = p
            g[np.arange(len(y)), y] -= 1
            g /= len(y)
            dh = (g @ params["w2"].T) * (h > 0)
            grads = {"w2": h.T @ g, "b2": g.sum(0), "w1": x.T @ dh, "b1": dh.sum(0)}
            step += 1
            for k, v in params.items():
                gk = grads[k] + (weight_decay * v if k.startswith("w") else 0.0)
                m1[k] = 0.9 * m1[k] + 0.1 * gk
                m2[k] = 0.999 * m2[k] + 0.001 * gk * gk
                v -= lr * (m1[k] / (1 - 0.9 ** step)) / (np.sqrt(m2[k] / (1 - 0.999 ** step)) + 1e-8)
        if log:
            print(f"epoch {epoch + 1}/{epochs}: loss {total / n:.4f}", flush=True)
    return params["w1"], params["b1"], params["w2"], params["b2"]
