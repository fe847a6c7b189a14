"""Sensor that waits for objects in Huawei Cloud OBS.

Importing this module loads neither the OBS SDK nor the OBS hook, nor the matching rules
(:mod:`~airflow_provider_hwocr.hooks.obs_match`): they are imported when the task runs, so
DAG files parse fast.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_hwocr._compat import AirflowException, AirflowSensorTimeout, conf
from airflow_provider_hwocr.client.errors import HuaweiOcrConfigurationError, HuaweiOcrValidationError
from airflow_provider_hwocr.client.flags import parse_flag
from airflow_provider_hwocr.errors import HuaweiCloudNonRetryableError
from airflow_provider_hwocr.hooks.obs_fields import DEFAULT_METADATA_KEYS, METADATA_KEYS
from airflow_provider_hwocr.integration.lineage import OpenLineageMixin, record

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.hooks.obs_match import ObsKeyQuery

#: XCom key under which the matched objects' details (``metadata_keys`` fields) are pushed.
FILES_XCOM_KEY = "files"


class HuaweiObsKeySensor(OpenLineageMixin, BaseSensorOperator):
    """Wait until objects exist in OBS; return their ``obs://`` URIs.

    :param key: what to wait for. One key, or a list of them (each must match).
        A key may be a full ``obs://bucket/key`` URI, then ``bucket`` may be
        left out. Each key is read as:

        * a **prefix** when ``prefix=True`` or it ends in ``/`` (any object under it);
        * a **regular expression** when ``use_regex=True`` (matched against the whole key);
        * a **wildcard** when it contains ``*``, ``?`` or ``[`` (:mod:`fnmatch`;
          ``*`` also matches ``/``), unless ``wildcard_match=False``;
        * otherwise the exact key.
    :param bucket: the bucket; templated.
    :param huaweicloud_ocr_conn_id: the ``huaweicloud_ocr`` connection (AK/SK needed); templated.
    :param region: overrides the connection's region; templated.
    :param use_regex: read keys as regular expressions.
    :param prefix: read keys as prefixes.
    :param wildcard_match: ``None`` (default) detects wildcards; ``False`` reads ``*?[`` literally.
    :param check_fn: called as ``check_fn(files, **context)`` once every key matched;
        ``files`` is one dict per matched object with the ``metadata_keys`` fields.
        Return ``False`` to keep waiting. A function without ``**kwargs`` gets only the
        context entries it names.
    :param metadata_keys: fields per object in ``files``: any of
        ``key, uri, size, last_modified, etag, content_type, metadata, bucket``.
        ``content_type`` and ``metadata`` cost one HEAD request per matched object.
        Default ``["key", "uri", "size"]``.
    :param min_size: ignore objects smaller than this many bytes (e.g. empty placeholders).
    :param deferrable: wait in the triggerer instead of a worker slot. Default:
        ``[operators] default_deferrable``.
    :param max_matches: most objects handed over as a list (default 1,000: a mapped task
        cannot expand over more than ``[core] max_map_length``, 1,024 by default). More
        matches fail the sensor with :class:`HuaweiObsTooManyMatchesError` rather than
        push a huge XCom or drop images; use ``return_selection=True`` for large drops.
        ``None``: no cap.
    :param return_selection: return the *selection* instead of the list: a small dict
        ``{"format": "hwocr-selection/1", "query": ..., "count": None, "total_bytes": None,
        "first": [the first match of each key]}`` whatever the number of matches.
        :class:`~airflow_provider_hwocr.operators.batch.HuaweiOcrBatchOperator` takes it as
        ``images=sensor.output`` and lists the objects itself, so the sensor stops at the
        first match of each key (one request for a pattern, not one per 1,000 objects) and
        50,000 matches cost a few hundred bytes of XCom. With ``check_fn`` the sensor lists
        every match (``check_fn`` is given them all) and fills in ``count`` and
        ``total_bytes``. ``files`` is not pushed.

    Returns (XCom ``return_value``) the matched objects as a list of ``obs://`` URIs
    (in the order of ``key``; a pattern's matches in key order), so a mapped task can ``.expand(image=sensor.output)``. The
    ``files`` list is pushed under the XCom key ``files``.
    """

    template_fields: Sequence[str] = ("bucket", "key", "huaweicloud_ocr_conn_id", "region")
    ui_color = "#c7e9f1"

    def __init__(
        self,
        *,
        key: str | Sequence[str],
        bucket: str | None = None,
        huaweicloud_ocr_conn_id: str = "huaweicloud_ocr_default",
        region: str | None = None,
        use_regex: bool = False,
        prefix: bool = False,
        wildcard_match: bool | None = None,
        check_fn: Callable[..., bool] | None = None,
        metadata_keys: Sequence[str] | None = None,
        min_size: int = 0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_matches: int | None = 1000,
        return_selection: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_matches = _checked_max_matches(max_matches)
        # On/off arguments are read strictly: "no" is False, "maybe" an error naming it.
        self.return_selection = _flag(return_selection, "return_selection")
        self.key = key
        self.bucket = bucket
        self.huaweicloud_ocr_conn_id = huaweicloud_ocr_conn_id
        self.region = region
        self.use_regex = _flag(use_regex, "use_regex")
        self.prefix = _flag(prefix, "prefix")
        self.wildcard_match = None if wildcard_match is None else _flag(wildcard_match, "wildcard_match")
        self.check_fn = check_fn
        self.metadata_keys = list(DEFAULT_METADATA_KEYS if metadata_keys is None else metadata_keys)
        self.min_size = min_size
        self.deferrable = _flag(deferrable, "deferrable")
        # Cheap checks now; keys may still hold templates, so they are checked at run time.
        if self.use_regex and self.prefix:
            raise ValueError("use_regex and prefix cannot both be set")
        _check_metadata_keys(metadata_keys, self.metadata_keys)
        _check_min_size(min_size)
        if check_fn is not None and not callable(check_fn):
            raise TypeError("check_fn must be callable")

    # --- pieces -----------------------------------------------------------------------

    @cached_property
    def hook(self) -> HuaweiObsHook:
        from airflow_provider_hwocr.hooks.obs import HuaweiObsHook

        return HuaweiObsHook(self.huaweicloud_ocr_conn_id, region=self.region)

    def _query(self) -> ObsKeyQuery:
        from airflow_provider_hwocr.hooks.obs_match import build_query  # the matching rules load at run time

        return build_query(
            self.bucket,
            self.key,
            use_regex=self.use_regex,
            prefix=self.prefix,
            wildcard_match=self.wildcard_match,
            min_size=self.min_size,
            metadata_keys=self.metadata_keys,
        )

    def _check(self, files: list[dict[str, Any]], context: Context) -> bool:
        if self.check_fn is None:
            return True
        return bool(self.check_fn(files, **_kwargs_for(self.check_fn, context)))

    @property
    def _first_only(self) -> bool:
        """A selection needs only to know that each target matches: stop at the first match.

        Unless ``check_fn`` is given: it is promised every matched object.
        """
        return self.return_selection and self.check_fn is None

    def _finish(
        self,
        context: Context,
        uris: list[str],
        files: list[dict[str, Any]],
        count: int,
        *,
        first: bool = False,
    ) -> Any:
        if self.return_selection:
            from airflow_provider_hwocr.hooks.obs_match import selection_value

            return selection_value(self._query(), count, files, first=uris if first else None)
        if self.max_matches is not None and count > self.max_matches:
            raise HuaweiObsTooManyMatchesError(
                f"max_matches: {count:,} objects match {self._query().describe()}, more than "
                f"max_matches={self.max_matches:,}; they are not pushed to XCom. Pass "
                "return_selection=True and give the sensor's output to HuaweiOcrBatchOperator(images=...), "
                "or raise max_matches"
            )
        context["ti"].xcom_push(key=FILES_XCOM_KEY, value=files)
        record(self, inputs=uris)  # lineage names the matched objects
        return list(uris)

    # --- poke mode --------------------------------------------------------------------

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_provider_hwocr.hooks.obs_match import describe_objects, find_matches

        query = self._query()
        first = self._first_only
        result = find_matches(self.hook, query, first_only=first)
        if not result.done:
            self.log.info("Waiting for %s", ", ".join(result.missing))
            return False
        files = describe_objects(result.objects, query.metadata_keys)
        if not self._check(files, context):
            self.log.info("%d object(s) match, but check_fn says not yet", len(files))
            return False
        if first:
            self.log.info(
                "%s matches (first: %s); the batch lists the selection", query.describe(), result.uris
            )
        else:
            self.log.info("Found %d object(s) for %s", len(files), query.describe())
        value = self._finish(context, result.uris, files, len(files), first=first)
        return PokeReturnValue(True, xcom_value=value)

    # --- deferrable mode --------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # Look once right away: no need to hand over to the triggerer if it is all there.
        done = self.poke(context)
        if done:
            return done.xcom_value if isinstance(done, PokeReturnValue) else None
        self._defer(deadline=time.time() + self.timeout)

    def _defer(self, *, deadline: float) -> None:
        from airflow_provider_hwocr.triggers.obs import HuaweiObsKeyTrigger

        remaining = max(0.0, deadline - time.time())
        query = self._query()
        trigger = HuaweiObsKeyTrigger(
            bucket=self.bucket,
            key=[self.key] if isinstance(self.key, str) else list(self.key),
            huaweicloud_ocr_conn_id=self.huaweicloud_ocr_conn_id,
            region=self.region,
            use_regex=self.use_regex,
            prefix=self.prefix,
            wildcard_match=self.wildcard_match,
            min_size=self.min_size,
            metadata_keys=list(query.metadata_keys),
            poke_interval=self.poke_interval,
            deadline=deadline,
            first_poke_delay=self.poke_interval,
            # The event carries at most this many objects (plus the count): never a 50k list.
            max_matches=None if self._first_only else 0 if self.return_selection else self.max_matches,
            first_only=self._first_only,
        )
        # Airflow enforces the deadline too; a little slack lets the trigger report it first.
        self.defer(trigger=trigger, method_name="execute_complete", timeout=timedelta(seconds=remaining + 60))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        """Handle the trigger's event. Depends on the event only, so a repeated event gives the same result."""
        if not isinstance(event, dict):
            raise AirflowException(f"unexpected trigger event: {event!r}")
        status = event.get("status")
        if status == "success":
            return self._matched(context, event)
        message = str(event.get("message") or event)
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        raise _error_from_event(event.get("error_type"), message)

    def _matched(self, context: Context, event: dict[str, Any]) -> Any:
        """The trigger found every key: the result, unless ``check_fn`` says not yet (then wait again)."""
        files = list(event.get("files") or [])
        uris = list(event.get("matches") or [])
        count = int(event.get("count", len(uris)))
        if not self._check(files, context):
            self._wait_again(len(files), event.get("deadline"))
        return self._finish(context, uris, files, count, first=bool(event.get("first_only")))

    def _wait_again(self, matched: int, deadline: Any) -> None:
        """``check_fn`` refused what matched: defer again until the deadline (then time out)."""
        if deadline is not None and time.time() >= float(deadline):
            raise AirflowSensorTimeout("Timed out: the objects exist, but check_fn never accepted them")
        self.log.info("%d object(s) match, but check_fn says not yet; waiting again", matched)
        self._defer(deadline=float(deadline) if deadline is not None else time.time() + self.timeout)


class HuaweiObsTooManyMatchesError(HuaweiCloudNonRetryableError, ValueError):
    """More objects matched than ``max_matches`` allows to hand over as a list."""

    parameter = "max_matches"


def _checked_max_matches(max_matches: Any) -> int | None:
    if max_matches is not None and (
        isinstance(max_matches, bool) or not isinstance(max_matches, int) or max_matches < 1
    ):
        raise ValueError(f"max_matches: must be a whole number >= 1 or None, got {max_matches!r}")
    return max_matches


def _check_metadata_keys(given: Any, keys: list[str]) -> None:
    if isinstance(given, str) or not keys or any(k not in METADATA_KEYS for k in keys):
        raise ValueError(f"metadata_keys must be a list of {', '.join(METADATA_KEYS)}; got {given!r}")


def _check_min_size(min_size: Any) -> None:
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 0:
        raise ValueError(f"min_size must be a non-negative int (bytes), got {min_size!r}")


def _flag(value: Any, parameter: str) -> bool:
    try:
        return parse_flag(value)
    except ValueError as exc:
        raise HuaweiOcrValidationError(f"{parameter}: {exc}", parameter=parameter) from None


def _error_from_event(error_type: Any, message: str) -> Exception:
    """Rebuild the trigger's exception type where it is one of ours, so retry rules still match it."""
    from airflow_provider_hwocr.hooks import obs_errors  # the OBS errors load when an event is handled

    known = {
        cls.__name__: cls
        for cls in (
            obs_errors.HuaweiObsError,
            obs_errors.HuaweiObsNotFoundError,
            obs_errors.HuaweiObsAccessDeniedError,
            obs_errors.HuaweiObsTransientError,
        )
    }
    if error_type in known:
        return known[error_type](message)
    if error_type == HuaweiOcrConfigurationError.__name__:
        return HuaweiOcrConfigurationError(message)
    return AirflowException(f"{error_type or 'Error'} while waiting for OBS objects: {message}")


def _kwargs_for(fn: Callable[..., Any], context: Any) -> dict[str, Any]:
    """The context entries ``fn`` accepts: all of them with ``**kwargs``, else the ones it names."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return dict(context)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(context)
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return {k: v for k, v in dict(context).items() if k in names}
