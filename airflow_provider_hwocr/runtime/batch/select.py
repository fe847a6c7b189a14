"""Stage 1, select: the images of this shard, de-duplicated, resolved without a request per image.

The images come from ``images=`` (URIs, URLs, paths, bytes), from every object under
``source_uri`` matching ``pattern`` (one paged listing, read page by page: no object is kept
but the items made from it), or from a sensor's selection (its query, listed here).
Duplicates are dropped (one call per image), and with ``shard_count > 1`` only this shard's
images are kept (a stable hash of the image). Explicit ``obs://`` keys are listed by folder
where a folder holds many of them, else HEADed.

A PDF or OFD document (a key, URL or file name ending in ``.pdf`` or ``.ofd``; bytes and files by
their first bytes) is selected as one item with the stem of its pages' keys; nothing is read of
it here. An image is one page: ``pages`` choosing another page of it rejects it.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from typing import Any

from airflow_provider_hwocr.client.errors import HuaweiOcrError, HuaweiOcrValidationError
from airflow_provider_hwocr.client.sources import ImageSource, ObsLocation
from airflow_provider_hwocr.errors import HuaweiOcrBatchEmptyError
from airflow_provider_hwocr.hooks.obs_match import find_matches
from airflow_provider_hwocr.runtime.batch.entries import Item, failed
from airflow_provider_hwocr.runtime.batch.run import BatchRun
from airflow_provider_hwocr.runtime.contract import ObsPrefix
from airflow_provider_hwocr.runtime.documents import check_image_pages

#: Folders with fewer listed images than this are HEADed image by image instead of listed.
LIST_FOLDER_FROM = 20


@dataclass
class Selection:
    items: list[Item]
    #: Images selected before sharding (duplicates not counted).
    total: int
    duplicates: int


def shard_of(identity: str, shard_count: int) -> int:
    """The shard (0 .. shard_count-1) an image belongs to: a stable hash of its identity.

    The same image lands in the same shard on every run, on every machine and
    Python version (SHA-256, not ``hash()``).
    """
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shard_count


def select(run: BatchRun) -> Selection:
    """The images of this shard; fails when the selection is empty (unless ``allow_empty``)."""
    if run.settings.source is not None:
        items, total = _from_listing(run, run.settings.source)
        _check_not_empty(run, total)
        return Selection(items, total, 0)  # one listing names each object once
    listed, given = _candidates(run)
    chosen, total, duplicates = _dedupe_and_shard(run, listed, given)
    _check_not_empty(run, total)
    found, listed_folders = _list_folders(run, [thing for _, thing in chosen])
    items = [
        _resolve(run, Item(pos, identity), thing, found, listed_folders)
        for pos, (identity, thing) in enumerate(chosen)
    ]
    return Selection(items, total, duplicates)


def _check_not_empty(run: BatchRun, total: int) -> None:
    if total == 0 and not run.settings.allow_empty:
        raise HuaweiOcrBatchEmptyError(
            f"the selection is empty: no image matches {run.settings.describe_selection()}; nothing was "
            "called. Check the path and pattern, or pass allow_empty=True if an empty day is expected."
        )


def _from_listing(run: BatchRun, source: ObsPrefix) -> tuple[list[Item], int]:
    """This shard's items of every object under ``source_uri`` matching ``pattern``, page by page."""
    pattern, start = run.settings.pattern, len(source.key)
    items: list[Item] = []
    total = 0
    for page in run.obs.iter_listing(source.bucket, source.key):
        for key, size, etag, _modified in page:
            if key.endswith("/") or (pattern is not None and not fnmatch.fnmatchcase(key[start:], pattern)):
                continue  # folder markers, and what the pattern leaves out
            total += 1
            where = ObsLocation(source.bucket, key)
            if _in_shard(run, where.uri):
                items.append(_listed_item(run, len(items), where, size, etag))
    return items, total


def _in_shard(run: BatchRun, identity: str) -> bool:
    return run.shard is None or shard_of(identity, run.settings.shard_count) == run.shard


