"""The fast object server (``testing/fast_object_server.py``): the protocol the provider, the OBS SDK
and the emulator's URL downloads need, its delay knobs and its counters."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import time
import urllib.error
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


def test_the_obs_sdk_copies_an_object_inside_the_server_with_nothing_sent(fast_server):
    client = obs_client(fast_server.url, long_conn_mode=True)
    client.createBucket("src")
    client.createBucket("dst")
    body = b'{"run": "a", "text": "\xe4\xbd\xa0\xe5\xa5\xbd"}'
    put = client.putContent("src", "runs/a.json", content=body, metadata={"hwocr-api": "general-text"},
                            headers=None)  # fmt: skip
    assert put.status == 200
    written = fast_server.stats()["bytes"]["written"]
    copied = client.copyObject("src", "runs/a.json", "dst", "manifest.json")
    assert copied.status == 200 and copied.body.etag.strip('"') == hashlib.md5(body).hexdigest()
    assert fast_server.stats()["bytes"]["written"] == written  # no body: the server copied it
    got = client.getObject("dst", "manifest.json", loadStreamInMemory=True)
    assert got.body.buffer == body and dict(got.header)["hwocr-api"] == "general-text"
    assert client.copyObject("src", "runs/none.json", "dst", "x.json").errorCode == "NoSuchKey"
    assert client.copyObject("nope", "runs/a.json", "dst", "x.json").errorCode == "NoSuchBucket"
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


# --- faults and conditional writes ---------------------------------------------------------------------


def test_503s_for_the_next_requests_delay_a_write_by_the_sdks_retries(fast_server):
    """Three 503s on a key: the OBS SDK retries after 0.2, 0.4 and 0.8 s, and the write lands ~1.4 s late."""
    client = obs_client(fast_server.url, long_conn_mode=True, max_retry_count=3)  # the SDK's default
    client.createBucket("bkt")
    fast_server.add_fault(r"^bkt/_hwocr/lease\.json$", status=503, count=3)
    began = time.monotonic()
    assert client.putContent("bkt", "_hwocr/lease.json", content=b"{}").status == 200
    assert 1.3 <= time.monotonic() - began < 3
    assert client.putContent("bkt", "other.json", content=b"{}").status == 200  # not matched
    (fault,) = fast_server.faults()["faults"]
    assert fault["hits"] == 3 and fault["left"] == 0
    assert (
        client.getObject("bkt", "_hwocr/lease.json", loadStreamInMemory=True).status == 200
    )  # a GET: not armed
    client.close()


def test_a_fault_can_be_latency_only_and_other_methods_or_500s(fast_server):
    response, _ = _raw(fast_server, "PUT", "/bkt")
    fast_server.add_fault(r"slow", methods="GET", status=0, count=1, delay=0.3)
    fast_server.add_fault(r"broken", methods=("GET", "HEAD"), status=500, count=None)
    _raw(fast_server, "PUT", "/bkt/slow", b"x")
    began = time.monotonic()
    response, data = _raw(fast_server, "GET", "/bkt/slow")
    assert response.status == 200 and data == b"x" and time.monotonic() - began >= 0.3
    for _ in range(3):
        response, data = _raw(fast_server, "GET", "/bkt/broken")
        assert response.status == 500 and b"<Code>InternalError</Code>" in data


def test_refused_writes_are_refused_on_every_try_and_write_nothing(fast_server):
    _raw(fast_server, "PUT", "/bkt")
    fast_server.refuse_writes(r"^bkt/ocr/000[0-4]")
    for i in range(10):
        response, data = _raw(fast_server, "PUT", f"/bkt/ocr/{i:04d}.json", b"{}")
        assert response.status == (403 if i < 5 else 200), (i, data)
    assert sorted(fast_server.buckets["bkt"].objects) == [f"ocr/{i:04d}.json" for i in range(5, 10)]
    assert fast_server.faults()["faults"][0]["hits"] == 5


def test_a_write_outage_refuses_writes_for_its_time_and_serves_reads(fast_server):
    _raw(fast_server, "PUT", "/bkt")
    _raw(fast_server, "PUT", "/bkt/a", b"1")
    fast_server.write_outage(0.4)
    assert _raw(fast_server, "PUT", "/bkt/b", b"2")[0].status == 503
    assert _raw(fast_server, "GET", "/bkt/a")[1] == b"1"
    time.sleep(0.45)
    assert _raw(fast_server, "PUT", "/bkt/b", b"2")[0].status == 200
    assert fast_server.faults()["outage_hits"] == 1
    fast_server.write_outage(10)
    fast_server.clear_faults()
    assert _raw(fast_server, "PUT", "/bkt/c", b"3")[0].status == 200


def test_faults_spare_exempt_agents(fast_server):
    _raw(fast_server, "PUT", "/bkt")
    fast_server.refuse_writes(r".")
    fast_server.add_fault(r".", methods="GET", status=503, count=None)
    conn = http.client.HTTPConnection("127.0.0.1", fast_server.port, timeout=10)
    conn.request("GET", "/bkt/none", headers={"User-Agent": "hwocr-emulator/1"})
    assert conn.getresponse().status == 404  # answered for real
    conn.close()


def test_faults_are_driven_over_the_control_paths(fast_server):
    base = fast_server.url

    def post(path: str) -> int:
        return urllib.request.urlopen(urllib.request.Request(f"{base}{path}", method="POST")).status

    _raw(fast_server, "PUT", "/bkt")
    assert post("/_fast/fault?pattern=%5Ebkt/lease&methods=PUT&status=503&count=2&delay=0") == 204
    assert post("/_fast/fault?pattern=results&status=403") == 204  # every try
    assert post("/_fast/outage?seconds=0.2") == 204
    listed = json.loads(urllib.request.urlopen(f"{base}/_fast/faults").read())
    assert [(f["pattern"], f["left"]) for f in listed["faults"]] == [("^bkt/lease", 2), ("results", None)]
    assert listed["outage"]["status"] == 503
    with pytest.raises(urllib.error.HTTPError):
        post("/_fast/fault?status=503")  # no pattern
    assert post("/_fast/faults/clear") == 204
    assert json.loads(urllib.request.urlopen(f"{base}/_fast/faults").read())["faults"] == []
    assert post("/_fast/config?conditional=ignore") == 204 and fast_server.conditional == "ignore"


def test_conditional_writes_are_honoured_ignored_or_refused(fast_server):
    _raw(fast_server, "PUT", "/bkt")
    create = {"If-None-Match": "*"}
    assert _raw(fast_server, "PUT", "/bkt/lease", b"a", create)[0].status == 200
    assert _raw(fast_server, "PUT", "/bkt/lease", b"b", create)[0].status == 412
    etag = hashlib.md5(b"a").hexdigest()
    assert _raw(fast_server, "PUT", "/bkt/lease", b"c", {"If-Match": "0" * 32})[0].status == 412
    assert _raw(fast_server, "PUT", "/bkt/lease", b"c", {"If-Match": f'"{etag}"'})[0].status == 200
    assert (
        _raw(fast_server, "PUT", "/bkt/lease", b"d", {"If-Match": f"%22{etag}%22"})[0].status == 412
    )  # now c
    assert _raw(fast_server, "PUT", "/bkt/gone", b"d", {"If-Match": etag})[0].status == 412  # missing
    assert fast_server.buckets["bkt"].objects["lease"].data == b"c"
    fast_server.conditional = "ignore"
    assert _raw(fast_server, "PUT", "/bkt/lease", b"e", create)[0].status == 200
    fast_server.conditional = "refuse"
    response, data = _raw(fast_server, "PUT", "/bkt/lease", b"f", create)
    assert response.status == 501 and b"NotImplemented" in data
    assert _raw(fast_server, "PUT", "/bkt/lease", b"g")[0].status == 200  # unconditional: always
    with pytest.raises(ValueError, match="conditional"):
        FastObjectServer(conditional="maybe")


def test_a_fault_can_be_one_writers_by_its_body(fast_server):
    _raw(fast_server, "PUT", "/bkt")
    fast_server.add_fault(r"lease", status=503, count=2, body=r'"run_id": "backfill')
    assert _raw(fast_server, "PUT", "/bkt/lease", b'{"run_id": "manual"}')[0].status == 200  # not its body
    for _ in range(2):
        assert _raw(fast_server, "PUT", "/bkt/lease", b'{"run_id": "backfill"}')[0].status == 503
    assert _raw(fast_server, "PUT", "/bkt/lease", b'{"run_id": "backfill"}')[0].status == 200  # spent
    assert fast_server.faults()["faults"][0]["body"] == '"run_id": "backfill'
