"""The response model's types: a :class:`Field` tree per API, resolved from named shapes.

The facts live in ``responses.json`` (botocore's layout: named shapes, each API's
``result`` naming one); :mod:`airflow_provider_hwocr.catalog.responses` loads them.
Kept apart from :mod:`airflow_provider_hwocr.catalog.model` so that DAG files, which
load the catalog to check operator arguments, do not pay for it; the emulator, the
docs generator and the tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from airflow_provider_hwocr.catalog.model import ResultKind

# --- what every answer shares: success, errors, per-document status -------------------------

#: The code with which the service says "succeeded" (a per-document status, some 2xx bodies).
SUCCESS_CODE = "AIS.0000"
#: The members naming an error: at the top of an error answer, under ``result`` for some
#: APIs (general-table), and in each per-document status.
ERROR_CODE_FIELD = "error_code"
ERROR_MSG_FIELD = "error_msg"
#: The member of each item of a list result that holds that document's own status
#: (auto-classification: ``{"error_code": "AIS.0000", "error_msg": "Succeeded."}``).
DOCUMENT_STATUS_FIELD = "status"


def is_success_code(code: Any) -> bool:
    """Whether a status's ``error_code`` means success (``AIS.0000``, or none at all)."""
    return not code or code == SUCCESS_CODE


def document_statuses(result: Any) -> tuple[dict[str, Any], ...] | None:
    """The status of each document of a list result whose items carry one (auto-classification).

    Each is ``{"type", "error_code", "error_msg", "ok"}``; ``ok`` when the item's
    ``status.error_code`` is :data:`SUCCESS_CODE` (or absent), whose ``error_code`` is then
    :data:`SUCCESS_CODE`. ``None`` when the result is not a non-empty list whose every item
    has a status object.
    """
    if not isinstance(result, list) or not result:
        return None
    out = []
    for item in result:
        status = item.get(DOCUMENT_STATUS_FIELD) if isinstance(item, dict) else None
        if not isinstance(status, dict):
            return None
        code = status.get(ERROR_CODE_FIELD)
        out.append(
            {
                "type": item.get("type"),
                "error_code": str(code) if code else SUCCESS_CODE,
                "error_msg": status.get(ERROR_MSG_FIELD),
                "ok": is_success_code(code),
            }
        )
    return tuple(out)


def error_in_success(doc: dict[str, Any]) -> bool:
    """Whether a 2xx answer is in fact an error report (some APIs document one).

    Either an error code other than :data:`SUCCESS_CODE` at the top and no ``result``, or a
    ``result`` holding nothing but an error code and message.
    """
    code = doc.get(ERROR_CODE_FIELD)
    if not is_success_code(code) and "result" not in doc:
        return True
    inner = doc.get("result")
    return (
        isinstance(inner, dict)
        and bool(inner.get(ERROR_CODE_FIELD))
        and set(inner) <= {ERROR_CODE_FIELD, ERROR_MSG_FIELD}
    )


# --- response model -----------------------------------------------------------------------

#: Value types of response fields. ``points`` is a list of [x, y] pairs, ``object``
#: a JSON object (its ``fields`` are checked when given, else anything goes).
FieldType = Literal[
    "str",
    "int",
    "float",
    "bool",
    "object",
    "points",
    "list[int]",
    "list[str]",
    "list[float]",
    "list[object]",
    "map[float]",
]


#: What a Base64 field of an answer holds (see :attr:`Field.content`).
FieldContent = Literal["image", "file"]


@dataclass(frozen=True)
class Field:
    """One documented field of an API's ``result`` (or of an object inside it).

    ``when`` is the condition under which the service returns the field, in
    terms of the request: ``flag`` (a Boolean parameter is true, its catalog
    default applying when omitted), ``param=value``, ``param!=value`` (the
    parameter is not that value, omitted included), ``param~value`` (a list
    parameter contains the value), ``@field=value`` (a sibling field of the
    answer has that value), joined with ``and`` / ``or`` (``or`` binds
    loosest). Without ``when`` the field is always returned, unless
    ``required`` is false (returned for some documents only).
    """

    name: str
    type: FieldType
    doc: str = ""
    when: str | None = None
    #: For ``str`` fields: the documented values (``None`` = free text).
    allowed: tuple[str, ...] | None = None
    #: Returned whenever ``when`` holds (false: the docs name cases without it).
    required: bool = True
    #: How the field looks when ``when`` does not hold: left out, or ``null``.
    off: Literal["absent", "null"] = "absent"
    fields: tuple[Field, ...] = ()
    #: Where the docs contradict themselves about this field, and the reading taken.
    notes: tuple[str, ...] = ()
    #: The named shape this field's value (or its items) has, if any.
    shape: str | None = None
    #: What a ``str`` field carries Base64-encoded, when it is not text: an ``image``
    #: (a portrait, a straightened card) or a ``file`` (an .xlsx). Such fields make
    #: an answer large.
    content: FieldContent | None = None

    @property
    def flags(self) -> tuple[str, ...]:
        """Request parameters named in ``when``."""
        if not self.when:
            return ()
        names = []
        for term in self.when.replace(" or ", " and ").split(" and "):
            term = term.strip()
            if term.startswith("@"):
                continue
            names.append(term.split("!=")[0].split("=")[0].split("~")[0].strip())
        return tuple(names)

    def applies(self, body: dict[str, Any], defaults: dict[str, Any], obj: dict[str, Any]) -> bool:
        """Whether the service returns this field for request ``body`` inside ``obj``."""
        if not self.when:
            return True
        return any(
            all(_term(t.strip(), body, defaults, obj) for t in alternative.split(" and "))
            for alternative in self.when.split(" or ")
        )


def _term(term: str, body: dict[str, Any], defaults: dict[str, Any], obj: dict[str, Any]) -> bool:
    if term.startswith("@"):
        name, _, value = term[1:].partition("=")
        return obj.get(name) == value
    if "!=" in term:
        name, _, value = term.partition("!=")
        return body.get(name, defaults.get(name)) != value
    if "~" in term:
        name, _, value = term.partition("~")
        got = body.get(name, defaults.get(name))
        return isinstance(got, (list, tuple)) and value in got
    if "=" in term:
        name, _, value = term.partition("=")
        return body.get(name, defaults.get(name)) == value
    return body.get(term, defaults.get(term)) is True


@dataclass(frozen=True)
class ResponseModel:
    """The documented ``result`` of one API: an object, or a list of objects (``kind``)."""

    kind: ResultKind
    fields: tuple[Field, ...]
    #: Where the docs contradict themselves about the answer's shape, and the reading taken.
    notes: tuple[str, ...] = ()
    #: The named shape of ``result`` (of each item, for a list); ``None`` for a free object.
    shape: str | None = None
    #: Members of the answer beside ``result`` (custom-template's ``template_id``).
    top_level: tuple[Field, ...] = ()

    def field(self, path: str) -> Field:
        """The field at a dotted ``path`` such as ``words_block_list.char_list``."""
        fields, found = self.fields, None
        for part in path.split("."):
            found = next((f for f in fields if f.name == part), None)
            if found is None:
                raise KeyError(path)
            fields = found.fields
        assert found is not None
        return found
