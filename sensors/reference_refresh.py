"""Reference-refresh policy: what a new taxonomy does to documents already extracted.

- `document_skills` ignores taxonomy updates in its automation condition, so a reference refresh never
  re-extracts every batch by itself (in openai/cascade mode that would be an LLM call per document, unasked).
- After a successful `reference_job`, this sensor launches `reextract_job` (without `force`: only documents whose
  extractor version — which includes the taxonomy fingerprint — changed) when the extractor is `offline`:
  local CPU only, no cost outside the machine.
- With an LLM extractor (`openai`, `cascade`) it launches nothing and logs that re-extraction needs an explicit
  `reextract_job` run (optionally `dry_run` first, or `limit`/`batch_ids` to spread the cost).
"""

from __future__ import annotations

import dagster as dg

from jobs import reference_job
from jobs.reextract import reextract_job
from resources.extractor import ExtractorResource


@dg.run_status_sensor(
    name="reference_refresh_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[reference_job],
    request_job=reextract_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "After a reference refresh: offline re-extraction of documents on an older extractor version follows "
        "automatically; LLM re-extraction needs an explicit reextract_job run."
    ),
)
def reference_refresh_sensor(
    context: dg.RunStatusSensorContext, extractor: ExtractorResource
) -> dg.RunRequest | dg.SkipReason:
    run_id = context.dagster_run.run_id
    if extractor.mode != "offline":
        message = (
            f"reference_job {run_id[:8]} refreshed the taxonomy; extractor mode {extractor.mode!r} calls the LLM, "
            "so documents are not re-extracted automatically: launch reextract_job (dry_run first) when wanted"
        )
        context.log.info(message)
        return dg.SkipReason(message)
    return dg.RunRequest(
        run_key=f"reextract-after-reference:{run_id}",
        tags={"skillatlas/queue": "extraction", "skillatlas/trigger": "reference_refresh_sensor"},
    )
