"""好差评 the way halls are assessed on it (国办发〔2019〕51号, GB/T 39734-2020): five levels,
the fixed on-site indicators, 差评 reasons, and the cases a 差评 or a citizen's problem opens.
Pure values."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Level(IntEnum):
    VERY_SATISFIED = 5  # 非常满意
    SATISFIED = 4  # 满意
    FAIRLY_SATISFIED = 3  # 基本满意
    DISSATISFIED = 2  # 不满意
    VERY_DISSATISFIED = 1  # 非常不满意


class Grade(StrEnum):
    GOOD = "good"  # 好评: 4–5
    NEUTRAL = "neutral"  # 中评: 3
    BAD = "bad"  # 差评: 1–2


def grade_of(score: int) -> Grade:
    return Grade.GOOD if score >= 4 else Grade.NEUTRAL if score == 3 else Grade.BAD


class Indicator(StrEnum):
    """The on-site indicator set beside 整体满意度: fixed by the rules, none may be added."""

    EFFICIENCY = "efficiency"  # 服务效率
    COMPETENCE = "competence"  # 服务水平
    ATTITUDE = "attitude"  # 服务态度


class Channel(StrEnum):
    PAD = "pad"  # the counter's evaluation pad
    KIOSK = "kiosk"  # 评价上次办理 at the kiosk
    PHONE = "phone"  # the citizen's /t/ page
    API = "api"  # another system through the Hall API


class Reason(StrEnum):
    """Why a 差评: the categories of GB/T 39734 Annex A (texts in evaluation.toml)."""

    LONG_WAIT = "long_wait"  # 等候时间长
    SLOW_HANDLING = "slow_handling"  # 办理时间长
    REPEAT_VISITS = "repeat_visits"  # 多次跑腿
    UNCLEAR_REQUIREMENTS = "unclear_requirements"  # 材料要求/一次性告知不清
    NOT_COMPETENT = "not_competent"  # 业务不熟练
    ATTITUDE = "attitude"  # 态度不好
    PASSING_THE_BUCK = "passing_the_buck"  # 推诿扯皮
    FACILITIES = "facilities"  # 设施不便
    OTHER = "other"  # 其他


class CaseKind(StrEnum):
    BAD_REVIEW = "bad_review"  # opened by every 差评
    CANNOT_HANDLE = "cannot_handle"  # 办不成事 反映窗口
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 建议


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # 归档
    REFERRED = "referred"  # 涉法/涉诉/信访: recorded and referred, not handled here


class Step(StrEnum):
    """Steps of a case (GB/T 36113 受理 → 调查 → 处置 → 意见反馈 → 归档; for a 差评 核实 →
    整改 → 回访 → 申诉复核), each recorded with who, when and what."""

    ACCEPT = "accept"  # 受理
    VERIFY = "verify"  # 核实 / 调查
    RECTIFY = "rectify"  # 整改 / 处置
    FEEDBACK = "feedback"  # 意见反馈
    FOLLOW_UP = "follow_up"  # 回访 (outcome: satisfied or not)
    APPEAL = "appeal"  # 申诉复核 (staff appeal a rating; a supervisor decides)
    EXTEND = "extend"  # the deadline extended once, with a reason and a new date
    REFER = "refer"  # referred elsewhere (涉法/涉诉/信访)
    CLOSE = "close"  # 归档
    GUIDE = "guide"  # the six-step guidance (GUIDANCE) as the handler filled it in


class Referral(StrEnum):
    """Matters a hall records and refers, and does not handle itself."""

    LAW = "law"  # 涉法
    LITIGATION = "litigation"  # 涉诉
    PETITION = "petition"  # 信访


# The steps each kind goes through, in order (GB/T 36113; for a 差评 核实 → 整改 → 回访 →
# 申诉复核); the case page offers them in this order, any may be recorded at any time.
FLOW: dict[CaseKind, tuple[Step, ...]] = {
    CaseKind.BAD_REVIEW: (Step.VERIFY, Step.RECTIFY, Step.FOLLOW_UP, Step.APPEAL, Step.CLOSE),
    CaseKind.CANNOT_HANDLE: (Step.ACCEPT, Step.VERIFY, Step.RECTIFY, Step.FEEDBACK, Step.CLOSE),
    CaseKind.COMPLAINT: (Step.ACCEPT, Step.VERIFY, Step.RECTIFY, Step.FEEDBACK, Step.CLOSE),
    CaseKind.SUGGESTION: (Step.ACCEPT, Step.FEEDBACK, Step.CLOSE),
}


def appeal_state(steps: list[tuple[str, dict[str, object]]]) -> str | None:
    """Where a rating's appeal (申诉复核) stands from the case's steps (step, fields):
    None (no appeal), ``pending`` (staff appealed), ``upheld`` (a supervisor removed the
    rating from the figures; it stays in the ledger) or ``rejected``."""
    state: str | None = None
    for step, fields in steps:
        if step != Step.APPEAL.value:
            continue
        if "upheld" in fields:
            state = "upheld" if fields["upheld"] is True else "rejected"
        elif state is None:
            state = "pending"
    return state


# The hall's six-step way with an upset citizen: each a field the handler fills.
GUIDANCE = ("calm", "cause", "expectations", "solution", "agreement", "follow_through")


MATTER_FIELDS = ("hall", "date", "number", "counter", "service")


def matter_number(fmt: str, n: int = 1, **fields: str) -> str:
    """The 办件编号 the hall makes in its format (``[cases] matter_no_format``) for the
    ``n``-th matter of one ticket: letters, digits and '-' only, at most 40."""
    try:
        made = fmt.format(**{k: fields.get(k, "") for k in MATTER_FIELDS})
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(f"matter_no_format {fmt!r}: {err}") from err
    if n > 1:
        made = f"{made}-{n}"
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "-") else "-" for ch in made)
    return cleaned[-40:].strip("-") or "M"
