"""Seeded demo data: realistic exports of both 2023 batches, written as files and imported
through the same importers a user would use (some .xlsx with title rows, some GB18030 CSVs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from examdash.domain import ids, rules
from examdash.importers.kinds import PROVINCES

DEMO_TODAY = "2023-06-14"  # inside the 2023-1 publicity window, so every page has something live

# GB/T 2260 province prefixes, in the order of PROVINCES
PROVINCE_CODES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                  53, 54, 61, 62, 63, 64, 65]
CITIES = {
    "北京市": ["北京"], "天津市": ["天津"], "河北省": ["石家庄", "唐山", "保定", "邯郸"], "山西省": ["太原", "大同", "晋中"],
    "内蒙古自治区": ["呼和浩特", "包头"], "辽宁省": ["沈阳", "大连", "鞍山"], "吉林省": ["长春", "吉林"],
    "黑龙江省": ["哈尔滨", "齐齐哈尔", "大庆"], "上海市": ["上海"], "江苏省": ["南京", "苏州", "无锡", "常州", "南通"],
    "浙江省": ["杭州", "宁波", "温州", "金华"], "安徽省": ["合肥", "芜湖", "安庆"], "福建省": ["福州", "厦门", "泉州"],
    "江西省": ["南昌", "九江", "赣州"], "山东省": ["济南", "青岛", "烟台", "潍坊", "淄博"], "河南省": ["郑州", "洛阳", "开封", "新乡"],
    "湖北省": ["武汉", "宜昌", "襄阳"], "湖南省": ["长沙", "株洲", "湘潭", "岳阳"], "广东省": ["广州", "深圳", "佛山", "东莞", "珠海"],
    "广西壮族自治区": ["南宁", "柳州", "桂林"], "海南省": ["海口", "三亚"], "重庆市": ["重庆"], "四川省": ["成都", "绵阳", "南充", "宜宾"],
    "贵州省": ["贵阳", "遵义"], "云南省": ["昆明", "曲靖", "大理"], "西藏自治区": ["拉萨"], "陕西省": ["西安", "宝鸡", "咸阳"],
    "甘肃省": ["兰州", "天水"], "青海省": ["西宁"], "宁夏回族自治区": ["银川"], "新疆维吾尔自治区": ["乌鲁木齐", "克拉玛依"],
}
SCHOOL_SUFFIXES = [("职业技术学院", "高职"), ("职业学院", "高职"), ("信息职业技术学院", "高职"), ("商贸职业学院", "高职"),
                   ("经济管理职业学院", "高职"), ("电子商务职业学院", "高职"), ("工商学院", "本科"), ("财经学院", "本科"),
                   ("中等专业学校", "中职"), ("商业学校", "中职")]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤") + ["欧阳", "司马", "上官", "诸葛", "东方"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林欣晨悦佳琪雪婷子轩涵睿博文雨思怡诗梓瑞嘉一诺泽浩然子豪晓东海燕小红春")
BATCHES = {"2023-1": (dt.date(2023, 3, 20), dt.date(2023, 5, 9)), "2023-2": (dt.date(2023, 4, 20), dt.date(2023, 5, 30))}
FEE_STANDARDS = [  # province, 初级, 中级, effective date, 文号
    ("广东省", 240, 300, "2023-03-01", "粤教职函〔2023〕12号"),
    ("江苏省", 260, 290, "2023-01-01", "苏教职〔2023〕3号"),
    ("浙江省", 280, 300, "2023-02-15", "浙教办职〔2023〕8号"),
    ("山东省", 230, 260, "2023-04-01", "鲁教职字〔2023〕5号"),
    ("四川省", 250, 270, "2023-08-01", "川教函〔2023〕217号"),
    ("河南省", 220, 250, "2023-09-01", "教职成〔2023〕301号"),
    ("湖南省", 270, 280, "2023-03-10", "湘教通〔2023〕41号"),
    ("北京市", 300, 320, "2023-01-01", "京教职成〔2023〕2号"),
    ("福建省", 260, 275, "2023-07-15", "闽教职成〔2023〕19号"),
    ("陕西省", 240, 260, "2023-05-01", "陕教职办〔2023〕6号"),
]


@dataclass
class World:
    schools: pd.DataFrame  # school_code, school_name, province, city, school_type, is_pilot
    sites: pd.DataFrame  # site_code, site_name, province, city, school_code, seats, quality


def make_world(seed: int = 20230527, n_schools: int = 320, n_sites: int = 120) -> World:
    rng = np.random.default_rng(seed)
    rows, used = [], set()
    weights = np.array([3 if p in ("广东省", "江苏省", "山东省", "河南省", "四川省", "浙江省", "湖南省") else 1 for p in PROVINCES], float)
    provinces = rng.choice(PROVINCES, size=n_schools, p=weights / weights.sum())
    provinces[: len(PROVINCES)] = PROVINCES  # every province has at least one school
    for i, prov in enumerate(provinces):
        city = rng.choice(CITIES[prov])
        for _ in range(50):
            suffix, stype = SCHOOL_SUFFIXES[rng.integers(len(SCHOOL_SUFFIXES))]
            name = f"{city}{suffix}" if f"{city}{suffix}" not in used else f"{city}{rng.choice(list('东西南北新华工科城'))}{suffix}"
            if name not in used:
                break
        used.add(name)
        rows.append((name, prov, city, stype))
    schools = pd.DataFrame(rows, columns=["school_name", "province", "city", "school_type"])
    # Codes are digit strings, some with a leading zero: they must survive every import as text.
    schools.insert(0, "school_code", [f"0{1000 + i * 3}" if i % 4 == 0 else f"{12000 + i * 7}" for i in range(n_schools)])
    schools["is_pilot"] = rng.random(n_schools) < 0.72
    pilots = schools[schools.is_pilot]
    # Every province gets a site where it has a pilot school; the rest go to the larger provinces.
    first = pilots.groupby("province").head(1)
    rest = pilots.drop(first.index).sample(n=max(0, min(n_sites - len(first), len(pilots) - len(first))), random_state=seed)
    hosts = pd.concat([first, rest]).sort_values("school_code")
    sites = pd.DataFrame({
        "site_code": [f"DM{PROVINCE_CODES[PROVINCES.index(p)]:02d}{k:03d}" for k, p in enumerate(hosts.province, start=1)],
        "site_name": [f"{n}考点" for n in hosts.school_name],
        "province": hosts.province.to_numpy(),
        "city": hosts.city.to_numpy(),
        "school_code": hosts.school_code.to_numpy(),
        "seats": rng.choice([60, 80, 100, 120, 150, 200, 240, 300], size=len(hosts)),
        "quality": rng.normal(0, 6, size=len(hosts)),
    }).reset_index(drop=True)
    return World(schools=schools.reset_index(drop=True), sites=sites)


def _ids(rng, provinces: np.ndarray, years: np.ndarray) -> np.ndarray:
    n = len(provinces)
    pcode = np.array([PROVINCE_CODES[PROVINCES.index(p)] for p in provinces]) if n else np.zeros(0, int)
    region = pcode * 10000 + rng.integers(1, 20, n) * 100 + rng.integers(1, 30, n)
    day = pd.to_datetime(years.astype(str), format="%Y") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    seq = rng.integers(1, 1000, n)
    first17 = (pd.Series(region.astype(str)) + day.strftime("%Y%m%d").to_series(index=range(n)) +
               pd.Series(seq).astype(str).str.zfill(3))
    arr = np.array(first17.tolist(), dtype="U17").view(np.uint32).reshape(n, 17).astype(np.int64) - ord("0")
    check = np.array(list(ids.CHECK))[(arr * ids.WEIGHTS).sum(axis=1) % 11]
    return (first17 + check).to_numpy()


def _names(rng, n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.8  # common surnames first, compound ones rare
    sur = np.array(SURNAMES)[rng.choice(len(SURNAMES), size=n, p=weights / weights.sum())]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.where(rng.random(n) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return np.char.add(np.char.add(sur.astype(str), g1.astype(str)), g2.astype(str))


def make_registrations(world: World, n: int, batch: str, seed: int) -> pd.DataFrame:
    """Registrations of one batch as the platform exports them (Chinese headers, text cells)."""
    rng = np.random.default_rng([seed, int(batch.replace("-", ""))])
    schools, sites = world.schools, world.sites
    size = np.exp(rng.normal(0, 0.8, len(schools)))
    school_idx = rng.choice(len(schools), size=n, p=size / size.sum())
    social = rng.random(n) < 0.05
    own_site = dict(zip(sites.school_code, range(len(sites))))
    by_prov = sites.groupby("province").indices
    # One draw after another from the same generator (the demo must stay what it is for its seed), on plain
    # Python values: pandas access per row made a million rows take 45 s instead of 2.
    codes, provs = schools.school_code.tolist(), schools.province.tolist()
    picks = []
    for si in school_idx.tolist():
        code, prov = codes[si], provs[si]
        if code in own_site and rng.random() < 0.97:
            picks.append(own_site[code])
        elif prov in by_prov:
            near = by_prov[prov]
            picks.append(near[rng.integers(0, len(near))])  # 借考 at a site of the same province (= rng.choice)
        else:
            picks.append(rng.integers(len(sites)))
    site_idx = np.array(picks, dtype=int)
    # Social candidates are registered by the school that runs their site.
    school_codes = np.where(social, sites.school_code.to_numpy()[site_idx], schools.school_code.to_numpy()[school_idx])
    school_pos = pd.Index(schools.school_code).get_indexer(school_codes)
    level = np.where(rng.random(n) < 0.62, "初级", "中级")
    years = np.where(social, rng.integers(1978, 2002, n), rng.integers(1999, 2006, n))
    ids = _ids(rng, schools.province.to_numpy()[school_pos], years)
    open_day, deadline = BATCHES.get(batch, (dt.date(2023, 1, 1), dt.date(2023, 2, 1)))
    span = (deadline - open_day).days + 1
    day = np.floor(span * rng.beta(2.2, 1.0, n)).astype(int).clip(0, span - 1)
    ts = pd.Timestamp(open_day) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(rng.integers(8 * 3600, 22 * 3600, n), unit="s")
    order = np.lexsort((ts.to_numpy(), site_idx))
    ticket = np.empty(n, dtype=object)
    lvl_digit = np.where(level == "初级", "1", "2")
    seq_in_site = pd.Series(site_idx[order]).groupby(site_idx[order]).cumcount().to_numpy() + 1
    ticket[order] = (pd.Series([batch.replace("-", "")[2:]] * n) + pd.Series(site_idx[order] + 1).astype(str).str.zfill(3)
                     + pd.Series(lvl_digit[order]) + pd.Series(seq_in_site).astype(str).str.zfill(5)).to_numpy()
    status = np.where(rng.random(n) < 0.01, "已取消", "正常")
    frame = pd.DataFrame({
        "考试批次": batch,
        "姓名": _names(rng, n),
        "身份证号": ids,
        "级别": level,
        "院校代码": school_codes,
        "院校名称": schools.school_name.to_numpy()[school_pos],
        "考点代码": sites.site_code.to_numpy()[site_idx],
        "考点名称": sites.site_name.to_numpy()[site_idx],
        "考生类型": np.where(social, "社会考生", "在校生"),
        "报名时间": ts.strftime("%Y-%m-%d %H:%M:%S"),
        "准考证号": ticket,
        "报名状态": status,
    })
    # An ID drawn twice for the same level would be one person registering twice: keep the first.
    return frame.drop_duplicates(subset=["身份证号", "级别"]).reset_index(drop=True)


def make_attendance(world: World, regs: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 7])
    live = regs[regs["报名状态"] == "正常"]
    n = len(live)
    r = rng.random(n)
    status = np.where(r < 0.05, "缺考", np.where(r < 0.0515, "违纪", "已签到"))
    seq = live["准考证号"].str[-5:].astype(int).to_numpy()
    return pd.DataFrame({
        "准考证号": live["准考证号"].to_numpy(),
        "考场": "第" + pd.Series((seq - 1) // 30 + 1).astype(str).to_numpy() + "考场",
        "座号": pd.Series((seq - 1) % 30 + 1).astype(str).str.zfill(2).to_numpy(),
        "签到状态": status,
    })


def make_scores(world: World, regs: pd.DataFrame, att: pd.DataFrame, batch: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 11, int(batch[-1])])
    live = regs[regs["报名状态"] == "正常"].reset_index(drop=True)
    status = live["准考证号"].map(dict(zip(att["准考证号"], att["签到状态"]))).to_numpy()
    n = len(live)
    quality = live["考点代码"].map(dict(zip(world.sites.site_code, world.sites.quality))).to_numpy()
    harder = np.where(live["级别"].to_numpy() == "中级", -3.0, 0.0)
    theory = np.clip(rng.normal(75 + quality + harder, 11, n), 0, 100).round(0)
    practical = np.clip(rng.normal(76 + quality + harder, 12, n) + 0.3 * (theory - 75), 0, 100).round(1)
    absent = status == "缺考"
    passed = (theory >= float(rules.PASS_MARK)) & (practical >= float(rules.PASS_MARK)) & (status != "违纪")
    supplied = np.where(passed, "合格", "不合格")
    wrong = rng.choice(n, size=min(5, n), replace=False)  # the platform sometimes gets its verdict wrong
    supplied[wrong] = np.where(passed[wrong], "不合格", "合格")
    total = rules.weighted(theory, practical).round(1)
    fmt = lambda a: np.where(absent, "缺考", pd.Series(a).map(lambda v: f"{v:g}").to_numpy())
    return pd.DataFrame({
        "考试批次": batch,
        "准考证号": live["准考证号"],
        "身份证号": live["身份证号"],
        "姓名": live["姓名"],
        "理论成绩": fmt(theory),
        "实操成绩": fmt(practical),
        "总成绩": fmt(total),
        "是否合格": np.where(absent, "不合格", supplied),
    })


def make_payments(world: World, regs: list[pd.DataFrame], seed: int) -> pd.DataFrame:
    """Bank lines per paying school, at the provisional price, sometimes short, over or messy."""
    rng = np.random.default_rng([seed, 13])
    allr = pd.concat(regs)
    allr = allr[allr["报名状态"] == "正常"]
    due = allr.assign(fee=np.where(allr["级别"] == "初级", 270, 280)).groupby("院校代码").fee.sum()
    names = dict(zip(world.schools.school_code, world.schools.school_name))
    rows, k = [], 0
    for code, amount in due.items():
        name = names[code]
        if rng.random() < 0.08:
            continue  # has not paid yet
        parts = 1 if rng.random() < 0.7 else 2
        factor = rng.choice([1.0, 1.0, 1.0, 0.9, 1.05])
        total = int(round(amount * factor))
        for p in range(parts):
            part = total // parts if p < parts - 1 else total - (total // parts) * (parts - 1)
            k += 1
            style = rng.random()
            if style < 0.6:
                payer, remark = name, f"{name}1+X考核费用"
            elif style < 0.8:
                payer, remark = name, "1+X 考核费用"
            elif style < 0.93:
                short = name.replace("职业技术学院", "职院").replace("职业学院", "职院")
                payer, remark = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}", f"{short} 1+x考核费"
            else:
                payer, remark = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(GIVEN)}", "考试费"
            day = dt.date(2023, 4, 10) + dt.timedelta(days=int(rng.integers(0, 80)))
            rows.append((f"3010{day:%Y%m%d}{k:06d}", day.isoformat(), payer, f"{part:.2f}", remark))
    return pd.DataFrame(rows, columns=["银行流水号", "到账日期", "付款单位", "金额", "备注"])


def write_xlsx(frame: pd.DataFrame, path: Path, title: str | None = None) -> None:
    """Every cell as text, like the platform's exports; optionally a merged title row on top."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("Sheet1")
    r = 0
    if title:
        ws.merge_range(0, 0, 0, max(len(frame.columns) - 1, 1), title, wb.add_format({"bold": True, "align": "center"}))
        r = 1
    bold = wb.add_format({"bold": True})
    for j, c in enumerate(frame.columns):
        ws.write_string(r, j, str(c), bold)
    cols = [frame[c].astype("str").tolist() for c in frame.columns]
    for i in range(len(frame)):
        for j, col in enumerate(cols):
            v = col[i]
            if isinstance(v, str) and v and v != "nan":  # pandas 3 keeps missing cells as NaN
                ws.write_string(r + 1 + i, j, v)
    wb.close()


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8-sig", title: str | None = None) -> None:
    body = frame.to_csv(index=False, lineterminator="\r\n")
    if title:
        body = title + "," * (len(frame.columns) - 1) + "\r\n" + body
    path.write_bytes(body.encode(encoding))


