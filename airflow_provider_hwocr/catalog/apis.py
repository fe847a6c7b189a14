"""The 52 OCR APIs of the vendor, as data: one :class:`~.model.Api` entry each.

Facts (names, paths, body fields, values, limits) come from the vendor's API
reference and its official SDK (``huaweicloudsdkocr``), which a test holds this
table against field by field. Where the reference contradicts itself or the
SDK's field descriptions, the reference's parameter table is taken and the
other reading is kept in ``notes``. Regions are the vendor's two endpoint
tables, per edition (:class:`~.model.Endpoints`); the lifecycle is the vendor's
notices with their dates and sources.

Adding an API: one entry below (and its result in ``responses.json``), then
``python3 scripts/generate.py``.
"""

from __future__ import annotations

from typing import Literal

from airflow_provider_hwocr.catalog.invoice_patterns import AMOUNT_PATTERN, CHECK_CODE_PATTERN
from airflow_provider_hwocr.catalog.model import (
    NO_IMAGE,
    Api,
    Endpoints,
    Lifecycle,
    LifecycleEvent,
    Limits,
    Param,
)

# --- small constructors keep the table readable --------------------------------


def _bool(name: str, doc: str, default: bool | None = None) -> Param:
    return Param(name=name, kind="bool", doc=doc, default=default)


def _off(name: str, doc: str) -> Param:
    """A Boolean switch the docs say is off when omitted."""
    return _bool(name, doc, False)


def _choice(
    name: str, doc: str, allowed: tuple[str, ...], default: str | None = None, empty: str | None = None
) -> Param:
    return Param(name=name, kind="str", doc=doc, allowed=allowed, default=default, empty=empty)


def _choices(name: str, doc: str, allowed: tuple[str, ...]) -> Param:
    return Param(name=name, kind="str_list", doc=doc, allowed=allowed)


def _page(name: str = "pdf_page_number", doc: str = "PDF page to recognise (1 = first page).") -> Param:
    return Param(name=name, kind="int", doc=doc, default=1, minimum=1)


