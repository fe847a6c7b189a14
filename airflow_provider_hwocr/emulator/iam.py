"""A small IAM: password tokens (``POST /v3/auth/tokens``) and the project list.

Only what an OCR client needs: project-scoped password tokens, returned in
``X-Subject-Token``, and ``GET /v3/projects`` to look a project id up by the
region's name. IAM answers its own errors in the Keystone shape
``{"error": {"code", "message", "title"}}``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any, ClassVar

from airflow_provider_hwocr.emulator.config import EmulatorConfig
from airflow_provider_hwocr.emulator.errors import TOKEN_EXPIRED, TOKEN_UNKNOWN, auth_error


class IamError(Exception):
    """An IAM failure, answered as ``{"error": {"code", "message", "title"}}``."""

    TITLES: ClassVar[dict[int, str]] = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
    }

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "error": {"code": self.status, "message": self.message, "title": self.TITLES.get(self.status, "")}
        }


def _iso(ts: float) -> str:
    """IAM's timestamp style: ``2024-01-01T00:00:00.000000Z``."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fake_id(*parts: str) -> str:
    """A stable 32-hex id derived from names, so answers do not change between calls."""
    return hashlib.md5("/".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()


class TokenStore:
    """Tokens this emulator issued, with their expiry (wall-clock seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self.issue_count = 0

    def issue(self, lifetime: float) -> tuple[str, float]:
        # Real tokens are long base64 blobs starting with "MII"; look alike.
        token = "MII" + secrets.token_urlsafe(240)
        expires_at = time.time() + lifetime
        with self._lock:
            self._expiry[token] = expires_at
            self.issue_count += 1
        return token, expires_at

    def check(self, token: str) -> None:
        """Raise 401 APIG.0301 unless ``token`` was issued here and is still valid."""
        expires_at = self._expiry.get(token.strip())
        if expires_at is None:
            raise auth_error(TOKEN_UNKNOWN, "this token was not issued by the emulator")
        if expires_at <= time.time():
            raise auth_error(TOKEN_EXPIRED)

    def reset_count(self) -> None:
        """Zero :attr:`issue_count`; the tokens themselves stay valid."""
        with self._lock:
            self.issue_count = 0

    def expire_all(self) -> None:
        past = time.time() - 1
        with self._lock:
            for token in self._expiry:
                self._expiry[token] = past


def _dig(body: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(body, dict) or key not in body:
            raise IamError(400, f"The request body is missing auth.{'.'.join(keys)}.")
        body = body[key]
    return body


def _check_method(auth: Any) -> None:
    methods = _dig(auth, "identity", "methods")
    if not isinstance(methods, list) or "password" not in methods:
        raise IamError(400, "Only the password identity method is supported.")


def _password_user(auth: Any) -> tuple[str, str, str]:
    """(domain, user name, password) of a password identity; 400 unless each is a non-empty string."""
    user = _dig(auth, "identity", "password", "user")
    name, password = user.get("name"), user.get("password")
    domain = (user.get("domain") or {}).get("name") if isinstance(user.get("domain"), dict) else None
    if not (isinstance(name, str) and isinstance(password, str) and isinstance(domain, str)) or not (
        name and password and domain
    ):
        raise IamError(400, "auth.identity.password.user needs name, password and domain.name.")
    return domain, name, password


def _check_password(config: EmulatorConfig, domain: str, name: str, password: str) -> None:
    known = config.iam_users.get((domain, name))
    if known is None or not secrets.compare_digest(known.encode(), password.encode()):
        raise IamError(401, "The username or password is wrong.")


def _check_scope(config: EmulatorConfig, auth: dict[str, Any]) -> None:
    """The token must be scoped to this account's project, by name (the region) or id."""
    scope = auth.get("scope")
    project = scope.get("project") if isinstance(scope, dict) else None
    if not isinstance(project, dict):
        raise IamError(400, "auth.scope.project is required: OCR needs a project-scoped token.")
    if "name" not in project and "id" not in project:
        raise IamError(400, "auth.scope.project needs name or id.")
    if (
        project.get("name", config.region) != config.region
        or project.get("id", config.project_id) != config.project_id
    ):
        raise IamError(400, f"No such project in this region; use the project named {config.region!r}.")


def _token_body(config: EmulatorConfig, domain: str, name: str, expires_at: float) -> dict[str, Any]:
    domain_id = _fake_id("domain", domain)
    return {
        "token": {
            "expires_at": _iso(expires_at),
            "issued_at": _iso(expires_at - config.token_lifetime),
            "methods": ["password"],
            "project": {
                "id": config.project_id,
                "name": config.region,
                "domain": {"id": domain_id, "name": domain},
            },
            "user": {
                "id": _fake_id("user", domain, name),
                "name": name,
                "domain": {"id": domain_id, "name": domain},
                "password_expires_at": "",
            },
            "roles": [{"id": _fake_id("role", "te_admin"), "name": "te_admin"}],
            "catalog": [],
        }
    }


def issue_token(config: EmulatorConfig, tokens: TokenStore, body: Any) -> tuple[str, dict[str, Any]]:
    """Handle a password-token request; return (token, response body) or raise :class:`IamError`."""
    auth = _dig(body, "auth")
    _check_method(auth)
    domain, name, password = _password_user(auth)
    _check_password(config, domain, name, password)
    _check_scope(config, auth)
    token, expires_at = tokens.issue(config.token_lifetime)
    return token, _token_body(config, domain, name, expires_at)


def list_projects(config: EmulatorConfig, base_url: str, name: str | None) -> dict[str, Any]:
    """``GET /v3/projects``: the one project of this emulated account, filtered by name."""
    project = {
        "id": config.project_id,
        "name": config.region,
        "domain_id": _fake_id("domain", "emulated"),
        "parent_id": _fake_id("domain", "emulated"),
        "description": "",
        "enabled": True,
        "is_domain": False,
        "links": {"self": f"{base_url}/v3/projects/{config.project_id}"},
    }
    projects = [project] if name in (None, config.region) else []
    return {
        "projects": projects,
        "links": {"self": f"{base_url}/v3/projects", "previous": None, "next": None},
    }
