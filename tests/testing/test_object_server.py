"""The local object server (moto behind ``local_object_server``) and its routing work-around."""

from __future__ import annotations

import requests

from tests.helpers.constants import AK
from tests.helpers.obs_env import obs_client


def test_object_server_routes_any_sigv2_request_to_s3(obs_bucket, obs_server):
    """The fixture's moto work-around: a SigV2 signature with four '/' once meant HTTP 500 (about 1 in 1,400)."""
    obs_client().putContent(obs_bucket, "k", content=b"ok")
    unlucky = {"Authorization": f"AWS {AK}:ab/cd/ef/gh/ijklmnopqrstuvw="}  # moto does not check signatures
    response = requests.get(f"{obs_server}/{obs_bucket}/k", headers=unlucky, timeout=5)
    assert (response.status_code, response.content) == (200, b"ok")


def test_object_server_reads_no_region_from_a_sigv2_signature_holding_aws4(obs_bucket, obs_server):
    """The second work-around: moto took any header holding "AWS4" for SigV4 and split its signature
    for a region, so a SigV2 signature with "AWS4" in it (about 1 in 700,000) meant HTTP 500."""
    obs_client().putContent(obs_bucket, "k", content=b"ok")
    for signature in ("abAWS4cd/efghijklmnopqrstu=", "AWS4abc/def/ghijklmnopqrs="):
        unlucky = {"Authorization": f"AWS {AK}:{signature}"}
        response = requests.get(f"{obs_server}/{obs_bucket}/k", headers=unlucky, timeout=5)
        assert (response.status_code, response.content) == (200, b"ok"), signature
