"""``get_provider_info``: what Airflow reads from the entry point; every module and class it names
exists, and the connection form is complete."""

from __future__ import annotations

import importlib
import json
from importlib import resources
from importlib.metadata import entry_points

import jsonschema
import pytest

from airflow_provider_hwocr import __version__
from airflow_provider_hwocr.get_provider_info import (
    CONN_FIELDS,
    CONN_TYPE,
    UI_FIELD_BEHAVIOUR,
    get_provider_info,
)


def test_connection_form_defaults_are_not_short_strings():
    for name, field in CONN_FIELDS.items():
        default = field["schema"].get("default")
        if isinstance(default, str):
            assert len(default) >= 5, name


def test_the_region_is_not_prefilled_and_the_form_shows_a_known_mainland_region():
    from airflow_provider_hwocr.catalog.regions import REGIONS

    region = CONN_FIELDS["region"]
    assert "default" not in region["schema"]  # an empty region is refused, never a silent one
    placeholder = UI_FIELD_BEHAVIOUR["placeholders"]["region"]
    assert placeholder.startswith("cn-") and placeholder in REGIONS  # where most users are
    assert (
        f"e.g. {placeholder} ({REGIONS[placeholder].name.removeprefix('CN North-')})" in region["description"]
    )


def test_region_and_project_id_come_first_and_say_they_are_required():
    """The two extras a connection cannot do without are the form's first two fields, side by side,
    each "(required)" in its label and "Required." first in its description; no other field says so."""
    from airflow_provider_hwocr.get_provider_info import REQUIRED_FIELDS

    assert REQUIRED_FIELDS == ("region", "project_id") == tuple(CONN_FIELDS)[:2]
    for name, field in CONN_FIELDS.items():
        required = name in REQUIRED_FIELDS
        assert field["label"].endswith(" (required)") == required, name
        assert field["description"].startswith("Required.") == required, name
        assert "default" not in field["schema"] or not required, name  # never silently filled in
    assert CONN_FIELDS["region"]["label"] == "Region (required)"
    assert CONN_FIELDS["project_id"]["label"] == "Project ID (required)"
    placeholders = UI_FIELD_BEHAVIOUR["placeholders"]
    assert placeholders["region"] == "cn-north-4"
    assert len(placeholders["project_id"]) == 32 and int(placeholders["project_id"], 16) >= 0


def _label_and_description(field) -> tuple[str, str]:
    """What the form shows of a field: Airflow 3.2+ reads conn-fields from provider info (the label
    as the schema's title); older 3.x the hook's widget (an unbound wtforms field)."""
    if isinstance(field, dict):
        return field["schema"]["title"], field["description"]
    return str(field.args[0]), field.kwargs["description"]


def test_airflow_reads_the_same_form_from_provider_info_or_from_the_hook():
    """Airflow 3.2+ builds the form from ``conn-fields`` (the label as the schema's title); older 3.x
    from the hook's widgets. Either way: the same labels, descriptions, order and placeholders."""
    from airflow.providers_manager import ProvidersManager

    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    prefix = f"extra__{CONN_TYPE}__"
    manager = ProvidersManager()
    widgets = {k: w for k, w in manager.connection_form_widgets.items() if k.startswith(prefix)}
    if not widgets:  # Airflow before 3.2 builds the form from the hook's widgets, which need FAB
        pytest.importorskip(
            "flask_appbuilder", reason="the hook's widgets (Airflow < 3.2) need Flask-AppBuilder"
        )
    assert list(widgets)[:2] == [prefix + "region", prefix + "project_id"]
    assert set(widgets) == {prefix + name for name in CONN_FIELDS}
    shown = {name: _label_and_description(widgets[prefix + name].field) for name in CONN_FIELDS}
    assert shown == {name: (spec["label"], spec["description"]) for name, spec in CONN_FIELDS.items()}
    placeholders = manager.field_behaviours[CONN_TYPE]["placeholders"]
    assert placeholders[prefix + "region"] == "cn-north-4"
    assert placeholders[prefix + "project_id"] == UI_FIELD_BEHAVIOUR["placeholders"]["project_id"]
    assert HuaweiOcrHook.get_ui_field_behaviour()["placeholders"] == UI_FIELD_BEHAVIOUR["placeholders"]


def test_the_hooks_widgets_are_the_same_fields_in_the_same_order():
    """What Airflow before 3.2 shows (its form is built with Flask-AppBuilder's widgets)."""
    pytest.importorskip("flask_appbuilder", reason="Airflow's FAB provider is not installed")
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    widgets = HuaweiOcrHook.get_connection_form_widgets()
    assert list(widgets) == list(CONN_FIELDS)
    shown = {name: _label_and_description(widget) for name, widget in widgets.items()}
    assert shown == {name: (spec["label"], spec["description"]) for name, spec in CONN_FIELDS.items()}


def _dotted(path: str):
    """The object a dotted ``module.attr`` path names, imported as Airflow imports it."""
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _airflow_schema(name: str) -> dict:
    """A JSON schema Airflow checks providers with (shipped inside the airflow package)."""
    return json.loads(resources.files("airflow").joinpath(name).read_text(encoding="utf-8"))


