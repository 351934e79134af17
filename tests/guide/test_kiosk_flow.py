"""The kiosk's 我要办 journey without a window: letters typed → matters offered, the
situation questions → the exact checklist, 取号 into the take-ticket journey, 打印告知单 as
one effect, and nothing of it left after the return home."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from guide.catalogue import Matter, catalogue
from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import IssueTicket, PrintChecklist, ReadCard, Say, Screen
from tests.kiosk.conftest import TZ, make_settings, sample_tiles
from tests.support.clock import FakeClock


@pytest.fixture
def flow() -> KioskFlow:
    f = KioskFlow(
        make_settings(),
        "西城区政务服务中心",
        "Xicheng",
        sample_tiles(),
        clock=FakeClock(dt.datetime(2025, 5, 6, 10, 0, tzinfo=TZ)),
        hall_id="xc",
        public_url="https://hall.example.gov.cn",
    )
    f.parts.update(printer="ok", reader="ok", camera="ok", speaker="ok")
    f.wake()
    return f


def said(effects: list[object]) -> str:
    return " ".join(e.text for e in effects if isinstance(e, Say))


def typed(flow: KioskFlow, letters: str) -> None:
    for ch in letters:
        flow.guide_act("space" if ch == " " else "key", *(() if ch == " " else (ch,)))


def test_popular_first_then_matches_while_typing(flow: KioskFlow) -> None:
    effects = flow.tap_guide_search()
    assert flow.view.screen is Screen.GUIDE_SEARCH and "请问您要办什么" in said(effects)
    g = flow.view.guide_view
    assert g is not None and g.popular and len(g.hits) == 9
    assert g.hits[0].label == "社会保障卡挂失与补换" and g.hits[0].service_name == "社保业务"
    typed(flow, "ydjy")
    g = flow.view.guide_view
    assert g is not None and not g.popular and g.query == "ydjy"
    assert g.hits[0].code == "yb-02" and g.hits[0].label == "异地就医备案"
    flow.guide_act("delete")
    assert flow.view.guide_view is not None and flow.view.guide_view.query == "ydj"
    flow.guide_act("clear")
    assert flow.view.guide_view is not None and flow.view.guide_view.popular
    flow.guide_act("key", "中")  # only the keyboard's letters
    assert flow.view.guide_view is not None and flow.view.guide_view.query == ""


def test_nothing_found_says_where_to_go(flow: KioskFlow) -> None:
    flow.tap_guide_search()
    typed(flow, "kaojiazhao")
    g = flow.view.guide_view
    assert g is not None and g.hits == () and "车管所" in g.note  # 考驾照, typed as pinyin
    flow.guide_act("clear")
    typed(flow, "xyzzy")
    assert flow.view.guide_view is not None
    assert "综合咨询台" in flow.view.guide_view.note


def test_situation_questions_end_in_the_exact_checklist(flow: KioskFlow) -> None:
    flow.tap_guide_search()
    typed(flow, "gongjijin goufang")
    effects = flow.guide_act("pick", "gjj-01")
    assert flow.view.screen is Screen.GUIDE_MATTER
    g = flow.view.guide_view
    assert g is not None and g.question == "买的是新房还是二手房？" and g.checklist == ()
    assert [tag for tag, _ in g.options] == ["new", "used"] and "二手房" in said(effects)
    assert flow.guide_act("print") == []  # no checklist before the answers
    flow.guide_act("answer", "used")
    flow.guide_act("answer", "ghost")  # not an answer to the question asked
    g = flow.view.guide_view
    assert g is not None and g.question == "有没有贷款？"
    effects = flow.guide_act("answer", "loan")
    g = flow.view.guide_view
    assert g is not None and g.question == "" and g.situation == ("二手房", "有贷款")
    text = "\n".join(g.checklist)
    assert "不动产权证书（原件及复印件1份，可用电子证照）" in text
    assert "借款合同及还款明细" in text and "购房发票" not in text
    assert any(f.startswith("办理时限：法定3个工作日，承诺1个工作日") for f in g.facts)
    assert "办理窗口：1、2、8、9号窗口" in g.facts
    assert "不动产权证书" in said(effects)  # the voice reads the list (elderly mode)
    flow.guide_act("redo")
    assert flow.view.guide_view is not None
    assert flow.view.guide_view.question == "买的是新房还是二手房？"


def test_print_is_chinese_first_with_the_guides_address(flow: KioskFlow) -> None:
    flow.tap_guide_search()
    flow.toggle_language()  # an English screen still prints the Chinese 告知单
    flow.guide_act("pick", "bdc-01")
    flow.guide_act("answer", "mortgaged")
    assert flow.view.guide_view is not None and flow.view.guide_view.name.startswith("Transfer")
    effects = flow.guide_act("print")
    (job,) = [e for e in effects if isinstance(e, PrintChecklist)]
    assert job.title == "二手房转移登记" and job.queue == "不动产登记"
    assert job.url == "https://hall.example.gov.cn/guide/bdc-01?tags=mortgaged"
    assert job.situation == ("还有贷款",)
    assert any("抵押权人同意转让" in m for m in job.materials)
    assert flow.guide_act("print") == []  # one job at a time
    flow.on_checklist_printed(flow.token, False)
    assert flow.view.message_error and flow.parts["printer"] == "ok"  # the paper may be out
    flow.guide_act("print")
    flow.on_checklist_printed(flow.token, True)
    assert not flow.view.message_error and "printed" in flow.view.message


def test_take_the_ticket_for_the_matters_queue(flow: KioskFlow) -> None:
    flow.tap_guide_search()
    flow.guide_act("pick", "sb-04")
    flow.guide_act("answer", "lost")
    effects = flow.guide_act("ticket")
    assert flow.view.screen is Screen.ID_CARD  # 社保 needs the ID card, as from its tile
    assert any(isinstance(e, ReadCard) for e in effects)
    flow.manual_entry()
    for digit in "11010519491231002X":
        flow.key(digit)
    effects = flow.key_ok()
    (issue,) = [e for e in effects if isinstance(e, IssueTicket)]
    assert (issue.service, issue.matters) == ("A", ("sb-04",))


def test_a_bundle_is_one_ticket_to_the_one_stop_window(flow: KioskFlow) -> None:
    flow.tap_guide_search()
    flow.guide_act("pick", "yjs-01")
    g = flow.view.guide_view
    assert g is not None and g.question == ""
    assert "出生医学证明（原件1份，可用电子证照）" in g.checklist
    members = "一次办好：新生儿出生登记、医保参保登记、社会保障卡申领"
    assert any(f.startswith(members) for f in g.facts)
    effects = flow.guide_act("ticket")
    (issue,) = [e for e in effects if isinstance(e, IssueTicket)]
    assert issue.service == "J"  # 综合咨询 needs no card: issued at once
    assert issue.matters == ("hj-01", "yb-01", "sb-03")  # the counter sees each, rated once


def test_back_and_home_forget_the_journey(flow: KioskFlow) -> None:
    flow.tap_guide_search()
    typed(flow, "huzhao")
    flow.guide_act("pick", "crj-01")
    flow.guide_act("back")
    assert flow.view.screen is Screen.GUIDE_SEARCH
    assert flow.view.guide_view is not None and flow.view.guide_view.query == "huzhao"
    flow.guide_act("back")
    assert flow.view.screen is Screen.HOME and flow.view.guide_view is None
    assert flow.guide_act("key", "a") == []  # the old session is gone
    flow.tap_guide_search()
    assert flow.view.guide_view is not None and flow.view.guide_view.query == ""


def test_idle_timeout_returns_home(flow: KioskFlow) -> None:
    flow.tap_guide_search()
    clock = flow.clock
    assert isinstance(clock, FakeClock)
    clock.advance(flow.settings.idle_timeout_s + 1)
    flow.tick()
    assert flow.view.screen is Screen.HOME and flow.view.guide_view is None


HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def test_in_english_every_answer_screen_is_english(flow: KioskFlow) -> None:
    """Every matter and bundle, every situation: the English answer screen (and what it
    says aloud) has no Chinese, material names included."""
    flow.toggle_language()
    flow.tap_guide_search()
    cat = catalogue()
    shown = 0
    for entry in cat.entries():
        questions = entry.question if isinstance(entry, Matter) else ()
        for answers in itertools.product(*([o.tag for o in q.options] for q in questions)):
            flow.guide_act("pick", entry.code)
            effects: list[object] = []
            for tag in answers:
                effects = flow.guide_act("answer", tag)
            g = flow.view.guide_view
            assert g is not None and g.code == entry.code and g.checklist, entry.code
            texts = [g.name, *g.checklist, *g.facts, *g.situation, said(effects)]
            chinese = [x for x in texts if HAN.search(x)]
            assert not chinese, (entry.code, answers, chinese)
            shown += len(g.checklist)
            flow.guide_act("back")
    assert shown > 150
    flow.guide_act("pick", "yjs-01")
    assert flow.view.guide_view is not None
    assert "Medical birth certificate (original × 1, e-licence accepted)" in (
        flow.view.guide_view.checklist
    ), flow.view.guide_view.checklist


def test_the_paper_adds_the_english_names_for_an_english_screen(flow: KioskFlow) -> None:
    """The 告知单 stays Chinese first; printed from an English screen, each material line
    also gives the material's English name."""
    matter = catalogue().matter_of("hj-04")
    tags = [q.options[0].tag for q in matter.question]
    flow.tap_guide_search()
    flow.guide_act("pick", matter.code)
    for tag in tags:
        flow.guide_act("answer", tag)
    (zh_job,) = [e for e in flow.guide_act("print") if isinstance(e, PrintChecklist)]
    flow.on_checklist_printed(flow.token, True)
    flow.toggle_language()
    (en_job,) = [e for e in flow.guide_act("print") if isinstance(e, PrintChecklist)]
    materials = matter.checklist(frozenset(tags))
    assert [line.split("（")[0] for line in zh_job.materials] == [m.name for m in materials]
    assert not any(" / " in line for line in zh_job.materials)
    assert en_job.materials == tuple(
        f"{line} / {m.name_en}" for line, m in zip(zh_job.materials, materials, strict=True)
    )
    assert en_job.title == matter.name  # still Chinese first
