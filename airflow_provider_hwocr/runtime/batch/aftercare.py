"""Between sending and recording: what a batch owes its manifest about paid answers and a shared lease.

Called once by the send stage, when every entry is final:

* the lease (:meth:`~airflow_provider_hwocr.runtime.batch.lease.Lease.wrap_up`): one more look;
  a lost lease is fenced (the images finished once another run may have decided without them
  are named as possibly billed twice) and a held one reads the note of a run that lost it;
* kept answers (:mod:`~airflow_provider_hwocr.runtime.batch.spool`): those of earlier runs this run
  did not use, and that are still of use, keep their parts (the record stage deletes the rest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_hwocr.runtime.batch.decide import Plan
    from airflow_provider_hwocr.runtime.batch.run import BatchRun
    from airflow_provider_hwocr.runtime.batch.send import Sent


def after_send(run: BatchRun, plan: Plan, sent: Sent) -> None:
    """See the module (nothing for a dry run: it holds no lease and stores nothing)."""
    if run.dry:
        return
    journal = sent.journal
    if plan.lease is not None and journal is not None:
        plan.lease.wrap_up(journal.finished_since)
    kept = plan.prior.kept
    if not len(kept):
        return
    recovered = sum(1 for entry in sent.entries if entry.get("recovered"))
    left = kept.keep_unused(plan.prior.parts, plan.items, run.pipeline.digest)
    run.log.info(
        "%d answer(s) paid for by an earlier run and kept, not stored: %d stored now without a call%s",
        len(kept),
        recovered,
        f"; {len(left)} part(s) of answers not used kept for a later run" if left else "",
    )
