"""The argument checks of :mod:`airflow_provider_hwocr.operators.arguments`: what counts as known at
parse time, numbers as given or as rendered strings, image sources, output URIs and batch images."""

from __future__ import annotations

import math

import pytest
from airflow.sdk import BaseOperator

from airflow_provider_hwocr.client.errors import HuaweiOcrValidationError
from airflow_provider_hwocr.operators.arguments import (
    IMAGE_SOURCES,
    MAX_SIGNED_URL_SECONDS,
    check_export_text,
    check_flag,
    check_image_source,
    check_images,
    check_max_calls,
    check_number,
    check_output_uri,
    check_parameters,
    check_price,
    check_whole,
    is_static,
)


def _refused(parameter: str, call, *args, **kwargs) -> HuaweiOcrValidationError:
    """``call(*args, **kwargs)`` raises the validation error naming ``parameter`` (returned)."""
    with pytest.raises(HuaweiOcrValidationError, match=f"^{parameter}: ") as info:
        call(*args, **kwargs)
    assert info.value.parameter == parameter
    return info.value


# --- is_static ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["obs://bucket/day/", "", 0, 3, 2.5, True, None, [1, "a"], ("x", None), {"k": ["v", {"n": 1}]}],
)
def test_plain_values_are_static(value):
    assert is_static(value) is True


@pytest.mark.parametrize(
    "value",
    [
        "obs://bucket/{{ ds }}/",
        "{% if params.x %}a{% endif %}",
        ["a", "{{ params.b }}"],
        ("x", ["{{ y }}"]),
        {"k": "{{ v }}"},
        {"nested": {"deep": ["{{ v }}"]}},
        {1: "a"},  # a key that is not a string
        object(),
        {"a", "b"},
    ],
)
def test_templates_and_unknown_objects_are_not_static(value):
    assert is_static(value) is False


def test_an_xcom_arg_is_not_static():
    assert is_static(BaseOperator(task_id="upstream").output) is False


# --- check_whole / check_number -------------------------------------------------------------


def test_check_whole_takes_ints_and_rendered_digit_strings():
    assert check_whole(3, "n") == 3
    assert check_whole(0, "n") == 0
    assert check_whole(" 12 ", "n") == 12  # what a template renders to
    rendered = check_whole("7", "n", minimum=1)
    assert rendered == 7 and isinstance(rendered, int)


@pytest.mark.parametrize("value", [-1, True, False, 2.0, "12x", "-3", "1.5", "", None, [1]])
def test_check_whole_refuses_the_rest_naming_the_argument(value):
    error = _refused("max_concurrency", check_whole, value, "max_concurrency")
    assert f"got {value!r}" in str(error)


def test_check_whole_honours_its_minimum():
    error = _refused("shard_count", check_whole, 0, "shard_count", 1)
    assert str(error) == "shard_count: must be a whole number >= 1, got 0"
    error = _refused("shard_count", check_whole, "0", "shard_count", minimum=1)
    assert "got 0" in str(error)  # the rendered string was read as a number first


def test_check_number_takes_numbers_and_numeric_strings_as_floats():
    for value, expected in ((3, 3.0), (0, 0.0), (2.5, 2.5), ("2.5", 2.5), (" 8 ", 8.0), ("1e1", 10.0)):
        result = check_number(value, "qps")
        assert result == expected and isinstance(result, float), value
    assert check_number("0.25", "qps", positive=True) == 0.25


@pytest.mark.parametrize("value", [-0.1, "-1", math.inf, "inf", math.nan, "nan", True, "fast", None, [1]])
def test_check_number_refuses_what_is_not_a_finite_number_at_least_zero(value):
    error = _refused("checkpoint_interval", check_number, value, "checkpoint_interval")
    assert "must be a finite number >= 0" in str(error)


def test_check_number_positive_refuses_zero():
    assert check_number(0, "qps") == 0.0
    for zero in (0, 0.0, "0"):
        error = _refused("qps", check_number, zero, "qps", positive=True)
        assert "must be a finite number > 0" in str(error)


def test_max_calls_and_price_are_optional():
    assert check_max_calls(None) is None
    assert check_max_calls(0) == 0
    assert check_max_calls("18") == 18  # a rendered template
    _refused("max_calls", check_max_calls, -1)
    _refused("max_calls", check_max_calls, "12 calls")
    assert check_price(None) is None
    assert check_price("0.5") == 0.5 and check_price(0) == 0.0
    _refused("price_per_call", check_price, -0.01)
    _refused("unit_price", check_price, "cheap", "unit_price")


# --- check_image_source ----------------------------------------------------------------------