def _modules(info: dict) -> list[str]:
    return [
        m
        for kind in ("hooks", "operators", "sensors", "triggers")
        for e in info[kind]
        for m in e["python-modules"]
    ]


def test_the_entry_point_names_this_function():
    """Airflow finds the provider through this entry point of the installed distribution."""
    (ep,) = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_provider_")
    ]
    assert ep.value == "airflow_provider_hwocr.get_provider_info:get_provider_info"
    assert ep.load() is get_provider_info


def test_it_is_valid_for_airflow():
    """Airflow's ProvidersManager checks the answer against this schema."""
    info = get_provider_info()
    jsonschema.validate(info, _airflow_schema("provider_info.schema.json"))
    assert info["package-name"] == "airflow-provider-hwocr" and info["versions"] == [__version__]
    assert get_provider_info() == info and get_provider_info() is not info  # a fresh dict each call


def test_every_listed_module_imports():
    modules = _modules(get_provider_info())
    assert len(modules) == len(set(modules)) == 8
    for name in modules + get_provider_info()["filesystems"]:
        assert importlib.import_module(name).__name__ == name


def test_every_listed_class_and_function_exists():
    info = get_provider_info()
    (conn,) = info["connection-types"]
    hook = _dotted(conn["hook-class-name"])
    assert hook.__name__ == "HuaweiOcrHook" and hook.conn_type == conn["connection-type"] == CONN_TYPE
    assert hook.hook_name == conn["hook-name"]
    for path in info["extra-links"]:
        link = _dotted(path)
        assert isinstance(link, type) and link.name, path
    (assets,) = info["asset-uris"]
    assert assets["schemes"] == ["obs"]
    for key in ("handler", "factory", "to_openlineage_converter"):
        assert callable(_dotted(assets[key])), key
    (fs,) = info["filesystems"]
    module = importlib.import_module(fs)
    assert module.schemes == ["obs"] and callable(module.get_fs)
    for plugin in info.get("plugins", []):
        assert _dotted(plugin["plugin-class"]).name == plugin["name"]


def test_the_hooks_are_in_the_modules_of_their_integrations():
    info = get_provider_info()
    integrations = {i["integration-name"] for i in info["integrations"]}
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[kind]:
            assert entry["integration-name"] in integrations, (kind, entry)
    hooks = {m: e["integration-name"] for e in info["hooks"] for m in e["python-modules"]}
    assert (
        _dotted("airflow_provider_hwocr.hooks.obs.HuaweiObsHook").hook_name
        == hooks["airflow_provider_hwocr.hooks.obs"]
    )
    assert (
        _dotted("airflow_provider_hwocr.hooks.ocr.HuaweiOcrHook").hook_name
        == hooks["airflow_provider_hwocr.hooks.ocr"]
    )


def test_connection_fields():
    (conn,) = get_provider_info()["connection-types"]
    assert conn["conn-fields"] is CONN_FIELDS and conn["ui-field-behaviour"] is UI_FIELD_BEHAVIOUR
    for name, field in CONN_FIELDS.items():
        assert {"label", "schema", "description"} <= set(field), name
        assert "null" in field["schema"]["type"], name  # every extra may be left empty
    secret = {name for name, field in CONN_FIELDS.items() if field["schema"].get("format") == "password"}
    assert secret == {"security_token", "password"}
    assert {"region", "project_id", "auth_type", "endpoint", "obs_endpoint", "obs_signature"} <= set(
        CONN_FIELDS
    )
    assert CONN_FIELDS["auth_type"]["schema"]["enum"] == ["aksk", "token"]
    assert set(UI_FIELD_BEHAVIOUR["placeholders"]) - {"login", "password"} <= set(CONN_FIELDS)


def test_the_hook_form_is_built_from_the_same_fields():
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    behaviour = HuaweiOcrHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == UI_FIELD_BEHAVIOUR["hidden-fields"] == ["host", "schema", "port"]
    assert behaviour["relabeling"] == {"login": "Access Key (AK)", "password": "Secret Key (SK)"}
    assert behaviour["placeholders"] == UI_FIELD_BEHAVIOUR["placeholders"]
    jsonschema.validate(behaviour, _airflow_schema("customized_form_field_behaviours.schema.json"))


def test_the_dry_run_option_is_declared():
    options = get_provider_info()["config"]["huaweicloud_ocr"]["options"]
    assert options["dry_run"]["type"] == "boolean" and options["dry_run"]["default"] == "False"


def test_provider_info_lists_what_exists():
    from airflow_provider_hwocr.hooks.ocr import HuaweiOcrHook

    info = get_provider_info()
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "huaweicloud_ocr"
    module, _, cls = conn["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module), cls) is HuaweiOcrHook
    for group in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(group, []):
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for name, field in conn["conn-fields"].items():
        if "password" in name or "token" in name:
            assert field["schema"].get("format") == "password", name


def test_the_version_is_written_once():
    """pyproject.toml reads the version from the package (no second copy to keep in step)."""
    from importlib.metadata import version

    import tomllib

    from tests.helpers.paths import REPO

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "airflow_provider_hwocr.__version__"}
    assert version("airflow-provider-hwocr") == __version__  # the installed metadata agrees
