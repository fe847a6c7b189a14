"""Differences between the Airflow releases this provider supports, in one place.

Supported: Airflow 3.1.2 and newer (see the README, "Supported Airflow versions").
CI runs the whole suite on 3.1.2 and 3.3.2 (it also passed on 3.1.3, 3.1.5 and
3.1.8); "since" below is the first release known to have it.

=====================================  ========  =============================================
what                                   since     on older releases
=====================================  ========  =============================================
``airflow.sdk.BaseHook``,              3.1       (the floor)
``airflow.sdk.log.mask_secret``
``from airflow.sdk import conf``       3.2       ``airflow.configuration.conf``
``AirflowSensorTimeout``,              3.3.2     ``airflow.exceptions`` (3.1.2, 3.1.8)
``TaskDeferred`` in
``airflow.sdk.exceptions``
task retry policies                    3.3       none: :data:`RETRY_POLICIES_AVAILABLE` is
(``airflow.sdk.ExceptionRetryPolicy``)           ``False``
a thread-safe channel to the task      3.3.2     none (3.1.2, 3.1.8): :data:`SUPERVISOR_LOCK`
supervisor
=====================================  ========  =============================================

Everything here is cheap to import (DAG files import the sensor, which
imports this module): no I/O, only Airflow modules a DAG file loads anyway.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import airflow.sdk as _sdk
import airflow.sdk.exceptions as _sdk_exceptions
from airflow import __version__ as _airflow_version

__all__ = [
    "AIRFLOW_VERSION",
    "RETRY_POLICIES_AVAILABLE",
    "AirflowException",
    "AirflowSensorTimeout",
    "ExceptionRetryPolicy",
    "RetryAction",
    "RetryDecision",
    "RetryRule",
    "TaskDeferred",
    "conf",
    "mask_secret",
]


def _version_tuple(text: str) -> tuple[int, int, int]:
    parts: list[int] = []
    for piece in text.split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits or 0))
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


#: The running Airflow as ``(major, minor, micro)``.
AIRFLOW_VERSION: tuple[int, int, int] = _version_tuple(_airflow_version)

# Names are looked up with getattr so that mypy is happy on every supported release.
AirflowException: Any = _sdk_exceptions.AirflowException  # in the SDK since 3.0


def _exception(name: str) -> Any:
    """A sensor exception: in ``airflow.sdk.exceptions`` on newer releases, else ``airflow.exceptions``."""
    found = getattr(_sdk_exceptions, name, None)
    if found is None:  # Airflow 3.1
        import airflow.exceptions

        found = getattr(airflow.exceptions, name)
    return found


AirflowSensorTimeout: Any = _exception("AirflowSensorTimeout")
TaskDeferred: Any = _exception("TaskDeferred")

conf: Any = getattr(_sdk, "conf", None)  # Airflow 3.2+
if conf is None:  # Airflow 3.1
    from airflow.configuration import conf

# Task retry policies: the classes on 3.3+, None before. Looked up on first use (module
# ``__getattr__`` below): loading them costs a DAG file that never asks for them a few ms.
_RETRY_NAMES = ("ExceptionRetryPolicy", "RetryAction", "RetryDecision", "RetryRule")

if TYPE_CHECKING:
    ExceptionRetryPolicy: Any
    RetryAction: Any
    RetryDecision: Any
    RetryRule: Any
    #: Whether this Airflow has task retry policies (3.3+).
    RETRY_POLICIES_AVAILABLE: bool


def __getattr__(name: str) -> Any:
    if name in _RETRY_NAMES:
        value = getattr(_sdk, name, None)
    elif name == "RETRY_POLICIES_AVAILABLE":
        value = __getattr__("ExceptionRetryPolicy") is not None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


#: Held around every call of ours that may talk to the task supervisor (masking a
#: secret, looking a connection up), which batch tasks make from worker threads. On
#: Airflow 3.1 the channel to the supervisor has no lock of its own (3.3.2 has one):
#: two threads sending at once hung a batch task in a real deployment on 3.1.8.
SUPERVISOR_LOCK = threading.RLock()

#: Shortest value worth handing to Airflow's secrets masker. The masker refuses
#: (and warns about) anything shorter; no real credential is that short.
MIN_SECRET_LENGTH = 5


def mask_secret(value: str | None) -> None:
    """Register one real secret with Airflow's masker; ignore empty and too-short values.

    Only credentials go here (AK, SK, security token, password, proxy
    password): never extras such as ``auth_type`` or ``obs_signature``.
    """
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    from airflow.sdk.log import mask_secret as _mask_secret

    with SUPERVISOR_LOCK:
        _mask_secret(value)
