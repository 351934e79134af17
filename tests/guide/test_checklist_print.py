"""The printed 一次告知单: the layout as ESC/POS bytes decoded back (what the paper says) and
as the raster image a printer without Chinese fonts gets (saved, and looked at)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from devices.printer.checklist import ChecklistInfo, checklist_elements
from devices.printer.decode import decode_text
from devices.printer.elements import Qr
from devices.printer.encode import encode_elements
from devices.printer.errors import LayoutError
from devices.printer.image import render_elements

SHOTS = Path(__file__).parents[2] / "build" / "screenshots" / "guide"

INFO = ChecklistInfo(
    hall_name="西城区政务服务中心",
    title="住房公积金购房提取",
    title_en="Housing provident fund withdrawal for buying a home",
    queue="公积金业务",
    situation=("二手房", "有贷款"),
    materials=(
        "居民身份证（原件1份，可用电子证照）",
        "本人名下银行卡（原件1份）",
        "不动产权证书（原件及复印件1份，可用电子证照）",
        "契税完税凭证（原件及复印件1份，可用电子证照）",
        "借款合同及还款明细（复印件1份，贷款购房提取首付款或还贷时）",
    ),
    facts=(
        "取号业务：公积金业务",
        "办理窗口：1、2、8、9号窗口",
        "办理时限：法定3个工作日，承诺1个工作日",
        "收费：不收费",
        "到现场次数：零跑腿（全程网办）",
    ),
    url="https://hall.example.gov.cn/guide/gjj-01?tags=used,loan",
    issued_at=dt.datetime(2026, 12, 2, 9, 30),
)


@pytest.mark.parametrize("paper", ["80", "58"])
def test_the_paper_says_everything_in_order(paper: str) -> None:
    els = checklist_elements(INFO, paper)
    text = decode_text(encode_elements(els, "gb18030"))
    flat = text.replace("\n", "")
    order = ["西城区政务服务中心", "一次告知单", "住房公积金购房提取", "您的情形：二手房；有贷款"]
    order += ["1.", "居民身份证", "5.", "借款合同及还款明细", "取号业务：公积金业务"]
    order += ["办理时限：法定3个工作日", "扫码查看网上办事指南"]
    positions = [flat.index(s) for s in order]
    assert positions == sorted(positions)
    assert flat.count("取号业务") == 1  # the queue once, not again among the facts
    (qr,) = [e for e in els if isinstance(e, Qr)]
    assert qr.payload == INFO.url


def test_refuses_an_empty_list_and_an_oversized_code() -> None:
    with pytest.raises(LayoutError):
        checklist_elements(ChecklistInfo("厅", "事项", "Matter", "综合咨询"))
    with pytest.raises(LayoutError):
        checklist_elements(ChecklistInfo("厅", "事项", "M", "J", materials=("a",), url="x" * 400))


def test_the_raster_image_is_saved_for_a_look() -> None:
    img = render_elements(checklist_elements(INFO, "80"), "80")
    SHOTS.mkdir(parents=True, exist_ok=True)
    img.save(SHOTS / "checklist-80mm.png")
    assert img.width == 576 and img.height > 800
