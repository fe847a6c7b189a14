"""What the provider's OBS triggers share: equality by what they serialize, and their OBS hook.

Imports nothing heavy: the hook is imported when a trigger runs, in the triggerer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class ObsTriggerMixin:
    """Put before Airflow's trigger base class: ``class T(ObsTriggerMixin, BaseTrigger)``."""

    huaweicloud_ocr_conn_id: str
    region: str | None

    def serialize(self) -> tuple[str, dict[str, Any]]:  # each trigger defines it
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ObsTriggerMixin)
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(json.dumps(self.serialize(), sort_keys=True, default=str))

    def _hook(self) -> Any:
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        return HuaweiObsHook(self.huaweicloud_ocr_conn_id, region=self.region)

    async def _ahook(self) -> Any:
        """:meth:`_hook`, built in a worker thread: a first import of the hook's modules would
        otherwise stop the triggerer's event loop, and every other trigger on it."""
        return await asyncio.to_thread(self._hook)
