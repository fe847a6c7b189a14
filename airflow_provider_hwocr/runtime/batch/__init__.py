"""Many images in one task, in four stages, each a module of its own:

1. :mod:`~airflow_provider_hwocr.runtime.batch.select`: the images of this shard, de-duplicated;
2. :mod:`~airflow_provider_hwocr.runtime.batch.decide`: which are done already, from one listing
   of the output prefix and one GET of the latest manifest, before any source is touched;
3. :mod:`~airflow_provider_hwocr.runtime.batch.send`: OCR the rest at the rate limit, checkpointing
   progress to OBS (a dry run only checks);
4. :mod:`~airflow_provider_hwocr.runtime.batch.record`: the history and latest manifests (with the
   index), or the dry run's report; then whether the task fails.

:class:`~airflow_provider_hwocr.runtime.batch.run.BatchRun` is what the stages share;
:mod:`~airflow_provider_hwocr.runtime.batch.state` reads and writes manifests and the index;
:mod:`~airflow_provider_hwocr.runtime.batch.entries` is what one image ends as.
``HuaweiOcrBatchOperator.execute()`` reads as these stages.
"""

from __future__ import annotations

from airflow_provider_hwocr.runtime.batch.decide import Plan, decide
from airflow_provider_hwocr.runtime.batch.record import Report, dry_report, raise_for_failures, record
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.batch.select import Selection, select
from airflow_provider_hwocr.runtime.batch.send import Sent, send

__all__ = [
    "BatchRun",
    "Plan",
    "Report",
    "Selection",
    "Sent",
    "decide",
    "dry_report",
    "raise_for_failures",
    "record",
    "select",
    "send",
]
