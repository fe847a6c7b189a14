"""Which OBS objects a key sensor is waiting for, and whether they are there.

One place for the matching rules, used by both
:class:`~airflow_provider_hwocr.sensors.obs.HuaweiObsKeySensor` (poke mode) and
:class:`~airflow_provider_hwocr.triggers.obs.HuaweiObsKeyTrigger` (deferred).

A query is a list of *targets* (bucket + pattern). Each target must match at
least one object; the answer is every matching object. A pattern is read as:

``exact``     the key itself (one HEAD request)
``prefix``    any object under it (``prefix=True``, or a pattern ending in ``/``)
``wildcard``  :func:`fnmatch.fnmatchcase` (``*``, ``?``, ``[seq]``; ``*`` also matches ``/``)
``regex``     :func:`re.fullmatch` against the whole key (``use_regex=True``)

Pattern modes list the bucket under the longest literal prefix of the
pattern, so ``incoming/*.png`` only lists ``incoming/``. In those modes keys
ending in ``/`` (the "folders" the OBS console creates) are never matches.
Objects smaller than ``min_size`` bytes are ignored in every mode.

Nothing here imports the OBS SDK.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.sources import is_obs_uri, parse_obs_uri
from airflow_provider_hwocr.hooks.obs_fields import DEFAULT_METADATA_KEYS, METADATA_KEYS

if TYPE_CHECKING:
    from airflow_provider_hwocr.hooks.obs import HuaweiObsHook, ObsObjectInfo

#: ``format`` of a sensor's value with ``return_selection=True`` (what the batch accepts).
SELECTION_FORMAT = "hwocr-selection/1"
#: Fields only a HEAD request returns; asking for them costs one HEAD per listed match.
_HEAD_ONLY = frozenset({"content_type", "metadata"})
_WILDCARD_CHARS = frozenset("*?[")
#: How a target's pattern is read.
MODES = ("exact", "prefix", "wildcard", "regex")
_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")


@dataclass(frozen=True)
class ObsKeyQuery:
    """What to look for. Build it with :func:`build_query`; it round-trips through :meth:`to_dict`."""

    targets: tuple[tuple[str, str, str], ...]  # (bucket, pattern, mode)
    min_size: int = 0
    metadata_keys: tuple[str, ...] = DEFAULT_METADATA_KEYS

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": [list(t) for t in self.targets],
            "min_size": self.min_size,
            "metadata_keys": list(self.metadata_keys),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ObsKeyQuery:
        """The query of :meth:`to_dict`; :class:`ValueError` (or ``TypeError``) saying what is wrong otherwise."""
        if not isinstance(data, dict):
            raise TypeError(f"the query must be a dict, got {type(data).__name__}")
        targets = data.get("targets")
        if not isinstance(targets, (list, tuple)) or not targets:
            raise ValueError(f"the query's targets must be a non-empty list, got {targets!r}")
        checked = tuple(_stored_target(target) for target in targets)
        min_size = data.get("min_size", 0)
        if not _is_byte_count(min_size):
            raise ValueError(f"the query's min_size must be a whole number of bytes >= 0, got {min_size!r}")
        fields = data.get("metadata_keys", DEFAULT_METADATA_KEYS)
        if (
            isinstance(fields, str)
            or not isinstance(fields, (list, tuple))
            or set(fields) - set(METADATA_KEYS)
        ):
            raise ValueError(f"the query's metadata_keys must be a list of {', '.join(METADATA_KEYS)}")
        return cls(targets=checked, min_size=min_size, metadata_keys=tuple(fields) or DEFAULT_METADATA_KEYS)

    def describe(self) -> str:
        return ", ".join(f"{mode} obs://{bucket}/{pattern}" for bucket, pattern, mode in self.targets)


def build_query(
    bucket: str | None,
    key: str | Sequence[str],
    *,
    use_regex: bool = False,
    prefix: bool = False,
    wildcard_match: bool | None = None,
    min_size: int = 0,
    metadata_keys: Iterable[str] | None = None,
) -> ObsKeyQuery:
    """Check the sensor's arguments and turn them into a :class:`ObsKeyQuery`.

    ``key`` entries may be full ``obs://bucket/key`` URIs (then ``bucket`` may
    be ``None``). ``wildcard_match=None`` treats a key with ``*``, ``?`` or ``[``
    as a wildcard; ``False`` reads such characters literally.
    """
    if use_regex and prefix:
        raise ValueError("use_regex and prefix cannot both be set")
    if use_regex and wildcard_match:
        raise ValueError("use_regex and wildcard_match cannot both be set")
    keys = [key] if isinstance(key, str) else list(key or [])
    if not keys:
        raise ValueError("key: give at least one key, pattern or prefix")
    targets = []
    for entry in keys:
        entry_bucket, pattern = _locate(entry, bucket)
        targets.append((entry_bucket, pattern, _mode(pattern, use_regex, prefix, wildcard_match)))
    if not _is_byte_count(min_size):
        raise ValueError(f"min_size must be a non-negative int (bytes), got {min_size!r}")
    return ObsKeyQuery(
        targets=tuple(targets), min_size=min_size, metadata_keys=_metadata_fields(metadata_keys)
    )


def _is_byte_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_regex(pattern: str, what: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{what}: {exc}") from None


def _stored_target(target: Any) -> tuple[str, str, str]:
    """One ``[bucket, pattern, mode]`` of a stored query, checked."""
    if (
        not isinstance(target, (list, tuple))
        or len(target) != 3
        or not all(isinstance(part, str) for part in target)
        or not target[0]
    ):
        raise ValueError(f"each target must be [bucket, pattern, mode] (strings), got {target!r}")
    bucket, pattern, mode = target
    if mode not in MODES:
        raise ValueError(f"target {target!r}: mode must be one of {', '.join(MODES)}")
    if mode == "regex":
        _check_regex(pattern, f"target {target!r}: not a valid regular expression")
    return bucket, pattern, mode


def _locate(entry: Any, bucket: str | None) -> tuple[str, str]:
    """The bucket and the pattern of one ``key`` entry (an ``obs://`` URI, or a key in ``bucket``)."""
    if not isinstance(entry, str) or not entry:
        raise ValueError(f"key: every entry must be a non-empty string, got {entry!r}")
    if not is_obs_uri(entry):
        if not bucket:
            raise ValueError(f"key: {entry!r} is not an obs:// URI, so bucket is required")
        return bucket, entry
    loc = parse_obs_uri(entry, allow_empty_key=True, parameter="key")
    if bucket and loc.bucket != bucket:
        raise ValueError(f"key: {entry!r} names bucket {loc.bucket!r} but bucket={bucket!r}")
    return loc.bucket, loc.key


def _mode(pattern: str, use_regex: bool, prefix: bool, wildcard_match: bool | None) -> str:
    """How ``pattern`` is read (see :data:`MODES`)."""
    if use_regex:
        _check_regex(pattern, f"key: {pattern!r} is not a valid regular expression")
        return "regex"
    if prefix or pattern.endswith("/") or not pattern:  # "obs://bucket/": the whole bucket
        return "prefix"
    if wildcard_match or (wildcard_match is None and _WILDCARD_CHARS & set(pattern)):
        return "wildcard"
    return "exact"


def _metadata_fields(metadata_keys: Iterable[str] | None) -> tuple[str, ...]:
    fields = tuple(DEFAULT_METADATA_KEYS if metadata_keys is None else metadata_keys)
    unknown = [f for f in fields if f not in METADATA_KEYS]
    if isinstance(metadata_keys, str) or unknown or not fields:
        raise ValueError(
            f"metadata_keys must be a non-empty list of {', '.join(METADATA_KEYS)}; got {metadata_keys!r}"
        )
    return fields


def literal_prefix(pattern: str, mode: str) -> str:
    """The part of a pattern every matching key starts with (what to list)."""
    if mode in ("exact", "prefix"):
        return pattern
    if mode == "wildcard":
        cut = next((i for i, ch in enumerate(pattern) if ch in _WILDCARD_CHARS), len(pattern))
        return pattern[:cut]
    # regex: give up on alternation; stop at the first special character and drop
    # the character before a quantifier (it may occur zero times).
    if "|" in pattern:
        return ""
    body = pattern.removeprefix("^")
    out: list[str] = []
    for ch in body:
        if ch in _REGEX_SPECIAL:
            if ch in "*?{" and out:
                out.pop()
            break
        out.append(ch)
    return "".join(out)


def _matches(key: str, pattern: str, mode: str) -> bool:
    if mode == "exact":
        return key == pattern
    if key.endswith("/"):
        return False  # a "folder" marker, not a file
    if mode == "prefix":
        return key.startswith(pattern)
    if mode == "wildcard":
        return fnmatch.fnmatchcase(key, pattern)
    return re.fullmatch(pattern, key) is not None


@dataclass(frozen=True)
class MatchResult:
    """The outcome of one check: ``done`` when every target matched at least one object."""

    done: bool
    objects: tuple[ObsObjectInfo, ...]
    missing: tuple[str, ...]  # the targets that matched nothing, as "mode obs://bucket/pattern"

    @property
    def uris(self) -> list[str]:
        return [o.uri for o in self.objects]


#: Keys per listing request when looking for a first match (one OBS page).
_PAGE = 1000


def _hits(
    hook: HuaweiObsHook, bucket: str, pattern: str, mode: str, min_size: int, first_only: bool
) -> list[ObsObjectInfo]:
    """The objects of one target: all of them, or the first one in key order (``first_only``)."""
    if mode == "exact":
        info = hook.head(bucket, pattern)
        return [info] if info is not None and info.size >= min_size else []

    def wanted(info: ObsObjectInfo) -> bool:
        return info.size >= min_size and _matches(info.key, pattern, mode)

    prefix = literal_prefix(pattern, mode)
    if not first_only:
        return [info for info in hook.list_objects(bucket, prefix) if wanted(info)]
    return _first_hit(hook, bucket, prefix, wanted)


def _first_hit(
    hook: HuaweiObsHook, bucket: str, prefix: str, wanted: Callable[[ObsObjectInfo], bool]
) -> list[ObsObjectInfo]:
    """The first wanted object under ``prefix``, listed page by page (none: ``[]``)."""
    marker = None
    while True:
        page = hook.list_objects(bucket, prefix, max_items=_PAGE, marker=marker)
        found = next((info for info in page if wanted(info)), None)
        if found is not None:
            return [found]
        if len(page) < _PAGE:
            return []
        marker = page[-1].key


def find_matches(hook: HuaweiObsHook, query: ObsKeyQuery, *, first_only: bool = False) -> MatchResult:
    """Look the query's targets up in OBS (blocking; the trigger runs this in a thread).

    ``first_only``: stop each target at its first match (a sensor that only needs to know
    that something is there); ``objects`` then holds one object per target.
    """
    found: dict[str, ObsObjectInfo] = {}
    missing: list[str] = []
    for bucket, pattern, mode in query.targets:
        hits = _hits(hook, bucket, pattern, mode, query.min_size, first_only)
        if not hits:
            missing.append(f"{mode} obs://{bucket}/{pattern}")
        for info in hits:
            found.setdefault(info.uri, info)
    if missing:
        return MatchResult(False, (), tuple(missing))
    objects = list(found.values())
    if _HEAD_ONLY & set(query.metadata_keys):
        objects = _with_head_fields(hook, objects)
    if not objects:  # everything vanished while we looked
        return MatchResult(False, (), (query.describe(),))
    return MatchResult(True, tuple(objects), ())


def _with_head_fields(hook: HuaweiObsHook, infos: list[ObsObjectInfo]) -> list[ObsObjectInfo]:
    """The objects with the fields only a HEAD returns, read where the listing left them out;
    an object deleted since it was listed is left out."""
    out = []
    for info in infos:
        if info.content_type is None and not info.metadata:
            fresh = hook.head(info.bucket, info.key)
            if fresh is None:
                continue
            info = fresh
        out.append(info)
    return out


def describe_objects(objects: Iterable[ObsObjectInfo], metadata_keys: Sequence[str]) -> list[dict[str, Any]]:
    """One JSON-safe dict per object with just the requested fields."""
    out = []
    for info in objects:
        full = info.to_dict()
        out.append({name: full[name] for name in metadata_keys})
    return out


# --- selections: a query handed from a sensor to a batch ---------------------------------------


def selection_value(
    query: ObsKeyQuery, count: int | None, files: list[dict[str, Any]], *, first: list[str] | None = None
) -> dict[str, Any]:
    """A sensor's small XCom value in ``return_selection`` mode: what to list, not what was listed.

    ``first``: the sensor stopped at the first match of each target (these URIs), so ``count``
    and ``total_bytes`` are ``None``: the batch lists the selection itself.
    """
    value: dict[str, Any] = {
        "format": SELECTION_FORMAT,
        "query": query.to_dict(),
        "describe": query.describe(),
        "count": count if first is None else None,
        "total_bytes": sum(int(f.get("size") or 0) for f in files) if files and first is None else None,
    }
    if first is not None:
        value["first"] = list(first)
    return value


def selection_query(selection: Any) -> ObsKeyQuery:
    """The query of a selection, asking for listing fields only (no HEAD per object).

    Anything that is not a well-formed selection is a :class:`HuaweiOcrValidationError`
    naming ``images``, raised before any listing or call.
    """
    if (
        not isinstance(selection, dict)
        or selection.get("format") != SELECTION_FORMAT
        or not isinstance(selection.get("query"), dict)
    ):
        shown = sorted(map(str, selection)) if isinstance(selection, dict) else type(selection).__name__
        raise HuaweiOcrValidationError(
            f"images: a dict must be a sensor selection ({SELECTION_FORMAT}, with a query), got {shown}",
            parameter="images",
        )
    try:
        query = ObsKeyQuery.from_dict(selection["query"])
    except (TypeError, ValueError) as exc:
        raise HuaweiOcrValidationError(
            f"images: the selection's query is not valid: {exc}; nothing was listed or called",
            parameter="images",
        ) from None
    return ObsKeyQuery(query.targets, query.min_size, DEFAULT_METADATA_KEYS)
