"""What people write: problems, diagnoses, root causes, comments and complaints.

A scenario is one believable repair story for a skill: the customer's problem, the engineer's
diagnosis, a structured root cause (category + text), the actions taken and a prevention note.
Root-cause categories are stable English keys; the UI translates them.
"""

from __future__ import annotations

from typing import NamedTuple

# Every user-facing demo text lives here (and names in names.py): Chinese text uses full-width
# punctuation, which ruff's ambiguous-character rules would flag anywhere else.


class Scenario(NamedTuple):
    problem: str
    diagnosis: str
    category: str
    root_cause: str
    actions: str
    prevention: str


ROOT_CAUSE_CATEGORIES = (
    "wear",
    "electrical",
    "operation",
    "installation",
    "maintenance",
    "environment",
    "defect",
)

SCENARIOS: dict[str, tuple[Scenario, ...]] = {
    "hvac": (
        Scenario(
            "机组频繁高压报警停机",
            "冷却塔风机皮带打滑，冷却水温偏高导致冷凝压力过高",
            "maintenance",
            "冷却侧维护不足，皮带老化",
            "更换风机皮带，清洗冷凝器铜管，复位试机",
            "每季度检查皮带张紧度，每年清洗冷凝器",
        ),
        Scenario(
            "出风温度偏高，制冷效果差",
            "电子膨胀阀开度异常，蒸发器供液不足",
            "wear",
            "膨胀阀步进电机磨损",
            "更换电子膨胀阀，抽真空后补充制冷剂",
            "定期记录吸排气压力，发现偏差及时检修",
        ),
        Scenario(
            "空调机组运行噪音大",
            "风机轴承磨损，运转时有明显金属摩擦声",
            "wear",
            "轴承长期缺润滑",
            "更换风机轴承并加注润滑脂",
            "按保养计划每半年加注润滑脂",
        ),
    ),
    "refrigeration": (
        Scenario(
            "冷库温度降不下来",
            "系统缺氟，干燥过滤器堵塞",
            "maintenance",
            "干燥过滤器超期未换",
            "更换干燥过滤器，检漏补氟",
            "干燥过滤器每年更换一次",
        ),
        Scenario(
            "压缩机启动后跳闸",
            "压缩机接触器触点烧蚀，启动电流异常",
            "electrical",
            "接触器触点老化",
            "更换交流接触器，测量三相电流正常",
            "每年紧固电气接线并检查触点",
        ),
        Scenario(
            "机组报低压故障",
            "蒸发器结霜严重，化霜温度传感器失效",
            "defect",
            "温度传感器批次质量问题",
            "更换化霜温度传感器，手动化霜后恢复运行",
            "关注同批次传感器，巡检时重点检查",
        ),
    ),
    "pump": (
        Scenario(
            "供水压力波动大",
            "压力传感器漂移，变频器反馈信号不稳",
            "wear",
            "压力传感器老化漂移",
            "更换压力传感器，重新整定PID参数",
            "每年校验一次压力传感器",
        ),
        Scenario(
            "水泵漏水",
            "机械密封磨损失效",
            "wear",
            "机械密封到达使用寿命",
            "更换机械密封，试运行无渗漏",
            "按运行小时数计划更换机械密封",
        ),
        Scenario(
            "水泵无法启动",
            "变频器过流保护，电机绝缘正常，变频器功率板损坏",
            "electrical",
            "雷雨天气电网浪涌",
            "更换变频器并加装浪涌保护器",
            "配电柜加装防雷模块",
        ),
    ),
    "plumbing": (
        Scenario(
            "消防泵巡检时出口压力不足",
            "出口止回阀卡滞，阀瓣开启不完全",
            "maintenance",
            "管道锈蚀杂质卡阻阀瓣",
            "更换止回阀，冲洗管道",
            "每半年做一次管网冲洗",
        ),
        Scenario(
            "泵房阀门漏水",
            "闸阀填料老化渗漏",
            "wear",
            "闸阀密封填料老化",
            "更换闸阀，试压合格",
            "巡检时检查阀门填料并及时压紧",
        ),
    ),
    "elevator": (
        Scenario(
            "电梯开关门时卡顿",
            "层门滚轮磨损，门机皮带松弛",
            "wear",
            "门系统部件磨损",
            "更换层门滚轮和门机皮带，调整门刀间隙",
            "每月保养时检查门系统",
        ),
        Scenario(
            "电梯困人",
            "光幕故障导致门反复开关，控制系统保护停梯",
            "defect",
            "光幕接收器故障",
            "解救乘客，更换光幕，试运行正常",
            "光幕每季度清洁检测",
        ),
        Scenario(
            "扶梯扶手带速度与梯级不同步",
            "扶手带驱动轮磨损，扶手带打滑",
            "wear",
            "扶手带驱动部件磨损",
            "更换扶手带并调整张紧",
            "每季度测量扶手带速度偏差",
        ),
    ),
    "generator": (
        Scenario(
            "发电机组无法启动",
            "启动电池电压不足",
            "maintenance",
            "电池长期未充电维护",
            "更换启动电池，检查充电器",
            "每月空载试机一次并检查电池电压",
        ),
        Scenario(
            "发电机输出电压不稳",
            "AVR调压板故障",
            "electrical",
            "AVR调压板元件老化",
            "更换AVR调压板，带载测试",
            "年度保养时做带载测试",
        ),
    ),
    "electrical": (
        Scenario(
            "UPS报电池故障",
            "电池组内阻偏大，两节电池鼓包",
            "wear",
            "电池超过设计寿命",
            "更换故障蓄电池，做放电测试",
            "每年做一次电池内阻测试",
        ),
        Scenario(
            "UPS切换旁路运行",
            "功率模块过温保护，散热风扇停转",
            "environment",
            "机房温度过高且风扇积灰",
            "更换散热风扇，清洁模块，建议改善机房空调",
            "机房温度控制在25℃以下",
        ),
    ),
    "compressor": (
        Scenario(
            "空压机排气温度高停机",
            "油气分离器堵塞，油路不畅",
            "maintenance",
            "油气分离器超期使用",
            "更换油气分离器和机油滤清器，更换润滑油",
            "按4000小时周期更换油分",
        ),
        Scenario(
            "空压机加载慢，压力上不去",
            "进气阀阀片卡滞",
            "wear",
            "进气阀磨损",
            "更换进气阀，清洗空气滤芯",
            "保持空气滤芯清洁",
        ),
    ),
    "controls": (
        Scenario(
            "楼控系统部分点位离线",
            "通讯模块故障，总线终端电阻松动",
            "installation",
            "施工时总线接线不规范",
            "更换通讯模块，重新压接总线",
            "竣工验收时检查总线施工",
        ),
        Scenario(
            "空调末端无法远程控制",
            "DDC控制器程序丢失",
            "defect",
            "控制器固件缺陷",
            "升级DDC固件并恢复程序",
            "升级至最新固件版本",
        ),
    ),
}

