"""The 18 OCR APIs of the vendor documentation, as data.

Facts (names, paths, values, limits) come from the OCR API reference. Where
the reference contradicts itself, the reading taken is the request-parameter
table of the API itself (it describes what the request field accepts); the
other reading is kept in ``notes``. Region lists are the union of the
reference's two region tables, since a region listed in either is one where
users may have subscribed.
"""

from __future__ import annotations

from airflow_provider_hwocr.catalog.model import Api, Limits, Param

# --- small constructors keep the table readable --------------------------------


def _bool(name: str, doc: str, default: bool | None = None) -> Param:
    return Param(name=name, kind="bool", doc=doc, default=default)


def _choice(name: str, doc: str, allowed: tuple[str, ...], default: str | None = None) -> Param:
    return Param(name=name, kind="str", doc=doc, allowed=allowed, default=default)


def _choices(name: str, doc: str, allowed: tuple[str, ...]) -> Param:
    return Param(name=name, kind="str_list", doc=doc, allowed=allowed)


def _page(doc: str = "PDF page to recognise (1 = first page).") -> Param:
    return Param(name="pdf_page_number", kind="int", doc=doc, default=1, minimum=1)


def _formats(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ID_CARD = Limits(formats=_formats("JPEG PNG BMP TIFF"), min_side=15, max_side=8192)


_PORTRAIT_IMAGE = "Return the portrait photo of the card as Base64."
_PORTRAIT_LOCATION = "Return where the portrait is on the image."
_IDCARD_TYPE = "Return whether the card is an original or a copy (idcard_type)."
_TEXT_LOCATION = "Return the position of every recognised field (text_location)."
_SIDE = "Which side of the card the image shows; omit to let the service detect it."
_CONVERT_UNICODE = "Return Burmese text as Unicode (true) instead of Zawgyi (false, the default)."

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


APIS: tuple[Api, ...] = (
    Api(
        slug="smart-document-recognizer",
        title="Smart Document Recognizer",
        operator_stem="SmartDocumentRecognizer",
        summary="Text, key-value pairs, tables, layout, forms and formulas from documents and PDF pages.",
        image_field="data",
        regions=("ap-southeast-1", "ap-southeast-3"),
        result_kind="list",
        limits=Limits(formats=_formats("JPEG PNG BMP TIFF PDF"), min_side=15, max_side=30000),
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
        notes=(
            "Formats: the parameter table lists JPG, PNG, BMP, TIFF, PDF; the notes section also names GIF, WebP, PCX, ICO, PSD. The parameter table is used.",
            "The data description says only the first page of a PDF is read, while pdf_page_number selects any page; pdf_page_number is offered.",
        ),
    ),
    Api(
        slug="id-document",
        title="ID Document",
        operator_stem="IdDocument",
        summary="Passports, driving licences and identity cards of many countries.",
        image_field="image",
        regions=("ap-southeast-1",),
        result_kind="object",
        limits=Limits(formats=_formats("JPEG PNG BMP TIFF"), min_side=100, max_side=8192),
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
        sdk_method="recognize_id_document",
        deprecation="The vendor removed the ID Document API on 2025-11-04; calls may fail with APIG.0101.",
    ),
    Api(
        slug="auto-id-doc-classification",
        title="Auto ID Document Classification",
        operator_stem="AutoIdDocClassification",
        summary="Classifies an identity document image and can raise quality alarms.",
        image_field="data",
        regions=("ap-southeast-2",),
        result_kind="object",
        limits=Limits(formats=_formats("JPEG PNG BMP TIFF"), min_side=15, max_side=8192),
        params=(_bool("alarm", "Detect blur, glare, occlusion, copies, recaptures and cut borders.", False),),
        sdk_method="recognize_auto_id_doc_classification",
    ),
    Api(
        slug="general-table",
        title="General Table",
        operator_stem="GeneralTable",
        summary="Tables with or without ruling lines, cell by cell, optionally as an Excel file.",
        image_field="image",
        regions=("ap-southeast-3",),
        result_kind="object",
        limits=Limits(formats=_formats("JPEG PNG BMP TIFF"), min_side=15, max_side=8192),
        params=(
            _bool("return_text_location", "Return the coordinates of text blocks and cells.", False),
            _bool(
                "return_char_location",
                "Return per-character coordinates (needs return_text_location).",
                False,
            ),
            _bool("return_confidence", "Return confidence scores.", False),
            _bool("return_excel", "Return the table as a Base64 .xlsx in result.excel.", False),
            _bool("return_rectification_matrix", "Return the perspective correction matrix.", False),
            _bool("with_borders", "The image holds only ruled tables; recognise only those.", False),
        ),
        sdk_method="recognize_general_table",
        notes=("The documented 400 example nests error_code/error_msg under result.",),
    ),
    Api(
        slug="general-text",
        title="General Text",
        operator_stem="GeneralText",
        summary="Printed text in any layout, many languages, images and PDF pages.",
        image_field="image",
        regions=("ap-southeast-1",),
        result_kind="object",
        limits=Limits(
            formats=_formats("JPEG PNG BMP GIF TIFF WEBP PCX ICO PDF PSD"),
            min_side=15,
            max_side=30000,
            max_pixels=160_000_000,
        ),
        params=(
            _bool("detect_direction", "Straighten tilted images and report the angle.", False),
            _bool("quick_mode", "Fast path for images holding a single line of text.", False),
            _bool("character_mode", "Return per-character results (char_list).", False),
            _choice(
                "language",
                "Recognition language; auto detects it (zh = Chinese and English).",
                GENERAL_TEXT_LANGUAGES,
                "zh",
            ),
            _bool("single_orientation_mode", "Assume all text shares one orientation.", False),
            _page(),
            _bool("return_markdown_result", "Also return all text joined as markdown_result.", False),
        ),
        sdk_method="recognize_general_text",
    ),
    Api(
        slug="web-image",
        title="Web Image",
        operator_stem="WebImage",
        summary="Text in web and social-media pictures, with optional contact extraction and fonts.",
        image_field="image",
        regions=("ap-southeast-2",),
        result_kind="object",
        limits=Limits(
            formats=_formats("JPEG PNG BMP TIFF TGA WEBP ICO PCX GIF"), min_side=15, max_side=30000
        ),
        params=(
            _bool("detect_direction", "Straighten tilted images.", False),
            _choices(
                "extract_type",
                "Structured items to extract into extracted_data.",
                ("image_size", "contact_info"),
            ),
            _bool("detect_font", "Return the most similar fonts of each block.", False),
            _bool("detect_text_direction", "Detect the direction of each text field.", True),
        ),
        enterprise_project_header=False,
        sdk_method="recognize_web_image",
    ),
    Api(
        slug="passport",
        title="Passport",
        operator_stem="Passport",
        summary="Passport data page fields, from the machine-readable zone or a Chinese passport.",
        image_field="image",
        regions=("ap-southeast-1", "ap-southeast-2"),
        result_kind="object",
        limits=_ID_CARD,
        params=(
            _choice(
                "country_code",
                "GENERAL reads the machine-readable zone, CHN reads all fields of a Chinese passport; omit to choose automatically.",
                ("GENERAL", "CHN"),
            ),
        ),
        enterprise_project_header=False,
        sdk_method="recognize_passport",
    ),
    Api(
        slug="thailand-id-card",
        title="Thailand ID Card",
        operator_stem="ThailandIdCard",
        summary="Fields of Thai identity cards, front and back.",
        image_field="image",
        regions=("ap-southeast-2",),
        result_kind="object",
        limits=_ID_CARD,
        params=(
            _choice("side", _SIDE, ("front", "back")),
            _bool("return_portrait_image", _PORTRAIT_IMAGE, False),
            _bool("return_portrait_location", _PORTRAIT_LOCATION),
            _bool("return_idcard_type", _IDCARD_TYPE),
            _bool("return_text_location", _TEXT_LOCATION, False),
        ),
        sdk_method="recognize_thailand_idcard",
    ),
    Api(
        slug="colombia-id-card",
        title="Colombia ID Card",
        operator_stem="ColombiaIdCard",
        summary="Fields of Colombian identity cards.",
        image_field="image",
        regions=("la-north-2",),
        result_kind="object",
        limits=_ID_CARD,
        sdk_method="recognize_colombia_id_card",
    ),
    Api(
        slug="cambodian-idcard",
        title="Cambodian ID Card",
        operator_stem="CambodianIdCard",
        summary="Fields of Cambodian identity cards, with optional fraud and quality alarms.",
        image_field="image",
        regions=("ap-southeast-3",),
        result_kind="object",
        limits=_ID_CARD,
        params=(
            _bool("return_portrait_image", _PORTRAIT_IMAGE, False),
            _bool("return_portrait_location", _PORTRAIT_LOCATION, False),
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
        operator_stem="MyanmarIdCard",
        summary="Fields of Myanmar NRC cards, optionally translated.",
        image_field="image",
        regions=("ap-southeast-1", "ap-southeast-2"),
        result_kind="object",
        limits=_ID_CARD,
        params=(
            _bool("convert_unicode", _CONVERT_UNICODE, False),
            _bool("return_confidence", "Return a confidence per field.", False),
            _bool("return_portrait_image", _PORTRAIT_IMAGE, False),
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
        operator_stem="MyanmarDriverLicense",
        summary="Fields of Myanmar driving licences.",
        image_field="image",
        regions=("ap-southeast-1",),
        result_kind="object",
        limits=Limits(formats=_formats("JPEG PNG BMP TIFF"), min_side=15, max_side=4096),
        params=(_bool("convert_unicode", _CONVERT_UNICODE, False),),
        sdk_method="recognize_myanmar_driver_license",
        notes=("Largest side: 4,096 px in the parameter table, 8,192 px in the notes; 4,096 is used.",),
    ),
    Api(
        slug="chile-id-card",
        title="Chile ID Card",
        operator_stem="ChileIdCard",
        summary="Fields of Chilean identity cards.",
        image_field="image",
        regions=("la-south-2",),
        result_kind="object",
        limits=_ID_CARD,
        sdk_method="recognize_chile_id_card",
    ),
    Api(
        slug="vietnam-id-card",
        title="Vietnam ID Card",
        operator_stem="VietnamIdCard",
        summary="Fields of Vietnamese identity cards, front and back.",
        image_field="image",
        regions=("ap-southeast-1",),
        result_kind="object",
        limits=_ID_CARD,
        params=(
            _choice("side", _SIDE, ("front", "back")),
            _bool("return_portrait_image", _PORTRAIT_IMAGE, False),
            _bool("return_portrait_location", _PORTRAIT_LOCATION),
            _bool("return_idcard_type", "Return whether the card is an original, a copy or a screen photo."),
            _bool("return_text_location", _TEXT_LOCATION, False),
        ),
        sdk_method="recognize_vietnam_id_card",
    ),
    Api(
        slug="peru-id-card",
        title="Peru ID Card",
        operator_stem="PeruIdCard",
        summary="Fields of Peruvian identity cards.",
        image_field="image",
        regions=("la-south-2",),
        result_kind="object",
        limits=Limits(formats=_formats("JPEG PNG BMP TIFF PDF"), min_side=15, max_side=8192),
        params=(
            _bool("return_portrait_image", _PORTRAIT_IMAGE, False),
            _bool("return_portrait_location", _PORTRAIT_LOCATION, False),
        ),
        sdk_method="recognize_peru_id_card",
        notes=("The parameter table accepts PDF; the notes section lists images only. PDF is accepted.",),
    ),
    Api(
        slug="thailand-license-plate",
        title="Thailand License Plate",
        operator_stem="ThailandLicensePlate",
        summary="Thai vehicle plates: number, province and position, one item per plate.",
        image_field="image",
        regions=("ap-southeast-2",),
        result_kind="list",
        limits=_ID_CARD,
        sdk_method="recognize_thailand_license_plate",
    ),
    Api(
        slug="auto-classification",
        title="Auto Classification",
        operator_stem="AutoClassification",
        summary="Finds and classifies several documents in one image and recognises each.",
        image_field="image",
        regions=("cn-north-4",),
        result_kind="list",
        limits=Limits(
            formats=_formats("JPEG PNG BMP TIFF"), min_side=15, max_side=8000, side_rule="short_long"
        ),
        params=(
            _choices(
                "type_list",
                "Only documents of these types are recognised; omit for all.",
                AUTO_CLASSIFICATION_TYPES,
            ),
        ),
        enterprise_project_header=False,
        alias_paths=("/v1.0/ocr/auto-classification",),
        sdk_method="recognize_auto_classification",
        notes=(
            "Each result item has its own status; a 200 answer can hold failed items.",
            "The v1.0 path is an alias without the project id.",
        ),
    ),
    Api(
        slug="handwriting",
        title="Handwriting",
        operator_stem="Handwriting",
        summary="Handwritten and printed text with positions.",
        image_field="image",
        regions=("cn-north-4",),
        result_kind="object",
        limits=Limits(
            formats=_formats("JPEG PNG BMP TIFF"), min_side=8, max_side=8192, side_rule="short_long"
        ),
        params=(
            _bool("quick_mode", "Fast path for images holding a single line of text.", False),
            Param(
                name="char_set",
                kind="str",
                doc="Restricts the output character set (default general).",
                default="general",
            ),
            _bool("detect_direction", "Straighten tilted images.", False),
        ),
        enterprise_project_header=False,
        sdk_method="recognize_handwriting",
        notes=("The docs' list of char_set values was lost; any non-empty string is accepted.",),
    ),
)
