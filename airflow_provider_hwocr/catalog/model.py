"""Types that describe an OCR API as data.

Nothing here knows about HTTP, Airflow or the emulator; every other layer
reads these objects. An :class:`Api` holds what a request needs (path, image
field, body parameters, limits), where the vendor serves it (:class:`Endpoints`,
per edition of its endpoint table), whether it still sells it
(:class:`Lifecycle`), and where its reference page is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["bool", "str", "int", "str_list", "json_str", "object"]
ResultKind = Literal["object", "list"]
ImageField = Literal["image", "data"]
LifecycleState = Literal["active", "sales_stopped", "retired", "removed"]
Category = Literal["general", "mainland", "international"]

#: Canonical image format names. ``JPG`` and ``JPEG`` are the same format; OFD is the
#: Chinese fixed-layout document format (a ZIP container) the invoice APIs read.
IMAGE_FORMATS = frozenset(
    {"JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "PCX", "ICO", "PDF", "PSD", "TGA", "OFD"}
)

#: The service's cap on the Base64 text of one image (10 MB).
MAX_BASE64_BYTES = 10 * 1024 * 1024

#: States in which the vendor still answers calls (an operator is generated for them).
LIVE_STATES = ("active", "sales_stopped")


@dataclass(frozen=True)
class Param:
    """One body parameter of an API (the image, ``url`` and ``data`` are not parameters)."""

    name: str
    kind: ParamKind
    doc: str
    default: Any = None
    #: For ``str`` and ``str_list``: the accepted values (``None`` = free text).
    allowed: tuple[str, ...] | None = None
    #: Smallest accepted value for ``int``.
    minimum: int | None = None
    #: The request is refused without it (invoice-verification's ``code``, ``number``...).
    required: bool = False
    #: What the docs say an empty string means, when they document one (``side=""``:
    #: detect the side). ``None``: an empty string is refused.
    empty: str | None = None
    #: The parameter this one is exclusive with: exactly one of the two is sent.
    one_of: str | None = None
    #: A regular expression a ``str`` value must match in full (a date, digits).
    pattern: str | None = None
    #: For ``object``: the keys the docs list (``None`` = any).
    keys: tuple[str, ...] | None = None
    #: A ``str`` holding a calendar date, ``YYYY-MM-DD``.
    date: bool = False

    @property
    def python_type(self) -> str:
        return {
            "bool": "bool",
            "str": "str",
            "int": "int",
            "str_list": "list[str]",
            "json_str": "str | dict",
            "object": "dict",
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


#: The limits of an API that takes no image (invoice-verification): nothing to check.
NO_IMAGE = Limits(formats=frozenset(), min_side=0, max_side=0)


@dataclass(frozen=True)
class Endpoints:
    """Where the vendor serves an API, edition by edition of its endpoint table.

    ``cn`` is the mainland site's table, ``intl`` the international site's; an API
    is offered in the union of the two. ``other`` lists regions only another
    source names (an older edition of a table): offered perhaps, so a call there
    is warned about, never refused.
    """

    cn: tuple[str, ...] = ()
    intl: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    #: Where ``other`` comes from.
    other_source: str | None = None

    @property
    def listed(self) -> tuple[str, ...]:
        """The regions either table lists, mainland table first."""
        return tuple(dict.fromkeys((*self.cn, *self.intl)))

    @property
    def known(self) -> bool:
        """Whether any table lists the API at all (if not, region knowledge is missing)."""
        return bool(self.cn or self.intl)


@dataclass(frozen=True)
class LifecycleEvent:
    """One step of an API's end of life, as the vendor announced it."""

    #: ``sales stopped``, ``offline``, ``delisted`` or ``removed``.
    what: str
    #: ISO date, or ``None`` when the notice gives none.
    date: str | None
    source: str
    #: Regions the notice names (empty: all).
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lifecycle:
    """Whether the vendor still sells and serves an API."""

    state: LifecycleState = "active"
    events: tuple[LifecycleEvent, ...] = ()

    def __post_init__(self) -> None:
        if self.state != "active" and not self.events:
            raise ValueError(f"a {self.state} API needs the notice that says so")

    @property
    def live(self) -> bool:
        """The vendor still answers calls (active or sales stopped)."""
        return self.state in LIVE_STATES

    @property
    def date(self) -> str | None:
        """Date of the last announced step (``None`` if the notice gives none)."""
        dated = [e.date for e in self.events if e.date]
        return max(dated) if dated else None

    def notice(self, title: str) -> str | None:
        """One sentence for users, or ``None`` for an active API."""
        if self.state == "active":
            return None
        steps = "; ".join(
            f"{e.what} {e.date or '(undated)'}" + (f" in {', '.join(e.regions)}" if e.regions else "")
            for e in self.events
        )
        verdict = {
            "sales_stopped": "the vendor has stopped selling it; existing packages still work",
            "retired": "the vendor has taken it offline",
            "removed": "the vendor has removed it",
        }[self.state]
        return f"{title}: {verdict} ({steps})."


@dataclass(frozen=True)
class Api:
    """One OCR API: everything a client, an operator, the emulator and the docs need."""

    slug: str
    title: str
    #: Class-name stem of the operator, e.g. ``GeneralText`` for
    #: ``HuaweiOcrGeneralTextOperator``.
    operator_stem: str
    summary: str
    #: The body field carrying the Base64 image; ``None`` for an API without image.
    image_field: ImageField | None
    endpoints: Endpoints
    result_kind: ResultKind
    limits: Limits
    params: tuple[Param, ...] = ()
    #: The vendor's Chinese name of the API.
    title_zh: str = ""
    category: Category = "general"
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    #: Whether the docs list the optional ``Enterprise-Project-Id`` header.
    enterprise_project_header: bool = True
    #: Other paths the service answers for this API (project id not in them).
    alias_paths: tuple[str, ...] = ()
    #: Method name on the official SDK's ``OcrClient``.
    sdk_method: str | None = None
    #: The vendor's API reference page (``None`` where only search excerpts are known).
    reference: str | None = None
    #: Where the docs contradict themselves and which reading we took.
    notes: tuple[str, ...] = ()
    url_field: str = field(default="url", init=False)

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.slug}: a parameter is listed twice")
        for p in self.params:
            if p.one_of is not None and p.one_of not in names:
                raise ValueError(f"{self.slug}.{p.name}: one_of names no parameter {p.one_of!r}")

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions the vendor's endpoint tables list for this API."""
        return self.endpoints.listed

    @property
    def live(self) -> bool:
        return self.lifecycle.live

    @property
    def deprecation(self) -> str | None:
        """A warning for an API that is no longer sold (or served); ``None`` while active."""
        return self.lifecycle.notice(self.title)

    @property
    def page_field(self) -> str | None:
        """The parameter selecting a PDF page: ``pdf_page_number``, ``page_num`` or none."""
        return next((n for n in ("pdf_page_number", "page_num") if n in self.param_names), None)

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

    @property
    def large_result_params(self) -> tuple[str, ...]:
        """The parameters that make results carry Base64 files or images (``return_excel``...).

        Derived from the response model (the fields holding an image or a file, and the
        flag that turns each on), loaded on first use.
        """
        from airflow_provider_hwocr.catalog.response_data import large_result_params

        return large_result_params(self)

    @property
    def required_params(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)
