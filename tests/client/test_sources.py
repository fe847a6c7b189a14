"""What an image argument is (``client/sources.py``): ``ImageSource.of`` for every kind, identities,
log-safe names that never show a URL query or credentials, ``obs://`` parsing and reading files."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.client.sources import (
    KINDS,
    ImageSource,
    ObsLocation,
    describe,
    image_kind,
    is_obs_uri,
    parse_obs_uri,
    read_image_file,
    safe_url,
    source_identity,
)
from tests.helpers.images import png

SIGNED = "https://user:S3cret-pass@bucket.obs.example.com/scans/a%20b.png?AccessKeyId=AK&Signature=S1gnature"


# --- kinds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        ("obs://bucket/key.png", "obs"),
        ("  OBS://bucket/key.png ", "obs"),
        ("http://example.com/a.png", "url"),
        ("HTTPS://example.com/a.png", "url"),
        ("data:image/png;base64,AAAA", "data"),
        ("s3://bucket/key", "uri"),
        ("ftp://host/a.png", "uri"),
        ("/tmp/a.png", "file"),
        ("relative/a.png", "file"),
        (Path("/tmp/a.png"), "file"),
        (b"\x89PNG", "bytes"),
        (bytearray(b"x"), "bytes"),
        (memoryview(b"x"), "bytes"),
        (b"", "bytes"),
        ("", "none"),
        ("   ", "none"),
        (None, "none"),
        (12345, "none"),
        (["a.png"], "none"),
    ],
)
def test_image_kind(image, kind):
    assert image_kind(image) == kind
    assert kind in KINDS
    assert is_obs_uri(image) is (kind == "obs")


# --- obs:// URIs -----------------------------------------------------------------------------------


def test_parse_obs_uri_splits_bucket_and_key():
    location = parse_obs_uri(" obs://my-bucket.v2/dir/sub/a b.png ")
    assert location == ObsLocation("my-bucket.v2", "dir/sub/a b.png")
    assert location.uri == str(location) == "obs://my-bucket.v2/dir/sub/a b.png"
    assert parse_obs_uri("obs://bucket", allow_empty_key=True) == ObsLocation("bucket", "")
    assert parse_obs_uri("obs://bucket/", allow_empty_key=True) == ObsLocation("bucket", "")


@pytest.mark.parametrize(
    ("uri", "text"),
    [
        ("https://bucket/key", "expected an obs://bucket/key URI"),
        ("obs://Bad_Bucket/a.png", "not a valid OBS bucket name"),
        ("obs://ab/a.png", "not a valid OBS bucket name"),
        ("obs://" + "b" * 64 + "/a.png", "not a valid OBS bucket name"),
        ("obs://-bucket/a.png", "not a valid OBS bucket name"),
        ("obs://my..bucket/a.png", "not a valid OBS bucket name"),
        ("obs://bucket", "names a bucket but no object key"),
        ("obs://bucket/", "names a bucket but no object key"),
    ],
)
def test_parse_obs_uri_errors_name_the_parameter(uri, text):
    with pytest.raises(HuaweiOcrValidationError) as info:
        parse_obs_uri(uri, parameter="source_uri")
    assert info.value.parameter == "source_uri"
    assert str(info.value).startswith("source_uri: ") and text in str(info.value)
    with pytest.raises(HuaweiOcrValidationError) as default:
        parse_obs_uri(uri)
    assert default.value.parameter == "image"


# --- log-safe text and identities --------------------------------------------------------------------


def test_safe_url_drops_credentials_and_query():
    assert safe_url(SIGNED) == "https://bucket.obs.example.com/scans/a%20b.png?…"
    assert safe_url(" http://example.com/a.png ") == "http://example.com/a.png"
    assert safe_url("http://u:p@example.com:8080/a.png#frag") == "http://example.com:8080/a.png"


def test_describe_never_shows_bytes_a_query_or_credentials():
    assert describe(b"\x00" * 1234) == "<1,234 bytes>"
    text = describe(SIGNED)
    assert "S1gnature" not in text and "S3cret-pass" not in text and "AccessKeyId" not in text
    assert describe("obs://bucket/a.png") == "obs://bucket/a.png"
    assert describe("s3://key:secret@bucket/a?sig=1") == "s3://bucket/a?…"
    assert describe("/tmp/a.png") == "/tmp/a.png"
    assert describe(None) == "None" and describe(Path("/x.png")) == repr(Path("/x.png"))


def test_source_identity_by_location_or_content():
    assert source_identity("obs", uri="obs://b/k") == "obs://b/k"
    assert source_identity("url", uri=SIGNED) == "https://bucket.obs.example.com/scans/a%20b.png"
    data = png()
    assert source_identity("bytes", data=data) == "sha256:" + hashlib.sha256(data).hexdigest()
    assert source_identity("file", data=data) == source_identity("bytes", data=data)
    with pytest.raises(ValueError, match="content"):
        source_identity("file")


# --- ImageSource.of for every kind ---------------------------------------------------------------------


def test_obs_source():
    source = ImageSource.of("obs://bucket/dir/a.png")
    assert (source.kind, source.location, source.name) == (
        "obs",
        ObsLocation("bucket", "dir/a.png"),
        "dir/a.png",
    )
    assert source.identity == source.display == source.selection_identity == "obs://bucket/dir/a.png"
    assert source.url is None and source.data is None
    listed = ImageSource.obs(ObsLocation("bucket", "k.png"), size=10, etag="")
    assert (listed.size, listed.etag) == (10, None)  # an empty ETag is no ETag
    assert listed.record("signed_url") == {
        "kind": "obs", "uri": "obs://bucket/k.png", "etag": None, "size": 10, "mode": "signed_url",
    }  # fmt: skip
    with pytest.raises(HuaweiOcrValidationError):
        ImageSource.of("obs://bucket")


@pytest.mark.parametrize("key", ["a.png", "scans/2024 06/reçu n°1 ü.png", "x/obs://y/z.png", "deep/a/b/"])
def test_an_obs_source_holds_one_string_and_gives_back_its_location_and_name(key):
    """A batch holds 100,000 sources: each keeps its URI only, and the bucket, key and name
    made from it are the ones it was made from."""
    source = ImageSource.obs(ObsLocation("bucket-1", key), size=3, etag="e")
    assert source._name is None and source._location == ("", "")  # not held: a shared marker
    assert source.location == ObsLocation("bucket-1", key) and source.name == key
    assert source.image is source.identity  # one string
    source.name = "other.png"  # set explicitly: that wins
    assert source.name == "other.png" and source.location == ObsLocation("bucket-1", key)


def test_url_source_keeps_the_signed_url_out_of_everything_shown_or_stored():
    source = ImageSource.of(f"  {SIGNED} ")
    assert source.kind == "url" and source.url == SIGNED  # what the request needs
    assert source.name == "a%20b.png"
    shown = [source.display, source.identity, source.selection_identity, repr(source), str(source.record())]
    for text in shown:
        assert "S1gnature" not in text and "S3cret-pass" not in text, text
    assert source.record() == {"kind": "url", "url": "https://bucket.obs.example.com/scans/a%20b.png"}
    assert ImageSource.of("https://example.com/").name == "image"


def test_bytes_source_is_identified_by_content():
    data = png()
    source = ImageSource.of(bytearray(data))
    assert source.kind == "bytes" and source.data == data and isinstance(source.data, bytes)
    assert source.size == len(data) and source.display == "<bytes>"
    assert source.identity == source.selection_identity == "sha256:" + hashlib.sha256(data).hexdigest()
    assert source.record() == {"kind": "bytes", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert ImageSource.of(data).identity == source.identity  # same bytes, same image
    assert ImageSource.of(b"").identity == "empty"
    assert "\\x89" not in repr(source)


def test_file_source_is_read_later_and_then_identified_by_content(tmp_path):
    path = tmp_path / "scan.png"
    source = ImageSource.of(str(path))
    assert (source.kind, source.path, source.name, source.data) == ("file", str(path), "scan.png", None)
    assert source.display == str(path) and source.selection_identity == "file:" + os.path.abspath(path)
    assert ImageSource.of(path).path == str(path)  # a PathLike too
    data = png()
    assert source.with_data(data) is source
    digest = hashlib.sha256(data).hexdigest()
    assert (source.size, source.identity) == (len(data), "sha256:" + digest)
    assert source.record() == {"kind": "file", "path": str(path), "sha256": digest, "size": len(data)}
    assert ImageSource.of(str(path)).with_data(b"").identity == "empty"


def test_another_scheme_is_a_file_whose_read_names_the_problem():
    source = ImageSource.of("ftp://host/a.png")
    assert source.kind == "file" and source.path == "ftp://host/a.png"
    with pytest.raises(HuaweiOcrValidationError, match="no file at"):
        read_image_file(source.path)


@pytest.mark.parametrize("image", [None, "", 12345])
def test_nothing_usable_is_a_none_source(image):
    source = ImageSource.of(image)
    assert source.kind == "none" and source.record() == {} and source.identity == ""
    assert source.display == repr(image) and source.selection_identity == repr(image)


def test_data_uri_source_shows_no_more_than_80_characters():
    source = ImageSource.of("data:image/png;base64," + "A" * 500)
    assert source.kind == "data" and len(source.display) == 80 and source.record() == {}


# --- reading files ----------------------------------------------------------------------------------


def test_read_image_file_reads_bytes(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG-data")
    assert read_image_file(path) == read_image_file(str(path)) == b"\x89PNG-data"


def test_read_image_file_errors_name_the_image(tmp_path):
    with pytest.raises(HuaweiOcrValidationError, match="no file at") as missing:
        read_image_file(tmp_path / "nope.png")
    with pytest.raises(HuaweiOcrValidationError, match="is a directory") as directory:
        read_image_file(tmp_path)
    assert missing.value.parameter == directory.value.parameter == "image"


def test_read_image_file_that_cannot_be_opened(tmp_path):
    # A socket file exists and is no directory, but open() fails on it (for root too).
    path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(HuaweiOcrValidationError, match="cannot read") as info:
            read_image_file(path)
    assert info.value.parameter == "image" and str(path) in str(info.value)


# --- the request of an API without image: its fields (invoice-verification) ------------------------


def test_a_mapping_is_a_fields_source_and_an_invoice_is_identified_by_its_identity():
    from airflow_provider_hwocr.client.sources import ImageSource, describe, image_kind

    invoice = {
        "number": "12345678",
        "code": "011002100111",
        "issue_date": "2026-11-20",
        "subtotal_amount": "88.00",
    }
    src = ImageSource.of(invoice)
    assert (src.kind, image_kind(invoice), src.fields) == ("fields", "fields", invoice)
    assert src.identity == "invoice:11002100111:12345678:2026-11-20"
    assert src.name == "11002100111-12345678" and src.selection_identity == src.identity
    assert (
        src.identity == ImageSource.of(dict(reversed(list(invoice.items())))).identity
    )  # order does not matter
    # the same invoice asked something else: one identity (one result key), another version
    other = ImageSource.of({**invoice, "subtotal_amount": "88"})
    assert other.identity == src.identity and other.etag != src.etag and src.etag
    assert (
        src.display
        == describe(invoice)
        == "fields(code='011002100111', number='12345678', issue_date='2026-11-20')"
    )
    assert src.record() == {"kind": "fields", "fields": invoice}
    assert ImageSource.of("obs://bucket/k.png").fields == {} and repr(src).startswith("ImageSource(fields, ")
    assert ImageSource.of_fields({"code": ""}).name == "fields"  # nothing to name it by
    assert ImageSource.of_fields({"code": ""}).identity == 'fields:{"code":""}'  # not an invoice: all fields


INVOICE = {"code": "011002100111", "number": "12345678", "issue_date": "2024-05-20", "check_code": "123456"}
#: One invoice written six ways: spaces, full-width digits, lost or added leading zeros, date forms.
SIX_WAYS = [
    INVOICE,
    {**INVOICE, "code": " 0110 0210 0111 ", "number": "0012345678"},
    {**INVOICE, "code": "11002100111", "issue_date": "20240520"},
    {**INVOICE, "number": "１２３４５６７８", "issue_date": "2024/5/20"},
    {**INVOICE, "issue_date": "2024年05月20日", "check_code": " 123456"},
    {**INVOICE, "code": "00011002100111", "issue_date": "2024.05.20"},
]


def test_one_invoice_written_six_ways_is_one_source_asking_one_thing():
    from airflow_provider_hwocr.client.sources import ImageSource, fields_identity, without_identity

    sources = [ImageSource.of(fields) for fields in SIX_WAYS]
    assert {s.identity for s in sources} == {"invoice:11002100111:12345678:2024-05-20"}
    assert {s.etag for s in sources} == {sources[0].etag} and {s.name for s in sources} == {
        "11002100111-12345678"
    }
    assert fields_identity({**INVOICE, "check_code": "654321"})[1] != sources[0].etag
    assert without_identity(INVOICE) == {"check_code": "123456"}
    assert without_identity({"a": 1}) == {"a": 1}  # not an invoice: nothing names it
    fully_digital = ImageSource.of({"code": "", "number": "24112000000016430745", "issue_date": "2024-03-29"})
    assert fully_digital.identity == "invoice::24112000000016430745:2024-03-29" and fully_digital.etag is None
    assert fully_digital.name == "24112000000016430745"


def test_an_invoice_that_cannot_be_read_as_one_is_identified_by_all_its_fields():
    from airflow_provider_hwocr.client.sources import ImageSource

    src = ImageSource.of({**INVOICE, "issue_date": "yesterday"})  # the request check names issue_date
    assert src.identity.startswith("fields:{") and "yesterday" in src.identity and src.etag is None
