"""Many images in one task, in stages, each a module of its own:

1. :mod:`~airflow_provider_hwocr.runtime.batch.select`: the images of this shard, de-duplicated;
2. :mod:`~airflow_provider_hwocr.runtime.batch.decide`: which are done already, from one GET of
   the index and one listing of the output prefix, before any source is touched; then, with
   something to send, the lease (:mod:`~airflow_provider_hwocr.runtime.batch.lease`: one run at a
   time per output prefix, API and shard) and the same decision again under it;
3. :mod:`~airflow_provider_hwocr.runtime.batch.send`: OCR the rest at the rate limit, checkpointing
   progress to OBS (a dry run only checks), handing each answer to
   :mod:`~airflow_provider_hwocr.runtime.batch.write`, whose writer threads store the results
   (an OCR slot never waits on a PUT); with ``review_below``,
   :mod:`~airflow_provider_hwocr.runtime.batch.review` holds the uncertain pages and settles, from
   one listing of the review ledger, what became of those held before;
4. :mod:`~airflow_provider_hwocr.runtime.batch.record`: the index (if it changed), the run's record
   in the history and as the latest manifest, or the dry run's report; then, with ``table_uri``,
   :mod:`~airflow_provider_hwocr.runtime.batch.tables` writes the day's tables; then whether the
   task fails.

:class:`~airflow_provider_hwocr.runtime.batch.run.BatchRun` is what the stages share;
:mod:`~airflow_provider_hwocr.runtime.batch.state` reads and writes manifests, history and the index;
:mod:`~airflow_provider_hwocr.runtime.batch.entries` is what one image ends as.
``HuaweiOcrBatchOperator.execute()`` reads as these stages.
"""

from __future__ import annotations

from airflow_provider_hwocr.runtime.batch.decide import Plan, decide, guard
from airflow_provider_hwocr.runtime.batch.record import Report, dry_report, raise_for_failures, record
from airflow_provider_hwocr.runtime.batch.review import settle as settle_reviews
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.select import Selection, select
from airflow_provider_hwocr.runtime.batch.send import Sent, send
from airflow_provider_hwocr.runtime.batch.tables import write_tables

__all__ = [
    "BatchRun",
    "Plan",
    "Report",
    "Selection",
    "Sent",
    "decide",
    "dry_report",
    "guard",
    "raise_for_failures",
    "record",
    "select",
    "send",
    "settle_reviews",
    "write_tables",
]
