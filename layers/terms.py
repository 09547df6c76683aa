"""The vocabularies' values (``geo.vocab``) in English, Simplified Chinese and Urdu.

Why: a legend or popup in Urdu that says "copper" is not in Urdu. Values are stored in English
snake_case; these are what readers see. A test checks every value of every vocabulary is here.
"""

from __future__ import annotations

from layers.i18n import Text

LINK_KIND: tuple[str, ...] = ("access", "sez", "port")
"""Kinds of the ``links`` collection (built by the network): deposit → corridor, SEZ, port."""

TERMS: dict[str, Text] = {
    # commodities
    "antimony": Text("Antimony", "锑", "اینٹیمنی"),
    "barite": Text("Barite", "重晶石", "بیرائٹ"),
    "bauxite": Text("Bauxite", "铝土矿", "باکسائٹ"),
    "chromite": Text("Chromite", "铬铁矿", "کرومائٹ"),
    "coal": Text("Coal", "煤", "کوئلہ"),
    "copper": Text("Copper", "铜", "تانبا"),
    "fluorite": Text("Fluorite", "萤石", "فلورائٹ"),
    "gemstones": Text("Gemstones", "宝石", "قیمتی پتھر"),
    "gold": Text("Gold", "金", "سونا"),
    "granite": Text("Granite", "花岗岩", "گرینائٹ"),
    "graphite": Text("Graphite", "石墨", "گریفائٹ"),
    "gypsum": Text("Gypsum", "石膏", "جپسم"),
    "iron": Text("Iron ore", "铁矿", "خام لوہا"),
    "lead": Text("Lead", "铅", "سیسہ"),
    "limestone": Text("Limestone", "石灰岩", "چونے کا پتھر"),
    "lithium": Text("Lithium", "锂", "لیتھیم"),
    "magnesite": Text("Magnesite", "菱镁矿", "میگنیسائٹ"),
    "manganese": Text("Manganese", "锰", "مینگنیز"),
    "marble": Text("Marble", "大理石", "سنگِ مرمر"),
    "molybdenum": Text("Molybdenum", "钼", "مولیبڈینم"),
    "nickel": Text("Nickel", "镍", "نکل"),
    "phosphate": Text("Phosphate", "磷酸盐", "فاسفیٹ"),
    "rare_earths": Text("Rare earths", "稀土", "نایاب زمینی عناصر"),
    "salt": Text("Salt", "盐", "نمک"),
    "silver": Text("Silver", "银", "چاندی"),
    "sulphur": Text("Sulphur", "硫", "گندھک"),
    "tungsten": Text("Tungsten", "钨", "ٹنگسٹن"),
    "uranium": Text("Uranium", "铀", "یورینیم"),
    "zinc": Text("Zinc", "锌", "جست"),
    # deposit status
    "occurrence": Text("Occurrence", "矿点", "معدنی نشان"),
    "prospect": Text("Prospect", "远景区", "امکانی علاقہ"),
    "explored": Text("Explored", "已勘探", "دریافت شدہ"),
    "development": Text("Development", "开发阶段", "ترقیاتی مرحلہ"),
    "producing": Text("Producing", "生产中", "پیداواری"),
    "past_producer": Text("Past producer", "曾经生产", "سابقہ پیداواری"),
    # coordinate quality
    "sourced": Text("Sourced", "有来源", "مستند"),
    "approximate": Text("Approximate", "近似", "تخمینی"),
    # resource classification and reporting codes
    "measured": Text("Measured", "探明", "پیمائش شدہ"),
    "indicated": Text("Indicated", "控制", "نشاندہی شدہ"),
    "inferred": Text("Inferred", "推断", "قیاسی"),
    "measured_indicated": Text("Measured + indicated", "探明 + 控制", "پیمائش شدہ + نشاندہی شدہ"),
    "proven": Text("Proven", "证实", "ثابت شدہ"),
    "probable": Text("Probable", "可信", "ممکنہ"),
    "proven_probable": Text("Proven + probable", "证实 + 可信", "ثابت شدہ + ممکنہ"),
    "historical": Text("Historical", "历史", "تاریخی"),
    "proved": Text("Proved", "证实", "ثابت شدہ"),
    "proved_probable": Text("Proved + probable", "证实 + 可信", "ثابت شدہ + ممکنہ"),
    "hypothetical": Text("Hypothetical", "假设", "مفروضہ"),
    "none": Text("No code named", "未注明标准", "کوئی ضابطہ مذکور نہیں"),
    "JORC": Text("JORC", "JORC", "JORC"),
    "NI 43-101": Text("NI 43-101", "NI 43-101", "NI 43-101"),
    "SAMREC": Text("SAMREC", "SAMREC", "SAMREC"),
    "PERC": Text("PERC", "PERC", "PERC"),
    "S-K 1300": Text("S-K 1300", "S-K 1300", "S-K 1300"),
    "other": Text("Other", "其他", "دیگر"),
    # licence types and statuses
    "reconnaissance": Text("Reconnaissance", "踏勘", "ابتدائی جائزہ"),
    "exploration": Text("Exploration", "勘探", "تلاش"),
    "prospecting": Text("Prospecting", "探矿", "کھوج"),
    "mineral_deposit_retention": Text("Deposit retention", "矿床保留", "ذخیرہ برقرار رکھنا"),
    "mining_lease": Text("Mining lease", "采矿租约", "کان کنی لیز"),
    "small_scale_mining_lease": Text(
        "Small-scale mining lease", "小规模采矿租约", "چھوٹے پیمانے کی کان کنی لیز"
    ),
    "application": Text("Application", "申请中", "درخواست"),
    "granted": Text("Granted", "已授予", "منظور شدہ"),
    "renewed": Text("Renewed", "已续期", "تجدید شدہ"),
    "suspended": Text("Suspended", "已暂停", "معطل"),
    "expired": Text("Expired", "已过期", "میعاد ختم"),
    "relinquished": Text("Relinquished", "已放弃", "دستبردار"),
    "refused": Text("Refused", "已拒绝", "مسترد"),
    "withdrawn": Text("Withdrawn", "已撤回", "واپس لی گئی"),
    # facilities
    "port": Text("Port", "港口", "بندرگاہ"),
    "dry_port": Text("Dry port", "陆港", "خشک بندرگاہ"),
    "smelter": Text("Smelter", "冶炼厂", "سمیلٹر"),
    "refinery": Text("Refinery", "精炼厂", "ریفائنری"),
    "concentrator": Text("Concentrator", "选矿厂", "کنسنٹریٹر"),
    "processing_plant": Text("Processing plant", "加工厂", "پروسیسنگ پلانٹ"),
    "power_plant": Text("Power plant", "发电厂", "بجلی گھر"),
    "storage": Text("Storage", "仓储", "ذخیرہ گاہ"),
    "cement": Text("Cement plant", "水泥厂", "سیمنٹ پلانٹ"),
    "steel": Text("Steel mill", "钢厂", "اسٹیل مل"),
    "beneficiation": Text("Beneficiation plant", "选矿厂（富集）", "بینیفیسی ایشن پلانٹ"),
    "planned": Text("Planned", "规划中", "منصوبہ بند"),
    "under_construction": Text("Under construction", "在建", "زیرِ تعمیر"),
    "operating": Text("Operating", "运营中", "فعال"),
    "closed": Text("Closed", "已关闭", "بند"),
    # SEZs
    "proposed": Text("Proposed", "拟建", "مجوزہ"),
    "approved": Text("Approved", "已批准", "منظور شدہ"),
    "under_development": Text("Under development", "开发中", "زیرِ ترقی"),
    "operational": Text("Operational", "运营中", "فعال"),
    # corridors
    "road": Text("Road", "公路", "سڑک"),
    "rail": Text("Rail", "铁路", "ریل"),
    # Corridor classes (vocab.CORRIDOR_CLASS): what sets a corridor's speed in the network.
    "motorway": Text("Motorway", "高速公路", "موٹر وے"),
    "national highway": Text("National highway", "国道", "قومی شاہراہ"),
    "other road": Text("Other road", "其他道路", "دیگر سڑک"),
    "upgrading": Text("Upgrading", "升级中", "اپ گریڈ جاری"),
    # route legs' modes besides road and rail (the pages' route table)
    "transfer": Text("Transfer", "换装", "منتقلی"),
    # links (the port kind is shared with facilities)
    "access": Text("Access to corridor", "接入通道", "راہداری تک رسائی"),
    "sez": Text("Nearest SEZ", "最近经济特区", "قریب ترین اقتصادی زون"),
    # visibility (who sees a record)
    "public": Text("Public", "公开", "عوامی"),
    "shared": Text("Shared", "共享", "مشترکہ"),
    "confidential": Text("Confidential", "保密", "خفیہ"),
    # value-chain projects: stages (exploration is above), partner roles, agreements, site layers
    "mining": Text("Mining", "采矿", "کان کنی"),
    "processing": Text("Processing", "加工", "پروسیسنگ"),
    "logistics": Text("Logistics", "物流", "لاجسٹکس"),
    "financing": Text("Financing", "融资", "مالی معاونت"),
    "operator": Text("Operator", "运营方", "آپریٹر"),
    "owner": Text("Owner", "所有者", "مالک"),
    "investor": Text("Investor", "投资方", "سرمایہ کار"),
    "lender": Text("Lender", "贷款方", "قرض دہندہ"),
    "offtaker": Text("Offtaker", "包销方", "خریدار"),
    "contractor": Text("Contractor", "承包商", "ٹھیکیدار"),
    "government": Text("Government", "政府", "حکومت"),
    "mou": Text("Memorandum of understanding", "谅解备忘录", "مفاہمتی یادداشت"),
    "framework": Text("Framework agreement", "框架协议", "فریم ورک معاہدہ"),
    "definitive": Text("Definitive agreement", "最终协议", "حتمی معاہدہ"),
    "shareholders": Text("Shareholders' agreement", "股东协议", "حصص داران کا معاہدہ"),
    "contract": Text("Contract", "合同", "کنٹریکٹ"),
    "lease": Text("Lease", "租约", "لیز"),
    "extension": Text("Extension", "延期", "توسیع"),
    "implementation": Text("Implementation agreement", "实施协议", "عمل درآمد کا معاہدہ"),
    "deposits": Text("Mineral deposit", "矿床", "معدنی ذخیرہ"),
    "concessions": Text("Concession block", "矿权区块", "رعایتی بلاک"),
    "facilities": Text("Facility", "设施", "تنصیب"),
    "sezs": Text("Special economic zone", "经济特区", "خصوصی اقتصادی زون"),
    # booleans
    "true": Text("Yes", "是", "ہاں"),
    "false": Text("No", "否", "نہیں"),
}