def test_image_sources_and_signed_url_bounds():
    assert IMAGE_SOURCES == ("signed_url", "authorized", "inline")
    assert MAX_SIGNED_URL_SECONDS == 7 * 24 * 3600
    for source in IMAGE_SOURCES:
        for seconds in (1, 900, MAX_SIGNED_URL_SECONDS):  # both bounds are included
            assert check_image_source(source, seconds) == seconds
        assert check_image_source(source, " 900 ") == 900  # a Variable's value


@pytest.mark.parametrize("source", ["s3", "SIGNED_URL", "", None])
def test_an_unknown_image_source_is_refused(source):
    error = _refused("image_source", check_image_source, source, 900)
    assert "signed_url, authorized, inline" in str(error)


@pytest.mark.parametrize("seconds", [0, -5, MAX_SIGNED_URL_SECONDS + 1, True, 900.0, "900s", None])
def test_signed_url_expires_must_be_whole_seconds_within_seven_days(seconds):
    error = _refused("signed_url_expires", check_image_source, "signed_url", seconds)
    assert f"between 1 and {MAX_SIGNED_URL_SECONDS}" in str(error)


# --- check_output_uri --------------------------------------------------------------------------


def test_output_uri_is_optional_unless_required():
    for unset in (None, ""):
        assert check_output_uri(unset) is None
        error = _refused("output_uri", check_output_uri, unset, required=True)
        assert f"rendered to {unset!r}" in str(error) and "nothing was called" in str(error)


@pytest.mark.parametrize("uri", ["obs://bucket/results/", "obs://bucket/", "obs://my.bucket-1/a/b"])
def test_an_obs_prefix_is_an_output_uri(uri):
    assert check_output_uri(uri) is None
    assert check_output_uri(uri, required=True) is None


@pytest.mark.parametrize("uri", ["s3://bucket/p/", "/tmp/results/", "obs://B/p/", "obs://ab/p/", "obs://"])
def test_anything_else_is_refused_as_output_uri(uri):
    _refused("output_uri", check_output_uri, uri)


# --- check_images --------------------------------------------------------------------------------


SELECTION = {
    "format": "hwocr-selection/1",
    "query": {"targets": [["b", "day/*.png", "wildcard"]], "min_size": 0, "metadata_keys": ["key"]},
    "count": None,
}


@pytest.mark.parametrize(
    "images",
    [None, "obs://b/k.png", ["obs://b/a.png", "https://x.example/b.png"], ("a.png",), SELECTION],
)
def test_lists_strings_and_selections_are_images_at_parse_and_run_time(images):
    assert check_images(images) is None
    assert check_images(images, rendered=True) is None


def test_an_xcom_arg_is_accepted_at_parse_time_only():
    upstream = BaseOperator(task_id="upstream")
    for arg in (upstream.output, upstream.output.map(str)):
        assert check_images(arg) is None  # resolved when the task runs
        error = _refused("images", check_images, arg, rendered=True)
        assert type(arg).__name__ in str(error)


@pytest.mark.parametrize("images", [12345, 1.5, b"obs://b/k.png", object()])
def test_other_values_are_not_images(images):
    error = _refused("images", check_images, images)
    assert f"got {type(images).__name__}" in str(error)


# --- on/off arguments, API parameters, text export ----------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("yes", True), ("no", False), (" No ", False),
     ("TRUE", True), ("false", False), ("1", True), ("0", False), ("on", True), ("off", False)],
)  # fmt: skip
def test_flags_read_the_words_people_write(value, expected):
    assert check_flag(value, "emit_asset") is expected


@pytest.mark.parametrize("value", ["maybe", "", "nope", 2, -1, 0.5, None, [], {"a": 1}, "yes please"])
def test_a_flag_that_is_neither_on_nor_off_is_an_error_naming_it(value):
    error = _refused("export_text", check_flag, value, "export_text")
    assert repr(value) in str(error)


def test_an_optional_flag_may_be_none():
    assert check_flag(None, "skip_existing", optional=True) is None
    assert "or None" in str(
        _refused("skip_existing", check_flag, "sometimes", "skip_existing", optional=True)
    )


def test_parameters_must_be_a_dict_and_templates_wait_for_run_time():
    assert check_parameters(None) == {}
    assert check_parameters({"detect_direction": True}) == {"detect_direction": True}
    assert check_parameters("{{ params.options }}") == "{{ params.options }}"  # rendered later
    options = BaseOperator(task_id="upstream").output
    assert check_parameters(options) is options
    for bad in ("detect_direction=true", [("detect_direction", True)], 0, False, "", ["a"]):
        _refused("parameters", check_parameters, bad)
    rendered = _refused("parameters", check_parameters, '{"detect_direction": true}', rendered=True)
    assert "render_template_as_native_obj" in str(rendered)
    _refused("parameters", check_parameters, options, rendered=True)