def sat_batches(today: str | None = DEMO_TODAY) -> set[str]:
    """The exam plan's batches whose exam day is not after `today` (all of them for None)."""
    from examdash.domain import plan as plan_mod

    return {b.code for b in plan_mod.load_plan().batches if today is None or b.exam_date <= dt.date.fromisoformat(today)}


def generate(out: Path, seed: int = 20230527, candidates: int = 60000,
             today: str | None = DEMO_TODAY) -> list[tuple[str, Path, str | None]]:
    """Write the demo exports into `out`; returns (kind, file, batch) in import order.

    Sign-in sheets and scores exist only for batches whose exam day is not after `today` (the demo's
    pinned day: 2023-2 is sat on 06-16, so on 06-14 it has registrations and nothing else); None
    writes them for every batch."""
    sat = sat_batches(today)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = make_world(seed)
    files: list[tuple[str, Path, str | None]] = []

    schools = world.schools.assign(是否试点=np.where(world.schools.is_pilot, "是", "否"))[
        ["school_code", "school_name", "province", "school_type", "是否试点"]
    ].rename(columns={"school_code": "院校代码", "school_name": "院校名称", "province": "省份", "school_type": "类型"})
    p = out / "院校名单.xlsx"
    write_xlsx(schools, p, "1+X 数字营销技术应用职业技能等级证书 试点及参考院校名单")
    files.append(("schools", p, None))

    sites = world.sites.rename(columns={"site_code": "考点代码", "site_name": "考点名称", "province": "省份", "city": "城市",
                                        "school_code": "所属院校代码", "seats": "机位数"}).drop(columns="quality")
    p = out / "考点名单.csv"
    write_csv(sites, p, "gb18030", title="数字营销技术应用考核站点名单")
    files.append(("sites", p, None))

    n1 = int(candidates * 0.6)
    regs = {"2023-1": make_registrations(world, n1, "2023-1", seed), "2023-2": make_registrations(world, candidates - n1, "2023-2", seed)}
    p = out / "报名_2023-1.xlsx"
    write_xlsx(regs["2023-1"], p, "2023年第一次数字营销技术应用全国统考 报名信息表")
    files.append(("registrations", p, None))
    p = out / "报名_2023-2.csv"
    write_csv(regs["2023-2"], p, "utf-8-sig")
    files.append(("registrations", p, None))

    for batch, enc in (("2023-1", "gb18030"), ("2023-2", "utf-8")):
        if batch not in sat:
            continue
        att = make_attendance(world, regs[batch], seed + int(batch[-1]))
        p = out / f"签到表_{batch}.csv"
        write_csv(att, p, enc)
        files.append(("attendance", p, batch))
        sc = make_scores(world, regs[batch], att, batch, seed)
        if batch == "2023-1":
            p = out / f"成绩_{batch}.xlsx"
            write_xlsx(sc, p, f"{batch[:4]}年第一次数字营销技术应用全国统考 成绩表")
        else:
            p = out / f"成绩_{batch}.csv"
            write_csv(sc, p, "gb18030")
        files.append(("scores", p, None))

    fees = pd.DataFrame(
        [(prov, lvl, eff, f"{amt}", doc) for prov, a1, a2, eff, doc in FEE_STANDARDS for lvl, amt in (("初级", a1), ("中级", a2))],
        columns=["省份", "级别", "生效日期", "金额（元/人·次）", "文号"],
    )
    p = out / "收费标准.csv"
    write_csv(fees, p, "utf-8")
    files.append(("fee-standards", p, None))

    pay = make_payments(world, list(regs.values()), seed)
    p = out / "银行到账流水.xlsx"
    write_xlsx(pay, p, "交通银行北京马甸支行 账户交易明细")
    files.append(("payments", p, None))
    return files