def _formats(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _limits(
    min_side: int,
    max_side: int,
    formats: str = "JPEG PNG BMP TIFF",
    *,
    side_rule: Literal["each", "short_long"] = "each",
    max_pixels: int | None = None,
) -> Limits:
    return Limits(
        formats=_formats(formats),
        min_side=min_side,
        max_side=max_side,
        side_rule=side_rule,
        max_pixels=max_pixels,
    )


def _cn(*regions: str) -> Endpoints:
    return Endpoints(cn=regions)


def _intl(*regions: str) -> Endpoints:
    return Endpoints(intl=regions)


_SUPPORT = "https://support.huaweicloud.com"
_ID_CARD = _limits(15, 8192)
_CN_DOC = _limits(15, 8192)
#: Where the reference page's pixel limit (which rules) differs from the SDK's field description.
_SDK_SIDE = (
    "Each side: at most {page:,} px on the reference page (updated 2025-12-03), which is used; the SDK's "
    "field description says {sdk}."
)
_PORTRAIT_IMAGE = "Return the portrait photo of the card as Base64."
_PORTRAIT_LOCATION = "Return where the portrait is on the image."
#: The two portrait switches most cards have, both off unless asked for.
_PORTRAIT = (
    _off("return_portrait_image", _PORTRAIT_IMAGE),
    _off("return_portrait_location", _PORTRAIT_LOCATION),
)
_IDCARD_TYPE = "Return whether the card is an original or a copy (idcard_type)."
_TEXT_LOCATION = "Return the position of every recognised field (text_location)."
_SIDE = "Which side of the card the image shows; omit to let the service detect it."
_SIDE_EMPTY = "detect the side automatically"
_CONVERT_UNICODE = "Return Burmese text as Unicode (true) instead of Zawgyi (false, the default)."
_ISSUING_AUTHORITY = "Return the issuing authority (issuing_authority)."
_DIRECTION = "Detect and correct the tilt of the image before recognition."

GENERAL_TEXT_LANGUAGES = (
    "auto", "ms", "uk", "hi", "ru", "vi", "id", "th", "zh", "ar", "de", "la", "fr", "it",
    "es", "pt", "ro", "pl", "am", "ja", "ko", "tr", "no", "da", "sv", "km", "he",
)  # fmt: skip
SMART_DOCUMENT_LANGUAGES = ("zh", "es", "ar", "pt", "tr", "th")
ID_DOCUMENT_COUNTRIES = (
    "VNM", "IND", "PHL", "ALB", "BRA", "IDN", "MYS", "NGA", "PAK", "RUS", "TWN", "UKR",
    "THA", "CHL", "HKG",
)  # fmt: skip
AUTO_CLASSIFICATION_TYPES = (
    "id_card_portrait_side", "id_card_emblem_side", "vehicle_license_front",
    "vehicle_license_back", "driver_license_front", "driver_license_back", "passport",
    "bankcard", "transportation_license", "vat_invoice", "vat_roll_invoice", "mvs_invoice",
    "taxi_invoice", "train_ticket", "quota_invoice", "toll_invoice", "flight_itinerary",
)  # fmt: skip
#: The document kinds ``extended_parameters`` of auto-classification takes parameters for.
EXTENDED_PARAMETER_KINDS = (
    "vat_invoice", "quota_invoice", "taxi_invoice", "train_ticket", "flight_itinerary",
    "toll_invoice", "mvs_invoice", "id_card", "passport", "driver_license", "vehicle_license",
    "transportation_license", "bankcard", "bus_ship_ticket", "ride_hailing_itinerary",
    "machine_printed_invoice",
)  # fmt: skip
CARD_SIDES = ("front", "back", "double_side")

_SALES_STOP_2022 = LifecycleEvent(
    "sales stopped",
    None,
    "vendor bulletin 【停售公告】OCR 防疫健康码识别套餐包、核酸检测记录识别套餐包停售 "
    "(support.huaweicloud.com/topic/1430906-1-A; the excerpt gives no date)",
)


# --- general APIs ----------------------------------------------------------------------

GENERAL: tuple[Api, ...] = (
    Api(
        slug="smart-document-recognizer",
        title="Smart Document Recognizer",
        title_zh="智能文档解析",
        operator_stem="SmartDocumentRecognizer",
        summary="Text, key-value pairs, tables, layout, forms and formulas from documents and PDF pages.",
        image_field="data",
        endpoints=Endpoints(cn=("cn-north-4",), intl=("ap-southeast-1", "ap-southeast-3")),
        result_kind="list",
        limits=_limits(15, 30000, "JPEG PNG BMP TIFF PDF"),
        params=(
            _bool("single_orientation_mode", "Assume all text shares one orientation.", True),
            _choice(
                "language", "Recognition language (zh = Chinese and English).", SMART_DOCUMENT_LANGUAGES, "zh"
            ),
            _bool("kv", "Extract key-value pairs into kv_result (language zh only)."),
            _bool("table", "Recognise tables into table_result."),
            _bool("layout", "Run layout analysis into layout_result."),
            _bool("return_excel", "Also return each table as a Base64 .xlsx (needs table=true)."),
            _bool("form", "Recognise ruled forms into form_result."),
            _bool("formula", "Recognise formulas as LaTeX into formula_result."),
            _bool("image_layout", "Run layout analysis on pictures inside the document too."),
            Param(
                name="kv_map",
                kind="json_str",
                doc="JSON object (or a dict, serialised for you) that renames keys of kv_result.",
            ),
            _bool("erase_seal", "Erase stamps and seals before recognition."),
            _page(),
            _bool("character_mode", "Return per-character results (char_list).", False),
        ),
        sdk_method="recognize_smart_document_recognizer",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0161.html",
        notes=(
            "Formats: the parameter table lists JPG, PNG, BMP, TIFF, PDF; the notes section also names GIF, WebP, PCX, ICO, PSD. The parameter table is used.",
            "The data description says only the first page of a PDF is read, while pdf_page_number selects any page; pdf_page_number is offered.",
        ),
    ),
    Api(
        slug="general-table",
        title="General Table",
        title_zh="通用表格识别",
        operator_stem="GeneralTable",
        summary="Tables with or without ruling lines, cell by cell, optionally as an Excel file.",
        image_field="image",
        endpoints=Endpoints(cn=("cn-east-3", "cn-north-4"), intl=("ap-southeast-3",)),
        result_kind="object",
        limits=_limits(15, 8192),
        params=(
            _off("return_text_location", "Return the coordinates of text blocks and cells."),
            _off("return_char_location", "Return per-character coordinates (needs return_text_location)."),
            _off("return_confidence", "Return confidence scores."),
            _off("return_excel", "Return the table as a Base64 .xlsx in result.excel."),
            _off("return_rectification_matrix", "Return the perspective correction matrix."),
            _off("with_borders", "The image holds only ruled tables; recognise only those."),
        ),
        sdk_method="recognize_general_table",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0031.html",
        notes=("The documented 400 example nests error_code/error_msg under result.",),
    ),
    Api(
        slug="general-text",
        title="General Text",
        title_zh="通用文字识别",
        operator_stem="GeneralText",
        summary="Printed text in any layout, many languages, images and PDF pages.",
        image_field="image",
        endpoints=Endpoints(cn=("cn-east-3", "cn-north-4"), intl=("ap-southeast-1",)),
        result_kind="object",
        limits=_limits(15, 30000, "JPEG PNG BMP GIF TIFF WEBP PCX ICO PDF PSD", max_pixels=160_000_000),
        params=(
            _off("detect_direction", "Straighten tilted images and report the angle."),
            _off("quick_mode", "Fast path for images holding a single line of text."),
            _off("character_mode", "Return per-character results (char_list)."),
            _choice(
                "language",
                "Recognition language; auto detects it (zh = Chinese and English).",
                GENERAL_TEXT_LANGUAGES,
                "zh",
            ),
            _off("single_orientation_mode", "Assume all text shares one orientation."),
            _page(),
            _off("return_markdown_result", "Also return all text joined as markdown_result."),
        ),
        sdk_method="recognize_general_text",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0042.html",
    ),
    Api(
        slug="web-image",
        title="Web Image",
        title_zh="网络图片识别",
        operator_stem="WebImage",
        summary="Text in web and social-media pictures, with optional contact extraction and fonts.",
        image_field="image",
        endpoints=Endpoints(cn=("cn-east-3", "cn-north-4", "cn-south-1"), intl=("ap-southeast-2",)),
        result_kind="object",
        limits=_limits(15, 30000, "JPEG PNG BMP TIFF TGA WEBP ICO PCX GIF"),
        params=(
            _off("detect_direction", "Straighten tilted images."),
            _choices(
                "extract_type",
                "Structured items to extract into extracted_data.",
                ("image_size", "contact_info"),
            ),
            _off("detect_font", "Return the most similar fonts of each block."),
            _bool("detect_text_direction", "Detect the direction of each text field.", True),
        ),
        enterprise_project_header=False,
        sdk_method="recognize_web_image",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0108.html",
    ),
    Api(
        slug="auto-classification",
        title="Auto Classification",
        title_zh="智能分类识别",
        operator_stem="AutoClassification",
        summary="Finds and classifies several documents in one image and recognises each.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="list",
        limits=_limits(15, 8000, "JPEG PNG BMP TIFF PDF OFD", side_rule="short_long"),
        params=(
            _choices(
                "type_list",
                "Only documents of these types are recognised (and billed); omit for all.",
                AUTO_CLASSIFICATION_TYPES,
            ),
            _page(),
            Param(
                name="extended_parameters",
                kind="object",
                doc="Parameters per document kind, as that kind's own API takes them, e.g. "
                '{"vat_invoice": {"advanced_mode": true}}; a wrong one fails that document with AIS.0101.',
                keys=EXTENDED_PARAMETER_KINDS,
            ),
            _off("detect_seal", "Report whether each document carries a seal (seal_mark); not its content."),
        ),
        enterprise_project_header=False,
        alias_paths=("/v1.0/ocr/auto-classification",),
        sdk_method="recognize_auto_classification",
        reference=f"{_SUPPORT}/en-us/api-ocr/ocr_03_0113.html",
        notes=(
            "Each result item has its own status; a 200 answer can hold failed items.",
            "Billed per recognised document in the image, not per call.",
            "The v1.0 path is an alias without the project id.",
            "Largest side: 8,000 px in the reference's table, 8,192 px in the SDK's field description; 8,000 is used.",
            "PDF and OFD (VAT invoices only) come from the SDK's field description and its pdf_page_number parameter; the older reference lists images only.",
            "The page of a PDF is chosen with pdf_page_number only; extended_parameters cannot choose it.",
        ),
    ),
    Api(
        slug="handwriting",
        title="Handwriting",
        title_zh="手写文字识别",
        operator_stem="Handwriting",
        summary="Handwritten and printed text with positions.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        limits=_limits(8, 8192, side_rule="short_long"),
        params=(
            _off("quick_mode", "Fast path for images holding a single line of text."),
            Param(
                name="char_set",
                kind="str",
                doc="Restricts the output character set (default general).",
                default="general",
            ),
            _off("detect_direction", "Straighten tilted images."),
        ),
        enterprise_project_header=False,
        sdk_method="recognize_handwriting",
        notes=("The docs' list of char_set values was lost; any non-empty string is accepted.",),
    ),
    Api(
        slug="business-card",
        title="Business Card",
        title_zh="名片识别",
        operator_stem="BusinessCard",
        summary="Name, title, company, phone numbers, address and e-mail from a business card.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        limits=_CN_DOC,
        params=(
            _off("detect_direction", "Detect the card's orientation (any angle)."),
            _off("return_adjusted_image", "Return the straightened card image as Base64."),
        ),
        sdk_method="recognize_business_card",
    ),
    Api(
        slug="seal",
        title="Seal",
        title_zh="印章识别",
        operator_stem="Seal",
        summary="Text of the seals (stamps) on a document, optionally the seals cut out or erased.",
        image_field="data",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        limits=_limits(15, 8192, "JPEG PNG BMP GIF TIFF WEBP PCX ICO PSD PDF"),
        params=(
            _off("return_seal_image", "Return each seal cut out of the image, as Base64."),
            _off("return_erased_seal_image", "Return the image with the seals erased, as Base64."),
            _page(),
        ),
        sdk_method="recognize_seal",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0168.html",
    ),
    Api(
        slug="vin",
        title="VIN",
        title_zh="VIN码识别",
        operator_stem="Vin",
        summary="The vehicle identification number (VIN) on a windscreen plate or a chassis.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        limits=_limits(15, 4096),
        sdk_method="recognize_vin",
    ),
    Api(
        slug="custom-template",
        title="Custom Template",
        title_zh="自定义模板OCR",
        operator_stem="CustomTemplate",
        summary="Fields of a layout trained in the console (a template or a classifier of templates).",
        image_field="image",
        endpoints=Endpoints(
            other=("cn-north-4", "cn-east-3", "cn-north-1"), other_source="the vendor's offline notice"
        ),
        result_kind="object",
        limits=_limits(15, 8192, "JPEG PNG BMP TIFF GIF WEBP"),
        params=(
            Param(
                "template_id", "str", "Template id: recognise with this one template.", one_of="classifier_id"
            ),
            Param(
                "classifier_id",
                "str",
                "Classifier id: pick the template, then recognise.",
                one_of="template_id",
            ),
            _off("classifier_mode", "With classifier_id: return only which template matched."),
        ),
        lifecycle=Lifecycle(
            "retired",
            (
                LifecycleEvent(
                    "sales stopped",
                    "2024-07-05",
                    "vendor bulletin 【停售公告】OCR自定义模板停售公告",
                    ("cn-north-4", "cn-east-3", "cn-north-1"),
                ),
                LifecycleEvent(
                    "offline",
                    "2025-12-31",
                    "vendor bulletin 【下线公告】OCR自定义模板下线公告",
                    ("cn-north-4", "cn-east-3", "cn-north-1"),
                ),
            ),
        ),
        sdk_method="recognize_custom_template",
        notes=("The answer also carries template_id at the top level, beside result.",),
    ),
)


# --- identity documents and cards outside the mainland ---------------------------------

INTERNATIONAL: tuple[Api, ...] = (
    Api(
        slug="id-document",
        title="ID Document",
        title_zh="通用证件识别",
        operator_stem="IdDocument",
        summary="Passports, driving licences and identity cards of many countries.",
        image_field="image",
        endpoints=_intl("ap-southeast-1"),
        result_kind="object",
        category="international",
        limits=_limits(100, 8192),
        params=(
            _choices(
                "country_region",
                "ISO 3166-1 alpha-3 codes of the issuing countries to consider.",
                ID_DOCUMENT_COUNTRIES,
            ),
            _choices(
                "id_type",
                "Document types to consider: PP passport, DL driving licence, ID identity card.",
                ("PP", "DL", "ID"),
            ),
            _bool("return_portrait_image", "Return the portrait photo as Base64."),
        ),
        lifecycle=Lifecycle(
            "removed",
            (LifecycleEvent("removed", "2025-11-04", "vendor notice (calls may fail with APIG.0101)"),),
        ),
        sdk_method="recognize_id_document",
    ),
    Api(
        slug="auto-id-doc-classification",
        title="Auto ID Document Classification",
        title_zh="智能证件分类",
        operator_stem="AutoIdDocClassification",
        summary="Classifies an identity document image and can raise quality alarms.",
        image_field="data",
        endpoints=_intl("ap-southeast-2"),
        result_kind="object",
        category="international",
        limits=_limits(15, 8192),
        params=(_off("alarm", "Detect blur, glare, occlusion, copies, recaptures and cut borders."),),
        sdk_method="recognize_auto_id_doc_classification",
    ),
    Api(
        slug="passport",
        title="Passport",
        title_zh="护照识别",
        operator_stem="Passport",
        summary="Passport data page fields, from the machine-readable zone or a Chinese passport.",
        image_field="image",
        endpoints=Endpoints(cn=("cn-north-4",), intl=("ap-southeast-1", "ap-southeast-2")),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        params=(
            _choice(
                "country_code",
                "GENERAL reads the machine-readable zone, CHN reads all fields of a Chinese passport; omit to choose automatically.",
                ("GENERAL", "CHN"),
                empty="choose the mode from the detected passport",
            ),
        ),
        enterprise_project_header=False,
        sdk_method="recognize_passport",
    ),
    Api(
        slug="thailand-id-card",
        title="Thailand ID Card",
        title_zh="泰文身份证识别",
        operator_stem="ThailandIdCard",
        summary="Fields of Thai identity cards, front and back.",
        image_field="image",
        endpoints=Endpoints(cn=("ap-southeast-2",), intl=("ap-southeast-2",)),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        params=(
            _choice("side", _SIDE, ("front", "back"), empty=_SIDE_EMPTY),
            _off("return_portrait_image", _PORTRAIT_IMAGE),
            _bool("return_portrait_location", _PORTRAIT_LOCATION),
            _bool("return_idcard_type", _IDCARD_TYPE),
            _off("return_text_location", _TEXT_LOCATION),
        ),
        sdk_method="recognize_thailand_idcard",
    ),
    Api(
        slug="colombia-id-card",
        title="Colombia ID Card",
        title_zh="哥伦比亚身份证识别",
        operator_stem="ColombiaIdCard",
        summary="Fields of Colombian identity cards.",
        image_field="image",
        endpoints=Endpoints(cn=("la-north-2", "la-south-2"), intl=("la-north-2",)),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        sdk_method="recognize_colombia_id_card",
        notes=(
            "Region tables disagree: the mainland table lists la-north-2 and la-south-2, the international one la-north-2 only.",
        ),
    ),
    Api(
        slug="cambodian-idcard",
        title="Cambodian ID Card",
        title_zh="柬文身份证识别",
        operator_stem="CambodianIdCard",
        summary="Fields of Cambodian identity cards, with optional fraud and quality alarms.",
        image_field="image",
        endpoints=_intl("ap-southeast-3"),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        params=(
            *_PORTRAIT,
            _bool("return_idcard_type", _IDCARD_TYPE),
            _bool("detect_border_integrity", "Alarm when the card border is incomplete."),
            _bool("detect_blocking_within_border", "Alarm when something covers the card."),
            _bool("detect_blur", "Alarm when the image is blurred."),
            _bool("detect_glare", "Alarm on glare."),
            _bool("return_adjusted_image", "Return the straightened card image as Base64."),
            _bool("detect_tampering", "Alarm when the portrait looks edited."),
            _bool("detect_reproduce", "Alarm when the image is a photo of a screen or print."),
        ),
        sdk_method="recognize_cambodian_id_card",
    ),
    Api(
        slug="myanmar-id-card",
        title="Myanmar ID Card",
        title_zh="缅文身份证识别",
        operator_stem="MyanmarIdCard",
        summary="Fields of Myanmar NRC cards, optionally translated.",
        image_field="image",
        endpoints=_intl("ap-southeast-1", "ap-southeast-2"),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        params=(
            _off("convert_unicode", _CONVERT_UNICODE),
            _off("return_confidence", "Return a confidence per field."),
            _off("return_portrait_image", _PORTRAIT_IMAGE),
            _bool("return_portrait_location", _PORTRAIT_LOCATION),
            _bool("return_idcard_type", _IDCARD_TYPE),
            _bool("return_translation", "Return translations of the fields (translation_info)."),
        ),
        sdk_method="recognize_myanmar_idcard",
        notes=("Region tables disagree: ap-southeast-1 in both, ap-southeast-2 in the endpoint table only.",),
    ),
    Api(
        slug="myanmar-driver-license",
        title="Myanmar Driving License",
        title_zh="缅文驾驶证识别",
        operator_stem="MyanmarDriverLicense",
        summary="Fields of Myanmar driving licences.",
        image_field="image",
        endpoints=_intl("ap-southeast-1"),
        result_kind="object",
        category="international",
        limits=_limits(15, 4096),
        params=(_off("convert_unicode", _CONVERT_UNICODE),),
        sdk_method="recognize_myanmar_driver_license",
        notes=("Largest side: 4,096 px in the parameter table, 8,192 px in the notes; 4,096 is used.",),
    ),
    Api(
        slug="chile-id-card",
        title="Chile ID Card",
        title_zh="智利身份证识别",
        operator_stem="ChileIdCard",
        summary="Fields of Chilean identity cards.",
        image_field="image",
        endpoints=_intl("la-south-2"),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        sdk_method="recognize_chile_id_card",
    ),
    Api(
        slug="vietnam-id-card",
        title="Vietnam ID Card",
        title_zh="越南身份证识别",
        operator_stem="VietnamIdCard",
        summary="Fields of Vietnamese identity cards, front and back.",
        image_field="image",
        endpoints=_intl("ap-southeast-1"),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        params=(
            _choice("side", _SIDE, ("front", "back"), empty=_SIDE_EMPTY),
            _off("return_portrait_image", _PORTRAIT_IMAGE),
            _bool("return_portrait_location", _PORTRAIT_LOCATION),
            _bool("return_idcard_type", "Return whether the card is an original, a copy or a screen photo."),
            _off("return_text_location", _TEXT_LOCATION),
        ),
        sdk_method="recognize_vietnam_id_card",
    ),
    Api(
        slug="peru-id-card",
        title="Peru ID Card",
        title_zh="秘鲁身份证识别",
        operator_stem="PeruIdCard",
        summary="Fields of Peruvian identity cards.",
        image_field="image",
        endpoints=_intl("la-south-2"),
        result_kind="object",
        category="international",
        limits=_limits(15, 8192, "JPEG PNG BMP TIFF PDF"),
        params=_PORTRAIT,
        sdk_method="recognize_peru_id_card",
        notes=("The parameter table accepts PDF; the notes section lists images only. PDF is accepted.",),
    ),
    Api(
        slug="thailand-license-plate",
        title="Thailand License Plate",
        title_zh="泰国车牌识别",
        operator_stem="ThailandLicensePlate",
        summary="Thai vehicle plates: number, province and position, one item per plate.",
        image_field="image",
        endpoints=Endpoints(cn=("ap-southeast-2",), intl=("ap-southeast-2",)),
        result_kind="list",
        category="international",
        limits=_ID_CARD,
        sdk_method="recognize_thailand_license_plate",
    ),
    Api(
        slug="hk-id-card",
        title="Hong Kong ID Card",
        title_zh="香港身份证识别",
        operator_stem="HkIdCard",
        summary="Fields of Hong Kong identity cards, Chinese telegraph codes included.",
        image_field="image",
        endpoints=Endpoints(),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        params=_PORTRAIT,
        sdk_method="recognize_hk_id_card",
        reference=f"{_SUPPORT}/intl/en-us/api-ocr/ocr_03_0138.html",
        notes=("Neither endpoint table lists a region for this API: calls are warned about, never refused.",),
    ),
    Api(
        slug="macao-id-card",
        title="Macao ID Card",
        title_zh="澳门身份证识别",
        operator_stem="MacaoIdCard",
        summary="Fields of Macao identity cards, front and back.",
        image_field="image",
        endpoints=Endpoints(),
        result_kind="object",
        category="international",
        limits=_ID_CARD,
        params=(
            _choice("side", _SIDE, ("front", "back"), empty=_SIDE_EMPTY),
            _off("return_portrait_image", _PORTRAIT_IMAGE),
        ),
        sdk_method="recognize_macao_id_card",
        reference=f"{_SUPPORT}/intl/en-us/api-ocr/ocr_03_0139.html",
        notes=("Neither endpoint table lists a region for this API: calls are warned about, never refused.",),
    ),
)


# --- mainland China: invoices, tickets, certificates, licences ------------------------

_VAT_DOC = "Invoice code; an empty string for a fully digital invoice (全电发票), which has none."

MAINLAND: tuple[Api, ...] = (
    Api(
        slug="vat-invoice",
        title="VAT Invoice",
        title_zh="增值税发票识别",
        operator_stem="VatInvoice",
        summary="Every field of a VAT invoice (special, ordinary, electronic, fully digital, roll), with items.",
        image_field="image",
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(100, 8192, "JPEG PNG BMP TIFF PDF OFD"),
        params=(
            _off("advanced_mode", "Return more fields (seals, remarks, issuer, confidences ...)."),
            _off("return_text_location", _TEXT_LOCATION),
            _page("page_num", "Page of a multi-page PDF to recognise (1 = first page)."),
            _off(
                "ofd_to_image_mode",
                "Read an OFD file as an image (more robust, much slower) instead of parsing it.",
            ),
        ),
        sdk_method="recognize_vat_invoice",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0019.html",
    ),
    Api(
        slug="invoice-verification",
        title="Invoice Verification",
        title_zh="发票验真",
        operator_stem="InvoiceVerification",
        summary="Checks an invoice against the tax authority's records: no image, its code, number and date.",
        image_field=None,
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=NO_IMAGE,
        params=(
            Param(
                "code",
                "str",
                _VAT_DOC,
                required=True,
                empty="a fully digital invoice (no code)",
                pattern=r"\d+",
            ),
            Param("number", "str", "Invoice number (digits).", required=True, pattern=r"\d+"),
            Param("issue_date", "str", "Date of issue, YYYY-MM-DD.", required=True, date=True),
            Param(
                "check_code",
                "str",
                "Last six digits of the check code; a blockchain invoice's whole check code, five letters or "
                "digits. Needed for ordinary VAT invoices (paper, electronic, roll, toll) and blockchain "
                "invoices.",
                pattern=CHECK_CODE_PATTERN,
            ),
            Param(
                "subtotal_amount",
                "str",
                "Amount as printed, with its two decimals ('88.00', not '88' or '88.0'). Needed for, and "
                "meaning: special VAT (paper, electronic), motor vehicle and blockchain invoices, the total "
                "before tax; used-car invoices, the car price; fully digital invoices, the total with tax.",
                pattern=AMOUNT_PATTERN,
            ),
        ),
        lifecycle=Lifecycle(
            "sales_stopped",
            (
                LifecycleEvent(
                    "sales stopped",
                    "2025-07-14",
                    f"banner on {_SUPPORT}/api-ocr/ocr_03_0134.html (updated 2025-12-03)",
                ),
            ),
        ),
        sdk_method="recognize_invoice_verification",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0134.html",
        notes=(
            "No image: the invoice's fields are the request.",
            "The tax authority allows 5 checks per invoice per day and invoices of the last 5 years; a newly issued invoice can be checked 24 hours after issue.",
            "Checked before a call (catalog/invoice_rules.py): the issue date (not in the future, not today, not over 5 years ago, China time) and what each of the 10 invoice kinds needs.",
            "AIS.0118 means the tax authority's interface is down: retry about 2 hours later.",
        ),
    ),
    Api(
        slug="mvs-invoice",
        title="Motor Vehicle Sales Invoice",
        title_zh="机动车销售发票识别",
        operator_stem="MvsInvoice",
        summary="Fields of motor-vehicle and used-car sales invoices.",
        image_field="image",
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(100, 8000, "JPEG PNG BMP TIFF PDF"),
        params=(
            _off("return_text_location", _TEXT_LOCATION),
            _off("return_confidence", "Return a confidence per field."),
            _choice(
                "type",
                "auto: detect new or used-car invoice and say which; new / used: expect that kind (another "
                "kind fails with AIS.0104). Omit for the original new-car fields.",
                ("auto", "new", "used"),
            ),
        ),
        sdk_method="recognize_mvs_invoice",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0041.html",
    ),
    Api(
        slug="quota-invoice",
        title="Quota Invoice",
        title_zh="定额发票识别",
        operator_stem="QuotaInvoice",
        summary="Code, number and amount of a fixed-amount (quota) invoice.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(15, 8192),
        sdk_method="recognize_quota_invoice",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0102.html",
        notes=(
            _SDK_SIDE.format(page=8192, sdk="long side at most 4,096 px (so did the older English page)"),
        ),
    ),
    Api(
        slug="taxi-invoice",
        title="Taxi Invoice",
        title_zh="出租车发票识别",
        operator_stem="TaxiInvoice",
        summary="Taxi receipt: code, number, car, times, distance and fare.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(15, 8192),
        params=(_off("return_text_location", _TEXT_LOCATION),),
        sdk_method="recognize_taxi_invoice",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0110.html",
        notes=(_SDK_SIDE.format(page=8192, sdk="long side at most 4,096 px"),),
    ),
    Api(
        slug="toll-invoice",
        title="Toll Invoice",
        title_zh="车辆通行费发票识别",
        operator_stem="TollInvoice",
        summary="Vehicle toll receipt: code, number, entry, exit, amount and time.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(15, 4096),
        params=(_off("return_text_location", _TEXT_LOCATION),),
        sdk_method="recognize_toll_invoice",
    ),
    Api(
        slug="train-ticket",
        title="Train Ticket",
        title_zh="火车票识别",
        operator_stem="TrainTicket",
        summary="Train ticket or e-ticket receipt: stations, train, seat, price, passenger.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(15, 8192, "JPEG PNG BMP TIFF OFD"),
        params=(_off("return_text_location", _TEXT_LOCATION),),
        sdk_method="recognize_train_ticket",
        notes=("OFD input is for railway e-tickets only.",),
    ),
    Api(
        slug="flight-itinerary",
        title="Flight Itinerary",
        title_zh="飞机行程单识别",
        operator_stem="FlightItinerary",
        summary="Air itinerary receipt: passenger, flights, fare, taxes and totals.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        sdk_method="recognize_flight_itinerary",
    ),
    Api(
        slug="acceptance-bill",
        title="Acceptance Bill",
        title_zh="承兑汇票识别",
        operator_stem="AcceptanceBill",
        summary="Bank or commercial acceptance bill: parties, accounts, amounts, dates, guarantees.",
        image_field="image",
        endpoints=_cn("cn-north-4", "cn-south-1"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        sdk_method="recognize_acceptance_bill",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0163.html",
    ),
    Api(
        slug="bank-receipt",
        title="Bank Receipt",
        title_zh="银行回单识别",
        operator_stem="BankReceipt",
        summary="Key-value pairs of each bank receipt on a page.",
        image_field="data",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(15, 8192, "JPEG PNG BMP TIFF PDF"),
        params=(
            _page("page_num", "Page of a multi-page PDF to recognise (1 = first page)."),
            _bool("single_orientation_mode", "Assume all text shares one orientation.", True),
            _bool("erase_seal", "Erase seals before recognition (better text under them)."),
        ),
        sdk_method="recognize_bank_receipt",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0172.html",
        notes=("A PDF is rendered at 200 dpi and must then meet the pixel limits.",),
    ),
    Api(
        slug="financial-statement",
        title="Financial Statement",
        title_zh="财务报表识别",
        operator_stem="FinancialStatement",
        summary="Tables of balance sheets, income and cash-flow statements, optionally as Excel.",
        image_field="image",
        endpoints=_cn("cn-east-3"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=(
            _off("return_text_location", "Return the coordinates of text blocks and cells."),
            _off("return_confidence", "Return confidences (four decimals)."),
            _off("return_excel", "Return the tables as a Base64 .xlsx in result.excel."),
            _off("return_table_location", "Return the coordinates of each table."),
            _off("return_image_size", "Return the size of the straightened image."),
            _off("return_rectification_matrix", "Return the perspective correction matrix."),
        ),
        sdk_method="recognize_financial_statement",
    ),
    Api(
        slug="insurance-policy",
        title="Insurance Policy",
        title_zh="保险单识别",
        operator_stem="InsurancePolicy",
        summary="Policy holder, insured persons, beneficiaries and cover of an insurance policy.",
        image_field="image",
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=(_off("detect_direction", _DIRECTION),),
        sdk_method="recognize_insurance_policy",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0049.html",
    ),
    Api(
        slug="id-card",
        title="ID Card",
        title_zh="身份证识别",
        operator_stem="IdCard",
        summary="Mainland resident identity card, portrait and emblem sides, with checks and fraud alarms.",
        image_field="image",
        endpoints=Endpoints(
            cn=("cn-east-3", "cn-north-4"),
            other=("cn-north-1",),
            other_source="an older edition of the mainland endpoint table",
        ),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=(
            _choice(
                "side",
                "front: portrait side, back: emblem side, double_side: both in one image; omit to detect.",
                CARD_SIDES,
                empty=_SIDE_EMPTY,
            ),
            _off(
                "return_verification",
                "Check the ID number, birth date, sex and validity (verification_result).",
            ),
            _off("return_text_location", _TEXT_LOCATION),
            _off("detect_reproduce", "Alarm when the image is a recapture (photo of a screen or print)."),
            _off("detect_copy", "Alarm when the image is a black-and-white copy."),
            _off("return_portrait_location", _PORTRAIT_LOCATION),
            _off("return_portrait_image", _PORTRAIT_IMAGE),
            _off("return_adjusted_image", "Return the straightened card image as Base64."),
            _off("detect_tampering", "Alarm when the image looks edited."),
            _off("detect_border_integrity", "Alarm when the card border is incomplete."),
            _off("detect_blocking_within_border", "Alarm when something covers the card."),
            _off("detect_blur", "Alarm when the image is blurred."),
            _off("detect_interim", "Alarm when the card is a temporary ID card."),
            _off("detect_glare", "Alarm on glare."),
        ),
        sdk_method="recognize_id_card",
        reference=f"{_SUPPORT}/en-us/api-ocr/ocr_03_0030.html",
    ),
    Api(
        slug="driver-license",
        title="Driving License",
        title_zh="驾驶证识别",
        operator_stem="DriverLicense",
        summary="Mainland driving licence, main and second page, paper or electronic.",
        image_field="image",
        endpoints=Endpoints(
            cn=("cn-east-3", "cn-north-4"),
            other=("cn-north-1",),
            other_source="an older edition of the mainland endpoint table",
        ),
        result_kind="object",
        category="mainland",
        limits=_limits(100, 8000),
        params=(
            _choice(
                "side",
                "front: main page, back: second page, double_side: both; omit for the main page.",
                CARD_SIDES,
                empty="read the main page",
            ),
            _off("return_issuing_authority", _ISSUING_AUTHORITY),
            _off("return_text_location", _TEXT_LOCATION),
        ),
        sdk_method="recognize_driver_license",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0033.html",
        notes=(_SDK_SIDE.format(page=8000, sdk="long side at most 8,192 px"),),
    ),
    Api(
        slug="vehicle-license",
        title="Vehicle License",
        title_zh="行驶证识别",
        operator_stem="VehicleLicense",
        summary="Mainland vehicle licence, main and second page, paper or electronic, with alarms.",
        image_field="image",
        endpoints=Endpoints(
            cn=("cn-east-3", "cn-north-4"),
            other=("cn-north-1",),
            other_source="an older edition of the mainland endpoint table",
        ),
        result_kind="object",
        category="mainland",
        limits=_limits(100, 8000),
        params=(
            _choice(
                "side",
                "front: main page, back: second page, double_side: both; omit for the main page.",
                CARD_SIDES,
                empty="read the main page",
            ),
            _off("return_issuing_authority", _ISSUING_AUTHORITY),
            _off("return_text_location", _TEXT_LOCATION),
            _off("recognize_electronic_license", "Also read electronic vehicle licences."),
            _off("alarm", "Return image alarms for paper licences (alarm_result, alarm_confidence)."),
        ),
        sdk_method="recognize_vehicle_license",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0034.html",
        notes=(_SDK_SIDE.format(page=8000, sdk="long side at most 8,192 px"),),
    ),
    Api(
        slug="vehicle-certificate",
        title="Vehicle Certificate",
        title_zh="车辆合格证识别",
        operator_stem="VehicleCertificate",
        summary="Vehicle certificate of conformity: maker, model, VIN, engine, dimensions, weights.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=(_off("return_text_location", _TEXT_LOCATION),),
        sdk_method="recognize_vehicle_certificate",
    ),
    Api(
        slug="license-plate",
        title="License Plate",
        title_zh="车牌识别",
        operator_stem="LicensePlate",
        summary="Mainland vehicle plates: number, colour and position, one item per plate.",
        image_field="image",
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="list",
        category="mainland",
        limits=_limits(15, 4096),
        sdk_method="recognize_license_plate",
    ),
    Api(
        slug="business-license",
        title="Business License",
        title_zh="营业执照识别",
        operator_stem="BusinessLicense",
        summary="Registration number, name, legal representative, capital and scope of a business licence.",
        image_field="image",
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(15, 8192, "JPEG PNG BMP TIFF PDF"),
        sdk_method="recognize_business_license",
        notes=("Only the first page of a multi-page PDF is read.",),
    ),
    Api(
        slug="bankcard",
        title="Bank Card",
        title_zh="银行卡识别",
        operator_stem="BankCard",
        summary="Bank name, card number, dates and type of a bank card.",
        image_field="image",
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=(_off("return_text_location", _TEXT_LOCATION),),
        sdk_method="recognize_bankcard",
    ),
    Api(
        slug="household-register",
        title="Household Register",
        title_zh="户口本识别",
        operator_stem="HouseholdRegister",
        summary="Pages of a household register (hukou): the head page and one item per resident page.",
        image_field="image",
        endpoints=_cn("cn-north-4"),
        result_kind="list",
        category="mainland",
        limits=_CN_DOC,
        sdk_method="recognize_household_register",
    ),
    Api(
        slug="real-estate-certificate",
        title="Real Estate Certificate",
        title_zh="不动产证识别",
        operator_stem="RealEstateCertificate",
        summary="Real-estate certificate: holder, location, area, usage, rights and seals.",
        image_field="image",
        endpoints=_cn("cn-north-4", "cn-south-1"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        sdk_method="recognize_real_estate_certificate",
    ),
    Api(
        slug="transportation-license",
        title="Transportation License",
        title_zh="道路运输证识别",
        operator_stem="TransportationLicense",
        summary="Road transport licence of a vehicle: owner, licence and vehicle numbers, scope, dates.",
        image_field="image",
        endpoints=_cn("cn-east-3", "cn-north-4"),
        result_kind="object",
        category="mainland",
        limits=_limits(15, 4096),
        params=(
            _off("return_image_location", "Return where the licence is on the image."),
            _off("return_adjusted_image", "Return the straightened licence image as Base64."),
        ),
        sdk_method="recognize_transportation_license",
    ),
    Api(
        slug="transportation-qualification-certificate",
        title="Transportation Qualification Certificate",
        title_zh="道路运输从业资格证识别",
        operator_stem="QualificationCertificate",
        summary="Road transport worker's qualification certificate: holder, categories, assessments.",
        image_field="image",
        endpoints=_cn("cn-east-3"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        sdk_method="recognize_qualification_certificate",
        notes=(
            "The SDK method is recognize_qualification_certificate; the mainland API overview labels the road transport licence with that name, contradicting the SDK. The SDK's path is used.",
        ),
    ),
    Api(
        slug="exit-entry-permit",
        title="Exit-Entry Permit",
        title_zh="往来港澳台通行证识别",
        operator_stem="ExitEntryPermit",
        summary="Mainland residents' permit to Hong Kong, Macao and Taiwan, with its endorsements.",
        image_field="image",
        endpoints=Endpoints(),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=_PORTRAIT,
        sdk_method="recognize_exit_entry_permit",
        reference=f"{_SUPPORT}/intl/zh-cn/api-ocr/ocr_03_0140.html",
        notes=("Neither endpoint table lists a region for this API: calls are warned about, never refused.",),
    ),
    Api(
        slug="mainland-travel-permit",
        title="Mainland Travel Permit",
        title_zh="港澳台居民来往内地通行证识别",
        operator_stem="MainlandTravelPermit",
        summary="Hong Kong, Macao and Taiwan residents' permit to the mainland, both sides.",
        image_field="image",
        endpoints=Endpoints(),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=_PORTRAIT,
        sdk_method="recognize_mainland_travel_permit",
        reference=f"{_SUPPORT}/intl/zh-cn/api-ocr/ocr_03_0141.html",
        notes=("Neither endpoint table lists a region for this API: calls are warned about, never refused.",),
    ),
    Api(
        slug="health-code",
        title="Health Code",
        title_zh="防疫健康码识别",
        operator_stem="HealthCode",
        summary="Fields of a pandemic health-code screenshot.",
        image_field="image",
        endpoints=Endpoints(),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=(_off("detect_direction", _DIRECTION),),
        lifecycle=Lifecycle("sales_stopped", (_SALES_STOP_2022,)),
        sdk_method="recognize_health_code",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0143.html",
    ),
    Api(
        slug="pcr-test-record",
        title="PCR Test Record",
        title_zh="核酸检测记录识别",
        operator_stem="PcrTestRecord",
        summary="Name, sampling and test times and result of a PCR test record screenshot.",
        image_field="image",
        endpoints=Endpoints(),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        params=(_off("detect_direction", _DIRECTION),),
        lifecycle=Lifecycle("sales_stopped", (_SALES_STOP_2022,)),
        sdk_method="recognize_pcr_test_record",
    ),
    Api(
        slug="waybill-electronic",
        title="Electronic Waybill",
        title_zh="电子面单识别",
        operator_stem="WaybillElectronic",
        summary="Sender, receiver and waybill number of an express-delivery label.",
        image_field="image",
        endpoints=Endpoints(other=("cn-east-3",), other_source="the vendor's sales-stop notice"),
        result_kind="object",
        category="mainland",
        limits=_CN_DOC,
        lifecycle=Lifecycle(
            "retired",
            (
                LifecycleEvent(
                    "sales stopped",
                    "2025-02-18",
                    "vendor bulletin 【停售公告】OCR电子面单识别停售公告",
                    ("cn-east-3",),
                ),
                LifecycleEvent("delisted", "2025-09-04", f"banner on {_SUPPORT}/api-ocr/ocr_03_0044.html"),
            ),
        ),
        sdk_method="recognize_waybill_electronic",
        reference=f"{_SUPPORT}/api-ocr/ocr_03_0044.html",
    ),
)

APIS: tuple[Api, ...] = (*GENERAL, *INTERNATIONAL, *MAINLAND)
#: The APIs the vendor still answers: active and sales stopped (each has an operator).
LIVE_APIS: tuple[Api, ...] = tuple(api for api in APIS if api.live)

#: APIs that read identity documents (ID cards, passports, driving and other licences, permits,
#: household registers, health records): their text is personal data, not logged by default
#: (``log_text=None``). The one list of them.
ID_DOCUMENTS: frozenset[str] = frozenset(
    {
        "id-document",
        "auto-id-doc-classification",
        "passport",
        "thailand-id-card",
        "colombia-id-card",
        "cambodian-idcard",
        "myanmar-id-card",
        "myanmar-driver-license",
        "chile-id-card",
        "vietnam-id-card",
        "peru-id-card",
        "hk-id-card",
        "macao-id-card",
        "id-card",
        "driver-license",
        "vehicle-license",
        "bankcard",
        "household-register",
        "transportation-qualification-certificate",
        "exit-entry-permit",
        "mainland-travel-permit",
        "health-code",
        "pcr-test-record",
    }
)
