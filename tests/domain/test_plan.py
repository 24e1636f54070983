"""The exam plan's [payee]: read from data/exam_plan.toml, checked, and the remark each school writes."""

from __future__ import annotations

import re

import pytest

from examdash.config import EXAM_PLAN
from examdash.domain import plan


def _plan_text(payee_block: str) -> str:
    text = EXAM_PLAN.read_text(encoding="utf-8")
    return re.sub(r"\[payee\].*?(?=\n\[\[batch\]\])", payee_block, text, count=1, flags=re.S)


def test_the_shipped_plan_has_the_notices_payee():
    payee = plan.load_plan().payee
    assert payee.company == "中教畅享（北京）科技有限公司"
    assert payee.taxpayer_id == "91110108799979909E"
    assert (payee.bank, payee.account) == ("交通银行北京马甸支行", "110060437018010014319")
    assert payee.remark_for("北京信息职业技术学院") == "北京信息职业技术学院1+X考核费用"
    assert payee.remark_rule == "单位名称 + 1+X考核费用"
    assert dict(payee.lines())["账号"] == "110060437018010014319"


@pytest.mark.parametrize("block, message", [
    ("", "缺少 [payee]"),
    ('[payee]\ncompany = "甲公司"\n', "缺少 taxpayer_id（纳税人识别号）"),
    ('[payee]\ncompany = "甲"\ntaxpayer_id = "1"\naddress = "a"\nphone = "1"\nbank = "b"\naccount = "123"\n'
     'remark = "1+X考核费用"\n', "须含一次 {单位名称}"),
    ('[payee]\ncompany = "甲"\ntaxpayer_id = "1"\naddress = "a"\nphone = "1"\nbank = "b"\naccount = "12a3"\n'
     'remark = "{单位名称}1+X考核费用"\n', "账号应为数字"),
    ('[payee]\ncompany = "甲"\ntaxpayer_id = "1"\naddress = "a"\nphone = "1"\nbank = "b"\naccount = "123"\n'
     'remark = "{单位名称}1+X考核费用"\nfax = "1"\n', "不认识的项 fax"),
])
def test_a_wrong_payee_is_refused_with_what_is_wrong(tmp_path, block, message):
    path = tmp_path / "exam_plan.toml"
    path.write_text(_plan_text(block), encoding="utf-8")
    with pytest.raises(plan.PlanError) as err:
        plan.load_plan(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_the_rule_may_put_the_name_anywhere(tmp_path):
    path = tmp_path / "exam_plan.toml"
    path.write_text(_plan_text('[payee]\ncompany = "甲"\ntaxpayer_id = "1"\naddress = "a"\nphone = "1"\nbank = "b"\n'
                               'account = "6222 0001"\nremark = "1+X考核费用（{单位名称}）"\n'), encoding="utf-8")
    payee = plan.load_plan(path).payee
    assert payee.remark_for("某学院") == "1+X考核费用（某学院）"
