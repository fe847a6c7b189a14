"""What a review task does before it waits: the held page's fields, their crops in OBS, the form.

:func:`prepare_review` reads the stored result the held descriptor names (one GET), finds its
held fields again with the review rule (:func:`~airflow_provider_hwocr.runtime.review.gate.held_fields`,
kept to the fields the batch held), reads the source once (an ``obs://`` object or a local file),
cuts one crop per field that has a location, and stores the crops and the page's image under
``<housekeeping>/{api}/review-crops/<digest>.png`` (content-addressed: a re-run writes nothing
new). The form links them through ``url_of`` (the review plugin's relative URLs): no signed URL,
key or token is ever in the form, the log or XCom. The task keeps the bucket and keys of the
images (:class:`Prepared`) in its own XCom, where the plugin reads them.

A result that carries a review already is not asked about again (:attr:`Prepared.reviewed`).
No OCR hook: a review never costs a call.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hwocr.client.documents import document_kind
from airflow_provider_hwocr.client.sources import parse_obs_uri
from airflow_provider_hwocr.runtime.review import crops
from airflow_provider_hwocr.runtime.review.apply import store_of
from airflow_provider_hwocr.runtime.review.decision import review_of
from airflow_provider_hwocr.runtime.review.form import ReviewForm, review_form
from airflow_provider_hwocr.runtime.review.gate import HeldField, held_fields
from airflow_provider_hwocr.runtime.review.rule import ReviewRule

__all__ = [
    "CROPS_DIR",
    "DESCRIPTOR_KEYS",
    "Prepared",
    "check_descriptor",
    "crop_key",
    "held_now",
    "held_of",
    "prepare_review",
    "review_rule",
]

#: Under ``<housekeeping>/{api}/``: the crops and page images shown in review forms (the review
#: plugin serves keys under it only: ``integration/review.py``).
CROPS_DIR = "review-crops/"
#: What a held descriptor must name.
DESCRIPTOR_KEYS = ("source", "result_uri", "api", "fields")
#: A source larger than this is not read for crops (the form says there is no image).
_MAX_SOURCE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Prepared:
    """A held page, ready to be asked about."""

    held: list[HeldField]
    form: ReviewForm | None
    #: Where the images are: the bucket, a crop's key per held field (``None``: no crop), the page's.
    bucket: str = ""
    crops: list[str | None] = field(default_factory=list)
    page: str | None = None
    #: The page's review record when it was decided already (then ``form`` is ``None``).
    reviewed: dict[str, Any] | None = None


def check_descriptor(held: Any) -> dict[str, Any]:
    """The held descriptor a review task is mapped over, checked (``ValueError`` naming ``held``)."""
    if isinstance(held, str):
        try:
            held = json.loads(held)
        except ValueError:
            raise ValueError(f"held: a held page's descriptor (a dict), not {held[:80]!r}") from None
    if not isinstance(held, Mapping):
        raise TypeError(f"held: a held page's descriptor (a dict from the batch's 'held'), not {held!r}")
    missing = [k for k in DESCRIPTOR_KEYS if not held.get(k)]
    if missing:
        raise ValueError(f"held: the descriptor lacks {', '.join(missing)}: {dict(held)!r}")
    if not str(held["result_uri"]).startswith("obs://"):
        raise ValueError(f"held: result_uri is an obs:// URI, not {held['result_uri']!r}")
    return dict(held)


def review_rule(descriptor: Mapping[str, Any], review_below: Any, review_fields: Any) -> ReviewRule:
    """The rule the page was held by: the operator's ``review_below`` / ``review_fields`` (by default
    the descriptor's fields), else the thresholds the descriptor carries."""
    slug = str(descriptor["api"])
    fields = review_fields if review_fields is not None else list(descriptor["fields"])
    below = review_below if review_below is not None else descriptor.get("thresholds")
    if below is None:
        raise ValueError(
            "review_below: give the batch's review_below (the held descriptor names the fields "
            f"{list(descriptor['fields'])} but not their thresholds)"
        )
    if isinstance(below, Mapping):  # thresholds for fields beyond these: keep only the gating ones
        below = {k: v for k, v in below.items() if k == "*" or k in fields}
    rule = ReviewRule.parse(below, fields, slug=slug)
    if rule is None:  # pragma: no cover - ``below`` is not None
        raise ValueError("review_below: no rule")
    return rule


def held_of(
    descriptor: Mapping[str, Any], envelope: Mapping[str, Any], rule: ReviewRule, language: str | None
) -> list[HeldField]:
    """The held fields of the stored page, in the rule's order, kept to those the batch held."""
    found = held_fields(str(descriptor["api"]), envelope.get("result"), rule, language=language)
    named = set(descriptor.get("fields") or ())
    kept = [h for h in found if h.field in named]
    return kept or found


