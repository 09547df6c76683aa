"""The words of the HTML pages (landing, collections, items, item, site, route, errors, login,
rasters), in English, Simplified Chinese and Urdu.

Why apart from ``layers.i18n``: that module holds what the catalogue says (layer texts, field
labels) and the map's words; these are the pages' own sentences, and would push it past a
readable size. Placeholders are ``str.format`` fields, filled by ``api.ogc.html``.
"""

from __future__ import annotations

from layers.i18n import Text

PAGE: dict[str, Text] = {
    # every page
    "home": Text("Home", "首页", "سرورق"),
    "breadcrumbs": Text("You are here", "当前位置", "آپ یہاں ہیں"),
    "languages": Text("Languages", "语言", "زبانیں"),
    "as_json": Text("This page as data (JSON)", "本页数据（JSON）", "یہ صفحہ بطور ڈیٹا (JSON)"),
    "footer": Text(
        "Open data under OGC API – Features",
        "以 OGC API – Features 发布的开放数据",
        "او جی سی اے پی آئی – فیچرز کے تحت کھلا ڈیٹا",
    ),
    "developers": Text("For developers: links", "开发者：链接", "ڈیولپرز کے لیے: روابط"),
    "relation": Text("Relation", "关系", "تعلق"),
    "link": Text("Link", "链接", "ربط"),
    "media_type": Text("Format", "格式", "فارمیٹ"),
    "sign_in": Text("Sign in", "登录", "سائن ان"),
    "map": Text("Map", "地图", "نقشہ"),
    "basemap_credit": Text(
        "Basemap: {natural_earth} (public domain), {geonames} (CC BY 4.0)",
        "底图：{natural_earth}（公有领域）、{geonames}（CC BY 4.0）",
        "بنیادی نقشہ: {natural_earth} (پبلک ڈومین)، {geonames} (CC BY 4.0)",
    ),
    # landing
    "service_description": Text(
        "Open geospatial data of Pakistan's mineral value chain: deposits, concessions, "
        "facilities, special economic zones and logistics corridors, as OGC API.",
        "巴基斯坦矿产价值链的开放地理空间数据：矿床、矿权、设施、经济特区和物流通道，"
        "以 OGC API 发布。",
        "پاکستان کی معدنی ویلیو چین کا کھلا جغرافیائی ڈیٹا: معدنی ذخائر، رعایتیں، تنصیبات، "
        "خصوصی اقتصادی زونز اور لاجسٹکس راہداریاں، بطور او جی سی اے پی آئی۔",
    ),
    "collections": Text("Collections", "数据集", "ڈیٹا مجموعے"),
    "collections_blurb": Text(
        "Browse the data layers: deposits, concessions, facilities and more.",
        "浏览各数据图层：矿床、矿权、设施等。",
        "ڈیٹا کی تہیں دیکھیں: معدنی ذخائر، رعایتیں، تنصیبات اور مزید۔",
    ),
    "map_blurb": Text(
        "Deposits, concessions, SEZs, corridors and ports on one map.",
        "矿床、矿权、经济特区、通道和港口尽在一张地图。",
        "معدنی ذخائر، رعایتیں، اقتصادی زونز، راہداریاں اور بندرگاہیں ایک نقشے پر۔",
    ),
    "conformance": Text("Conformance", "标准符合性", "معیار کی مطابقت"),
    "conformance_blurb": Text(
        "The OGC standards and classes this API implements.",
        "本接口实现的 OGC 标准和一致性类。",
        "او جی سی کے معیارات جن پر یہ اے پی آئی پورا اترتا ہے۔",
    ),
    "api_doc": Text("API documentation", "接口文档", "اے پی آئی دستاویزات"),
    "api_doc_blurb": Text(
        "Every path and its parameters (OpenAPI 3.0).",
        "所有路径及其参数（OpenAPI 3.0）。",
        "ہر راستہ اور اس کے پیرامیٹرز (OpenAPI 3.0)۔",
    ),
    "rasters": Text("Rasters", "栅格数据", "راسٹر ڈیٹا"),
    "rasters_blurb": Text(
        "Gridded layers: accessibility, distances, with legends.",
        "栅格图层：可达性、距离，附图例。",
        "گرڈ تہیں: رسائی اور فاصلے، علامات کے ساتھ۔",
    ),
    # collections and a collection
    "collection": Text("Collection", "数据集", "مجموعہ"),
    "description": Text("Description", "说明", "تفصیل"),
    "features": Text("Features", "要素", "اندراجات"),
    "browse": Text("Browse", "浏览", "دیکھیں"),
    "browse_features": Text("Browse the features", "浏览要素", "اندراجات دیکھیں"),
    "download": Text("Download (GeoJSON)", "下载（GeoJSON）", "ڈاؤن لوڈ (GeoJSON)"),
    "raster_cells": Text(
        "raster, {resolution} m cells",
        "栅格，像元 {resolution} 米",
        "راسٹر، {resolution} میٹر کے سیل",
    ),
    "queryables": Text("Filterable properties", "可筛选属性", "چھانٹی کے قابل خصوصیات"),
    "keywords": Text("Keywords", "关键词", "کلیدی الفاظ"),
    "attribution": Text("Attribution", "数据来源", "انتساب"),
    "spatial_extent": Text("Area covered", "空间范围", "احاطہ شدہ علاقہ"),
    "extent_note": Text(
        "west, south, east, north (degrees)",
        "西、南、东、北（度）",
        "مغرب، جنوب، مشرق، شمال (ڈگری)",
    ),
    "temporal_extent": Text("Time span", "时间范围", "وقت کا دورانیہ"),
    "no_dates": Text("no dates recorded yet", "尚无日期记录", "ابھی کوئی تاریخ درج نہیں"),
    "storage_crs": Text("Stored in", "存储坐标系", "محفوظ کردہ نظامِ محدد"),
    "crs": Text("Coordinate systems", "坐标系", "نظامِ محدد"),
    # items
    "features_range": Text(
        "Features {first}–{last} of {total}",
        "第 {first}–{last} 个要素，共 {total} 个",
        "{total} میں سے اندراجات {first}–{last}",
    ),
    "no_features": Text("No features on this page", "本页没有要素", "اس صفحے پر کوئی اندراج نہیں"),
    "matched_returned": Text(
        "matched {matched}, shown {returned}",
        "匹配 {matched}，显示 {returned}",
        "مطابق {matched}، دکھائے گئے {returned}",
    ),
    "query": Text("Query", "查询", "تلاش"),
    "no_map": Text(
        "No map: these coordinates are not longitude/latitude.",
        "无地图：这些坐标不是经纬度。",
        "نقشہ نہیں: یہ محدد طول البلد/عرض البلد نہیں۔",
    ),
    "pages": Text("Pages", "分页", "صفحات"),
    "previous_page": Text("Previous page", "上一页", "پچھلا صفحہ"),
    "next_page": Text("Next page", "下一页", "اگلا صفحہ"),
    "data_from": Text("Data: {attribution}", "数据：{attribution}", "ڈیٹا: {attribution}"),
    "number": Text("No.", "编号", "نمبر"),
    # one feature
    "part_of": Text("One record of {layer}", "{layer}中的一条记录", "{layer} کا ایک اندراج"),
    "location_sourced": Text(
        "Location: taken from the cited source.",
        "位置：取自所引来源。",
        "مقام: حوالہ شدہ ماخذ سے لیا گیا۔",
    ),
    "location_approximate": Text(
        "Location: an estimate, not a sourced coordinate.",
        "位置：估计值，并非有来源的坐标。",
        "مقام: تخمینہ، مستند محدد نہیں۔",
    ),
    "source": Text("Source", "来源", "ماخذ"),
    "sources": Text("Sources", "来源", "ماخذ"),
    "illustrative_source": Text(
        "Illustrative: drawn for the sample data around a public deposit location; not a real "
        "licence.",
        "示意：为样例数据围绕公开矿床位置绘制，并非真实许可证。",
        "توضیحی: نمونے کے ڈیٹا کے لیے ایک عوامی ذخیرے کے گرد بنایا گیا؛ اصل لائسنس نہیں۔",
    ),
    "site_page": Text(
        "Investor's page of this site", "该地点的投资者页面", "اس مقام کا سرمایہ کار صفحہ"
    ),
    # site page
    "location": Text("Location", "位置", "مقام"),
    "resources": Text(
        "Resources by commodity and category",
        "按矿种和类别的资源量",
        "معدن اور زمرے کے لحاظ سے وسائل",
    ),
    "no_resources": Text(
        "No published resource or reserve figure is on record for this site.",
        "此地点没有已发布的资源量或储量数据记录。",
        "اس مقام کے وسائل یا ذخائر کا کوئی شائع شدہ عدد ریکارڈ میں نہیں۔",
    ),
    "coordinates": Text("Coordinates", "坐标", "محدد"),
    "licences": Text("Licence status", "许可状态", "لائسنس کی حیثیت"),
    "no_licence": Text(
        "No concession on record covers this site.",
        "没有记录在案的矿权覆盖此地点。",
        "کوئی درج شدہ رعایت اس مقام کا احاطہ نہیں کرتی۔",
    ),
    "links_routes": Text("Links to the value chain", "价值链连接", "ویلیو چین سے روابط"),
    "nearest_sez": Text(
        "Nearest special economic zone", "最近的经济特区", "قریب ترین خصوصی اقتصادی زون"
    ),
    "nearest_port": Text("Nearest port", "最近的港口", "قریب ترین بندرگاہ"),
    "access": Text("Access to the network", "接入交通网络", "نیٹ ورک تک رسائی"),
    "no_link": Text("No link", "无连接", "کوئی ربط نہیں"),
    "route": Text("Route", "路线", "راستہ"),
    "show_route": Text("Show the route", "查看路线", "راستہ دیکھیں"),
    "links_note": Text(
        "Distances along the mapped roads and railways; times at assumed average speeds (road "
        "45 km/h, rail 30 km/h, 6 h per road–rail transfer). Estimates, not quotes.",
        "沿已绘制的公路和铁路计算距离；时间按假定平均速度（公路 45 公里/小时，铁路 30 公里/小时，"
        "每次公铁换装 6 小时）估算。仅为估计。",
        "فاصلے نقشے پر دی گئی سڑکوں اور ریلوے کے ساتھ؛ وقت فرض کردہ اوسط رفتار پر (سڑک 45، ریل 30 "
        "کلومیٹر فی گھنٹہ، ہر سڑک-ریل منتقلی پر 6 گھنٹے)۔ یہ تخمینے ہیں۔",
    ),
    "projects": Text("Projects and partners", "项目和合作方", "منصوبے اور شراکت دار"),
    "no_projects": Text(
        "No value-chain project on record involves this site.",
        "没有记录在案的价值链项目涉及此地点。",
        "کوئی درج شدہ ویلیو چین منصوبہ اس مقام سے متعلق نہیں۔",
    ),
    "all_details": Text("All recorded details", "全部记录信息", "تمام درج شدہ تفصیلات"),
    "not_on_record": Text("not on record", "无记录", "درج نہیں"),
    # route page
    "route_title": Text(
        "Route: {origin} → {destination}",
        "路线：{origin} → {destination}",
        "راستہ: {origin} سے {destination} تک",
    ),
    "legs": Text("Legs", "路段", "مراحل"),
    "leg": Text("Leg", "路段", "مرحلہ"),
    "from": Text("From", "起点", "سے"),
    "to": Text("To", "终点", "تک"),
    "distance": Text("Distance", "距离", "فاصلہ"),
    "time": Text("Time", "时间", "وقت"),
    "total": Text("Total", "合计", "کل"),
    "modes": Text("By mode", "按运输方式", "ذریعے کے لحاظ سے"),
    "network": Text("Road and rail network", "公路和铁路网络", "سڑک اور ریل نیٹ ورک"),
    "a_transfer_link": Text("a transfer link", "换装连接线", "منتقلی کا ربط"),
    # errors
    "error": Text("Something went wrong", "出错了", "کچھ غلط ہو گیا"),
    "error_400": Text(
        "This request cannot be answered", "无法响应此请求", "اس درخواست کا جواب نہیں دیا جا سکتا"
    ),
    "error_401": Text("Please sign in", "请登录", "براہِ کرم سائن ان کریں"),
    "error_403": Text("Not allowed", "无权访问", "اجازت نہیں"),
    "error_404": Text("Page not found", "未找到页面", "صفحہ نہیں ملا"),
    "error_503": Text("Temporarily unavailable", "暂时不可用", "عارضی طور پر دستیاب نہیں"),
    "error_detail": Text(
        "Details (for support)", "详细信息（供技术支持）", "تفصیل (معاونت کے لیے)"
    ),
    "error_back": Text("Back to the home page", "返回首页", "سرورق پر واپس جائیں"),
    # sign in
    "signed_in_as": Text("Signed in as", "已登录：", "سائن ان بطور"),
    "signed_in_note": Text(
        "Maps and pages show what your organisation may see.",
        "地图和页面显示贵机构可查看的内容。",
        "نقشے اور صفحات وہ دکھاتے ہیں جو آپ کا ادارہ دیکھ سکتا ہے۔",
    ),
    "sign_out": Text("Sign out", "退出登录", "سائن آؤٹ"),
    "wrong_password": Text(
        "Wrong e-mail or password.", "电子邮件或密码错误。", "غلط ای میل یا پاس ورڈ۔"
    ),
    "email": Text("E-mail", "电子邮件", "ای میل"),
    "password": Text("Password", "密码", "پاس ورڈ"),
    "public_note": Text(
        "Without signing in you see public records.",
        "未登录时只能看到公开记录。",
        "سائن ان کیے بغیر آپ عوامی اندراجات دیکھتے ہیں۔",
    ),
    # rasters
    "derived_note": Text(
        "Derived from the platform's own data, not a measurement.",
        "由平台自身数据推导，并非实测。",
        "پلیٹ فارم کے اپنے ڈیٹا سے اخذ کردہ، پیمائش نہیں۔",
    ),
    "legend": Text("Legend", "图例", "علامات"),
    "legend_note": Text(
        "2nd–98th percentile; transparent where there is no data",
        "第 2–98 百分位；无数据处透明",
        "دوسرا تا اٹھانوےواں فیصدی درجہ؛ جہاں ڈیٹا نہیں وہاں شفاف",
    ),
    "titles": Text("Titles", "标题", "عنوانات"),
    "bands": Text("Bands", "波段", "بینڈز"),
    "cells": Text("Cells", "像元", "سیل"),
    "no_data": Text("No-data value", "无数据值", "بغیر ڈیٹا کی قدر"),
    "units": Text("Units", "单位", "اکائیاں"),
    "origin": Text("Origin", "来源", "ماخذ"),
    "raster": Text("Raster", "栅格", "راسٹر"),
    "no_rasters": Text("No rasters yet.", "尚无栅格数据。", "ابھی کوئی راسٹر نہیں۔"),
    # the queryables and API pages
    "name": Text("Name", "名称", "نام"),
    "type": Text("Type", "类型", "قسم"),
    "format": Text("Format", "格式", "فارمیٹ"),
    "queryables_lead": Text(
        "Properties to filter on, as query parameters or in a CQL2 filter.",
        "可用于筛选的属性，作为查询参数或在 CQL2 过滤器中使用。",
        "خصوصیات جن پر چھانٹی ہو سکتی ہے، بطور پیرامیٹر یا CQL2 فلٹر میں۔",
    ),
    "api_lead": Text(
        "The machine-readable definition of this API (OpenAPI), path by path.",
        "本接口的机器可读定义（OpenAPI），逐条列出路径。",
        "اس اے پی آئی کی مشینی تعریف (OpenAPI)، ہر راستہ الگ۔",
    ),
    "parameter": Text("Parameter", "参数", "پیرامیٹر"),
    "conforms_to": Text(
        "This API conforms to these {count} conformance classes:",
        "本接口符合以下 {count} 个一致性类：",
        "یہ اے پی آئی ان {count} معیاری درجوں پر پورا اترتا ہے:",
    ),
}

ATTRIBUTIONS: dict[str, Text] = {
    # layers.catalogue's attributions, as readers see them (the catalogue's own text is for
    # the JSON documents, where SOURCES.md is a path developers can open).
    "public sources named on every feature (see data/samples/SOURCES.md)": Text(
        "Public sources, named on every record",
        "公开来源，每条记录均注明",
        "عوامی ماخذ، ہر اندراج پر درج",
    ),
    "illustrative blocks around public deposit locations": Text(
        "Illustrative blocks drawn around public deposit locations",
        "围绕公开矿床位置绘制的示意区块",
        "عوامی ذخائر کے مقامات کے گرد بنائے گئے توضیحی بلاکس",
    ),
    "derived from the corridors, deposits, SEZs and ports layers": Text(
        "Computed from the corridors, deposits, SEZs and ports",
        "由通道、矿床、经济特区和港口计算得出",
        "راہداریوں، ذخائر، اقتصادی زونز اور بندرگاہوں سے شمار کردہ",
    ),
}
