"""What people read, in the platform's three languages: English, Simplified Chinese and Urdu.

Why a module of its own: the catalogue's entries stay short and point here (``i18n.DEPOSITS``), and
one test walks this module to check that nothing shown on a map or a page lacks a language. The
vocabularies' values are translated in ``layers.terms``. Urdu is written right to left; ``RTL``
says so for every consumer (the map sets ``dir="rtl"`` on its legend, popups and controls).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文", "ur": "اردو"}
"""Language code → its name written in itself (what a language switch shows)."""
RTL: frozenset[str] = frozenset({"ur"})
DEFAULT = "en"


@dataclass(frozen=True)
class Text:
    """One phrase in every language of ``LANGUAGES``."""

    en: str
    zh: str
    ur: str

    def __getitem__(self, lang: str) -> str:
        return getattr(self, lang if lang in LANGUAGES else DEFAULT)

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class LayerText:
    title: Text
    description: Text


def language(value: str | None) -> str:
    """A supported language code from ``lang=`` or an Accept-Language header (default English)."""
    for part in (value or "").split(","):
        code = part.split(";")[0].strip().lower()
        if code[:2] in LANGUAGES:
            return code[:2]
    return DEFAULT


UI: dict[str, Text] = {
    "map_title": Text("E-Mining Platform map", "电子矿业平台地图", "ای-مائننگ پلیٹ فارم نقشہ"),
    "legend": Text("Legend", "图例", "علامات"),
    "language": Text("Language", "语言", "زبان"),
    "source": Text("Source", "来源", "ماخذ"),
    "details": Text("Details", "详情", "تفصیلات"),
    "site_page": Text(
        "Site page for investors", "投资者地点页面", "سرمایہ کاروں کے لیے مقام کا صفحہ"
    ),
    "links": Text("Links to the value chain", "价值链连接", "ویلیو چین سے روابط"),
    "resources": Text("Resources by category", "分类资源量", "زمرہ وار وسائل"),
    "no_links": Text("No links for this site", "该地点无连接", "اس مقام کے لیے کوئی رابطہ نہیں"),
    "km": Text("km", "公里", "کلومیٹر"),
    "utc": Text("UTC", "UTC", "UTC"),  # the zone of a date-time, as each language writes it
    "hours": Text("h", "小时", "گھنٹے"),
    "by_road": Text("road", "公路", "سڑک"),
    "by_rail": Text("rail", "铁路", "ریل"),
    "transfers": Text("road-rail transfer(s)", "次公铁换装", "سڑک-ریل منتقلی"),
    "straight": Text(
        "no road within reach: straight line × {factor} at {kmh} km/h",
        "附近无道路：直线 × {factor}，{kmh} 公里/小时",
        "قریب کوئی سڑک نہیں: سیدھی لکیر × {factor}، {kmh} کلومیٹر فی گھنٹہ",
    ),
    "shown_of": Text(
        "showing {shown} of {total}",
        "显示 {total} 个中的 {shown} 个",
        "{total} میں سے {shown} دکھائے گئے",
    ),
    "tiles": Text("vector tiles", "矢量切片", "ویکٹر ٹائلز"),
    "basemap": Text("OpenStreetMap (online)", "OpenStreetMap（在线）", "اوپن اسٹریٹ میپ (آن لائن)"),
    "other": Text("not stated", "未注明", "غیر مذکور"),
    "zonal": Text(
        "Raster statistics over this area", "该区域的栅格统计", "اس رقبے پر راسٹر کے اعداد و شمار"
    ),
    "mean": Text("mean", "平均值", "اوسط"),
    "min": Text("min", "最小值", "کم از کم"),
    "max": Text("max", "最大值", "زیادہ سے زیادہ"),
    "std": Text("std. dev.", "标准差", "معیاری انحراف"),
    "cells": Text("cells", "像元数", "سیل"),
    "no_cells": Text(
        "no cells of this raster here", "此处没有该栅格的像元", "یہاں اس راسٹر کا کوئی سیل نہیں"
    ),
}

FIELDS: dict[str, Text] = {
    "name": Text("Name", "名称", "نام"),
    # a deposit's published resource and reserve records (deposit_resources), listed on its page
    "resources": Text("Resources and reserves", "资源量和储量", "وسائل اور محفوظ ذخائر"),
    "commodities": Text("Commodities", "矿种", "معدنیات"),
    "deposit_type": Text("Deposit type", "矿床类型", "ذخیرے کی قسم"),
    "status": Text("Status", "状态", "حیثیت"),
    "tonnage_mt": Text("Tonnage (Mt)", "矿石量（百万吨）", "مقدار (ملین ٹن)"),
    "grade": Text("Grade", "品位", "درجہ"),
    "grade_unit": Text("Grade unit", "品位单位", "درجے کی اکائی"),
    "operator": Text("Operator", "运营方", "آپریٹر"),
    "province": Text("Province", "省份", "صوبہ"),
    "district": Text("District", "县区", "ضلع"),
    "coord_quality": Text("Location", "位置精度", "مقام کی درستی"),
    "as_of": Text("As of", "截至", "بمطابق"),
    "coord_radius_km": Text(
        "Location uncertainty (km)", "位置不确定度（公里）", "مقام کی غیر یقینی (کلومیٹر)"
    ),
    "deposit": Text("Deposit", "矿床", "ذخیرہ"),
    "commodity": Text("Commodity", "矿种", "معدن"),
    "category": Text("Category", "类别", "زمرہ"),
    "reporting_code": Text("Reporting code", "报告标准", "رپورٹنگ ضابطہ"),
    "contained": Text("Contained", "金属量", "موجود مقدار"),
    "contained_unit": Text("Contained unit", "金属量单位", "موجود مقدار کی اکائی"),
    "mineralOccurrenceType": Text("Occurrence type", "产地类型", "وقوع کی قسم"),
    "commodityRank": Text("Commodity rank", "矿种地位", "معدن کا درجہ"),
    "mineralOccurrenceName": Text("Occurrence", "矿产地", "معدنی مقام"),
    # EarthResourceML-Lite's remaining fields (the views keep the standard's names; these are
    # their readers' labels) and the vocabulary URIs that go with them.
    "identifier": Text("Identifier", "标识符", "شناخت کنندہ"),
    "mineName": Text("Mine", "矿山", "کان"),
    "observationMethod": Text("Observation method", "观测方法", "مشاہدے کا طریقہ"),
    "explorationResult": Text("Exploration result", "勘查结果", "تلاش کا نتیجہ"),
    "oreMeasureType": Text("Ore measure type", "矿石计量类型", "خام دھات کی پیمائش کی قسم"),
    "commodity_uri": Text("Commodity (URI)", "矿种（URI）", "معدن (URI)"),
    "mineralOccurrence_uri": Text("Occurrence (URI)", "矿产地（URI）", "معدنی مقام (URI)"),
    "mineralOccurrenceType_uri": Text(
        "Occurrence type (URI)", "矿产地类型（URI）", "معدنی مقام کی قسم (URI)"
    ),
    "representativeCommodity_uri": Text(
        "Representative commodity (URI)", "代表性矿种（URI）", "نمائندہ معدن (URI)"
    ),
    "oreMeasureType_uri": Text(
        "Ore measure type (URI)", "矿石计量类型（URI）", "خام دھات کی پیمائش کی قسم (URI)"
    ),
    "oreMeasureAssessmentCategory_uri": Text(
        "Assessment category (URI)", "评估类别（URI）", "تخمینے کا زمرہ (URI)"
    ),
    "classificationMethodUsed_uri": Text(
        "Classification method (URI)", "分类方法（URI）", "درجہ بندی کا طریقہ (URI)"
    ),
    "specification_uri": Text("Specification (URI)", "规范（URI）", "تفصیل (URI)"),
    "oreMeasure": Text("Ore measure", "矿石量", "خام مال کی پیمائش"),
    "oreMeasureAssessmentCategory": Text("Assessment category", "评估类别", "تخمینے کا زمرہ"),
    "classificationMethodUsed": Text("Classification method", "分类方法", "درجہ بندی کا طریقہ"),
    "positionalAccuracy": Text("Positional accuracy", "位置精度", "مقام کی درستی"),
    "mineralDepositModel": Text("Deposit model", "矿床模型", "ذخیرے کا ماڈل"),
    "licence_no": Text("Licence no.", "许可证号", "لائسنس نمبر"),
    "licence_type": Text("Licence type", "许可证类型", "لائسنس کی قسم"),
    "holder": Text("Holder", "持有人", "حامل"),
    "holder_country": Text("Holder country", "持有人国家", "حامل کا ملک"),
    "granted_on": Text("Granted", "授予日期", "تاریخِ اجراء"),
    "expires_on": Text("Expires", "到期日期", "تاریخِ اختتام"),
    "area_km2": Text("Area (km²)", "面积（平方公里）", "رقبہ (مربع کلومیٹر)"),
    "illustrative": Text("Illustrative", "示意", "توضیحی"),
    "kind": Text("Kind", "类型", "قسم"),
    "capacity": Text("Capacity", "产能", "گنجائش"),
    "area_acres": Text("Area (acres)", "面积（英亩）", "رقبہ (ایکڑ)"),
    "sectors": Text("Sectors", "产业", "شعبے"),
    "ref": Text("Reference", "编号", "حوالہ"),
    "mode": Text("Mode", "运输方式", "ذریعہ"),
    "cpec": Text("CPEC", "中巴经济走廊", "سی پیک"),
    "length_km": Text(
        "Drawn line (km, display only)",
        "绘制线长度（公里，仅供显示）",
        "کھینچی گئی لکیر (کلومیٹر، صرف دکھانے کے لیے)",
    ),
    "road_class": Text("Class", "等级", "درجہ"),
    "length_source_url": Text("Length source", "长度来源", "لمبائی کا ماخذ"),
    "length_as_of": Text("Length as of", "长度截至", "لمبائی بمطابق"),
    "names_source": Text("Names from", "名称来源", "ناموں کا ماخذ"),
    "road_km": Text("By road (km)", "公路（公里）", "سڑک سے (کلومیٹر)"),
    "rail_km": Text("By rail (km)", "铁路（公里）", "ریل سے (کلومیٹر)"),
    "transfers": Text("Road-rail transfers", "公铁换装", "سڑک-ریل منتقلیاں"),
    "access_detour": Text(
        "Straight access leg × detour", "直线接入段 × 绕行系数", "سیدھی رسائی × چکر کا ضریب"
    ),
    "access_kmh": Text(
        "Access speed (km/h)", "接入速度（公里/小时）", "رسائی کی رفتار (کلومیٹر فی گھنٹہ)"
    ),
    "published_length_km": Text(
        "Published length (km)", "公布长度（公里）", "شائع شدہ لمبائی (کلومیٹر)"
    ),
    "iso_code": Text("ISO code", "ISO 代码", "آئی ایس او کوڈ"),
    "from_name": Text("From", "起点", "سے"),
    "to_name": Text("To", "终点", "تک"),
    "km": Text("Distance (km)", "距离（公里）", "فاصلہ (کلومیٹر)"),
    "hours": Text("Time (h)", "时间（小时）", "وقت (گھنٹے)"),
    "reason": Text("Why no route", "无路线原因", "راستہ نہ ہونے کی وجہ"),
    "notes": Text("Notes", "备注", "نوٹس"),
    "source": Text("Source", "来源", "ماخذ"),
    "source_url": Text("Source link", "来源链接", "ماخذ کا لنک"),
    "stage": Text("Stage", "阶段", "مرحلہ"),
    "description": Text("Description", "描述", "تفصیل"),
    "partner_names": Text("Partners", "合作方", "شراکت دار"),
    "partner_countries": Text("Partner countries", "合作方国家", "شراکت داروں کے ممالک"),
    "partner_roles": Text("Partner roles", "合作方角色", "شراکت داروں کے کردار"),
    "site_names": Text("Sites", "地点", "مقامات"),
    "site_layers": Text("Site layers", "地点图层", "مقامات کی تہیں"),
}
"""Labels of the fields the maps and pages show, by column name (shared by every layer)."""

DEPOSITS = LayerText(
    Text("Mineral deposits", "矿床", "معدنی ذخائر"),
    Text(
        "Mineral deposits, mines and occurrences of Pakistan: commodities, deposit type, status, "
        "operator, and each deposit's resource figures by commodity and category (the "
        "resources list). Each feature names its public source and the date of its facts "
        "(as_of); coord_quality says whether its location is sourced or an approximate "
        "estimate, and coord_radius_km how far the real site may lie from the point. as_of is "
        "empty where the source states no date (data/samples/SOURCES.md lists them).",
        "巴基斯坦的矿床、矿山和矿点：矿种、矿床类型、状态、运营方，以及每个矿床按矿种和类别的"
        "资源量（“资源量和储量”一栏）。每个要素注明其公开来源和事实日期（as_of）；coord_quality "
        "说明位置是有来源的还是近似估计，coord_radius_km 说明实际位置可能偏离该点的距离。"
        "来源未注明日期时 as_of 为空（见 data/samples/SOURCES.md）。",
        "پاکستان کے معدنی ذخائر، کانیں اور معدنی مقامات: معدنیات، ذخیرے کی قسم، حیثیت، آپریٹر، "
        "اور ہر ذخیرے کے وسائل معدن اور زمرے کے لحاظ سے (“وسائل اور محفوظ ذخائر” کی فہرست)۔ "
        "ہر مقام اپنا عوامی "
        "ماخذ اور حقائق کی تاریخ (as_of) بتاتا ہے؛ coord_quality بتاتا ہے کہ مقام مستند ہے یا "
        "تخمینی، اور coord_radius_km کہ اصل مقام نقطے سے کتنا دور ہو سکتا ہے۔ جہاں ماخذ کوئی "
        "تاریخ نہیں دیتا وہاں as_of خالی ہے۔",
    ),
)
CONCESSIONS = LayerText(
    Text("Concession blocks (illustrative)", "矿权区块（示意）", "رعایتی بلاکس (توضیحی)"),
    Text(
        "Mineral titles (reconnaissance and exploration licences, mining leases) with holder, "
        "status and dates; area_km2 is computed on the ellipsoid. The sample blocks are "
        "ILLUSTRATIVE: no real licence polygons are public, so they are drawn around real "
        "deposits and marked illustrative = true; source_url is empty and as_of is empty, "
        "since they state no fact.",
        "矿业权（踏勘和勘探许可证、采矿租约），含持有人、状态和日期；area_km2 按椭球面计算。"
        "样例区块仅为示意：真实许可证多边形未公开，"
        "因此围绕真实矿床绘制并标记 illustrative = true。",
        "معدنی حقوق (جائزہ اور تلاش کے لائسنس، کان کنی لیز) حامل، حیثیت اور تاریخوں کے ساتھ؛ "
        "area_km2 بیضوی سطح پر شمار ہوتا ہے۔ نمونے کے بلاکس صرف توضیحی ہیں: اصل لائسنس کی حدود "
        "عوامی نہیں، اس لیے یہ اصل ذخائر کے گرد بنائے گئے اور illustrative = true لکھے گئے ہیں۔",
    ),
)
FACILITIES = LayerText(
    Text("Ports and processing facilities", "港口和加工设施", "بندرگاہیں اور پروسیسنگ تنصیبات"),
    Text(
        "Ports and the plants that take minerals: smelters, refineries, coal power plants, "
        "cement plants, steel mills and beneficiation plants, with status, capacity, operator, "
        "the date of the facts (as_of) and their public source. as_of is empty where the source "
        "states no date (the ports' pages, one plant's release).",
        "港口以及使用矿产的工厂：冶炼厂、精炼厂、燃煤电厂、水泥厂、钢厂和选矿厂，"
        "含状态、产能、运营方、事实日期（as_of）及公开来源。来源未注明日期时 as_of 为空。",
        "بندرگاہیں اور معدنیات استعمال کرنے والے کارخانے: سمیلٹر، ریفائنریاں، کوئلے کے بجلی گھر، "
        "سیمنٹ پلانٹ، اسٹیل ملیں اور بینیفیسی ایشن پلانٹ، حیثیت، گنجائش، آپریٹر، حقائق کی تاریخ "
        "(as_of) اور عوامی ماخذ کے ساتھ۔ جہاں ماخذ تاریخ نہیں دیتا وہاں as_of خالی ہے۔",
    ),
)
SEZS = LayerText(
    Text("Special economic zones", "经济特区", "خصوصی اقتصادی زونز"),
    Text(
        "CPEC special economic zones with approximate locations and areas (acres). The "
        "project's facts cite each news item by its site and number only, so source_url is "
        "empty and as_of is empty: the page and its date were not found (data/samples/SOURCES.md).",
        "中巴经济走廊经济特区，含近似位置和面积（英亩）。项目事实仅以网站和编号引用新闻，"
        "未找到页面及日期，因此 source_url 为空，as_of 为空（见 data/samples/SOURCES.md）。",
        "سی پیک کے خصوصی اقتصادی زونز، تخمینی مقامات اور رقبے (ایکڑ) کے ساتھ۔ جہاں پراجیکٹ کے "
        "حقائق کسی خبر کا صرف نمبر دیتے ہیں وہاں source_url اور as_of خالی ہیں (دیکھیے "
        "data/samples/SOURCES.md)۔",
    ),
)
CORRIDORS = LayerText(
    Text("Logistics corridors", "物流通道", "لاجسٹکس راہداریاں"),
    Text(
        "National highways, motorways, the railway main lines and the access roads of the "
        "sample's mines (N-5, N-10, N-25, N-35 Karakoram Highway, M-1 to M-9, ML-1 to ML-4, ...). "
        "Lines are schematic, drawn through GeoNames towns: their drawn length (length_km) is "
        "for display only. published_length_km is the published length with its source "
        "(length_source_url, length_as_of); routes cost it, apportioned to a corridor's segments "
        "by drawn length. No public source gives the length of the mine roads (their "
        "published_length_km is empty and the drawn length is used) nor average freight speeds "
        "(the network's speeds per class are stated assumptions).",
        "国道、高速公路、铁路干线及样例矿山的进场道路（N-5、N-10、N-25、N-35 喀喇昆仑公路、"
        "M-1 至 M-9、ML-1 至 ML-4 等）。线路为示意图，经 GeoNames 城镇绘制：绘制长度（length_km）"
        "仅供显示。published_length_km 为公布长度，并注明来源（length_source_url、length_as_of）；"
        "路线按公布长度计费，并按绘制长度分摊到各路段。矿山道路的长度没有公开来源"
        "（其 published_length_km 为空，使用绘制长度），货运平均速度也没有公开来源"
        "（网络按等级设定的速度为声明的假设）。",
        "قومی شاہراہیں، موٹر ویز، ریلوے کی مرکزی لائنیں اور نمونے کی کانوں کی رسائی سڑکیں "
        "(N-5، N-10، N-25، N-35 شاہراہِ قراقرم، M-1 تا M-9، ML-1 تا ML-4 وغیرہ)۔ لکیریں خاکہ "
        "ہیں، GeoNames کے قصبوں سے کھینچی گئی: ان کی کھینچی گئی لمبائی (length_km) صرف دکھانے "
        "کے لیے ہے۔ published_length_km شائع شدہ لمبائی ہے، ماخذ کے ساتھ (length_source_url، "
        "length_as_of)؛ راستوں کی لاگت اسی سے، کھینچی گئی لمبائی کے تناسب سے حصوں میں تقسیم۔ "
        "کانوں کی سڑکوں کی لمبائی (ان کا published_length_km خالی ہے، کھینچی گئی لمبائی لی گئی) "
        "اور مال برداری کی اوسط رفتار کا کوئی عوامی ماخذ نہیں (رفتاریں بیان کردہ مفروضے ہیں)۔",
    ),
)
PROVINCES = LayerText(
    Text("Provinces and territories", "省和地区", "صوبے اور علاقے"),
    Text(
        "Pakistan's provinces and territories (ADM1), geoBoundaries gbOpen PAK ADM1, vintage "
        "2019 (build 2021-12-16). Boundaries are indicative, not official.",
        "巴基斯坦的省和地区（一级行政区），geoBoundaries gbOpen PAK ADM1，2019 年版"
        "（2021-12-16 构建）。边界仅供参考，并非官方边界。",
        "پاکستان کے صوبے اور علاقے (ADM1)، geoBoundaries gbOpen PAK ADM1، 2019 کا ایڈیشن "
        "(2021-12-16)۔ حدود اشاراتی ہیں، سرکاری نہیں۔",
    ),
)
DISTRICTS = LayerText(
    Text("Districts", "县区", "اضلاع"),
    Text(
        "Pakistan's districts (ADM2), with the province each lies in: geoBoundaries gbOpen PAK "
        "ADM2, vintage 2019 (build 2022-03-11). It predates later districts (Chiniot, Nankana "
        "Sahib and Sujawal are inside their parent districts here, and later splits such as "
        "Duki are missing). Boundaries are indicative, not official.",
        "巴基斯坦的县区（二级行政区）及其所属省份：geoBoundaries gbOpen PAK ADM2，2019 年版"
        "（2022-03-11 构建）。早于后来设立的县区（Chiniot、Nankana Sahib、Sujawal 仍包含在"
        "原属县区中，Duki 等后来拆分的县区缺失）。边界仅供参考，并非官方边界。",
        "پاکستان کے اضلاع (ADM2) اور ان کے صوبے: geoBoundaries gbOpen PAK ADM2، 2019 کا "
        "ایڈیشن (2022-03-11)۔ یہ بعد میں بننے والے اضلاع سے پہلے کا ہے (چنیوٹ، ننکانہ صاحب اور "
        "سجاول یہاں اپنے سابقہ اضلاع میں شامل ہیں، اور دکی جیسے نئے اضلاع موجود نہیں)۔ حدود "
        "اشاراتی ہیں، سرکاری نہیں۔",
    ),
)
LINKS = LayerText(
    Text(
        "Deposit links: access, nearest SEZ, nearest port",
        "矿床连接：接入、最近经济特区、最近港口",
        "ذخائر کے روابط: رسائی، قریب ترین اقتصادی زون، قریب ترین بندرگاہ",
    ),
    Text(
        "For every deposit, three links: where it joins the network (access), and the special "
        "economic zone and the port it reaches soonest, with the route, its km by mode (road_km, "
        "rail_km) and road-rail transfers. Routes cost each corridor's published length; hours "
        "at assumed average speeds (motorway 60, national highway 45, other road 30, rail 30, "
        "off the network 20 km/h; 6 h where freight changes between road and rail, only at dry "
        "ports and ports served by both). A site joins the nearest road within 10 km; beyond, "
        "by a straight line multiplied by 1.3 (access_detour). A link that cannot exist has no "
        "geometry and a reason.",
        "每个矿床三条连接：接入网络的位置（接入），以及最快到达的经济特区和港口，含路线、"
        "按运输方式的公里数（road_km、rail_km）和公铁换装次数。路线按各通道的公布长度计费；"
        "小时按假定平均速度（高速公路 60、国道 45、其他道路 30、铁路 30、网络外 20 公里/小时；"
        "仅在干港及兼通公铁的港口换装，每次 6 小时）。地点接入 10 公里内最近的道路；"
        "更远时按直线乘以 1.3（access_detour）。无法成立的连接没有几何并说明原因。",
        "ہر ذخیرے کے تین روابط: نیٹ ورک سے ملنے کی جگہ (رسائی)، اور سب سے جلد پہنچنے والا "
        "خصوصی اقتصادی زون اور بندرگاہ، راستے، ذریعے کے لحاظ سے کلومیٹر (road_km، rail_km) "
        "اور سڑک-ریل منتقلیوں کے ساتھ۔ لاگت ہر راہداری کی شائع شدہ لمبائی؛ گھنٹے فرض کردہ "
        "اوسط رفتار پر (موٹر وے 60، قومی شاہراہ 45، دیگر سڑک 30، ریل 30، نیٹ ورک سے باہر 20 "
        "کلومیٹر فی گھنٹہ؛ منتقلی صرف خشک بندرگاہوں اور دونوں سے جڑی بندرگاہوں پر، 6 گھنٹے)۔ "
        "کوئی مقام 10 کلومیٹر کے اندر قریب ترین سڑک سے ملتا ہے؛ اس سے دور سیدھی لکیر ضرب 1.3 "
        "(access_detour)۔ جو رابطہ ممکن نہ ہو اس کی کوئی جیومیٹری نہیں اور وجہ لکھی ہے۔",
    ),
)
PROJECTS = LayerText(
    Text("Value-chain projects", "价值链项目", "ویلیو چین منصوبے"),
    Text(
        "Projects across the mineral value chain (exploration, mining, processing, logistics, "
        "financing): partners with their countries (ISO codes) and roles, investments (amount, "
        "currency, date), agreements from MoUs to definitive agreements, and the deposits, "
        "concessions, facilities and SEZs they involve. A project's geometry is the collection "
        "of its sites' geometries. Every partner, investment and agreement names its public "
        "source. A project has no as_of of its own (as_of is empty): each investment and "
        "agreement carries its own date.",
        "矿产价值链各环节（勘探、采矿、加工、物流、融资）的项目：合作方及其国家（ISO 代码）和角色、"
        "投资（金额、币种、日期）、从谅解备忘录到最终协议的各类协议，以及所涉及的矿床、矿权区块、"
        "设施和经济特区。项目的几何为其各地点几何的集合。每个合作方、投资和协议均注明公开来源。"
        "项目本身没有 as_of：每项投资和协议各有日期。",
        "معدنی ویلیو چین (تلاش، کان کنی، پروسیسنگ، لاجسٹکس، مالی معاونت) کے منصوبے: شراکت دار "
        "اپنے ممالک (آئی ایس او کوڈ) اور کردار کے ساتھ، سرمایہ کاری (رقم، کرنسی، تاریخ)، مفاہمتی "
        "یادداشتوں سے حتمی معاہدوں تک کے معاہدے، اور متعلقہ معدنی ذخائر، رعایتی بلاکس، تنصیبات "
        "اور خصوصی اقتصادی زونز۔ منصوبے کی جیومیٹری اس کے مقامات کی جیومیٹریوں کا مجموعہ ہے۔ "
        "ہر شراکت دار، سرمایہ کاری اور معاہدہ اپنا عوامی ماخذ بتاتا ہے۔ منصوبے کی اپنی as_of "
        "نہیں؛ ہر سرمایہ کاری اور معاہدے کی اپنی تاریخ ہے۔",
    ),
)
RESOURCES = LayerText(
    Text("Deposit resources by category", "矿床分类资源量", "ذخائر کے زمرہ وار وسائل"),
    Text(
        "Resource and reserve figures of the deposits: one row per deposit, commodity and "
        "category (measured, indicated, inferred, proved, probable, historical, hypothetical), "
        "with tonnage, grade and unit, contained metal where published, the reporting code "
        "(JORC, NI 43-101, PERC, or none), the date of the figure and its source. Drawn at the "
        "deposit's point; seen by whoever sees the deposit.",
        "矿床的资源量和储量：每个矿床、矿种和类别（探明、控制、推断、证实、可信、历史、假设）一行，"
        "含矿石量、品位和单位、已公布的金属量、报告标准（JORC、NI 43-101、PERC 或无）、"
        "数据日期及来源。绘制在矿床位置；可见范围与矿床相同。",
        "ذخائر کے وسائل اور محفوظ ذخائر: ہر ذخیرے، معدن اور زمرے (پیمائش شدہ، نشاندہی شدہ، "
        "قیاسی، ثابت شدہ، ممکنہ، تاریخی، مفروضہ) کی ایک قطار، مقدار، درجہ اور اکائی، شائع شدہ "
        "دھات کی مقدار، رپورٹنگ ضابطہ (JORC، NI 43-101، PERC یا کوئی نہیں)، تاریخ اور ماخذ کے "
        "ساتھ۔ ذخیرے کے مقام پر دکھائی جاتی ہیں؛ وہی دیکھ سکتا ہے جو ذخیرہ دیکھ سکتا ہے۔",
    ),
)
MINERAL_OCCURRENCES = LayerText(
    Text(
        "MineralOccurrenceView (EarthResourceML-Lite)",
        "矿产地视图（EarthResourceML-Lite）",
        "معدنی مقامات کا منظر (EarthResourceML-Lite)",
    ),
    Text(
        "The deposits under EarthResourceML-Lite 2.0.1 MineralOccurrenceView field names, with "
        "CGI vocabulary URIs, so OneGeology and INSPIRE tools read them without a mapping. "
        "Read-only; source_url and as_of are added to the standard fields (as_of is empty where "
        "the deposit's source states no date).",
        "以 EarthResourceML-Lite 2.0.1 MineralOccurrenceView 字段名和 CGI 词表 URI 发布的矿床，"
        "OneGeology 和 INSPIRE 工具无需映射即可读取。只读；在标准字段外增加 source_url 和 as_of"
        "（来源未注明日期时 as_of 为空）。",
        "ذخائر EarthResourceML-Lite 2.0.1 کے MineralOccurrenceView ناموں اور CGI لغت کے URI کے "
        "ساتھ، تاکہ OneGeology اور INSPIRE کے اوزار انہیں بغیر تبدیلی پڑھ سکیں۔ صرف پڑھنے کے لیے؛ "
        "معیاری فیلڈز کے ساتھ source_url اور as_of شامل ہیں (جہاں ماخذ تاریخ نہیں دیتا وہاں as_of "
        "خالی ہے)۔",
    ),
)
COMMODITY_RESOURCES = LayerText(
    Text(
        "CommodityResourceView (EarthResourceML-Lite)",
        "矿种资源量视图（EarthResourceML-Lite）",
        "معدنی وسائل کا منظر (EarthResourceML-Lite)",
    ),
    Text(
        "The deposits' resource figures under EarthResourceML-Lite 2.0.1 CommodityResourceView "
        "field names (oreMeasure, oreMeasureType, oreMeasureAssessmentCategory, "
        "classificationMethodUsed) with CGI vocabulary URIs where the code list has the value. "
        "Read-only.",
        "以 EarthResourceML-Lite 2.0.1 CommodityResourceView 字段名（oreMeasure、oreMeasureType、"
        "oreMeasureAssessmentCategory、classificationMethodUsed）发布的资源量，"
        "词表中有对应值时附 CGI URI。只读。",
        "ذخائر کے وسائل EarthResourceML-Lite 2.0.1 کے CommodityResourceView ناموں (oreMeasure، "
        "oreMeasureType، oreMeasureAssessmentCategory، classificationMethodUsed) کے ساتھ، جہاں "
        "لغت میں قدر موجود ہو وہاں CGI URI بھی۔ صرف پڑھنے کے لیے۔",
    ),
)

# --- The HTML pages: every other published column, and the keys of the projects'
# detail records, so that no column name reaches a reader.
FIELDS.update(
    {
        "name_zh": Text("Name in Chinese", "中文名称", "چینی نام"),
        "name_ur": Text("Name in Urdu", "乌尔都语名称", "اردو نام"),
        "status_note": Text("About the status", "状态说明", "حیثیت کی وضاحت"),
        "classification": Text("Resource class", "资源类别", "وسائل کی درجہ بندی"),
        "reporting_code": Text("Reporting code", "报告准则", "رپورٹنگ ضابطہ"),
        "updated_at": Text("Last updated", "最后更新", "آخری تجدید"),
        "visibility": Text("Visibility", "可见性", "رسائی"),
        "owner_org": Text("Owning organisation", "所属机构", "مالک ادارہ"),
        "applied_on": Text("Applied", "申请日期", "تاریخِ درخواست"),
        "applied_at": Text("Application received", "申请受理时间", "درخواست موصول"),
        "authority": Text("Licensing authority", "发证机关", "لائسنس جاری کرنے والا ادارہ"),
        "shape_id": Text("Boundary id", "边界编号", "حد کی شناخت"),
        "from_layer": Text("From (layer)", "起点图层", "آغاز کی تہہ"),
        "from_id": Text("From (id)", "起点编号", "آغاز کی شناخت"),
        "to_layer": Text("To (layer)", "终点图层", "منزل کی تہہ"),
        "to_id": Text("To (id)", "终点编号", "منزل کی شناخت"),
        "partners": Text("Partners", "合作方", "شراکت دار"),
        "investments": Text("Investments", "投资", "سرمایہ کاری"),
        "agreements": Text("Agreements", "协议", "معاہدے"),
        "sites": Text("Linked sites", "关联地点", "منسلک مقامات"),
        "organisation": Text("Organisation", "机构", "ادارہ"),
        "country": Text("Country", "国家", "ملک"),
        "role": Text("Role", "角色", "کردار"),
        "share_percent": Text("Share (%)", "份额（%）", "حصہ (%)"),
        "note": Text("Note", "说明", "نوٹ"),
        "amount": Text("Amount", "金额", "رقم"),
        "currency": Text("Currency", "币种", "کرنسی"),
        "committed_on": Text("Committed", "承诺日期", "تاریخِ وعدہ"),
        "parties": Text("Parties", "各方", "فریقین"),
        "signed_on": Text("Signed", "签署日期", "تاریخِ دستخط"),
        "subject": Text("Subject", "事项", "موضوع"),
        "layer": Text("Layer", "图层", "تہہ"),
        "id": Text("Number", "编号", "نمبر"),
    }
)
