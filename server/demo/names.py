"""Pools of people, places and company names for one Shanghai-like city.

Only data lives here; :mod:`server.demo.world` draws from it with the seeded random generator, so
changing a pool changes the demo data set (tests compare two runs, never fixed values).
"""

from __future__ import annotations

import random

CITY = "上海市"
CENTRE = (31.23, 121.47)
SPREAD = 0.25  # degrees either side of the centre that every coordinate stays within

# District -> (centre latitude, centre longitude, roads in that district).
DISTRICTS: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "黄浦区": (31.23, 121.49, ("南京东路", "淮海中路", "西藏南路", "复兴东路", "中山南路")),
    "徐汇区": (31.18, 121.44, ("漕溪北路", "肇嘉浜路", "宜山路", "虹漕路", "田林路", "桂平路")),
    "长宁区": (31.21, 121.41, ("延安西路", "天山路", "仙霞路", "金钟路", "淞虹路")),
    "静安区": (31.25, 121.45, ("南京西路", "江宁路", "共和新路", "汶水路", "广中西路")),
    "普陀区": (31.25, 121.40, ("真北路", "曹杨路", "武宁路", "中山北路", "金沙江路")),
    "虹口区": (31.27, 121.49, ("四川北路", "东大名路", "曲阳路", "广粤路", "大连西路")),
    "杨浦区": (31.28, 121.53, ("国权路", "黄兴路", "军工路", "长阳路", "淞沪路")),
    "浦东新区": (
        31.22,
        121.56,
        ("张江路", "碧波路", "金科路", "世纪大道", "杨高中路", "川沙路", "金桥路", "龙阳路"),
    ),
    "闵行区": (31.11, 121.39, ("沪闵路", "虹梅南路", "江川路", "剑川路", "都市路", "莘建路")),
    "宝山区": (31.39, 121.47, ("友谊路", "牡丹江路", "泰和路", "蕴川路", "长江西路")),
    "嘉定区": (31.36, 121.27, ("博乐路", "叶城路", "曹安公路", "嘉松北路", "墨玉路")),
    "松江区": (31.05, 121.25, ("荣乐东路", "新松江路", "广富林路", "文诚路", "九亭大街")),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈任姚卢"
)
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "华",
    "平",
    "刚",
    "秀英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "文博",
    "子涵",
    "浩然",
    "雨萱",
    "俊杰",
    "嘉怡",
    "立新",
    "国庆",
    "春燕",
    "永刚",
    "佳琪",
    "思远",
    "一鸣",
)

COMPANY_PLACES = ("", "", "华东", "浦江", "申城", "东方", "金桥", "虹桥", "长江", "沪南")
COMPANY_CORES = (
    "华东",
    "宏达",
    "恒丰",
    "嘉华",
    "联合",
    "永新",
    "瑞丰",
    "天成",
    "金鼎",
    "海纳",
    "明远",
    "博创",
    "中鑫",
    "汇通",
    "鼎盛",
    "新锐",
    "同济",
    "信诚",
    "盛源",
    "立德",
    "优联",
    "德和",
)
INDUSTRIES = (
    "精密机械",
    "食品",
    "医药",
    "物流",
    "电子",
    "化工",
    "纺织",
    "汽车零部件",
    "物业管理",
    "酒店管理",
    "数据科技",
    "冷链",
    "印务",
    "光学",
    "新材料",
    "建设",
    "商业管理",
    "医疗器械",
)
COMPANY_SUFFIXES = ("有限公司", "有限公司", "股份有限公司", "实业有限公司", "科技有限公司")
SITE_KINDS = (
    "总部",
    "一号厂房",
    "二号厂房",
    "研发中心",
    "物流仓库",
    "生产基地",
    "办公楼",
    "数据中心",
)
BUILDINGS = ("", "", "", "1号楼", "2号楼", "A座", "B座", "3号厂房")
AREAS = ("浦东", "浦西", "北区", "南区")


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def landline(rng: random.Random) -> str:
    return f"021-{rng.randrange(5000_0000, 6999_9999)}"


def company(rng: random.Random) -> tuple[str, str]:
    """(full registered name, short name used for sites)."""
    core = rng.choice(COMPANY_CORES)
    industry = rng.choice(INDUSTRIES)
    place = rng.choice(COMPANY_PLACES)
    if place == core:
        place = ""
    return f"上海{place}{core}{industry}{rng.choice(COMPANY_SUFFIXES)}", f"{core}{industry}"


def _clip(value: float, centre: float) -> float:
    return min(max(value, centre - SPREAD), centre + SPREAD)


def place(rng: random.Random) -> tuple[str, float, float]:
    """A street address with its coordinates, inside the city box."""
    district = rng.choice(list(DISTRICTS))
    lat0, lon0, roads = DISTRICTS[district]
    lat = _clip(rng.gauss(lat0, 0.025), CENTRE[0])
    lon = _clip(rng.gauss(lon0, 0.03), CENTRE[1])
    number = rng.choice((rng.randrange(1, 200), rng.randrange(200, 2000)))
    address = f"{CITY}{district}{rng.choice(roads)}{number}号{rng.choice(BUILDINGS)}"
    return address, round(lat, 6), round(lon, 6)


def home_base(rng: random.Random) -> tuple[float, float]:
    """An engineer's home base: anywhere in the city, a bit closer to the centre than sites."""
    lat = CENTRE[0] + rng.uniform(-0.8, 0.8) * SPREAD
    lon = CENTRE[1] + rng.uniform(-0.8, 0.8) * SPREAD
    return round(lat, 6), round(lon, 6)


def area(lat: float, lon: float) -> str:
    """Which of the four service areas a point belongs to (team names follow it)."""
    if lon > 121.50:
        return AREAS[0]
    if lat > 31.28:
        return AREAS[2]
    if lat < 31.17:
        return AREAS[3]
    return AREAS[1]
