"""Invoice verification's daily ledger: the checks of each invoice per day, counted where every run sees them.

The tax authority checks one invoice at most five times a day, by China's calendar (the limit and
the zone are the catalog's: :data:`~airflow_provider_hwocr.catalog.invoice_rules.ISSUE_DATES`). A
sixth check is billed for nothing, so every call of invoice-verification takes one check from this
ledger right before it is sent (:meth:`InvoiceLedger.take`, called by
:meth:`~airflow_provider_hwocr.runtime.pipeline.OcrPipeline.recognise`); the sixth is refused before
the call with :class:`~airflow_provider_hwocr.errors.HuaweiOcrDailyLimitError`, which names the
limit and when the count starts again (midnight in China, also given in UTC). An invoice is
counted by its identity however it is written
(:func:`~airflow_provider_hwocr.client.invoice.normalise_invoice`).

Where the checks are counted:

* **A task with** ``output_uri``: next to the output prefix, one small object per check,
  ``{housekeeping}invoice-verification/ledger/{day}/{invoice}/{claim}.json`` (``{invoice}`` a hash of
  the identity, ``{claim}`` the time and random characters), counted by listing the invoice's
  prefix. No object is ever rewritten, so no count can be lost: a check writes its own claim, then
  lists, and goes ahead only if the listing shows at most the limit (else it deletes its claim and
  is refused). Of two concurrent claims the later one's listing sees both (OBS lists what was
  written before), so more than the limit can never go ahead; two runs racing for the last check
  may both be refused, never both let through.
* **Without** ``output_uri``, **in an Airflow task**: Airflow Variables, which every run of every DAG
  sees. With ``Variable.keys`` (Airflow 3.2 and later): the same protocol, one Variable per check,
  ``hwocr_invoice_check.{day}.{invoice}.{claim}``, counted by listing the keys of the invoice's
  prefix; each task deletes the claims of past days, so only today's remain. Without it (3.1):
  one Variable per invoice, ``hwocr_invoice_checks.{invoice}`` = ``{"day", "claims"}``, written then
  read back after :data:`SETTLE_SECONDS` (the batch lease's protocol): a claim another run
  overwrote is written again; a run stalled longer than that between its read and its write could
  lose one count.
* **Outside an Airflow task** (plain Python, a test calling ``execute()``): this process's memory,
  with a warning.

A claim counts whether or not the call then succeeds (the service may have counted it). Retries
the client makes of one call are not claimed again (see the cost-safety guide).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from airflow.sdk import Variable
from airflow.sdk.execution_time import task_runner

from airflow_provider_hwocr._compat import SUPERVISOR_LOCK
from airflow_provider_hwocr.catalog.invoice_rules import InvoiceRules, invoice_rules
from airflow_provider_hwocr.client.invoice import InvoiceIdentity, china_today, normalise_invoice
from airflow_provider_hwocr.errors import HuaweiOcrDailyLimitError

if TYPE_CHECKING:
    from airflow_provider_hwocr.catalog import Api
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook
    from airflow_provider_hwocr.runtime.store import ResultStore

__all__ = [
    "CHECK_PREFIX",
    "RECORD_PREFIX",
    "InvoiceLedger",
    "MemoryClaims",
    "ObsClaims",
    "VariableClaims",
    "VariableRecord",
    "invoice_key",
    "ledger_for",
    "utc_now",
]

#: Airflow Variables of the checks (one per check: ``{CHECK_PREFIX}{day}.{invoice}.{claim}``).
CHECK_PREFIX = "hwocr_invoice_check."
#: Airflow Variables of the checks where ``Variable.keys`` is missing (one per invoice).
RECORD_PREFIX = "hwocr_invoice_checks."
#: Between writing a Variable record and reading it back (``HWOCR_LEDGER_SETTLE`` overrides it).
SETTLE_SECONDS = 1.0
SETTLE_ENV = "HWOCR_LEDGER_SETTLE"
#: Times a claim overwritten by a concurrent run is written again before the check is refused.
_WRITES = 5
#: Claims of one check, each refused only because other runs claimed at the same moment, before
#: the check is refused; the pause before the next is random, up to ``BACKOFF_SECONDS * 2**n``.
ATTEMPTS = 8
BACKOFF_SECONDS = 0.05


def utc_now() -> datetime:
    """Now, an aware UTC datetime (the ledger's clock; tests replace it)."""
    return datetime.now(timezone.utc)


def invoice_key(identity: InvoiceIdentity) -> str:
    """The invoice in keys: 16 hex characters of the SHA-256 of its identity."""
    return hashlib.sha256("|".join(identity).encode("utf-8")).hexdigest()[:16]


def _settle_seconds() -> float:
    raw = os.environ.get(SETTLE_ENV, "").strip()
    try:
        value = float(raw) if raw else SETTLE_SECONDS
    except ValueError:
        value = SETTLE_SECONDS
    return min(max(value, 0.0), 60.0)


class Claims(Protocol):
    """Where the checks of invoices are counted: claims by day and invoice."""

    #: Where that is, for messages (a URI, "Airflow Variables ...").
    where: str

    def count(self, day: str, invoice: str) -> int:
        """Checks of ``invoice`` claimed on ``day``."""
        ...

    def claim(self, day: str, invoice: str, token: str, record: dict[str, Any]) -> int:
        """Write the claim ``token``; returns the checks claimed on ``day`` with it."""
        ...

    def release(self, day: str, invoice: str, token: str) -> None:
        """Take the claim ``token`` back (a refused check)."""
        ...


class InvoiceLedger:
    """Takes one check of an invoice before each call, refusing one past the day's limit."""

    def __init__(
        self,
        claims: Claims,
        rules: InvoiceRules,
        *,
        clock: Callable[[], datetime] | None = None,
        log: Any = None,
    ) -> None:
        self.claims = claims
        self.rules = rules
        self._clock = clock
        self.log = log or logging.getLogger(__name__)

    @property
    def limit(self) -> int:
        return self.rules.dates.checks_per_invoice_per_day

    def now(self) -> datetime:
        return self._clock() if self._clock is not None else utc_now()

    def take(self, fields: Mapping[str, Any]) -> int:
        """One check of the invoice in ``fields`` (a request's body); returns its number today.

        Raises :class:`HuaweiOcrDailyLimitError` when today's checks are used (nothing is sent).
        A claim refused only because other runs claimed at the same moment (the count without it
        is below the limit) is tried again after a random pause, up to :data:`ATTEMPTS` times.
        """
        identity = normalise_invoice(fields)
        now = self.now()
        day = china_today(self.rules.dates, now=now).isoformat()
        invoice = invoice_key(identity)
        record = {"invoice": identity._asdict(), "day": day, "at": now.isoformat()}
        for attempt in range(ATTEMPTS):
            if self.claims.count(day, invoice) >= self.limit:
                raise self.refusal(identity, day)
            token = f"{now.astimezone(timezone.utc):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:12]}"
            taken = self.claims.claim(day, invoice, token, record)
            if taken <= self.limit:
                self.log.info(
                    "Invoice %s: check %d of the %d the tax authority allows on %s (China time)",
                    _describe(identity),
                    taken,
                    self.limit,
                    day,
                )
                return taken
            self.claims.release(day, invoice, token)  # others claimed at the same moment: try again
            time.sleep(random.uniform(0, min(BACKOFF_SECONDS * 2**attempt, 2.0)))
        raise self.refusal(identity, day, contended=True)

    def resets_at(self, day: str) -> datetime:
        """When the count of ``day`` starts again: the next midnight in China, in UTC."""
        dates = self.rules.dates
        china = timezone(timedelta(hours=dates.utc_offset_hours))
        midnight = datetime.fromisoformat(day).replace(tzinfo=china) + timedelta(days=1)
        return midnight.astimezone(timezone.utc)

    def refusal(
        self, identity: InvoiceIdentity, day: str, *, contended: bool = False
    ) -> HuaweiOcrDailyLimitError:
        dates = self.rules.dates
        used = (
            f"could not take one of its {self.limit} checks on {day}: other runs were checking it at the "
            f"same moment, {ATTEMPTS} times"
            if contended
            else f"has been checked {self.limit} times on {day}"
        )
        resets = self.resets_at(day)
        local = resets.astimezone(timezone(timedelta(hours=dates.utc_offset_hours)))
        return HuaweiOcrDailyLimitError(
            f"{self.rules.api}: invoice {_describe(identity)} {used} "
            f"(China time, {dates.timezone}): the tax authority allows {self.limit} checks of one "
            f"invoice a day (the daily limit). Nothing was sent. The count starts again at midnight "
            f"China time: {local:%Y-%m-%d %H:%M} {dates.timezone} ({resets:%Y-%m-%d %H:%M} UTC). "
            f"Checks are counted in {self.claims.where}.",
            limit=self.limit,
            day=day,
            resets_at=resets,
            where=self.claims.where,
        )


def _describe(identity: InvoiceIdentity) -> str:
    code = f"code {identity.code}, " if identity.code else "fully digital, "
    return f"({code}number {identity.number}, issued {identity.issue_date})"


# --- next to the output prefix -----------------------------------------------------------------------


class ObsClaims:
    """One object per check under ``obs://bucket/{prefix}{day}/{invoice}/``, counted by listing."""

    def __init__(self, obs: Callable[[], HuaweiObsHook], bucket: str, prefix: str) -> None:
        self._factory = obs
        self._hook: HuaweiObsHook | None = None
        self.bucket = bucket
        self.prefix = prefix
        self.where = f"obs://{bucket}/{prefix}"

    def _obs(self) -> HuaweiObsHook:
        if self._hook is None:
            self._hook = self._factory()  # asked once, when the first check is counted
        return self._hook

    def _folder(self, day: str, invoice: str) -> str:
        return f"{self.prefix}{day}/{invoice}/"

    def count(self, day: str, invoice: str) -> int:
        return len(self._obs().list_keys(self.bucket, self._folder(day, invoice)))

    def claim(self, day: str, invoice: str, token: str, record: dict[str, Any]) -> int:
        self._obs().put_json(self.bucket, f"{self._folder(day, invoice)}{token}.json", record)
        return self.count(day, invoice)

    def release(self, day: str, invoice: str, token: str) -> None:
        self._obs().delete(self.bucket, f"{self._folder(day, invoice)}{token}.json")


# --- Airflow Variables -------------------------------------------------------------------------------


def _supervised(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A call that talks to the task supervisor, under the provider's lock (see ``_compat``)."""
    with SUPERVISOR_LOCK:
        return call(*args, **kwargs)


class VariableClaims:
    """One Airflow Variable per check, ``{CHECK_PREFIX}{day}.{invoice}.{claim}``, counted by its keys."""

    where = f"Airflow Variables {CHECK_PREFIX}<day>.<invoice>.<claim>"

    def __init__(self, variable: Any) -> None:
        self._variable = variable
        self._swept = False

    def _prefix(self, day: str, invoice: str) -> str:
        return f"{CHECK_PREFIX}{day}.{invoice}."

    def count(self, day: str, invoice: str) -> int:
        prefix = self._prefix(day, invoice)
        return len(_supervised(lambda: list(self._variable.keys(prefix=prefix))))

    def claim(self, day: str, invoice: str, token: str, record: dict[str, Any]) -> int:
        key = f"{self._prefix(day, invoice)}{token}"
        _supervised(self._variable.set, key, json.dumps(record, separators=(",", ":")))
        taken = self.count(day, invoice)
        if not self._swept:
            self._swept = True
            self._forget_before(day)
        return taken

    def release(self, day: str, invoice: str, token: str) -> None:
        _supervised(self._variable.delete, f"{self._prefix(day, invoice)}{token}")

    def _forget_before(self, day: str) -> None:
        """Delete the claims of past days (they count no more), once per task."""
        keys = _supervised(lambda: list(self._variable.keys(prefix=CHECK_PREFIX)))
        for key in keys:
            if key[len(CHECK_PREFIX) :].split(".", 1)[0] < day:
                _supervised(self._variable.delete, key)


class VariableRecord:
    """Where ``Variable.keys`` is missing: one Variable per invoice, ``{"day", "claims"}``, read back."""

    where = f"Airflow Variables {RECORD_PREFIX}<invoice>"

    def __init__(self, variable: Any, *, settle: float | None = None) -> None:
        self._variable = variable
        self.settle = _settle_seconds() if settle is None else settle

    def _read(self, day: str, invoice: str) -> list[str]:
        raw = _supervised(self._variable.get, f"{RECORD_PREFIX}{invoice}", default=None)
        try:
            record = json.loads(raw) if raw else {}
        except ValueError:
            record = {}
        claims = record.get("claims") if isinstance(record, dict) and record.get("day") == day else None
        return [str(c) for c in claims] if isinstance(claims, list) else []

    def _write(self, day: str, invoice: str, claims: list[str]) -> None:
        value = json.dumps({"day": day, "claims": claims}, separators=(",", ":"))
        _supervised(self._variable.set, f"{RECORD_PREFIX}{invoice}", value)

    def count(self, day: str, invoice: str) -> int:
        return len(self._read(day, invoice))

    def claim(self, day: str, invoice: str, token: str, record: dict[str, Any]) -> int:
        for _ in range(_WRITES):
            claims = self._read(day, invoice)
            self._write(day, invoice, [*claims, token])
            time.sleep(self.settle)
            claims = self._read(day, invoice)
            if token in claims:
                return len(claims)
        return 1 << 30  # never written: refused (the caller takes nothing back)

    def release(self, day: str, invoice: str, token: str) -> None:
        claims = self._read(day, invoice)
        if token in claims:
            self._write(day, invoice, [c for c in claims if c != token])


# --- outside Airflow -------------------------------------------------------------------------------


class MemoryClaims:
    """This process's memory: what a plain Python process, or a test calling ``execute()``, counts."""

    where = "this process's memory (outside an Airflow task, without output_uri)"
    _claims: ClassVar[dict[tuple[str, str], list[str]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def count(self, day: str, invoice: str) -> int:
        with self._lock:
            return len(self._claims.get((day, invoice), []))

    def claim(self, day: str, invoice: str, token: str, record: dict[str, Any]) -> int:
        with self._lock:
            claims = self._claims.setdefault((day, invoice), [])
            claims.append(token)
            return len(claims)

    def release(self, day: str, invoice: str, token: str) -> None:
        with self._lock:
            claims = self._claims.get((day, invoice), [])
            if token in claims:
                claims.remove(token)

    @classmethod
    def forget(cls) -> None:
        """Forget every count (tests)."""
        with cls._lock:
            cls._claims.clear()


def in_airflow_task() -> bool:
    """Whether this runs in an Airflow task (one that can reach the API server: Variables)."""
    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


def _airflow_claims() -> Claims:
    if callable(getattr(Variable, "keys", None)) and callable(getattr(Variable, "delete", None)):
        return VariableClaims(Variable)
    return VariableRecord(Variable)


def ledger_for(
    api: Api, store: ResultStore | None, obs: Callable[[], HuaweiObsHook], log: Any
) -> InvoiceLedger | None:
    """The ledger of a task of ``api`` (``None`` for an API without a daily limit): next to its
    output prefix, else in Airflow Variables, else (outside a task) in this process."""
    rules = invoice_rules(api.slug)
    if rules is None:
        return None
    claims: Claims
    if store is not None:
        claims = ObsClaims(obs, store.bucket, f"{store.housekeeping}{store.api}/ledger/")
    elif in_airflow_task():
        claims = _airflow_claims()
    else:
        log.warning(
            "%s: the checks of each invoice (%d a day) are counted in this process only: outside an "
            "Airflow task, without output_uri, no other run sees them",
            api.slug,
            rules.dates.checks_per_invoice_per_day,
        )
        claims = MemoryClaims()
    return InvoiceLedger(claims, rules, log=log)
