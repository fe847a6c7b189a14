"""What each API answers: every documented field of ``result``, its type, and the request flag controlling it.

Facts come from the response tables of the OCR API reference; where a table
and the example answer disagree, the table is the model and the difference
is a note (on the field, or on the :class:`ResponseModel`). ``check`` compares
an answer with the model; the emulator's answers are tested against it for
every API with its flags on and off.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hwocr.catalog.response_model import Field, ResponseModel

F = Field

RESPONSES: dict[str, ResponseModel] = {
    "smart-document-recognizer": ResponseModel(
        kind="list",
        fields=(
            F(
                "ocr_result",
                "object",
                "Text recognition output.",
                fields=(
                    F("direction", "float", "Image direction."),
                    F("words_block_count", "int", "Number of text blocks."),
                    F(
                        "words_block_list",
                        "list[object]",
                        "Text blocks, left-to-right, top-to-bottom.",
                        fields=(
                            F("words", "str", "Block text."),
                            F(
                                "location",
                                "points",
                                "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical. For PDF input the coordinates are only indicative (relative positions).",
                            ),
                            F("confidence", "float", "Block confidence."),
                            F(
                                "char_list",
                                "list[object]",
                                "Per-character results.",
                                when="character_mode",
                                fields=(
                                    F("char", "str", "Character."),
                                    F(
                                        "char_location",
                                        "points",
                                        "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical. For PDF input the coordinates are only indicative (relative positions).",
                                    ),
                                    F("char_confidence", "float", "Character confidence."),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
            F(
                "kv_result",
                "object",
                "Key-value pairs.",
                when="kv",
                fields=(
                    F("kv_block_count", "int", "Number of key-value pairs."),
                    F(
                        "kv_block_list",
                        "list[object]",
                        "Key-value pairs.",
                        fields=(
                            F("key", "str", "Key text (e.g. 'Name')."),
                            F("value", "str", "Value text."),
                            F("words_block_count", "int", "Number of text boxes in the pair."),
                            F(
                                "words_block_list",
                                "list[object]",
                                "Text boxes.",
                                fields=(
                                    F("words", "str", "Text."),
                                    F(
                                        "location",
                                        "points",
                                        "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical. For PDF input the coordinates are only indicative (relative positions).",
                                    ),
                                    F(
                                        "type",
                                        "str",
                                        "Box role.",
                                        allowed=(
                                            "key",
                                            "value",
                                        ),
                                    ),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
            F(
                "table_result",
                "object",
                "Logical tables.",
                when="table",
                fields=(
                    F("table_count", "int", "Number of tables."),
                    F(
                        "table_list",
                        "list[object]",
                        "Tables.",
                        fields=(
                            F(
                                "location",
                                "points",
                                "Table/form position (4 vertices). For PDF input only indicative.",
                            ),
                            F("words_block_count", "int", "Number of cells."),
                            F(
                                "words_block_list",
                                "list[object]",
                                "Cells.",
                                fields=(
                                    F("words", "str", "Text recognized in the cell."),
                                    F("rows", "list[int]", "0-based row indices the cell spans."),
                                    F("columns", "list[int]", "0-based column indices the cell spans."),
                                ),
                            ),
                            F(
                                "excel",
                                "str",
                                "Base64 of an .xlsx rendering of the table (decode with base64.b64decode).",
                                when="table and return_excel",
                            ),
                        ),
                    ),
                ),
            ),
            F(
                "layout_result",
                "object",
                "Layout regions.",
                when="layout",
                fields=(
                    F("layout_block_count", "int", "Number of layout regions."),
                    F(
                        "layout_block_list",
                        "list[object]",
                        "Layout regions.",
                        fields=(
                            F(
                                "location",
                                "points",
                                "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical. For PDF input the coordinates are only indicative (relative positions).",
                            ),
                            F(
                                "type",
                                "str",
                                "Region type.",
                                allowed=(
                                    "text",
                                    "title",
                                    "sub_title",
                                    "image",
                                    "image_caption",
                                    "form",
                                    "table",
                                    "table_caption",
                                    "header",
                                    "footer",
                                    "page_number",
                                    "reference",
                                    "formula",
                                    "stamp",
                                    "directory",
                                    "footnote",
                                ),
                            ),
                            F("text", "str", "Region text (not returned for tables and images)."),
                            F(
                                "words_ids",
                                "list[int]",
                                "Indexes into ocr_result.words_block_list of the blocks inside this region.",
                            ),
                            F(
                                "table_id",
                                "int",
                                "Index into table_result for this region.",
                                when="@type=table and table",
                            ),
                            F(
                                "form_id",
                                "int",
                                "Index into form_result for this region.",
                                when="@type=form and form",
                                notes=(
                                    "Seed says 'the input parameter table is True' for form_id; probably meant form=true. Ambiguous.",
                                ),
                            ),
                            F(
                                "formula_id",
                                "int",
                                "Index into formula_result for this region.",
                                when="@type=formula and formula",
                            ),
                        ),
                    ),
                ),
            ),
            F(
                "form_result",
                "object",
                "Wired forms.",
                when="form",
                fields=(
                    F("form_count", "int", "Number of wired forms."),
                    F(
                        "form_list",
                        "list[object]",
                        "Forms (same block shape as tables).",
                        fields=(
                            F(
                                "location",
                                "points",
                                "Table/form position (4 vertices). For PDF input only indicative.",
                            ),
                            F("words_block_count", "int", "Number of cells."),
                            F(
                                "words_block_list",
                                "list[object]",
                                "Cells.",
                                fields=(
                                    F("words", "str", "Text recognized in the cell."),
                                    F("rows", "list[int]", "0-based row indices the cell spans."),
                                    F("columns", "list[int]", "0-based column indices the cell spans."),
                                ),
                            ),
                            F(
                                "excel",
                                "str",
                                "Base64 of an .xlsx rendering of the table (decode with base64.b64decode).",
                                when="form and return_excel",
                            ),
                        ),
                    ),
                ),
            ),
            F(
                "formula_result",
                "object",
                "Formulas.",
                when="formula",
                notes=("Seed gives no 'returned only when' condition; presumably formula=true.",),
                fields=(
                    F("formula_count", "int", "Number of formulas."),
                    F(
                        "formula_list",
                        "list[object]",
                        "Formulas.",
                        fields=(
                            F("formula", "str", "LaTeX string."),
                            F(
                                "location",
                                "points",
                                "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical. For PDF input the coordinates are only indicative (relative positions).",
                            ),
                            F(
                                "type",
                                "str",
                                "formula = standalone, embedded_formula = inline.",
                                required=False,
                                allowed=(
                                    "formula",
                                    "embedded_formula",
                                ),
                                notes=("The docs' example formula has no type.",),
                            ),
                        ),
                    ),
                ),
            ),
        ),
        notes=(
            "Shape decision: result holds one item per page (an image is one page), and that item carries every requested result kind (ocr_result always, kv_result, table_result, layout_result, form_result, formula_result by their flags). The docs' table says one item per page; their example puts each result kind in an item of its own. The emulator follows the table; clients should merge items by key, which reads both shapes.",
        ),
    ),
    "id-document": ResponseModel(
        kind="object",
        fields=(
            F("country_region", "str", "ISO 3166-1 alpha-3 issuing country/region."),
            F(
                "id_type",
                "str",
                "Document type.",
                allowed=(
                    "PP",
                    "DL",
                    "ID",
                ),
            ),
            F(
                "side",
                "str",
                "Document side; front usually holds the portrait.",
                allowed=(
                    "front",
                    "back",
                ),
                notes=(
                    "Seed text for 'back' reads 'front is returned if a document has only one side' (garbled).",
                ),
            ),
            F("first_name", "str", "First name."),
            F("last_name", "str", "Last name."),
            F(
                "sex",
                "str",
                "Gender.",
                allowed=(
                    "M",
                    "F",
                    "X",
                ),
            ),
            F("nationality", "str", "Holder nationality."),
            F("birth_date", "str", "Birth date, YYYY-MM-DD."),
            F("issue_date", "str", "Issue date, YYYY-MM-DD."),
            F("expiry_date", "str", "Expiry date, YYYY-MM-DD."),
            F("document_number", "str", "Document number."),
            F("address", "str", "Holder address."),
            F("issuing_authority", "str", "Issuing authority."),
            F("portrait_image", "str", "Base64 portrait (optional).", when="return_portrait_image"),
            F("confidence", "object", "Per-field confidence, 0-1."),
        ),
    ),
    "auto-id-doc-classification": ResponseModel(
        kind="object",
        fields=(
            F(
                "type",
                "str",
                "Detected document type.",
                allowed=(
                    "peru_id_card",
                    "cambodian_id_card",
                    "hongkong_id_card",
                    "macao_id_card",
                    "myanmar_driver_license",
                    "myanmar_id_card",
                    "passport",
                    "thailand_id_card",
                    "id_card",
                ),
            ),
            F("location", "points", "Document position (4 vertices)."),
            F("confidence", "float", "Confidence of the document position."),
            F(
                "alarm_result",
                "object",
                "Boolean alarm flags.",
                when="alarm",
                notes=(
                    "In the seed, the true/false descriptions of glare, blocking and insufficient-lighting are copy-pasted from blur ('image is blurry'/'clear'); meaning inferred from the field name.",
                ),
                fields=(
                    F("detect_blur_result", "bool", "true = document image is blurry."),
                    F("detect_glare_result", "bool", "true = document is reflective/glaring."),
                    F(
                        "detect_blocking_within_border_result",
                        "bool",
                        "true = document is occluded inside its borders.",
                    ),
                    F("detect_insufficient_lighting_result", "bool", "true = image too dark."),
                    F("detect_copy_result", "bool", "true = black-and-white copy rather than original."),
                    F("detect_border_integrity_result", "bool", "true = borders incomplete."),
                    F("detect_reproduce_result", "bool", "true = recaptured."),
                ),
            ),
            F(
                "alarm_confidence",
                "object",
                "Alarm scores, integer 0-99; higher = alarm more likely.",
                when="alarm",
                fields=(
                    F("blur_score", "int", "Blur score."),
                    F("glare_score", "int", "Glare score."),
                    F("blocking_within_border_score", "int", "Occlusion score."),
                    F("insufficient_lighting_score", "int", "Darkness score."),
                    F("copy_score", "int", "Copy score."),
                    F("border_integrity_score", "int", "Incomplete-border score."),
                    F("reproduce_score", "int", "Recapture score."),
                ),
            ),
        ),
    ),
    "general-table": ResponseModel(
        kind="object",
        fields=(
            F("words_region_count", "int", "Number of regions."),
            F(
                "words_region_list",
                "list[object]",
                "Regions, left-to-right, top-to-bottom.",
                fields=(
                    F(
                        "type",
                        "str",
                        "Region kind.",
                        allowed=(
                            "text",
                            "table",
                        ),
                    ),
                    F("words_block_count", "int", "Number of text blocks in the region."),
                    F(
                        "words_block_list",
                        "list[object]",
                        "Text blocks / cells.",
                        fields=(
                            F("words", "str", "Block text."),
                            F(
                                "confidence",
                                "float",
                                "Average confidence.",
                                when="return_confidence",
                                notes=(
                                    "The docs' example returns confidence although its request sets return_confidence=false; the parameter table (return_confidence controls it) is taken.",
                                ),
                            ),
                            F(
                                "location",
                                "points",
                                "Text block position (4 vertices).",
                                when="return_text_location",
                            ),
                            F(
                                "words_list",
                                "list[object]",
                                "Text lines inside a cell.",
                                when="return_text_location",
                                fields=(
                                    F("words", "str", "Text."),
                                    F("confidence", "float", "Average confidence.", when="return_confidence"),
                                    F("location", "points", "Position (4 vertices)."),
                                    F(
                                        "char_list",
                                        "list[object]",
                                        "Per-character results.",
                                        when="return_text_location and return_char_location",
                                        fields=(
                                            F("char", "str", "Character."),
                                            F("char_confidence", "float", "Character confidence."),
                                            F("char_location", "points", "Character position (4 vertices)."),
                                        ),
                                    ),
                                ),
                            ),
                            F(
                                "rows",
                                "list[int]",
                                "0-based rows spanned (table regions only).",
                                required=False,
                                notes=("Table regions only.",),
                            ),
                            F(
                                "columns",
                                "list[int]",
                                "0-based columns spanned (table regions only).",
                                required=False,
                                notes=("Table regions only.",),
                            ),
                            F(
                                "cell_location",
                                "points",
                                "Cell position (4 vertices).",
                                when="return_text_location",
                                required=False,
                                notes=("Table cells only.",),
                            ),
                        ),
                    ),
                ),
            ),
            F("excel", "str", "Base64 .xlsx with text and tables placed by position.", when="return_excel"),
        ),
    ),
    "general-text": ResponseModel(
        kind="object",
        fields=(
            F(
                "direction",
                "float",
                "Anticlockwise rotation angle 0-359 when detect_direction=true; -1 when detect_direction=false.",
                notes=(
                    "-1 unless detect_direction=true; the docs' example shows 67.6506 with detect_direction=false.",
                ),
            ),
            F("words_block_count", "int", "Number of text blocks."),
            F(
                "words_block_list",
                "list[object]",
                "Text blocks, left-to-right, top-to-bottom.",
                fields=(
                    F("words", "str", "Block text."),
                    F(
                        "location",
                        "points",
                        "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical. For PDF input the coordinates are only indicative (relative positions).",
                    ),
                    F("confidence", "float", "Block confidence."),
                    F(
                        "char_list",
                        "list[object]",
                        "Per-character results.",
                        when="character_mode",
                        notes=(
                            "Seed gives no explicit condition; the character_mode parameter governs single-character output.",
                            "The docs give no condition; character_mode=true is taken.",
                        ),
                        fields=(
                            F("char", "str", "Character."),
                            F(
                                "char_location",
                                "points",
                                "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical.",
                            ),
                            F("char_confidence", "float", "Character confidence."),
                        ),
                    ),
                ),
            ),
            F(
                "markdown_result",
                "str",
                "All blocks joined: same line with \\t, different lines with \\n.",
                when="return_markdown_result",
            ),
        ),
    ),
    "web-image": ResponseModel(
        kind="object",
        fields=(
            F(
                "words_block_count",
                "int",
                "Number of text blocks.",
                notes=(
                    "Seed's description cell for this field is a copy-paste ('not included when the API fails').",
                ),
            ),
            F(
                "words_block_list",
                "list[object]",
                "Text blocks, left-to-right, top-to-bottom.",
                fields=(
                    F("words", "str", "Block text."),
                    F("confidence", "float", "Confidence."),
                    F(
                        "location",
                        "points",
                        "Four vertex (x, y) coordinates; origin at the image's top-left corner, x horizontal, y vertical.",
                    ),
                    F(
                        "font_list",
                        "list[str]",
                        "Most similar font names (e.g. SimHei, Arial, STZhongsong).",
                        when="detect_font",
                    ),
                    F("font_scores", "list[float]", "Probabilities matching font_list.", when="detect_font"),
                ),
            ),
            F(
                "extracted_data",
                "object",
                "Structured data keyed by the requested extract_type values; empty/absent when extract_type is not given.",
                notes=("An empty object when extract_type is omitted.",),
                fields=(
                    F(
                        "contact_info",
                        "object",
                        "Contact information.",
                        when="extract_type~contact_info",
                        fields=(
                            F("name", "str", "Name."),
                            F("phone", "str", "Phone number."),
                            F("province", "str", "Province."),
                            F("city", "str", "City."),
                            F("district", "str", "County/district."),
                            F("detail_address", "str", "Address without province/city/district."),
                        ),
                    ),
                    F(
                        "image_size",
                        "object",
                        "Image dimensions.",
                        when="extract_type~image_size",
                        fields=(
                            F("height", "int", "Image height."),
                            F("width", "int", "Image width."),
                        ),
                    ),
                ),
            ),
        ),
    ),
    "passport": ResponseModel(
        kind="object",
        fields=(
            F(
                "passport_type",
                "str",
                "Passport type (Chinese mainland passports only).",
                required=False,
                allowed=(
                    "P",
                    "W",
                    "G",
                ),
            ),
            F("country_code", "str", "Country code."),
            F("passport_number", "str", "Passport number."),
            F("nationality", "str", "Nationality (Chinese mainland passports only).", required=False),
            F("surname", "str", "Family name."),
            F("given_name", "str", "Given name."),
            F("sex", "str", "Gender."),
            F("date_of_birth", "str", "Birth date, e.g. 1990-12-12."),
            F("date_of_expiry", "str", "Expiry date, e.g. 2020-07-08."),
            F("date_of_issue", "str", "Issue date (Chinese mainland passports only).", required=False),
            F("place_of_birth", "str", "Birthplace (Chinese mainland passports only).", required=False),
            F("place_of_issue", "str", "Place of issue (Chinese mainland passports only).", required=False),
            F(
                "issuing_authority",
                "str",
                "Issuing authority, normalized (e.g. P.R.C -> P.R.China) (Chinese mainland passports only).",
                required=False,
            ),
            F("confidence", "object", "Per-field confidence 0-1."),
            F(
                "extra_info",
                "object",
                "Empty by default; for Chinese passports holds Chinese-language fields (example nests them under local_language).",
                notes=("Returned with content only for Chinese mainland passports.",),
            ),
            F(
                "machine_code",
                "str",
                "First line of the machine-readable zone.",
                required=False,
                notes=("In the docs' example for non-Chinese passports, not in the response table.",),
            ),
            F(
                "machine_code2",
                "str",
                "Second line of the machine-readable zone.",
                required=False,
                notes=("In the docs' example for non-Chinese passports, not in the response table.",),
            ),
        ),
    ),
    "thailand-id-card": ResponseModel(
        kind="object",
        fields=(
            F(
                "type",
                "str",
                "Card kind.",
                required=False,
                allowed=(
                    "normal",
                    "pink",
                ),
            ),
            F("name_en", "str", "English name.", required=False),
            F("ref_number", "str", "Reference number.", required=False),
            F(
                "side",
                "str",
                "Card side.",
                allowed=(
                    "front",
                    "back",
                ),
            ),
            F("id_number", "str", "ID number.", required=False),
            F("name_th", "str", "Thai name.", required=False),
            F("first_name_en", "str", "English given name.", required=False),
            F("last_name_en", "str", "English surname.", required=False),
            F("date_of_birth_th", "str", "Birth date in Thai.", required=False),
            F("date_of_birth_en", "str", "Birth date in English.", required=False),
            F("religion_th", "str", "Religion.", required=False),
            F("address_th", "str", "Address.", required=False),
            F("date_of_issue_th", "str", "Issue date in Thai.", required=False),
            F("date_of_issue_en", "str", "Issue date in English.", required=False),
            F("date_of_expiry_th", "str", "Expiry date in Thai.", required=False),
            F("date_of_expiry_en", "str", "Expiry date in English.", required=False),
            F("serial_number", "str", "Serial number.", required=False),
            F("card_number", "str", "ID number printed on the back.", required=False),
            F(
                "laser_number",
                "str",
                "Laser code (back).",
                required=False,
                notes=(
                    "The docs do not say which fields each side of the card returns; the field is checked when present.",
                ),
            ),
            F(
                "confidence",
                "object",
                "Per-field confidence 0-1 (Float each).",
                fields=(
                    F("id_number", "float", "Confidence of id_number.", required=False),
                    F("name_th", "float", "Confidence of name_th.", required=False),
                    F("name_en", "float", "Confidence of name_en.", required=False),
                    F("ref_number", "float", "Confidence of ref_number.", required=False),
                    F("first_name_en", "float", "Confidence of first_name_en.", required=False),
                    F("last_name_en", "float", "Confidence of last_name_en.", required=False),
                    F("date_of_birth_th", "float", "Confidence of date_of_birth_th.", required=False),
                    F("date_of_birth_en", "float", "Confidence of date_of_birth_en.", required=False),
                    F("religion_th", "float", "Confidence of religion_th.", required=False),
                    F("address_th", "float", "Confidence of address_th.", required=False),
                    F("date_of_issue_th", "float", "Confidence of date_of_issue_th.", required=False),
                    F("date_of_issue_en", "float", "Confidence of date_of_issue_en.", required=False),
                    F("date_of_expiry_th", "float", "Confidence of date_of_expiry_th.", required=False),
                    F("date_of_expiry_en", "float", "Confidence of date_of_expiry_en.", required=False),
                    F("serial_number", "float", "Confidence of serial_number.", required=False),
                    F("card_number", "float", "Confidence of card_number.", required=False),
                    F("laser_number", "float", "Confidence of laser_number.", required=False),
                ),
            ),
            F("portrait_image", "str", "Base64 portrait.", when="return_portrait_image"),
            F(
                "portrait_location",
                "points",
                "Portrait position on the original image (4 vertices, origin top-left).",
                when="return_portrait_location",
            ),
            F(
                "idcard_type",
                "str",
                "Original or copy.",
                when="return_idcard_type",
                allowed=(
                    "normal",
                    "copy",
                ),
            ),
            F(
                "text_location",
                "object",
                "Positions (4 vertices) of all recognized fields.",
                when="return_text_location",
            ),
        ),
        notes=(
            "The docs do not say which fields each side of the card returns; the field is checked when present. Per-field confidences are returned for recognised fields only.",
        ),
    ),
    "colombia-id-card": ResponseModel(
        kind="object",
        fields=(
            F(
                "side",
                "str",
                "Card side.",
                allowed=(
                    "front",
                    "back",
                ),
            ),
            F("number", "str", "Card number.", when="@side=front"),
            F("name", "str", "Name.", when="@side=front"),
            F("last_name", "str", "Last name.", when="@side=front"),
            F("birth_date", "str", "Birth date.", required=False),
            F("birth_place", "str", "Birthplace.", required=False),
            F("gender", "str", "Gender.", required=False),
            F("blood_type", "str", "Blood type, e.g. O+ or A+.", required=False),
            F("issue_date", "str", "Issue date.", required=False),
            F("issue_authority", "str", "Issuing authority.", required=False),
            F("height", "str", "Height.", required=False),
            F("citizen_code1", "str", "Citizen code 1.", required=False),
            F("citizen_code2", "str", "Citizen code 2.", required=False),
            F("citizen_code3", "str", "Citizen code 3.", required=False),
            F("confidence", "object", "Per-field confidence."),
        ),
        notes=(
            "number, name and last_name are documented as front-side fields; the docs do not say which side carries the others, so they are checked when present.",
        ),
    ),
    "cambodian-idcard": ResponseModel(
        kind="object",
        fields=(
            F("id_number", "str", "ID number."),
            F("name_kh", "str", "Khmer name."),
            F("name_en", "str", "English name."),
            F("birth_date", "str", "Birth date."),
            F("sex", "str", "Gender."),
            F("height", "str", "Height."),
            F("birth_place", "str", "Birthplace."),
            F("address", "str", "Address, space separated."),
            F("issue_date", "str", "Issue date."),
            F("expiry_date", "str", "Expiry date."),
            F("description", "str", "Personal features text on the card."),
            F("machine_code1", "str", "Machine code, line 1."),
            F("machine_code2", "str", "Machine code, line 2."),
            F("machine_code3", "str", "Machine code, line 3."),
            F("portrait_image", "str", "Base64 portrait.", when="return_portrait_image"),
            F(
                "portrait_location",
                "points",
                "Portrait position on the original image (4 vertices, origin top-left).",
                when="return_portrait_location",
            ),
            F(
                "idcard_type",
                "str",
                "Original or copy.",
                when="return_idcard_type",
                allowed=(
                    "normal",
                    "copy",
                ),
                notes=(
                    "Seed says 'returned only when idcard_type is set to true' (the request parameter is return_idcard_type).",
                ),
            ),
            F("adjusted_image", "str", "Base64 card image.", when="return_adjusted_image"),
            F(
                "detect_border_integrity_result",
                "bool",
                "true = borders incomplete.",
                when="detect_border_integrity",
            ),
            F(
                "detect_blocking_within_border_result",
                "bool",
                "true = card occluded within borders.",
                when="detect_blocking_within_border",
            ),
            F("detect_blur_result", "bool", "true = blurry.", when="detect_blur"),
            F("detect_glare_result", "bool", "true = glaring.", when="detect_glare"),
            F("detect_tampering_result", "bool", "true = portrait tampered.", when="detect_tampering"),
            F("detect_reproduce_result", "bool", "true = recaptured.", when="detect_reproduce"),
            F(
                "score_info",
                "object",
                "Alarm scores, integers 0-99; >50 = alarm condition, closer to 99 = more likely.",
                when="return_idcard_type or detect_border_integrity or detect_blocking_within_border or detect_blur or detect_glare or detect_tampering or detect_reproduce",
                notes=(
                    "The docs give no condition for score_info itself; it is returned when one of its scores is.",
                ),
                fields=(
                    F(
                        "idcard_type_score",
                        "int",
                        ">50 means copy, <=50 original.",
                        when="return_idcard_type",
                    ),
                    F(
                        "border_integrity_score",
                        "int",
                        ">50 means borders incomplete.",
                        when="detect_border_integrity",
                    ),
                    F(
                        "blocking_within_border_score",
                        "int",
                        ">50 means occluded within borders.",
                        when="detect_blocking_within_border",
                    ),
                    F("blur_score", "int", ">50 means blurry.", when="detect_blur"),
                    F("glare_score", "int", ">50 means glaring.", when="detect_glare"),
                    F("tampering_score", "int", ">50 means portrait tampered.", when="detect_tampering"),
                    F("reproduce_score", "int", ">50 means recaptured.", when="detect_reproduce"),
                ),
            ),
            F("confidence", "object", "Per-field confidence 0-1."),
        ),
    ),
    "myanmar-id-card": ResponseModel(
        kind="object",
        fields=(
            F(
                "side",
                "str",
                "Card side.",
                allowed=(
                    "front",
                    "back",
                ),
            ),
            F(
                "class",
                "str",
                "Card version.",
                allowed=(
                    "new_version",
                    "old_version",
                ),
            ),
            F("nrc_id", "str", "ID number.", required=False),
            F("issue_date", "str", "Issue date.", required=False),
            F("name", "str", "Name.", required=False),
            F("father_name", "str", "Father's name.", required=False),
            F("birth", "str", "Birth date.", required=False),
            F("bloodlines_religion", "str", "Ethnic group / religion.", required=False),
            F("height", "str", "Height.", required=False),
            F("blood_group", "str", "Blood type.", required=False),
            F("card_id", "str", "Card number on the back.", required=False),
            F("nrc_id_back", "str", "ID number on the back.", required=False),
            F("profession", "str", "Occupation.", required=False),
            F("address", "str", "Address.", required=False),
            F(
                "confidence",
                "object",
                "Per-field confidence 0-1 (Float each).",
                when="return_confidence",
                fields=(
                    F("nrc_id", "float", "Confidence of nrc_id.", required=False),
                    F("issue_date", "float", "Confidence of issue_date.", required=False),
                    F("name", "float", "Confidence of name.", required=False),
                    F("birth", "float", "Confidence of birth.", required=False),
                    F("bloodlines_religion", "float", "Confidence of bloodlines_religion.", required=False),
                    F("height", "float", "Confidence of height.", required=False),
                    F("blood_group", "float", "Confidence of blood_group.", required=False),
                    F("card_id", "float", "Confidence of card_id.", required=False),
                    F("nrc_id_back", "float", "Confidence of nrc_id_back.", required=False),
                    F("profession", "float", "Confidence of profession.", required=False),
                    F("address", "float", "Confidence of address.", required=False),
                ),
            ),
            F("portrait_image", "str", "Base64 portrait.", when="return_portrait_image"),
            F(
                "portrait_location",
                "points",
                "Portrait position on the original image (4 vertices, origin top-left).",
                when="return_portrait_location",
            ),
            F(
                "idcard_type",
                "str",
                "Original or copy.",
                when="return_idcard_type",
                allowed=(
                    "normal",
                    "copy",
                ),
            ),
            F(
                "translation_info",
                "object",
                "Translations; untranslatable text stays in Burmese.",
                when="return_translation",
                fields=(
                    F("name_translation", "str", "Name translation."),
                    F("father_name_translation", "str", "Father's name translation."),
                    F("nrc_id_translation", "str", "ID number translation."),
                    F("birth_translation", "str", "Birth date translation."),
                ),
            ),
        ),
        notes=(
            "The docs do not say which fields each side of the card returns; the field is checked when present.",
        ),
    ),
    "myanmar-driver-license": ResponseModel(
        kind="object",
        fields=(
            F("card_number", "str", "License number (Burmese)."),
            F("card_number_en", "str", "License number (English)."),
            F("name", "str", "Name (Burmese)."),
            F("name_en", "str", "Name (English)."),
            F("nrc_id", "str", "NRC number (Burmese)."),
            F("nrc_id_en", "str", "NRC number (English)."),
            F("birth", "str", "Birth date (Burmese)."),
            F("birth_en", "str", "Birth date (English)."),
            F("blood_group", "str", "Blood type (Burmese)."),
            F("blood_group_en", "str", "Blood type (English)."),
            F("expiried_date", "str", "Expiry date (Burmese)."),
            F("expiried_date_en", "str", "Expiry date (English)."),
            F(
                "confidence",
                "object",
                "Per-field confidence 0-1 (Float each).",
                fields=(
                    F("card_number", "float", "Confidence of card_number.", required=False),
                    F("card_number_en", "float", "Confidence of card_number_en.", required=False),
                    F("name", "float", "Confidence of name.", required=False),
                    F("name_en", "float", "Confidence of name_en.", required=False),
                    F("nrc_id", "float", "Confidence of nrc_id.", required=False),
                    F("nrc_id_en", "float", "Confidence of nrc_id_en.", required=False),
                    F("birth", "float", "Confidence of birth.", required=False),
                    F("birth_en", "float", "Confidence of birth_en.", required=False),
                    F("blood_group", "float", "Confidence of blood_group.", required=False),
                    F("blood_group_en", "float", "Confidence of blood_group_en.", required=False),
                    F("expiried_date", "float", "Confidence of expiried_date.", required=False),
                    F("expiried_date_en", "float", "Confidence of expiried_date_en.", required=False),
                ),
            ),
        ),
    ),
    "chile-id-card": ResponseModel(
        kind="object",
        fields=(
            F("surname", "list[str]", "Last name(s)."),
            F("given_name", "str", "Given name(s)."),
            F("nationality", "str", "Nationality."),
            F("sex", "str", "Gender."),
            F("birth", "str", "Birth date."),
            F("issue_date", "str", "Issue date."),
            F("expiry_date", "str", "Expiry date."),
            F("document_number", "str", "Document number."),
            F("number", "str", "ID number."),
            F(
                "confidence",
                "object",
                "Per-field confidence 0-1 (Float each).",
                fields=(
                    F("surname", "float", "Confidence of surname.", required=False),
                    F("given_name", "float", "Confidence of given_name.", required=False),
                    F("nationality", "float", "Confidence of nationality.", required=False),
                    F("sex", "float", "Confidence of sex.", required=False),
                    F("birth", "float", "Confidence of birth.", required=False),
                    F("issue_date", "float", "Confidence of issue_date.", required=False),
                    F("expiry_date", "float", "Confidence of expiry_date.", required=False),
                    F("document_number", "float", "Confidence of document_number.", required=False),
                    F("number", "float", "Confidence of number.", required=False),
                ),
            ),
        ),
    ),
    "vietnam-id-card": ResponseModel(
        kind="object",
        fields=(
            F(
                "side",
                "str",
                "Card side.",
                allowed=(
                    "front",
                    "back",
                ),
            ),
            F("number", "str", "Card number."),
            F("full_name", "str", "Name."),
            F("birth_date", "str", "Birth date."),
            F("sex", "str", "Gender."),
            F("nationality", "str", "Nationality."),
            F("origin_place", "str", "Place of origin."),
            F("residence_place", "str", "Residence."),
            F("expiry_date", "str", "Validity period."),
            F("personal_identification", "str", "Personal identification marks.", when="@side=back"),
            F("issue_date", "str", "Issue date.", when="@side=back"),
            F("machine_code1", "str", "Machine-readable code, line 1 (back).", when="@side=back"),
            F("machine_code2", "str", "Machine-readable code, line 2 (back).", when="@side=back"),
            F("machine_code3", "str", "Machine-readable code, line 3 (back).", when="@side=back"),
            F("confidence", "object", "Per-field confidence."),
            F("portrait_image", "str", "Base64 portrait.", when="return_portrait_image"),
            F(
                "portrait_location",
                "points",
                "Portrait position on the original image (4 vertices, origin top-left).",
                when="return_portrait_location",
            ),
            F(
                "idcard_type",
                "str",
                "Card authenticity class.",
                when="return_idcard_type",
                allowed=(
                    "normal",
                    "copy",
                    "screen",
                ),
            ),
            F(
                "text_location",
                "object",
                "Positions (4 vertices) of all recognized fields.",
                when="return_text_location",
            ),
        ),
    ),
    "peru-id-card": ResponseModel(
        kind="object",
        fields=(
            F("cui_number", "str", "ID number."),
            F("first_surname", "str", "First surname."),
            F("second_surname", "str", "Second surname."),
            F("given_name", "str", "Given names."),
            F("sex", "str", "Gender."),
            F("marital_status", "str", "Marital status."),
            F("birth_date", "str", "Birth date."),
            F("nationality", "str", "Nationality."),
            F("issue_date", "str", "Issue date."),
            F("expiry_date", "str", "Expiry date."),
            F(
                "birth_place",
                "str",
                "Birthplace code.",
                notes=(
                    "Typed String in the table; the docs' example returns the number 240102. String is taken.",
                ),
            ),
            F("voting_group", "str", "Voting group."),
            F("organ_donation", "str", "Organ donation."),
            F("registration_date", "str", "Registration date."),
            F("portrait_image", "str", "Base64 portrait.", when="return_portrait_image", off="null"),
            F(
                "portrait_location",
                "points",
                "Portrait position on the original image (4 vertices, origin top-left).",
                when="return_portrait_location",
                off="null",
            ),
            F("address", "str", "Address."),
            F("department", "str", "Department."),
            F("province", "str", "Province."),
            F("district", "str", "District."),
            F("remarks", "str", "Remarks."),
            F("machine_code1", "str", "Machine code, line 1."),
            F("machine_code2", "str", "Machine code, line 2."),
            F("machine_code3", "str", "Machine code, line 3."),
            F("duplicate", "bool", "true = the card is a duplicate."),
            F("confidence", "object", "Per-field confidence."),
        ),
    ),
    "thailand-license-plate": ResponseModel(
        kind="list",
        fields=(
            F("plate_number", "str", "Plate text."),
            F("plate_location", "points", "Plate position (4 vertices)."),
            F("confidence", "float", "Confidence 0-1."),
            F("province", "str", "Province of registration."),
        ),
    ),
    "auto-classification": ResponseModel(
        kind="list",
        fields=(
            F(
                "status",
                "object",
                "Per-document status with error_code/error_msg (AIS.0000 'Succeeded.' on success, e.g. AIS.0104 on failure).",
            ),
            F(
                "content",
                "object",
                "Structured fields of the document (type-specific); empty object when recognition failed.",
            ),
            F("type", "str", "Document type (a type_list value)."),
            F(
                "location",
                "points",
                "Document position in the image (top-left, top-right, bottom-right, bottom-left per v1.0 text).",
            ),
            F(
                "confidence",
                "object",
                "Per-field confidence 0-1.",
                required=False,
                notes=(
                    "Listed at item level in the table, but the example nests confidence inside content.",
                ),
            ),
        ),
        notes=(
            "result is documented as one object but the text and example give a list with one item per document found; the list is taken. Each item has its own status: a 200 answer can hold failed items (content empty).",
        ),
    ),
    "handwriting": ResponseModel(
        kind="object",
        fields=(
            F("words_block_count", "int", "Number of text blocks."),
            F(
                "words_block_list",
                "list[object]",
                "Text blocks, left-to-right, top-to-bottom.",
                fields=(
                    F("words", "str", "Block text."),
                    F("type", "str", "Result type; value 'text'."),
                    F("confidence", "float", "Confidence 0-1."),
                    F("location", "points", "Block vertices, origin top-left."),
                ),
            ),
        ),
    ),
}


def response_model(slug: str) -> ResponseModel:
    """The response model of API ``slug`` (``KeyError`` for an unknown API)."""
    return RESPONSES[slug]


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "object": (dict,),
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind in _PYTHON_TYPES:
        if isinstance(value, bool) and kind != "bool":
            return False
        return isinstance(value, _PYTHON_TYPES[kind])
    if not isinstance(value, list):
        return False
    if kind == "points":
        return all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p)
            for p in value
        )
    item = {"list[int]": "int", "list[str]": "str", "list[float]": "float", "list[object]": "object"}[kind]
    return all(_type_ok(item, v) for v in value)


def _check_object(
    fields: tuple[Field, ...],
    obj: dict[str, Any],
    body: dict[str, Any],
    defaults: dict[str, Any],
    path: str,
    out: list[str],
) -> None:
    known = {f.name for f in fields}
    out.extend(f"{path}.{key}: not a documented field" for key in obj if key not in known)
    for f in fields:
        where = f"{path}.{f.name}"
        present = f.name in obj
        if not f.applies(body, defaults, obj):
            if present and not (f.off == "null" and obj[f.name] is None):
                out.append(f"{where}: returned although its condition ({f.when}) does not hold")
            continue
        if not present:
            if f.required:
                out.append(f"{where}: missing" + (f" although {f.when}" if f.when else ""))
            continue
        value = obj[f.name]
        if not _type_ok(f.type, value):
            out.append(f"{where}: {type(value).__name__} {value!r:.40} is not {f.type}")
            continue
        if f.allowed is not None and value not in f.allowed:
            out.append(f"{where}: {value!r} is not one of {', '.join(f.allowed)}")
        if f.fields and f.type == "object":
            _check_object(f.fields, value, body, defaults, where, out)
        elif f.fields and f.type == "list[object]":
            for i, item in enumerate(value):
                _check_object(f.fields, item, body, defaults, f"{where}[{i}]", out)


def check(slug: str, body: dict[str, Any], answer: Any) -> list[str]:
    """Every difference between a 200 ``answer`` to request ``body`` and the documented model.

    Flags left out of ``body`` take their catalog default. An empty list
    means the answer matches.
    """
    from airflow_provider_hwocr.catalog import get_api

    api = get_api(slug)
    model = RESPONSES[slug]
    defaults = {p.name: p.default for p in api.params}
    if not isinstance(answer, dict) or "result" not in answer:
        return ["answer: no result"]
    extra = sorted(set(answer) - {"result"})
    out = [f"answer.{key}: not a documented field" for key in extra]
    result = answer["result"]
    if model.kind == "list":
        if not isinstance(result, list):
            return [*out, f"result: {type(result).__name__}, documented as a list"]
        for i, item in enumerate(result):
            if not isinstance(item, dict):
                out.append(f"result[{i}]: not an object")
            else:
                _check_object(model.fields, item, body, defaults, f"result[{i}]", out)
    elif not isinstance(result, dict):
        out.append(f"result: {type(result).__name__}, documented as an object")
    else:
        _check_object(model.fields, result, body, defaults, "result", out)
    return out
