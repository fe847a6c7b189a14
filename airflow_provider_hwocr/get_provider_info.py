"""Provider metadata that Airflow reads through the ``apache_airflow_provider`` entry point.

Only lists modules that exist. Must stay cheap: Airflow calls it at start-up.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hwocr import __version__

CONN_TYPE = "huaweicloud_ocr"

_STR = {"type": ["string", "null"]}

#: The connection's extras that have a default: the form shows it (where the form pre-fills
#: it, below) and the hooks' parser applies it to an empty field
#: (:func:`airflow_provider_hwocr.hooks.connection.settings_from_connection`).
CONN_DEFAULTS: dict[str, Any] = {
    "auth_type": "aksk",
    "obs_signature": "obs",
    "obs_path_style": False,
    "timeout": 60,
    "max_retries": 5,
    "retry_possibly_billed": True,
}
#: How to authenticate OCR calls (``auth_type``).
AUTH_TYPES = ("aksk", "token")
#: How OBS requests are signed (``obs_signature``): Huawei OBS, or S3 v2/v4 for S3-compatible servers;
#: the long spellings are the ones the form offers (see :data:`OBS_SIGNATURE_ALIASES`).
OBS_SIGNATURES = ("obs", "v2", "v4")
#: Longer spellings of the S3 signatures. Airflow's masker warns about every extra value
#: under 5 characters in each task log, so connections are best written with these.
OBS_SIGNATURE_ALIASES = {"sigv2": "v2", "sigv4": "v4"}


def _prefilled(kind: str, name: str) -> dict[str, Any]:
    """The schema of a form field that starts with the parser's default."""
    return {"type": [kind, "null"], "default": CONN_DEFAULTS[name]}


#: The extras a connection cannot do without: the form's first two fields, marked "(required)" in
#: their labels. The hooks refuse a connection without them, naming the field; the form's schema
#: still lets them be empty (as every extra), since Airflow checks no extra when one is saved.
REQUIRED_FIELDS = ("region", "project_id")