def held_now(
    obs: Any, descriptor: Mapping[str, Any], rule: ReviewRule, language: str | None
) -> tuple[dict[str, Any] | None, list[HeldField]]:
    """(the page's review record if it was decided already, else ``None``; its held fields), from one
    GET of the stored result."""
    loc = parse_obs_uri(str(descriptor["result_uri"]), parameter="result_uri")
    envelope = obs.get_json(loc.bucket, loc.key)
    reviewed = review_of(envelope)
    if reviewed is not None:
        return reviewed, []
    held = held_of(descriptor, envelope, rule, language)
    if not held:
        raise ValueError(
            f"held: {descriptor['result_uri']} has no field under review_below any more "
            f"(the descriptor names {list(descriptor['fields'])}); was it held with other thresholds?"
        )
    return None, held


def crop_key(housekeeping: str, api: str, png: bytes) -> str:
    """Where a crop (or page image) is kept: named by its digest, so the same crop is one object."""
    return f"{housekeeping}{api}/{CROPS_DIR}{hashlib.sha256(png).hexdigest()[:32]}.png"


def _source_bytes(obs: Any, source: str, log: Any) -> bytes | None:
    """The source's bytes (``obs://`` or a local file), or ``None`` when it cannot be read here."""
    try:
        if source.startswith("obs://"):
            loc = parse_obs_uri(source, parameter="source")
            return bytes(obs.get_bytes(loc.bucket, loc.key))
        if "://" not in source and os.path.isfile(source) and os.path.getsize(source) <= _MAX_SOURCE_BYTES:
            with open(source, "rb") as f:
                return f.read()
    except Exception as exc:  # noqa: BLE001 - a form without crops is still a form
        log.warning("Review of %s: the source could not be read for crops (%s)", source, type(exc).__name__)
        return None
    log.info("Review of %s: no crops (only obs:// and local sources are read for them)", source)
    return None


def _store_image(obs: Any, bucket: str, key: str, png: bytes) -> None:
    if not obs.exists(bucket, key):
        obs.put_bytes(bucket, key, png, content_type="image/png")


def _images(
    obs: Any,
    descriptor: Mapping[str, Any],
    held: Sequence[HeldField],
    housekeeping: str,
    bucket: str,
    log: Any,
) -> tuple[list[str | None], str | None]:
    """(crop key per held field or ``None``, the page image's key or ``None``), stored in OBS."""
    source = str(descriptor["source"])
    data = _source_bytes(obs, source, log)
    if data is None:
        return [None] * len(held), None
    api = str(descriptor["api"])
    page = descriptor.get("page")
    try:
        image = crops.page_image(
            data, document_kind(data) or "image", page if isinstance(page, int) else None, slug=api
        )
    except Exception as exc:  # noqa: BLE001 - an unreadable page: the form says there is no image
        log.warning("Review of %s: the page could not be rendered for crops (%s)", source, type(exc).__name__)
        image = None
    if image is None:
        return [None] * len(held), None
    page_key = crop_key(housekeeping, api, image)
    _store_image(obs, bucket, page_key, image)
    keys: list[str | None] = []
    for h in held:
        if h.quad is None:
            keys.append(None)
            continue
        try:
            png = crops.crop_png(image, h.quad)
        except ValueError:  # a location outside the page: the form says there is no crop
            keys.append(None)
            continue
        key = crop_key(housekeeping, api, png)
        _store_image(obs, bucket, key, png)
        keys.append(key)
    return keys, page_key


def prepare_review(
    obs: Any,
    descriptor: Mapping[str, Any],
    rule: ReviewRule,
    *,
    url_of: Callable[[str], str],
    on_timeout: str,
    language: str | None,
    log: Any,
) -> Prepared:
    """Read the held page, store its crops and build its form (see the module).

    ``url_of("crop/0.png")`` / ``url_of("page.png")``: the review plugin's URL of an image of this
    task instance.
    """
    reviewed, held = held_now(obs, descriptor, rule, language)
    if reviewed is not None:
        return Prepared([], None, reviewed=reviewed)
    api = str(descriptor["api"])
    store = store_of(str(descriptor["result_uri"]), api)
    crop_keys, page_key = _images(obs, descriptor, held, store.housekeeping, store.bucket, log)
    form = review_form(
        api,
        descriptor,
        held,
        lambda i: url_of(f"crop/{i}.png") if crop_keys[i] else None,
        url_of("page.png") if page_key else None,
        on_timeout=on_timeout,
        language=language,
    )
    return Prepared(held, form, bucket=store.bucket, crops=crop_keys, page=page_key)