USAGE_QUESTIONS = (
    "客户咨询{model}的节能运行设置",
    "客户不清楚{model}的定时启停如何设置",
    "客户询问{model}报警代码含义",
    "新值班人员需要{model}操作指导",
)
USAGE_SCENARIO = Scenario(
    "",
    "设备运行正常，客户对操作流程不熟悉",
    "operation",
    "操作人员未经培训",
    "现场讲解操作流程并留下操作卡片",
    "建议客户组织值班人员培训",
)
PARTS_REQUESTS = (
    "客户要求更换{model}易损件",
    "{model}年度保养，更换耗材",
    "{model}保养到期，按计划更换备件",
)
PARTS_SCENARIO = Scenario(
    "",
    "按保养计划检查，易损件已到更换周期",
    "maintenance",
    "易损件到期",
    "更换到期备件并试运行",
    "按保养计划定期更换",
)

JOB_NOTES = (
    "",
    "",
    "",
    "",
    "客户要求到达前电话联系",
    "需在门卫处登记",
    "设备在地下二层机房",
    "客户只在工作日上午有人",
    "需携带登高作业证",
    "上次维修遗留问题需复查",
)
CANCEL_REASONS = ("客户已自行解决", "客户要求改期", "重复报修", "客户取消")
ESCALATION_NOTES = ("需要厂家技术支持", "疑似设计缺陷，升级至技术部", "需要主管协调停机时间")

COMMENTS_GOOD = (
    "",
    "",
    "工程师很专业，处理及时",
    "服务态度好",
    "响应很快，点赞",
    "讲解很耐心",
    "问题一次解决",
    "准时到达，效率高",
)
COMMENTS_MEH = ("", "到达时间比约定晚", "维修时间有点长", "希望能提前沟通备件情况")
COMMENTS_BAD = (
    "等了很久才有人来",
    "同一个问题第二次报修了",
    "工程师没有解释清楚原因",
    "维修后问题仍然存在",
)
COMPLAINTS = (
    "报修后超过约定时间仍未到场",
    "设备维修后一周内再次故障",
    "工程师现场态度不好",
    "收费与报价不一致",
    "备件等待时间过长，影响生产",
    "多次来电无人回复",
)
COMPLAINT_CAUSES = ("备件调拨延误", "派工安排不合理", "工程师沟通不到位", "首次维修未彻底排除故障")
RESPONSIBILITIES = ("logistics", "dispatch", "engineer", "product", "customer")
COMPLAINT_RESOLUTIONS = (
    "已向客户致歉并安排回访",
    "免费复修并延长保修期",
    "退还多收费用",
    "调整派工规则并向客户说明",
)
SHIPMENT_PLACES = ("上海青浦转运中心", "上海浦东分拨中心", "上海宝山营业部", "上海闵行营业部")
DELAY_NOTES = ("天气原因延误", "分拨中心爆仓", "地址信息不全，待联系")

NEEDS_PARTS = "缺少备件：{part}"
SUPPORT_VISIT = "厂家技术支持到场"
CONSUMPTION_NOTE = "现场维修使用"
PARTS_USED = "；更换备件：{parts}"
REVISION = "（补充：已向客户说明保养建议）"
DAMAGED_NOTE = "外包装破损，开箱检查货物完好"
ARTICLE_TITLE = "{model}：{cause}"
ARTICLE_BODY = (
    "【故障现象】{s.problem}\n【诊断】{s.diagnosis}\n【根本原因】{s.root_cause}\n"
    "【处理方法】{s.actions}\n【预防措施】{s.prevention}"
)
MAINTENANCE_BODY = "按保养计划检查运行参数、紧固电气接线、清洁散热部件。常备易损件：{parts}。"
