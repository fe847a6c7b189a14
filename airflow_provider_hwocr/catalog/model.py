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
