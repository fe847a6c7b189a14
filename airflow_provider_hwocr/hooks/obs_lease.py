"""Reading the lease a batch keeps next to its index (``P_hwocr/{api}/lease{.shard}.json``).

One reader for the two places that need it: the batch's runtime
(:mod:`airflow_provider_hwocr.runtime.batch.lease`, which also writes it) and the trigger that
waits for another run's lease (:mod:`airflow_provider_hwocr.triggers.obs_lease`).
"""

from __future__ import annotations

import json
import time
from typing import Any

from airflow_provider_hwocr.hooks.obs_errors import HuaweiObsNotFoundError


def read_lease(obs: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The lease object, or ``None`` when there is none (or it is damaged: it names no live owner); one GET."""
    try:
        doc = json.loads(obs.get_bytes(bucket, key))
    except (HuaweiObsNotFoundError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def is_live(doc: dict[str, Any] | None) -> bool:
    """Whether a lease names an expiry still to come (by this machine's clock)."""
    expires = doc.get("expires") if doc is not None else None
    return isinstance(expires, (int, float)) and expires > time.time()