def _listed_item(run: BatchRun, pos: int, where: ObsLocation, size: int, etag: str | None) -> Item:
    """The item of a listed object: its source and result key, or its rejection (no request)."""
    item = Item(pos, where.key)
    try:
        item.src = run.pipeline.listed_source(where, size=size, etag=etag)
        item.source = item.src.display
        classify(run, item)
    except (HuaweiOcrError, ValueError) as exc:
        item.source = where.uri
        item.action = "reject"
        item.entry = failed(item.source, exc, called=False)
    return item


def _candidates(run: BatchRun) -> tuple[list[Any], list[ImageSource]]:
    """(objects from a sensor's selection, sources given in ``images=``)."""
    settings = run.settings
    if settings.selection is not None:
        return list(find_matches(run.obs, settings.selection.query).objects), []
    return [], [_given(image) for image in settings.images or ()]


def _given(image: Any) -> ImageSource:
    try:
        return ImageSource.of(image)
    except HuaweiOcrValidationError:  # a malformed obs:// URI: rejected, with the reason, when resolved
        return ImageSource("obs", image=image)


def _dedupe_and_shard(
    run: BatchRun, listed: list[Any], given: list[ImageSource]
) -> tuple[list[tuple[str, Any]], int, int]:
    """(identity, image) of the first of each image, in this shard; known without reading anything."""
    seen: set[str] = set()
    chosen: list[tuple[str, Any]] = []
    duplicates = 0
    identities = [(info.uri, info) for info in listed] + [(src.selection_identity, src) for src in given]
    for identity, thing in identities:
        if identity in seen:
            duplicates += 1
            continue
        seen.add(identity)
        if _in_shard(run, identity):
            chosen.append((identity, thing))
    return chosen, len(seen), duplicates


def _folder(loc: ObsLocation) -> tuple[str, str]:
    return loc.bucket, loc.key.rpartition("/")[0] + "/"


def _list_folders(run: BatchRun, chosen: list[Any]) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """Explicit ``obs://`` keys: one listing per folder that holds many of them."""
    folders: dict[tuple[str, str], int] = {}
    for thing in chosen:
        if isinstance(thing, ImageSource) and thing.location is not None:
            where = _folder(thing.location)
            folders[where] = folders.get(where, 0) + 1
    listed_folders = {f for f, n in folders.items() if n >= LIST_FOLDER_FROM}
    found: dict[str, Any] = {}
    for bucket, folder in listed_folders:
        for info in run.obs.list_objects(bucket, "" if folder == "/" else folder, delimiter="/"):
            found[info.uri] = info
    return found, listed_folders


def _missing(uri: str) -> HuaweiOcrValidationError:
    return HuaweiOcrValidationError(f"image: {uri} does not exist", parameter="image")


def _resolve(
    run: BatchRun, item: Item, thing: Any, found: dict[str, Any], listed_folders: set[tuple[str, str]]
) -> Item:
    """The item for one chosen image: its source (size, ETag) and result key, or its rejection."""
    pipeline = run.pipeline
    try:
        if not isinstance(thing, ImageSource):  # listed
            item.src = pipeline.listed_source(
                ObsLocation(thing.bucket, thing.key), size=thing.size, etag=thing.etag
            )
        elif thing.location is not None:
            loc = thing.location
            info = found.get(loc.uri)
            if info is None and _folder(loc) in listed_folders:
                raise _missing(loc.uri)  # its folder was listed: it does not exist
            if info is None:
                info = run.obs.head(loc.bucket, loc.key)
                if info is None:
                    raise _missing(loc.uri)
            item.src = pipeline.listed_source(loc, size=info.size, etag=info.etag)
        else:
            item.src = pipeline.load(thing)
        item.source = item.src.display
        classify(run, item)
    except (HuaweiOcrError, ValueError) as exc:
        item.action = "reject"
        item.entry = failed(item.source, exc, called=False)
    return item


def classify(run: BatchRun, item: Item) -> None:
    """An image's result key, or a document's kind and the stem of its pages' keys (no request).

    An image whose ``pages`` choose anything but page 1 raises (naming ``pages``).
    """
    pipeline = run.pipeline
    src = item.src
    assert src is not None
    kind = pipeline.document_kind(src)
    if kind is None:
        check_image_pages(run.settings.ocr.pages, item.source)
        item.key = pipeline.result_key(src)
        return
    item.kind = kind
    item.stem = pipeline.document_stem(src)
