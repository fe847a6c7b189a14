"""The printed Chinese labels of mainland documents: what a field is called on the paper.

Catalog data, read by the emulator (which finds ``标签：值`` lines by these labels) and by the
human review form (which names a field as the document prints it, ``价税合计`` for ``total``).
The labels are those of the vendor's sample documents; an API without an entry prints no label
we know of.
"""

from __future__ import annotations

from functools import cache

__all__ = ["LABELS", "VAT_TYPES", "field_label"]

#: Printed label -> documented field name, per API (the labels of the vendor's sample documents).
LABELS: dict[str, dict[str, str]] = {
    "vat-invoice": {
        "发票代码": "code", "发票号码": "number", "开票日期": "issue_date", "校验码": "check_code",
        "机器编号": "machine_number", "密码区": "encryption_block",
        "购买方名称": "buyer_name", "购买方纳税人识别号": "buyer_id", "购买方地址电话": "buyer_address",
        "购买方开户行及账号": "buyer_bank", "销售方名称": "seller_name", "销售方纳税人识别号": "seller_id",
        "销售方地址电话": "seller_address", "销售方开户行及账号": "seller_bank",
        "合计金额": "subtotal_amount", "合计税额": "subtotal_tax", "价税合计": "total",
        "价税合计（大写）": "total_in_words", "备注": "remarks", "收款人": "receiver", "复核": "reviewer",
        "开票人": "issuer",
    },
    "mvs-invoice": {
        "发票代码": "code", "发票号码": "number", "开票日期": "issue_date", "机器编号": "machine_number",
        "购买方名称": "buyer_name", "纳税人识别号": "buyer_id", "车辆类型": "vehicle_type",
        "厂牌型号": "brand_model", "产地": "manufacturing_location", "发动机号码": "engine_number",
        "车辆识别代号": "vehicle_identification_number", "价税合计": "total", "销货单位名称": "seller_name",
        "不含税价": "tax_exclusive_price", "增值税税额": "tax",
    },
    "quota-invoice": {"发票代码": "code", "发票号码": "number", "金额": "amount", "地址": "location"},
    "taxi-invoice": {
        "发票代码": "code", "发票号码": "number", "车号": "taxi_number", "日期": "date", "上车": "boarding_time",
        "下车": "alighting_time", "单价": "unit_price", "里程": "distance", "金额": "fare", "实收金额": "total",
    },
    "toll-invoice": {
        "发票代码": "code", "发票号码": "number", "入口": "entry", "出口": "exit", "金额": "amount",
        "收费员": "cashier", "车型": "vehicle_type", "日期": "date", "时间": "time",
    },
    "train-ticket": {
        "车次": "train_number", "始发站": "departure_station", "终点站": "destination_station",
        "开车时间": "departure_time", "座位号": "seat_number", "票价": "ticket_price", "姓名": "name",
        "身份证号": "id_number",
    },
    "flight-itinerary": {
        "旅客姓名": "passenger_name", "有效身份证件号码": "id_number", "票价": "fare", "合计": "total",
        "电子客票号码": "e_ticket_number", "验证码": "check_code", "填开日期": "issue_date",
    },
    "id-card": {
        "姓名": "name", "性别": "sex", "民族": "ethnicity", "出生": "birth", "住址": "address",
        "公民身份号码": "number", "签发机关": "issue",
    },
    "driver-license": {
        "证号": "number", "姓名": "name", "性别": "sex", "国籍": "nationality", "住址": "address",
        "出生日期": "birth", "初次领证日期": "issue_date", "准驾车型": "class",
    },
    "vehicle-license": {
        "号牌号码": "number", "车辆类型": "vehicle_type", "所有人": "name", "住址": "address",
        "使用性质": "use_character", "品牌型号": "model", "车辆识别代号": "vin", "发动机号码": "engine_no",
        "注册日期": "register_date", "发证日期": "issue_date",
    },
    "business-license": {
        "统一社会信用代码": "registration_number", "名称": "name", "类型": "type", "住所": "address",
        "法定代表人": "legal_representative", "注册资本": "registered_capital", "成立日期": "found_date",
        "营业期限": "business_term", "经营范围": "business_scope",
    },
    "bankcard": {"卡号": "card_number", "银行": "bank_name", "有效期": "expiry_date", "类型": "type"},
    "acceptance-bill": {"出票日期": "issue_date", "汇票到期日": "due_date", "票据号码": "bill_number"},
    "insurance-policy": {},
}  # fmt: skip

#: A VAT invoice's title -> its documented ``type``.
VAT_TYPES = (
    ("电子发票（增值税专用发票）", "fully_digitalized_special_electronic"),
    ("电子发票（普通发票）", "fully_digitalized_normal_electronic"),
    ("增值税电子专用发票", "special_electronic"),
    ("增值税电子普通发票", "electronic"),
    ("增值税专用发票", "special"),
    ("增值税普通发票", "normal"),
)


@cache
def _by_field(slug: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for label, name in LABELS.get(slug, {}).items():
        out.setdefault(name, label)  # the first label of a field is its own (价税合计, not 价税合计（大写）)
    return out


def field_label(slug: str, field: str) -> str | None:
    """The label API ``slug``'s documents print for ``field`` (``价税合计``), or ``None``."""
    return _by_field(slug).get(field)
