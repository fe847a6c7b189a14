"""The fast object server (``testing/fast_object_server.py``): the protocol the provider, the OBS SDK
and the emulator's URL downloads need, its delay knobs and its counters."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import time
import urllib.request

import pytest

from airflow_provider_hwocr.testing.fast_object_server import FastObjectServer, fast_object_server
from tests.helpers.obs_env import obs_client


def _raw(server: FastObjectServer, method: str, path: str, body: bytes = b"", headers=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, body=body, headers={"User-Agent": "test/1", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    if own:
        conn.close()
    return response, data


def test_the_obs_sdk_round_trips_objects_metadata_listings_and_deletes(fast_server):
    client = obs_client(fast_server.url, long_conn_mode=True)
    assert client.createBucket("bkt").status == 200
    assert client.createBucket("bkt").status == 409
    assert client.headBucket("bkt").status == 200 and client.headBucket("nope").status == 404
    for i in range(1203):
        assert client.putContent("bkt", f"day/a{i:05d}.png", content=b"x" * (i % 7 + 1)).status == 200
    resp = client.putContent("bkt", "meta.json", content=b"{}", metadata={"hwocr-params": "p1"})
    assert resp.status == 200 and resp.body.etag.strip('"') == hashlib.md5(b"{}").hexdigest()
    got = client.getObject("bkt", "meta.json", loadStreamInMemory=True)
    assert got.body.buffer == b"{}" and dict(got.header)["hwocr-params"] == "p1"
    head = client.getObjectMetadata("bkt", "day/a00003.png")
    assert (head.status, int(head.body.contentLength)) == (200, 4)
    assert client.getObjectMetadata("bkt", "missing").status == 404
    missing = client.getObject("bkt", "missing", loadStreamInMemory=True)
    assert (missing.status, missing.errorCode) == (404, "NoSuchKey")
    assert client.getObject("nope", "k", loadStreamInMemory=True).errorCode == "NoSuchBucket"

    keys, marker, pages = [], None, 0
    while True:
        page = client.listObjects("bkt", prefix="day/", marker=marker, max_keys=500)
        pages += 1
        keys += [c.key for c in page.body.contents]
        if not page.body.is_truncated:
            break
        marker = page.body.next_marker
    assert keys == [f"day/a{i:05d}.png" for i in range(1203)] and pages == 3  # no empty last page
    top = client.listObjects("bkt", delimiter="/")
    assert [p.prefix for p in top.body.commonPrefixs] == ["day/"] and [c.key for c in top.body.contents] == [
        "meta.json"
    ]

    from obs import DeleteObjectsRequest, Object

    request = DeleteObjectsRequest(quiet=True, objects=[Object(key=k) for k in keys[:1000]])
    assert client.deleteObjects("bkt", request).status == 200
    assert client.deleteObject("bkt", "meta.json").status == 204
    assert len(fast_server.buckets["bkt"].objects) == 203
    client.close()


def test_a_corrupted_upload_is_refused_and_chunked_bodies_are_read(fast_server):
    fast_server.create_bucket("b")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    response, data = _raw(fast_server, "PUT", "/b/k", b"data", {"Content-MD5": wrong})
    assert response.status == 400 and b"BadDigest" in data
    conn = http.client.HTTPConnection("127.0.0.1", fast_server.port, timeout=10)
    conn.putrequest("PUT", "/b/chunked")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n")
    assert conn.getresponse().status == 200
    conn.close()
    assert fast_server.buckets["b"].objects["chunked"].data == b"abcdefg"


def test_listings_escape_keys_and_encode_them_on_request(fast_server):
    fast_server.put_object("b", "a&b <c>.png", b"1")
    fast_server.put_object("b", "reçu 1.png", b"2")
    _, xml = _raw(fast_server, "GET", "/b?prefix=")
    assert b"<Key>a&amp;b &lt;c&gt;.png</Key>" in xml
    _, xml = _raw(fast_server, "GET", "/b?encoding-type=url")
    assert b"<Key>re%C3%A7u%201.png</Key>" in xml and b"<EncodingType>url</EncodingType>" in xml


def test_keep_alive_connections_and_requests_are_counted_by_agent(fast_server):
    fast_server.create_bucket("b")
    conn = http.client.HTTPConnection("127.0.0.1", fast_server.port, timeout=10)
    for i in range(5):
        _raw(fast_server, "PUT", f"/b/{i}", b"x", conn=conn)
    _raw(fast_server, "GET", "/b/1", headers={"User-Agent": "hwocr-emulator"})
    _raw(fast_server, "GET", "/b/1", headers={"Connection": "close"})
    stats = fast_server.stats()
    assert stats["connections"] == {"test": 2, "hwocr-emulator": 1}
    assert stats["requests"] == {"test": {"PUT": 5, "GET": 1}, "hwocr-emulator": {"GET": 1}}
    first, last = stats["puts"]["test"]
    assert first <= last <= time.time() and stats["bytes"]["in"] > 0 and stats["bytes"]["out"] > 0
    conn.close()
    fast_server.reset_stats()
    assert fast_server.stats()["requests"] == {}


def test_delays_model_a_round_trip_and_a_handshake_but_spare_the_emulator():
    with fast_object_server(delay=0.05, connect_delay=0.1) as server:
        server.create_bucket("b")
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        times = []
        for i in range(3):
            started = time.monotonic()
            _raw(server, "PUT", f"/b/{i}", b"x", conn=conn)
            times.append(time.monotonic() - started)
        assert times[0] >= 0.15 and all(0.05 <= t < 0.14 for t in times[1:]), times
        started = time.monotonic()
        _raw(server, "GET", "/b/0", headers={"User-Agent": "hwocr-emulator/1"})
        assert time.monotonic() - started < 0.05
        conn.close()


def test_idle_connections_are_closed_after_the_idle_timeout():
    with fast_object_server(idle_timeout=0.1) as server:
        server.create_bucket("b")
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        _raw(server, "PUT", "/b/k", b"x", conn=conn)
        assert server.stats()["open_connections"] == 1
        time.sleep(0.3)
        assert server.stats()["open_connections"] == 0
        conn.close()


def test_control_paths_configure_fill_and_report_without_being_counted(fast_server):
    base = fast_server.url
    urllib.request.urlopen(urllib.request.Request(f"{base}/_fast/bucket?bucket=b", method="POST"))
    request = urllib.request.Request(
        f"{base}/_fast/fill?bucket=b&prefix=day/&n=3", data=b"png", method="POST"
    )
    urllib.request.urlopen(request)
    urllib.request.urlopen(urllib.request.Request(f"{base}/_fast/config?delay=0.01", method="POST"))
    assert fast_server.delay == 0.01
    assert sorted(fast_server.buckets["b"].objects) == [
        "day/img000000.png",
        "day/img000001.png",
        "day/img000002.png",
    ]
    stats = json.loads(urllib.request.urlopen(f"{base}/_fast/stats").read())
    assert stats["requests"] == {} and stats["connections"] == {}
    urllib.request.urlopen(urllib.request.Request(f"{base}/_fast/reset", method="POST"))


def test_the_emulator_downloads_signed_urls_from_it(fast_conn, fast_bucket, emulator):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator
    from tests.helpers.images import png

    fast_conn.put_object(fast_bucket, "scan.png", png((120, 60), "fast"))
    out = HuaweiOcrGeneralTextOperator(task_id="t", image=f"obs://{fast_bucket}/scan.png").execute({})
    assert out and emulator.count("general-text") == 1
    assert fast_conn.stats()["requests"]["hwocr-emulator"] == {"GET": 1}


def test_it_listens_on_loopback_only():
    with pytest.raises(ValueError, match="127.0.0.1"):
        FastObjectServer(host="0.0.0.0")