def finish(con, db_file: Path, seed: int = 20230527) -> None:
    """After the exports are imported: demo accounts, 'today' pinned inside the 2023-1 window, and a
    handful of review requests filed in that window."""
    from examdash.domain import auth
    from examdash.store import db

    pin_today(con)
    existing = {r[0] for r in con.cursor().execute("select username from users").fetchall()}
    accounts = demo_users(con)
    for username, display, role, school in accounts:
        if username not in existing:
            auth.create_user(con, username, display, role, DEMO_PASSWORD[role], actor="demo",
                             school_code=school if role == "school" else None,
                             site_code=school if role == "site" else None)
    with db.transaction(con) as cur:
        db.set_meta(cur, "demo_accounts", ",".join(a[0] for a in accounts))
    make_reviews(con)


def pin_today(con) -> None:
    """Pin the database's clock to DEMO_TODAY (once): the imports that follow, and every page, live on that day."""
    from examdash.store import db

    if db.get_meta(con, "today") == DEMO_TODAY:
        return
    with db.transaction(con) as cur:
        db.set_meta(cur, "today", DEMO_TODAY)
    with db.transaction(con) as cur:  # its own transaction: the audit row is stamped by the pinned clock
        db.audit(cur, "demo", "pin_today", DEMO_TODAY)


