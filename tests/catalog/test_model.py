"""The catalog's data types (``catalog/model.py``): ``Param``, ``Limits`` and ``Api``, built directly
and as the catalog uses them."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_hwocr.catalog import (
    APIS,
    IMAGE_FORMATS,
    MAX_BASE64_BYTES,
    Api,
    Endpoints,
    Lifecycle,
    LifecycleEvent,
    Limits,
    Param,
    get_api,
)


def test_path_refuses_placeholder_project_id():
    api = get_api("general-text")
    assert api.path("abc123") == "/v2/abc123/ocr/general-text"
    with pytest.raises(ValueError):
        api.path("{project_id}")
    with pytest.raises(ValueError):
        api.path("")


def _api(**overrides) -> Api:
    settings = {
        "slug": "demo-text",
        "title": "Demo text",
        "operator_stem": "DemoText",
        "summary": "A made-up API for the tests.",
        "image_field": "image",
        "endpoints": Endpoints(cn=("cn-north-4",), intl=("ap-southeast-1",)),
        "result_kind": "object",
        "limits": Limits(formats=frozenset({"PNG", "JPEG"}), min_side=15, max_side=4096),
        "params": (
            Param("detect_direction", "bool", "Detect the direction.", default=False),
            Param("pdf_page_number", "int", "PDF page.", default=1, minimum=1),
        ),
    }
    settings.update(overrides)
    return Api(**settings)


@pytest.mark.parametrize(
    ("kind", "python_type"),
    [
        ("bool", "bool"),
        ("str", "str"),
        ("int", "int"),
        ("str_list", "list[str]"),
        ("json_str", "str | dict"),
        ("object", "dict"),
    ],
)
def test_param_python_type_follows_its_kind(kind, python_type):
    assert Param("p", kind, "doc").python_type == python_type


def test_every_catalog_parameter_has_a_python_type():
    kinds = {p.kind for api in APIS for p in api.params}
    assert kinds == {"bool", "str", "int", "str_list", "json_str", "object"}
    for api in APIS:
        for p in api.params:
            assert p.python_type, (api.slug, p.name)


def test_limits_refuse_a_format_outside_the_known_set():
    with pytest.raises(ValueError, match="unknown image formats in catalog: \\['HEIC'\\]"):
        Limits(formats=frozenset({"PNG", "HEIC"}), min_side=1, max_side=10)
    limits = Limits(formats=IMAGE_FORMATS, min_side=1, max_side=10)
    assert limits.side_rule == "each" and limits.max_pixels is None
    assert limits.max_base64_bytes == MAX_BASE64_BYTES == 10 * 1024 * 1024


def test_jpg_is_not_a_separate_format():
    assert "JPEG" in IMAGE_FORMATS and "JPG" not in IMAGE_FORMATS
    with pytest.raises(ValueError):
        Limits(formats=frozenset({"JPG"}), min_side=1, max_side=10)


def test_api_names_paths_and_parameters():
    api = _api()
    assert api.operator_name == "HuaweiOcrDemoTextOperator"
    assert api.path_template == "/v2/{project_id}/ocr/demo-text"
    assert api.path("0123abcd") == "/v2/0123abcd/ocr/demo-text"
    assert api.param_names == ("detect_direction", "pdf_page_number")
    assert api.param("pdf_page_number").minimum == 1
    with pytest.raises(KeyError):
        api.param("language")
    assert api.url_field == "url"
    assert (api.enterprise_project_header, api.alias_paths, api.deprecation, api.notes) == (
        True,
        (),
        None,
        (),
    )
    assert api.regions == ("cn-north-4", "ap-southeast-1")  # the mainland table first
    assert (api.live, api.page_field, api.required_params) == (True, "pdf_page_number", ())


def test_endpoints_union_and_knowledge():
    ends = Endpoints(
        cn=("cn-north-4", "cn-east-3"), intl=("ap-southeast-1", "cn-north-4"), other=("cn-north-1",)
    )
    assert ends.listed == ("cn-north-4", "cn-east-3", "ap-southeast-1")
    assert ends.known and not Endpoints(other=("cn-north-1",)).known


def test_lifecycle_needs_its_notice_and_says_the_dates():
    with pytest.raises(ValueError, match="needs the notice"):
        Lifecycle("retired")
    life = Lifecycle(
        "retired",
        (
            LifecycleEvent("sales stopped", "2024-07-05", "bulletin", ("cn-north-4",)),
            LifecycleEvent("offline", "2025-12-31", "bulletin"),
        ),
    )
    assert (life.live, life.date) == (False, "2025-12-31")
    assert life.notice("Demo") == (
        "Demo: the vendor has taken it offline (sales stopped 2024-07-05 in cn-north-4; offline 2025-12-31)."
    )
    stopped = Lifecycle("sales_stopped", (LifecycleEvent("sales stopped", None, "bulletin"),))
    assert stopped.live and stopped.date is None and "(undated)" in (stopped.notice("X") or "")
    assert Lifecycle().notice("X") is None and _api(lifecycle=life).deprecation.startswith("Demo text:")


def test_an_api_refuses_a_parameter_twice_or_a_partner_it_lacks():
    p = Param("x", "bool", "doc")
    with pytest.raises(ValueError, match="listed twice"):
        _api(params=(p, p))
    with pytest.raises(ValueError, match="one_of names no parameter"):
        _api(params=(Param("a", "str", "doc", one_of="b"),))


def test_api_path_refuses_a_slash_in_the_project_id():
    with pytest.raises(ValueError, match="invalid project_id"):
        _api().path("a/b")


def test_url_field_is_not_a_constructor_argument():
    with pytest.raises(TypeError):
        _api(url_field="link")


def test_catalog_types_are_frozen():
    api = _api()
    with pytest.raises(dataclasses.FrozenInstanceError):
        api.slug = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        api.params[0].default = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        api.limits.min_side = 1  # type: ignore[misc]