UNITS: dict[str, Text] = {
    # Units of the resource records (deposit_resources: tonnage, grade_unit, contained_unit),
    # the element named in the reader's language as the commodities are above. A unit not
    # listed is shown as written and marked as English.
    "Mt": Text("Mt", "百万吨", "ملین ٹن"),
    "% Cu": Text("% Cu", "%（铜）", "% (تانبا)"),
    "% Fe": Text("% Fe", "%（铁）", "% (لوہا)"),
    "g/t Au": Text("g/t Au", "克/吨（金）", "گرام فی ٹن (سونا)"),
    "Moz Au": Text("Moz Au", "百万盎司（金）", "ملین اونس (سونا)"),
    "Mlb Cu": Text("Mlb Cu", "百万磅（铜）", "ملین پاؤنڈ (تانبا)"),
    "Mt Cu": Text("Mt Cu", "百万吨（铜）", "ملین ٹن (تانبا)"),
}

PLACES: dict[str, Text] = {
    # Province and territory names as the samples and geoBoundaries write them (HTML pages and
    # popups show them in the reader's language; a name not listed here stays as written).
    "Balochistan": Text("Balochistan", "俾路支省", "بلوچستان"),
    "Sindh": Text("Sindh", "信德省", "سندھ"),
    "Punjab": Text("Punjab", "旁遮普省", "پنجاب"),
    "Khyber Pakhtunkhwa": Text("Khyber Pakhtunkhwa", "开伯尔-普什图省", "خیبر پختونخوا"),
    "Gilgit-Baltistan": Text("Gilgit-Baltistan", "吉尔吉特-巴尔蒂斯坦", "گلگت بلتستان"),
    "Azad Kashmir": Text("Azad Kashmir", "自由克什米尔", "آزاد کشمیر"),
    "Islamabad Capital Territory": Text(
        "Islamabad Capital Territory", "伊斯兰堡首都区", "اسلام آباد وفاقی دارالحکومت"
    ),
}
"""Place names by their English spelling in the data."""
