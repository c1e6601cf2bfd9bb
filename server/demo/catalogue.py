"""The product and parts catalogue: twelve product models and the components parts are made of.

Every product model needs one engineer skill; a part fits the models whose skill its component
serves. The first parts listed for a model are its "common" parts: vans carry those, and most
repairs use them.
"""

from __future__ import annotations

from dataclasses import dataclass

SKILLS = (
    "hvac",
    "refrigeration",
    "pump",
    "plumbing",
    "elevator",
    "generator",
    "electrical",
    "compressor",
    "controls",
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    code: str
    name: str
    category: str
    skill: str
    warranty_months: int


MODELS = (
    ModelSpec("HX-200", "HX-200 螺杆式冷水机组", "chiller", "hvac", 24),
    ModelSpec("HX-500", "HX-500 离心式冷水机组", "chiller", "refrigeration", 24),
    ModelSpec("KT-80", "KT-80 组合式空调机组", "air_handler", "hvac", 18),
    ModelSpec("LK-45", "LK-45 冷库制冷机组", "cold_room", "refrigeration", 12),
    ModelSpec("BP-150", "BP-150 变频恒压供水设备", "pump", "pump", 24),
    ModelSpec("XF-90", "XF-90 消防泵组", "fire_pump", "plumbing", 36),
    ModelSpec("DT-1000", "DT-1000 乘客电梯", "elevator", "elevator", 24),
    ModelSpec("FT-30", "FT-30 自动扶梯", "escalator", "elevator", 24),
    ModelSpec("FD-500", "FD-500 柴油发电机组", "generator", "generator", 12),
    ModelSpec("UPS-200", "UPS-200 模块化不间断电源", "ups", "electrical", 36),
    ModelSpec("KY-75", "KY-75 螺杆式空气压缩机", "air_compressor", "compressor", 18),
    ModelSpec("BA-10", "BA-10 楼宇自控控制器", "building_automation", "controls", 24),
)

REQUIRED_SKILLS = tuple(dict.fromkeys(m.skill for m in MODELS))


@dataclass(frozen=True, slots=True)
class Component:
    zh: str
    en: str
    skills: frozenset[str]
    price_yuan: int
    specs: tuple[str, ...]
    unit: str = "pc"


def _c(zh: str, en: str, skills: str, price: int, specs: str, unit: str = "pc") -> Component:
    return Component(zh, en, frozenset(skills.split()), price, tuple(specs.split("|")), unit)


COMPONENTS = (
    _c(
        "交流接触器",
        "AC contactor",
        "hvac refrigeration pump compressor electrical",
        180,
        "18A|32A|50A|95A",
    ),
    _c(
        "温度传感器",
        "Temperature sensor",
        "hvac refrigeration controls compressor",
        120,
        "NTC 10K|PT100|PT1000",
    ),
    _c(
        "压力传感器",
        "Pressure transmitter",
        "hvac refrigeration pump plumbing compressor",
        450,
        "0-1.6MPa|0-2.5MPa|0-4MPa",
    ),
    _c("电子膨胀阀", "Electronic expansion valve", "hvac refrigeration", 1600, "DN10|DN15|DN20"),
    _c("干燥过滤器", "Filter drier", "refrigeration hvac", 260, "DML083|DML164|DML305"),
    _c("高压开关", "High-pressure switch", "refrigeration hvac", 220, "2.8MPa|3.2MPa"),
    _c("制冷剂", "Refrigerant", "refrigeration hvac", 95, "R134a|R410A|R22", "kg"),
    _c("冷冻油", "Refrigeration oil", "refrigeration hvac", 320, "POE 5L|矿物油 4L"),
    _c("机械密封", "Mechanical seal", "pump plumbing", 380, "Φ25|Φ35|Φ45"),
    _c("叶轮", "Impeller", "pump plumbing", 1200, "Φ160|Φ200|Φ250"),
    _c(
        "深沟球轴承",
        "Deep-groove ball bearing",
        "pump compressor generator hvac elevator",
        90,
        "6205|6306|6308|6310",
    ),
    _c("变频器", "Frequency inverter", "pump hvac compressor elevator", 5200, "7.5kW|15kW|22kW"),
    _c("压力表", "Pressure gauge", "pump plumbing compressor", 80, "0-1MPa|0-1.6MPa"),
    _c("闸阀", "Gate valve", "plumbing", 420, "DN50|DN80|DN100"),
    _c("止回阀", "Check valve", "plumbing pump", 360, "DN50|DN80|DN100"),
    _c("门机皮带", "Door operator belt", "elevator", 150, "HTD 5M|HTD 8M"),
    _c("层门滚轮", "Landing door roller", "elevator", 45, "Φ60|Φ75"),
    _c("曳引钢丝绳", "Traction rope", "elevator", 60, "Φ10|Φ13", "m"),
    _c("光幕", "Door light curtain", "elevator", 900, "2D|3D"),
    _c("扶手带", "Escalator handrail", "elevator", 3800, "1000型|800型"),
    _c("梯级链", "Step chain", "elevator", 4600, "133mm"),
    _c("燃油滤清器", "Fuel filter", "generator", 160, "FF5052|FS1280"),
    _c("机油滤清器", "Oil filter", "generator compressor", 120, "LF3000|LF9009"),
    _c("空气滤芯", "Air filter element", "generator compressor hvac", 210, "AF872|AF25557"),
    _c("启动电池", "Starter battery", "generator", 950, "12V 120Ah|24V 200Ah"),
    _c("AVR调压板", "Automatic voltage regulator", "generator", 1800, "SX460|R250"),
    _c("UPS蓄电池", "UPS battery", "electrical", 680, "12V 65Ah|12V 100Ah"),
    _c("功率模块", "Power module", "electrical", 7800, "25kVA|50kVA"),
    _c("散热风扇", "Cooling fan", "electrical hvac compressor", 260, "120mm|172mm"),
    _c("电容", "Capacitor", "electrical hvac pump compressor", 95, "30μF|50μF|4700μF"),
    _c("断路器", "Circuit breaker", "electrical generator pump", 320, "63A|125A|250A"),
    _c("油气分离器", "Oil separator", "compressor", 1400, "KY-75 原装"),
    _c("进气阀", "Intake valve", "compressor", 2200, "DN40|DN65"),
    _c(
        "控制主板",
        "Control board",
        "hvac refrigeration compressor pump controls elevator",
        2600,
        "V2.1|V3.0",
    ),
    _c("DDC控制器", "DDC controller", "controls", 3200, "16点|32点"),
    _c("通讯模块", "Communication module", "controls electrical", 850, "BACnet|Modbus|LonWorks"),
    _c("风机皮带", "Fan belt", "hvac", 85, "A-1250|B-1600"),
    _c("初效过滤网", "Pre-filter", "hvac", 120, "G4 595x595|G4 495x495"),
    _c("调节阀执行器", "Valve actuator", "hvac controls", 1500, "24V 10Nm|24V 20Nm"),
)

# Each pass over the components adds a series; the first pass gives the plain, common parts.
SERIES = (
    ("", ""),
    (" 原厂", " OEM"),
    (" 通用型", " generic"),
    (" 加强型", " heavy-duty"),
    (" 进口", " imported"),
    (" 经济型", " economy"),
)


@dataclass(frozen=True, slots=True)
class PartSpec:
    sku: str
    name: str
    name_en: str
    unit: str
    price_cents: int
    skills: frozenset[str]
    series: int


def part_specs(count: int) -> list[PartSpec]:
    """``count`` distinct parts: components times specs, then the same in further series."""
    specs: list[PartSpec] = []
    for series, (zh_suffix, en_suffix) in enumerate(SERIES * (count // 100 + 1)):
        for comp in COMPONENTS:
            for spec in comp.specs:
                if len(specs) == count:
                    return specs
                factor = (1.0, 1.35, 0.8, 1.2, 1.6, 0.7)[series % len(SERIES)]
                round_ = f" {series // len(SERIES) + 1}代" if series >= len(SERIES) else ""
                specs.append(
                    PartSpec(
                        sku=f"FS-{10001 + len(specs):05d}",
                        name=f"{comp.zh} {spec}{zh_suffix}{round_}",
                        name_en=f"{comp.en} {spec}{en_suffix}{round_}",
                        unit=comp.unit,
                        price_cents=int(comp.price_yuan * factor) * 100,
                        skills=comp.skills,
                        series=series,
                    )
                )
    return specs