def test_export_text_needs_an_output_uri():
    check_export_text(True, "obs://b/out/")
    check_export_text(False, None)
    for missing in (None, ""):
        error = _refused("export_text", check_export_text, True, missing)
        assert "output_uri" in str(error)


@pytest.mark.parametrize(
    "query",
    [
        None,
        "day/*.png",
        {},
        {"targets": []},
        {"targets": "obs://b/day/"},
        {"targets": [["b", "day/*.png"]]},
        {"targets": [["b", "day/*.png", "glob"]]},
        {"targets": [["", "day/", "prefix"]]},
        {"targets": [["b", "day/(", "regex"]]},
        {"targets": [["b", 3, "exact"]]},
        {"targets": [["b", "day/", "prefix"]], "min_size": -1},
        {"targets": [["b", "day/", "prefix"]], "metadata_keys": ["colour"]},
    ],
)
def test_a_selection_with_a_bad_query_is_refused_naming_images(query):
    selection = {"format": "hwocr-selection/1", "query": query}
    _refused("images", check_images, selection)
    _refused("images", check_images, selection, rendered=True)


def test_a_dict_that_is_not_a_selection_is_refused():
    _refused("images", check_images, {"count": 3})
    _refused("images", check_images, {**SELECTION, "format": "hwocr-selection/2"})


# --- numbers as users pass them: Variables and templates give text ---------------------------------


def test_the_number_checks_read_numbers_written_as_text():
    from airflow_provider_hwocr.operators.arguments import (
        check_lease_ttl,
        check_max_failures,
        check_max_xcom_bytes,
        check_optional_number,
        check_ratio,
        check_signed_url_expires,
    )

    assert check_price("0.0012") == 0.0012 and check_price(" 0.5 ") == 0.5
    assert check_max_calls(" 20 ") == 20 and check_max_failures("3") == 3
    assert (
        check_optional_number("5", "qps", positive=True) == 5.0 and check_optional_number(None, "qps") is None
    )
    assert check_ratio("0.01") == 0.01 and check_ratio(1) == 1.0 and check_ratio(None) is None
    assert check_signed_url_expires("600") == 600 and check_max_xcom_bytes(" 4096 ") == 4096
    assert check_lease_ttl("60") == 60.0
    assert check_number("1_000", "progress_interval") == 1000.0  # Python's own spelling of a number
    for value, parameter, call in (
        ("abc", "price_per_call", lambda v: check_price(v)),
        ("abc", "qps", lambda v: check_optional_number(v, "qps", positive=True)),
        ("abc", "max_calls", check_max_calls),
        ("2.5", "max_failures", check_max_failures),
        ("1.5", "max_failure_ratio", check_ratio),
        ("nan", "max_failure_ratio", check_ratio),
        (True, "max_failure_ratio", check_ratio),
        ("5", "lease_ttl", check_lease_ttl),
        ("7d", "signed_url_expires", check_signed_url_expires),
        ("0", "max_xcom_bytes", check_max_xcom_bytes),
    ):
        error = _refused(parameter, call, value)
        assert repr(value) in str(error), error


def test_check_whole_and_check_number_honour_a_maximum():
    assert check_whole("7", "n", 1, maximum=7) == 7
    assert "between 1 and 7" in str(_refused("n", check_whole, 8, "n", 1, maximum=7))
    assert check_number("2", "x", maximum=2) == 2.0
    assert "<= 2" in str(_refused("x", check_number, "2.5", "x", maximum=2))


def test_when_static_converts_now_and_leaves_templates_for_run_time():
    from airflow_provider_hwocr.operators.arguments import when_static

    assert when_static(check_price, "0.0012") == 0.0012
    assert when_static(check_price, "{{ var.value.price }}") == "{{ var.value.price }}"
    xcom = BaseOperator(task_id="upstream").output
    assert when_static(check_max_calls, xcom) is xcom
    _refused("price_per_call", when_static, check_price, "abc")


# --- through the operators, against the emulator --------------------------------------------------


def _ocr_operator(**kwargs):
    from airflow_provider_hwocr.operators.ocr import HuaweiOcrGeneralTextOperator

    return HuaweiOcrGeneralTextOperator(task_id="ocr", **kwargs)