# Connection form fields, in the form's order (Airflow 3.2+ reads these from provider info; older
# 3.x asks the hook, whose widgets and placeholders are built from this same table).
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {
        "label": "Region (required)",
        # No default: the region decides where the images are sent and billed, so an empty
        # field is refused by the hook instead of silently meaning one region.
        "schema": _STR,
        "description": "Required. Region id, e.g. cn-north-4 (Beijing4): it decides where images are "
        "sent and billed.",
    },
    "project_id": {
        "label": "Project ID (required)",
        "schema": _STR,
        "description": "Required. Project id of that region (console: My Credentials > API Credentials).",
    },
    "auth_type": {
        "label": "Auth type",
        # No default: an empty field means aksk. Airflow hands every extra value to its
        # secrets masker, which warns in each task log about values under 5 characters.
        "schema": {"type": ["string", "null"], "enum": list(AUTH_TYPES)},
        "description": f"Empty or {CONN_DEFAULTS['auth_type']}: sign with Access Key / Secret Key (login/password). "
        "token: IAM user password -> X-Auth-Token.",
    },
    "security_token": {
        "label": "Security token",
        "schema": {**_STR, "format": "password"},
        "description": "Security token of temporary AK/SK credentials.",
    },
    "user_name": {"label": "IAM user name", "schema": _STR, "description": "Token mode only."},
    "domain_name": {"label": "IAM account (domain) name", "schema": _STR, "description": "Token mode only."},
    "password": {
        "label": "IAM password",
        "schema": {**_STR, "format": "password"},
        "description": "Token mode only.",
    },
    "endpoint": {
        "label": "OCR endpoint override",
        "schema": _STR,
        "description": "e.g. http://127.0.0.1:8790 for the local emulator. Default: https://ocr.{region}.myhuaweicloud.com",
    },
    "iam_endpoint": {
        "label": "IAM endpoint override",
        "schema": _STR,
        "description": "Default: https://iam.{region}.myhuaweicloud.com",
    },
    "obs_endpoint": {
        "label": "OBS endpoint override",
        "schema": _STR,
        "description": "Default: https://obs.{region}.myhuaweicloud.com",
    },
    "obs_path_style": {
        "label": "OBS path-style addressing",
        "schema": _prefilled("boolean", "obs_path_style"),
        "description": "Address objects as {obs_endpoint}/{bucket}/{key} instead of {bucket}.{host}/{key} "
        "(S3-compatible test servers).",
    },
    "obs_signature": {
        "label": "OBS signature",
        # No default, as for auth_type: a short value would make the masker warn.
        "schema": {
            "type": ["string", "null"],
            "enum": [CONN_DEFAULTS["obs_signature"], *OBS_SIGNATURE_ALIASES],
        },
        "description": f"How OBS requests are signed: empty or {CONN_DEFAULTS['obs_signature']} (Huawei OBS), or sigv2/sigv4 "
        "(also spelled v2/v4) for S3-compatible servers.",
    },
    "verify": {
        "label": "Verify TLS",
        "schema": _STR,
        "description": "Empty (verify), false, or the path of a CA bundle.",
    },
    "proxy": {"label": "Proxy", "schema": _STR, "description": "e.g. http://proxy:3128"},
    "timeout": {
        "label": "Timeout (s)",
        "schema": _prefilled("number", "timeout"),
        "description": "Read timeout in seconds (connect timeout is 10 s).",
    },
    "max_retries": {
        "label": "Max attempts",
        "schema": _prefilled("integer", "max_retries"),
        "description": "Attempts per call on throttling and transient errors.",
    },
    "retry_possibly_billed": {
        "label": "Retry possibly billed calls",
        "schema": _prefilled("boolean", "retry_possibly_billed"),
        "description": "Retry after a read timeout, a truncated answer or a connection lost after "
        "sending (the call may be billed twice; each such retry is logged and counted).",
    },
    "price_per_call": {
        "label": "Price per call",
        "schema": {"type": ["number", "null"]},
        "description": "Price of one OCR call, used for cost estimates in dry runs and summaries.",
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["host", "schema", "port"],
    "relabeling": {"login": "Access Key (AK)", "password": "Secret Key (SK)"},
    "placeholders": {
        "login": "AK, for auth_type aksk",
        "password": "SK, for auth_type aksk",
        "region": "cn-north-4",  # mainland China, where most users are
        "project_id": "0123456789abcdef0123456789abcdef",
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-hwocr",
        "name": "Huawei Cloud OCR",
        "description": "Huawei Cloud OCR operators, OBS input/output and a local OCR emulator.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Huawei Cloud OCR",
                "external-doc-url": "https://support.huaweicloud.com/intl/en-us/api-ocr/ocr_03_0001.html",
                "tags": ["service"],
            },
            {
                "integration-name": "Huawei Cloud OBS",
                "external-doc-url": "https://support.huaweicloud.com/intl/en-us/api-obs/obs_04_0001.html",
                "tags": ["service"],
            },
        ],
        "hooks": [
            {
                "integration-name": "Huawei Cloud OCR",
                "python-modules": ["airflow_provider_hwocr.hooks.ocr"],
            },
            {
                "integration-name": "Huawei Cloud OBS",
                "python-modules": ["airflow_provider_hwocr.hooks.obs"],
            },
        ],
        "operators": [
            {
                "integration-name": "Huawei Cloud OCR",
                "python-modules": [
                    "airflow_provider_hwocr.operators.ocr",
                    "airflow_provider_hwocr.operators.batch",
                    "airflow_provider_hwocr.operators.review",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Huawei Cloud OBS",
                "python-modules": ["airflow_provider_hwocr.sensors.obs"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Huawei Cloud OBS",
                "python-modules": [
                    "airflow_provider_hwocr.triggers.obs",
                    "airflow_provider_hwocr.triggers.obs_event",
                ],
            }
        ],
        # Airflow 3 integration (links, obs:// filesystem and asset scheme)
        "extra-links": [
            "airflow_provider_hwocr.integration.links.HuaweiObsSourceLink",
            "airflow_provider_hwocr.integration.links.HuaweiObsResultLink",
            "airflow_provider_hwocr.integration.links.HuaweiObsTableLink",
        ],
        "filesystems": ["airflow_provider_hwocr.fs.obs"],
        # No "plugins" here: the review plugin (the API server serves the crops of review forms) is
        # an ``airflow.plugins`` entry point (pyproject.toml), which Airflow always reads; listed here
        # too, Airflow would load it twice with [core] lazy_discover_providers off and report the second
        # as a plugin import error ("already registered").
        "asset-uris": [
            {
                "schemes": ["obs"],
                "handler": "airflow_provider_hwocr.integration.lineage.sanitize_uri",
                "factory": "airflow_provider_hwocr.integration.lineage.create_asset",
                "to_openlineage_converter": "airflow_provider_hwocr.integration.lineage.convert_asset_to_openlineage",
            }
        ],
        "config": {
            "huaweicloud_ocr": {
                "description": "Settings of the Huawei Cloud OCR provider.",
                "options": {
                    "dry_run": {
                        "description": "Force a dry run on every Huawei Cloud OCR operator: images are "
                        "resolved, listed, validated and skips decided, but no OCR call is made and nothing "
                        "is written. The environment variable HWOCR_DRY_RUN=1 does the same.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    }
                },
            }
        },
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_hwocr.hooks.ocr.HuaweiOcrHook",
                "hook-name": "Huawei Cloud OCR",
                "connection-type": CONN_TYPE,
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
