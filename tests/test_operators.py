"""Every operator end to end against the emulator: the exact body sent and the result returned."""

from __future__ import annotations

import base64
import json
import warnings

import pytest

from airflow_provider_hwocr.catalog import APIS, Api
from airflow_provider_hwocr.emulator.examples import example_response
from airflow_provider_hwocr.operators import ocr
from tests.helpers.images import png


def _sample_value(p):
    if p.kind == "bool":
        return True
    if p.kind == "int":
        return 2
    if p.kind == "str":
        return p.allowed[-1] if p.allowed else "general"
    if p.kind == "str_list":
        return list(p.allowed[:2])
    if p.kind == "json_str":
        return {"Name": "Full name"}
    raise AssertionError(p.kind)


def _expected_body_value(p, value):
    return json.dumps(value, ensure_ascii=False) if p.kind == "json_str" else value


def _documented_result(api: Api):
    return example_response(api.slug)["result"]


def _build(api: Api, **kwargs):
    cls = getattr(ocr, api.operator_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # id-document's deprecation is tested separately
        return cls(task_id=f"ocr_{api.slug.replace('-', '_')}", **kwargs)


@pytest.mark.parametrize("api", APIS, ids=[a.slug for a in APIS])
def test_operator_end_to_end_with_every_parameter(api, emulator, ocr_conn, tmp_path):
    image = png((240, 160))
    params = {p.name: _sample_value(p) for p in api.params}
    op = _build(api, image=image, **params)

    result = op.execute({})

    # the XCom value is the service's `result`, unchanged
    assert result == _documented_result(api)
    assert isinstance(result, list if api.result_kind == "list" else dict)
    json.dumps(result)  # JSON-safe

    calls = emulator.calls(api.slug)
    assert len(calls) == 1 and calls[0].status == 200
    body = calls[0].body
    # the image travels in the API's documented field: `image`, or `data` for two APIs
    assert base64.b64decode(body[api.image_field]) == image
    assert {"image", "data", "url"} & set(body) == {api.image_field}
    for p in api.params:
        assert body[p.name] == _expected_body_value(p, params[p.name]), p.name
    assert set(body) == {api.image_field, *api.param_names}
    assert calls[0].path == f"/v2/{emulator.config.project_id}/ocr/{api.slug}"
    assert calls[0].auth_mode == "aksk"


@pytest.mark.parametrize("slug", ["general-text", "smart-document-recognizer"])
@pytest.mark.parametrize("kind", ["url", "path", "bytes"])
def test_every_input_kind(slug, kind, emulator, ocr_conn, image_server):
    base_url, directory = image_server
    data = png((300, 100), text=f"{slug} {kind}")
    (directory / "scan one.png").write_bytes(data)
    image = {
        "url": f"{base_url}/scan one.png",
        "path": str(directory / "scan one.png"),
        "bytes": data,
    }[kind]
    op = ocr.HuaweiOcrOperator(task_id="t", api=slug, image=image)
    op.execute({})
    (call,) = emulator.calls(slug)
    assert call.status == 200
    field = "data" if slug == "smart-document-recognizer" else "image"
    if kind == "url":
        # sent as `url`, with the space percent-encoded as the service requires
        assert call.body == {"url": f"{base_url}/scan%20one.png"}
    else:
        assert set(call.body) == {field}
        assert base64.b64decode(call.body[field]) == data


def test_enterprise_project_header(emulator, ocr_conn):
    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), enterprise_project_id="eps-123")
    op.execute({})
    assert emulator.calls()[0].headers["enterprise-project-id"] == "eps-123"


def test_id_document_is_deprecated():
    from airflow.exceptions import AirflowProviderDeprecationWarning

    with pytest.warns(AirflowProviderDeprecationWarning, match="2025-11-04"):
        ocr.HuaweiOcrIdDocumentOperator(task_id="t", image="https://x.example/a.png")
    with pytest.warns(AirflowProviderDeprecationWarning):
        ocr.HuaweiOcrOperator(task_id="t2", api="id-document", image="https://x.example/a.png")


def test_init_does_no_io(monkeypatch):
    # Constructing operators must not look up connections or touch the network.
    import socket

    from airflow.sdk import BaseHook

    def boom(*a, **k):
        raise AssertionError("I/O in __init__")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(boom))
    monkeypatch.setattr(socket.socket, "connect", boom)
    for api in APIS:
        _build(api, image="/does/not/exist.png")


def test_template_fields():
    for name in ("image", "parameters", "huaweicloud_ocr_conn_id", "region", "project_id"):
        assert name in ocr.HuaweiOcrOperator.template_fields
    assert ocr.HuaweiOcrOperator.template_fields_renderers["parameters"] == "json"


def test_templated_image_and_parameters_render(emulator, ocr_conn, image_server):
    base_url, directory = image_server
    (directory / "2026-01-02.png").write_bytes(png())
    op = ocr.HuaweiOcrGeneralTextOperator(
        task_id="t", image=base_url + "/{{ ds }}.png", language="{{ params.lang }}"
    )
    op.render_template_fields({"ds": "2026-01-02", "params": {"lang": "auto"}})
    op.execute({})
    body = emulator.calls()[0].body
    assert body == {"url": f"{base_url}/2026-01-02.png", "language": "auto"}


def test_region_and_project_overrides(emulator, ocr_conn):
    from airflow_provider_hwocr.client.errors import HuaweiOcrAuthError

    op = ocr.HuaweiOcrGeneralTextOperator(task_id="t", image=png(), project_id="someotherproject")
    with pytest.raises(HuaweiOcrAuthError, match="ModelArts.4203"):
        op.execute({})
    # the override reached the wire: the path carries the other project id
    assert emulator.calls()[0].path == "/v2/someotherproject/ocr/general-text"
