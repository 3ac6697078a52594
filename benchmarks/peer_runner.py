"""Runs INSIDE the peer's own virtualenv (see ``bench_peer.py``); imports nothing from skillatlas.

Reads ``{"documents": [text, ...], "threshold": t}`` (JSON) from argv[1], writes JSON lines to stdout: one
``{"doc": i, "mentions": [[skill, start, end, p], ...]}`` per document, then
``{"seconds": s, "same_as_extract": bool, "documents": n}``.

``SkillExtractor.extract`` returns skill names only, so this repeats its own three steps - ``matcher.extract``
(gazetteer hits with offsets), the +/-20/21-word context windows of ``candidates`` and one
``embedder.encode`` + ``mlp.predict_proba`` call per document - and keeps each accepted hit's offsets. The
accepted skill *names* are checked against ``extract(text)`` on the first documents (``"same_as_extract"``).
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from skill_extractor import SkillExtractor
    from skill_extractor.extractor import CONTEXT_WORDS_AFTER, CONTEXT_WORDS_BEFORE

    spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
    docs: list[str] = spec["documents"]
    threshold = float(spec.get("threshold", 0.5))
    ex = SkillExtractor(quantized=True)
    same = True
    seconds = 0.0
    for i, text in enumerate(docs):
        t0 = time.perf_counter()
        matches = ex.matcher.extract(text)
        mentions = []
        if matches:
            words = text.split()
            inputs = []
            for skill, start, _end in matches:
                w = len(text[:start].split())
                lo, hi = max(0, w - CONTEXT_WORDS_BEFORE), min(len(words), w + CONTEXT_WORDS_AFTER)
                inputs.append(f"{skill} : {' '.join(words[lo:hi])}")
            probs = ex.mlp.predict_proba(ex.embedder.encode(inputs))
            mentions = [[s, a, b, float(p)] for (s, a, b), p in zip(matches, probs, strict=True) if p >= threshold]
        seconds += time.perf_counter() - t0
        print(json.dumps({"doc": i, "mentions": mentions}), flush=True)
        if i < 3:  # same names as the package's own extract()
            same = same and sorted({m[0] for m in mentions}) == ex.extract(text, threshold=threshold)
    print(json.dumps({"seconds": seconds, "same_as_extract": same, "documents": len(docs)}))


if __name__ == "__main__":
    main()
