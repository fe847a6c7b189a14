"""What one emulated account looks like: keys, project, region, IAM users, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_provider_hwocr.catalog import get_api

#: The service refuses request bodies above 10 MB (ModelArts.4104).
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass
class EmulatorConfig:
    """Settings of an :class:`~airflow_provider_hwocr.emulator.OcrEmulator`.

    Mutable on purpose: a test may change ``not_subscribed`` or ``clock_skew``
    on a running emulator. :meth:`OcrEmulator.reset` puts ``not_subscribed``
    back to its value at construction.
    """

    #: Permanent access keys: AK -> SK.
    credentials: dict[str, str] = field(default_factory=dict)
    #: Temporary access keys: AK -> (SK, security token). Requests signed with
    #: these must carry the token in a signed ``X-Security-Token`` header.
    temporary_credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The account's project id for ``region`` (32 lowercase hex in real life).
    project_id: str = "0" * 32
    #: The region this endpoint pretends to be; also the IAM project name.
    region: str = "ap-southeast-1"
    #: IAM users allowed to get a token: (domain_name, user_name) -> password.
    iam_users: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Lifetime of issued IAM tokens, in seconds (the real service: 24 h).
    token_lifetime: float = 86400.0
    #: Largest accepted difference between ``X-Sdk-Date`` and the clock, seconds.
    clock_skew: float = 900.0
    #: Slugs of the APIs this account has not subscribed to (ModelArts.4204).
    not_subscribed: set[str] = field(default_factory=set)
    #: Timeout, in seconds, for downloading images given by ``url``.
    fetch_timeout: float = 10.0
    #: Bodies above this size are refused with ModelArts.4104.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Bodies announced above this size are refused without being read, and
    #: the connection is closed.
    max_read_bytes: int = 64 * 1024 * 1024
    #: How many recent calls :meth:`OcrEmulator.calls` keeps (None = all); each
    #: keeps its body, images included. Counters and stats count every call.
    max_recorded_calls: int | None = 1_000

    def __post_init__(self) -> None:
        if not self.project_id or "/" in self.project_id:
            raise ValueError(f"invalid project_id {self.project_id!r}")
        self.not_subscribed = set(self.not_subscribed)
        for slug in self.not_subscribed:
            get_api(slug)  # raises KeyError for unknown slugs
        for ak, value in self.temporary_credentials.items():
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ValueError(f"temporary_credentials[{ak!r}] must be (sk, security_token)")

    def secret_for(self, ak: str) -> tuple[str, str | None] | None:
        """(SK, required security token or None) for ``ak``, or None if unknown."""
        if ak in self.credentials:
            return self.credentials[ak], None
        if ak in self.temporary_credentials:
            sk, token = self.temporary_credentials[ak]
            return sk, token
        return None
