"""What the map says beyond the catalogue's labels, in English, Simplified Chinese and Urdu.

Why apart from ``layers.i18n``: these texts belong to the map only (the basemap, the legend's
notes on each raster surface, the wording that replaces developer text in popups), and the
map's configuration merges them into its ``ui`` table. A test checks every entry has all three
languages and that no popup or legend in Chinese or Urdu is left with an English vocabulary word.
"""

from __future__ import annotations

from layers.i18n import Text
from layers.terms import UNITS as RESOURCE_UNITS

UI: dict[str, Text] = {
    "illustrative_source": Text(
        "Illustrative block, drawn for this demonstration around a public deposit location "
        "(not an official cadastre)",
        "示意区块：为本演示围绕公开矿床位置绘制（非官方矿权登记）",
        "توضیحی بلاک: اس مظاہرے کے لیے ایک عوامی معدنی ذخیرے کے مقام کے گرد بنایا گیا "
        "(سرکاری کیڈسٹر نہیں)",
    ),
    "in_english": Text("in English", "英文", "انگریزی میں"),
    "less_than": Text("less than {value}", "少于 {value}", "{value} سے کم"),
    "open_area": Text("{layer}: {name} ›", "{layer}：{name} ›", "{layer}: {name} ‹"),
    "layers": Text("Layers", "图层", "تہیں"),
    # why a deposit has no link of a kind: the network build's sentences (geo/network_sql.py
    # REASONS), written again in each language with the site's and corridor's names as given
    "reason_no_corridors": Text(
        "there are no corridors in the store to join",
        "库中没有可接入的物流通道",
        "ڈیٹا میں جڑنے کے لیے کوئی راہداری نہیں",
    ),
    "reason_none": Text(
        "there are no {targets} in the store", "库中没有{targets}", "ڈیٹا میں کوئی {targets} نہیں"
    ),
    "reason_unreachable": Text(
        "no {target} is reachable: {site} joins the network on {corridor}, a part of the "
        "network that no {target} joins",
        "无法到达任何{target}：{site} 在 {corridor} 接入路网，而这部分路网不连接任何{target}",
        "کوئی {target} قابلِ رسائی نہیں: {site} نیٹ ورک سے {corridor} پر جڑتا ہے، جو نیٹ ورک کا "
        "ایسا حصہ ہے جس سے کوئی {target} نہیں جڑتا",
    ),
    "reason_SEZ": Text("SEZ", "经济特区", "اقتصادی زون"),
    "reason_SEZs": Text("SEZs", "经济特区", "اقتصادی زونز"),
    "reason_port": Text("port", "港口", "بندرگاہ"),
    "reason_ports": Text("ports", "港口", "بندرگاہیں"),
}

REASONS: tuple[tuple[str, str], ...] = (
    ("reason_no_corridors", r"^there are no corridors in the store to join$"),
    ("reason_none", r"^there are no (?<targets>SEZs|ports) in the store$"),
    ("reason_unreachable", r"^no (?<target>SEZ|port) is reachable: (?<site>.+) joins the network "
     r"on (?<corridor>.+), a part of the network that no (?:SEZ|port) joins$"),
)  # fmt: skip
"""The network build's reasons as patterns (JavaScript's named groups; Python reads them with
``(?P<…>``): the key of their text above, and the names or kinds they carry."""

RASTERS: dict[str, Text] = {
    "accessibility": Text(
        "Hours from each 1 km cell to the nearest SEZ or port along the sample road and rail "
        "corridors of this platform. It measures distance on that small network only: places "
        "far from a sample corridor (much of Punjab, where real roads are dense) read as "
        "poorly connected. It is not a travel-time map of Pakistan's real road network.",
        "每个 1 公里网格沿本平台样本公路和铁路走廊到最近经济特区或港口的小时数。它只衡量"
        "这一小型网络上的距离：远离样本走廊的地方（包括道路实际很密集的旁遮普大部分地区）显示为"
        "连通性差。它不是巴基斯坦真实道路网络的通行时间图。",
        "ہر 1 کلومیٹر خانے سے اس پلیٹ فارم کی نمونہ سڑک اور ریل راہداریوں کے ذریعے قریب ترین "
        "خصوصی اقتصادی زون یا بندرگاہ تک گھنٹے۔ یہ صرف اسی چھوٹے نیٹ ورک پر فاصلہ ناپتا ہے: "
        "نمونہ راہداری سے دور جگہیں (پنجاب کا بڑا حصہ، جہاں اصل سڑکیں گھنی ہیں) کم منسلک دکھائی "
        "دیتی ہیں۔ یہ پاکستان کے اصل سڑک نیٹ ورک پر سفر کے وقت کا نقشہ نہیں ہے۔",
    ),
    "deposit_density": Text(
        "Deposits per 10,000 km², smoothed over about 25 km, counted from the public deposits "
        "in this catalogue. It shows where recorded deposits cluster, not where minerals are: "
        "areas little explored or little reported look empty.",
        "每 1 万平方公里的矿床数，约 25 公里范围平滑，统计自本目录中的公开矿床。它显示已记录"
        "矿床的集中之处，而不是矿产所在之处：勘探或报告较少的地区会显得空白。",
        "فی 10,000 مربع کلومیٹر معدنی ذخائر، تقریباً 25 کلومیٹر پر ہموار، اس فہرست کے عوامی "
        "ذخائر سے گنے گئے۔ یہ دکھاتا ہے کہ درج شدہ ذخائر کہاں اکٹھے ہیں، یہ نہیں کہ معدنیات کہاں "
        "ہیں: کم دریافت شدہ یا کم رپورٹ شدہ علاقے خالی دکھائی دیتے ہیں۔",
    ),
}
"""What each sample raster surface means and what it does not, shown in the legend."""

UNITS: dict[str, Text] = {
    **RESOURCE_UNITS,
    "hours": Text("hours", "小时", "گھنٹے"),
    "deposits per 10,000 km²": Text(
        "deposits per 10,000 km²", "个矿床 / 1 万平方公里", "ذخائر فی 10,000 مربع کلومیٹر"
    ),
}

PROVINCES: dict[str, Text] = {
    "Balochistan": Text("Balochistan", "俾路支省", "بلوچستان"),
    "Khyber Pakhtunkhwa": Text("Khyber Pakhtunkhwa", "开伯尔-普赫图赫瓦省", "خیبر پختونخوا"),
    "Punjab": Text("Punjab", "旁遮普省", "پنجاب"),
    "Sindh": Text("Sindh", "信德省", "سندھ"),
    "Gilgit-Baltistan": Text("Gilgit-Baltistan", "吉尔吉特-巴尔蒂斯坦", "گلگت بلتستان"),
    "Azad Jammu and Kashmir": Text(
        "Azad Jammu and Kashmir", "阿扎德查谟和克什米尔", "آزاد جموں و کشمیر"
    ),
    "Azad Kashmir": Text("Azad Kashmir", "阿扎德克什米尔", "آزاد کشمیر"),
    "Islamabad Capital Territory": Text(
        "Islamabad Capital Territory", "伊斯兰堡首都区", "وفاقی دارالحکومت اسلام آباد"
    ),
}
"""Names of the provinces and territories (the titles of their Wikipedia articles in each
language, https://zh.wikipedia.org and https://ur.wikipedia.org, read 2026-12-06), for
``province`` values; a provinces row's own name_zh/name_ur, where the store has them, wins."""
