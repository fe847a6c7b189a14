"""Types that describe an OCR API as data.

Nothing here knows about HTTP, Airflow or the emulator; every other layer
reads these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["bool", "str", "int", "str_list", "json_str"]
ResultKind = Literal["object", "list"]

#: Canonical image format names. ``JPG`` and ``JPEG`` are the same format.
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "PCX", "ICO", "PDF", "PSD", "TGA"})

#: The service's cap on the Base64 text of one image (10 MB).
MAX_BASE64_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Param:
    """One optional body parameter of an API."""

    name: str
    kind: ParamKind
    doc: str
    default: Any = None
    #: For ``str`` and ``str_list``: the accepted values (``None`` = free text).
    allowed: tuple[str, ...] | None = None
    #: Smallest accepted value for ``int``.
    minimum: int | None = None

    @property
    def python_type(self) -> str:
        return {
            "bool": "bool",
            "str": "str",
            "int": "int",
            "str_list": "list[str]",
            "json_str": "str | dict",
        }[self.kind]


@dataclass(frozen=True)
class Limits:
    """What the service accepts as an image for one API."""

    formats: frozenset[str]
    min_side: int
    max_side: int
    #: ``each``: both sides within [min_side, max_side];
    #: ``short_long``: the short side >= min_side and the long side <= max_side.
    side_rule: Literal["each", "short_long"] = "each"
    max_pixels: int | None = None
    max_base64_bytes: int = MAX_BASE64_BYTES

    def __post_init__(self) -> None:
        unknown = self.formats - IMAGE_FORMATS
        if unknown:
            raise ValueError(f"unknown image formats in catalog: {sorted(unknown)}")


@dataclass(frozen=True)
class Api:
    """One OCR API: everything a client, an operator or the emulator needs."""

    slug: str
    title: str
    #: Class-name stem of the operator, e.g. ``GeneralText`` for
    #: ``HuaweiOcrGeneralTextOperator``.
    operator_stem: str
    summary: str
    image_field: Literal["image", "data"]
    regions: tuple[str, ...]
    result_kind: ResultKind
    limits: Limits
    params: tuple[Param, ...] = ()
    #: Whether the docs list the optional ``Enterprise-Project-Id`` header.
    enterprise_project_header: bool = True
    #: Other paths the service answers for this API (project id not in them).
    alias_paths: tuple[str, ...] = ()
    #: Method name on the official SDK's ``OcrClient``, if it has one.
    sdk_method: str | None = None
    #: Set when the vendor has removed or is removing the API.
    deprecation: str | None = None
    #: Where the docs contradict themselves and which reading we took.
    notes: tuple[str, ...] = ()
    url_field: str = field(default="url", init=False)

    @property
    def path_template(self) -> str:
        return f"/v2/{{project_id}}/ocr/{self.slug}"

    def path(self, project_id: str) -> str:
        if not project_id or "{" in project_id or "/" in project_id:
            raise ValueError(f"invalid project_id {project_id!r}")
        return f"/v2/{project_id}/ocr/{self.slug}"

    @property
    def operator_name(self) -> str:
        return f"HuaweiOcr{self.operator_stem}Operator"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


# --- response model -----------------------------------------------------------------------

#: Value types of response fields. ``points`` is a list of [x, y] pairs, ``object``
#: a JSON object (its ``fields`` are checked when given, else anything goes).
FieldType = Literal[
    "str", "int", "float", "bool", "object", "points", "list[int]", "list[str]", "list[float]", "list[object]"
]


@dataclass(frozen=True)
class Field:
    """One documented field of an API's ``result`` (or of an object inside it).

    ``when`` is the condition under which the service returns the field, in
    terms of the request: ``flag`` (a Boolean parameter is true, its catalog
    default applying when omitted), ``param=value``, ``param~value`` (a list
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
            names.append(term.split("=")[0].split("~")[0].strip())
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