DEMO_PASSWORD = {"admin": "Admin-2023demo", "staff": "Staff-2023demo", "school": "School-2023demo",
                 "site": "Site-2023demo"}
DEMO_USERNAMES = ("admin", "staff", "school1", "school2", "school3", "site1")


def published_accounts(con) -> list[str]:
    """The demo's accounts that are still enabled with the password this README publishes. A store
    that has any is a demo store: anybody can sign in to it."""
    from examdash.domain import auth
    from examdash.store import db

    names = (db.get_meta(con, "demo_accounts") or ",".join(DEMO_USERNAMES)).split(",")
    cur = con.cursor()
    try:
        rows = cur.execute("select username, role, password_hash from users where active and list_contains($n, username) "
                           "order by username", {"n": names}).fetchall()
    finally:
        cur.close()
    return [u for u, role, stored in rows if role in DEMO_PASSWORD and auth.verifies(stored, DEMO_PASSWORD[role])]


def retire_published_passwords(con, password, actor: str) -> None:
    """Give every demo account that exists a password of its own (`password(username)`), as a bench or a
    test that imports into a copy of the demo store must: the store then takes imports."""
    from examdash.domain import auth

    for username in DEMO_USERNAMES:
        if auth.reload_user(con, username) is not None:
            auth.reset_password(con, username, password(username), actor)


