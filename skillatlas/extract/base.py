"""What a skill extractor offers: the :class:`Extractor` protocol and its optional, typed capabilities.

Every engine (offline, OpenAI, cascade) is an :class:`Extractor`: a ``version`` that changes whenever its
results may change (so stored rows of another version are stale) and ``extract(text)``. Callers that need more
ask with ``isinstance`` against a capability protocol instead of guessing attributes:

- :class:`Ranker`: ``rank(sentence, k)`` (evaluation, candidate retrieval); :class:`OfflineEngine` is both;
- :class:`LLMBacked`: ``stats`` (tokens, cost, retries) and ``journal`` (per-document LLM outcomes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from skillatlas.extract.llm.config import LLMStats
    from skillatlas.extract.llm.grounding import OutcomeJournal
    from skillatlas.extract.offline import SkillMention

__all__ = ["Extractor", "LLMBacked", "OfflineEngine", "Ranker"]


@runtime_checkable
class Extractor(Protocol):
    """``version`` + ``extract(text) -> [SkillMention]`` (best first); raises ``ItemError`` for one bad item."""

    @property
    def version(self) -> str: ...

    def extract(self, text: str) -> list[SkillMention]: ...


@runtime_checkable
class Ranker(Protocol):
    """Skills ranked for one sentence: ``[(skill_id, score)]``, best first, at most ``k``."""

    def rank(self, sentence: str, k: int = 10) -> list[tuple[str, float]]: ...


@runtime_checkable
class OfflineEngine(Extractor, Ranker, Protocol):
    """An extractor that also ranks: what the LLM modes need as candidate retriever and cascade first stage."""


@runtime_checkable
class LLMBacked(Protocol):
    """An engine that calls an LLM: cumulative usage and the per-document outcome journal."""

    @property
    def stats(self) -> LLMStats: ...

    @property
    def journal(self) -> OutcomeJournal: ...
