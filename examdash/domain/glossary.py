"""The Chinese label of every column the app shows or writes to a file, by the name queries give it.

Pages, downloads and the import preview rename with this one table, so a column is called the same
everywhere (考试批次, 准考证号, 合格率 …).
"""

LABELS = {
    "batch_code": "考试批次", "ticket_no": "准考证号", "name": "姓名", "id_no": "身份证号",
    "site_code": "考点代码", "site_name": "考点名称", "province": "省份", "city": "城市", "level": "级别",
    "registered": "报名", "seats": "机位数", "school_code": "院校代码", "school_name": "院校名称",
    "students": "在校生", "social": "社会考生", "school_type": "院校类型", "is_pilot": "试点院校",
    "candidate_type": "考生类型", "day": "日期", "cumulative": "累计报名",
    "registered_junior": "初级报名", "registered_middle": "中级报名", "registered_total": "报名合计",
    "peak": "较大一场人数", "over_capacity": "超出机位", "over_by": "超出人数", "utilisation": "机位占用率",
    "school_province": "院校省份", "site_province": "考点省份", "host_school_code": "考点所属院校代码",
    "host_school_name": "考点所属院校", "candidates": "人数", "junior": "初级", "middle": "中级",
    "present": "实到", "absent": "缺考", "violations": "违纪", "unrecorded": "未登记",
    "attendance_rate": "出勤率", "absence_rate": "缺考率", "recorded": "有记录人数", "national_rate": "全国缺考率",
    "threshold": "判定阈值", "times_national": "为全国的倍数", "sat": "实考", "passed": "合格",
    "pass_rate": "合格率", "pass_rule": "合格规则", "part": "科目", "bin": "分数段",
    "theory_bin": "理论分数段", "practical_bin": "实操分数段", "attendance_status": "签到状态",
    "theory": "理论成绩", "practical": "实操成绩", "total": "总成绩", "verdict_mismatch": "平台判定不一致",
    "exception": "考勤情况", "recorded_in": "记录来源", "room": "考场", "seat": "座号",
}