def real_data_refusal(con, store) -> str | None:
    """Why real exports must not go into this store (it has demo accounts with published passwords), with
    the way to a real store and its first admin; None for a store without them."""
    names = published_accounts(con)
    if not names:
        return None
    real = "data/exam.ducklake"
    return (f"{store} 是演示数据库：账号 {'、'.join(names)} 仍在使用 README 中公开的演示密码，任何人都能登录，"
            "不能导入真实数据。请新建正式数据库并创建第一个管理员：\n"
            f"  EXAMDASH_DB={real} .venv/bin/python -m examdash init\n"
            f"  EXAMDASH_DB={real} .venv/bin/python -m examdash users add 用户名 --role admin --name 姓名\n"
            f"再用 make run DB={real} 启动（或在命令行加 --db {real}）。"
            "若只想在演示库里试用导入，请先为这些账号重置密码或停用它们。")


def demo_users(con) -> list[tuple[str, str, str, str | None]]:
    """(username, display name, role, school or site code): one admin, one staff, the three largest schools
    and one exam site (busiest_mixed_site)."""
    cur = con.cursor()
    try:
        top = cur.execute(
            "select r.school_code, s.school_name from registrations r join schools s using (school_code) "
            "group by all order by count(*) desc, r.school_code limit 3"
        ).fetchall()
    finally:
        cur.close()
    users = [("admin", "系统管理员", "admin", None), ("staff", "考务专员", "staff", None)]
    users += [(f"school{i}", f"{name}负责人", "school", code) for i, (code, name) in enumerate(top, start=1)]
    site = busiest_mixed_site(con)
    if site is not None:
        users.append(("site1", f"{site[1]}考务负责人", "site", site[0]))
    return users