def test_numbers_as_text_work_end_to_end_in_one_task(emulator, ocr_conn):
    from tests.helpers.images import png

    op = _ocr_operator(image=png(), price_per_call="0.0012", max_calls="20", dry_run=True)
    assert (op.price_per_call, op.max_calls) == (0.0012, 20)  # converted once, at parse time
    plan = op.execute({})
    assert plan["price_per_call"] == 0.0012 and plan["estimated_cost"] == pytest.approx(0.0012)
    result = _ocr_operator(image=png(), price_per_call="0.0012", max_calls="20").execute({})
    assert isinstance(result, dict) and emulator.count() == 1


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("price_per_call", "abc"),
        ("max_calls", "abc"),
        ("signed_url_expires", "abc"),
        ("max_xcom_bytes", "abc"),
    ],
)
def test_a_number_that_is_not_one_fails_at_parse_time_naming_it(parameter, value, emulator):
    _refused(parameter, _ocr_operator, image="x.png", **{parameter: value})
    assert emulator.count() == 0


def test_a_templated_number_is_checked_when_the_settings_are_built(emulator, ocr_conn):
    from tests.helpers.images import png

    op = _ocr_operator(image=png(), price_per_call="{{ params.price }}", max_calls="{{ params.calls }}")
    op.render_template_fields({"params": {"price": "0.0012", "calls": "20"}})
    assert op.execute({}) and emulator.count() == 1
    for name in ("price", "calls"):
        bad = _ocr_operator(image=png(), price_per_call="{{ params.price }}", max_calls="{{ params.calls }}")
        bad.render_template_fields({"params": {"price": "0.0012", "calls": "20", name: "abc"}})
        parameter = "price_per_call" if name == "price" else "max_calls"
        _refused(parameter, bad.execute, {})
    assert emulator.count() == 1  # the refused runs called nothing


def _batch(bucket: str, **kwargs):
    from airflow_provider_hwocr.operators.batch import HuaweiOcrBatchOperator

    settings = {
        "task_id": "batch",
        "api": "general-text",
        "source_uri": f"obs://{bucket}/day/",
        "output_uri": f"obs://{bucket}/ocr/",
        "progress_interval": 1.0,
    }
    return HuaweiOcrBatchOperator(**{**settings, **kwargs})


def test_numbers_as_text_work_end_to_end_in_a_batch(obs, obs_bucket, emulator):
    from airflow_provider_hwocr.operators.batch import latest_manifest_uri
    from tests.helpers.images import png

    for i in range(3):
        obs.put_bytes(obs_bucket, f"day/p{i}.png", png())
    op = _batch(
        obs_bucket,
        price_per_call="0.0012",
        qps="5",
        max_calls="20",
        max_failures=" 0 ",
        max_failure_ratio="0.5",
        max_concurrency="2",
        checkpoint_every="10",
        checkpoint_interval="30",
        progress_interval="2.5",
        lease_ttl="60",
        overlap_timeout="120",
        signed_url_expires="600",
        max_xcom_bytes="4096",
    )
    assert (op.qps, op.max_failures, op.max_failure_ratio, op.max_concurrency) == (5.0, 0, 0.5, 2)
    assert (op.lease_ttl, op.overlap_timeout, op.signed_url_expires, op.max_xcom_bytes) == (
        60.0,
        120.0,
        600,
        4096,
    )
    report = op.execute({})
    assert report["totals"]["done"] == 3 and emulator.count("general-text") == 3
    assert report["billing"]["price_per_call"] == 0.0012
    assert report["billing"]["estimated_cost"] == pytest.approx(3 * 0.0012)
    uri = latest_manifest_uri(f"obs://{obs_bucket}/ocr/", "general-text")
    manifest = obs.get_json(obs_bucket, uri.split("/", 3)[3])
    assert manifest["billing"]["estimated_cost"] == pytest.approx(3 * 0.0012)


@pytest.mark.parametrize(
    "parameter",
    ["price_per_call", "qps", "max_calls", "max_failures", "max_failure_ratio", "max_concurrency",
     "checkpoint_every", "checkpoint_interval", "progress_interval", "lease_ttl", "overlap_timeout",
     "signed_url_expires", "max_xcom_bytes"],
)  # fmt: skip
def test_a_batch_number_that_is_not_one_fails_at_parse_time_naming_it(parameter, emulator):
    _refused(parameter, _batch, "bucket-x", **{parameter: "abc"})
    assert emulator.count() == 0


def test_a_templated_batch_number_fails_before_any_call_naming_it(obs, obs_bucket, emulator):
    from tests.helpers.images import png

    obs.put_bytes(obs_bucket, "day/p.png", png())
    for parameter in ("qps", "price_per_call", "max_failures", "max_failure_ratio"):
        op = _batch(obs_bucket, **{parameter: "{{ params.value }}"})
        op.render_template_fields({"params": {"value": "abc"}})
        _refused(parameter, op.execute, {})
    assert emulator.count() == 0