def busiest_mixed_site(con) -> tuple[str, str] | None:
    """(site_code, site_name) of the site with the most registrations that also hosts borrowed (借考) and
    social candidates: the demo's 考点 account shows every kind of candidate."""
    cur = con.cursor()
    try:
        found = cur.execute(
            "select r.site_code, s.site_name from registrations r join sites s using (site_code) "
            "group by all having count_if(r.candidate_type = '社会考生') > 0 "
            "and count_if(r.school_code <> s.school_code and r.candidate_type <> '社会考生') > 0 "
            "order by count(*) desc, r.site_code limit 1").fetchall()
    finally:
        cur.close()
    return found[0] if found else None


def make_reviews(con) -> None:
    """A publicity week in progress (2023-1, today 06-14): the three demo schools file review requests
    through the same functions the pages use, and staff have decided some of them.

    Decided: one 维持, one 驳回 and one 更正 (a small practical-score correction that does not change the
    candidate's verdict, so the demo's pass rates stay those of the exports); open: one 已提交 per school
    and one 复核中. Does nothing when 2023-1 already has review requests."""
    from examdash.domain import auth, reviews

    batch = "2023-1"
    cur = con.cursor()
    try:
        if cur.execute("select 1 from review_requests where batch_code = $b limit 1", {"b": batch}).fetchall():
            return
        cands = cur.execute(
            "select school_code, ticket_no, attendance_status, theory, practical, passed from results "
            "where batch_code = $b and ticket_no is not null order by school_code, ticket_no",
            {"b": batch},
        ).df()
    finally:
        cur.close()
    users = {u: auth.reload_user(con, u) for u in ("staff", "school1", "school2", "school3")}
    if any(u is None for u in users.values()):
        return
    staff = users["staff"]

    def pick(school: str, want, used: set) -> str | None:
        rows = cands[(cands.school_code == school) & ~cands.ticket_no.isin(used)]
        hit = rows[want(rows)] if len(rows) else rows
        chosen = hit if len(hit) else rows
        if not len(chosen):
            return None
        used.add(chosen.ticket_no.iat[0])
        return chosen.ticket_no.iat[0]

    day = lambda d, h, m: dt.datetime(2023, 6, d, h, m)  # noqa: E731
    failing = lambda r: (r.attendance_status == "已签到") & (r.passed == False)  # noqa: E712
    passing_room = lambda r: (r.passed == True) & (r.practical.astype(float) <= 95)  # noqa: E712
    absent = lambda r: r.attendance_status == "缺考"

    s1, used1 = users["school1"], set()
    t_keep, t_fix, t_open = pick(s1.school_code, failing, used1), pick(s1.school_code, passing_room, used1), \
        pick(s1.school_code, failing, used1)
    items = [(t, r, x) for t, r, x in (
        (t_keep, "理论", "考生反映理论部分作答完整，成绩明显低于自估，申请复核理论试卷"),
        (t_fix, "实操", "实操第3题提交后平台显示未保存，申请核对实操评分记录"),
        (t_open, "总分", "总成绩与理论、实操成绩加权结果不一致，申请核对"),
    ) if t]
    if items:
        reviews.file_request(con, s1, batch, items, at=day(12, 9, 40))
        ids = _item_ids(con, batch, s1.school_code)
        if t_keep:
            reviews.start_review(con, staff, ids[t_keep], "已调取理论试卷与作答日志", at=day(12, 15, 10))
            reviews.decide(con, staff, ids[t_keep], "维持", "复核理论试卷与作答日志，阅卷与计分无误，成绩维持",
                           at=day(13, 10, 20))
        if t_fix:
            row = cands[cands.ticket_no == t_fix].iloc[0]
            reviews.start_review(con, staff, ids[t_fix], "已联系考点调取实操评分记录", at=day(13, 9, 5))
            reviews.decide(con, staff, ids[t_fix], "更正", "实操第3题评分记录漏计 2.5 分，按复核结果更正",
                           theory=row.theory, practical=round(min(float(row.practical) + 2.5, 100.0), 1),
                           at=day(14, 10, 45))

    s2, used2 = users["school2"], set()
    t_absent = pick(s2.school_code, absent, used2)
    t_reject = pick(s2.school_code, failing, used2)
    items = [(t, r, x) for t, r, x in (
        (t_absent, "缺考误判", "考生当天已到场参加考核，签到表漏签，附监考老师说明"),
        (t_reject, "其他", "考生希望了解成绩构成"),
    ) if t]
    if items:
        reviews.file_request(con, s2, batch, items, at=day(13, 14, 5))
        if t_reject:
            ids = _item_ids(con, batch, s2.school_code)
            reviews.decide(con, staff, ids[t_reject], "驳回", "申请未提出具体成绩异议，不属于成绩复核范围；成绩构成可在平台查询",
                           at=day(14, 9, 30))

    s3, used3 = users["school3"], set()
    t3 = pick(s3.school_code, failing, used3)
    if t3:
        reviews.file_request(con, s3, batch, [(t3, "实操", "实操成绩与平台练习成绩差异较大，申请复核")], at=day(14, 8, 50))
        ids = _item_ids(con, batch, s3.school_code)
        reviews.start_review(con, staff, ids[t3], "已转阅卷组复核", at=day(14, 11, 0))


def _item_ids(con, batch: str, school_code: str) -> dict[str, int]:
    cur = con.cursor()
    try:
        rows = cur.execute(
            "select i.ticket_no, i.item_id from review_items i join review_requests r using (request_id) "
            "where r.batch_code = $b and r.school_code = $s",
            {"b": batch, "s": school_code},
        ).fetchall()
    finally:
        cur.close()
    return {t: int(i) for t, i in rows}
