"""Pure normalisation: what the speaker says for each value (table-tested, no audio)."""

from __future__ import annotations

import pytest

from devices.voice.errors import VoiceInputError
from devices.voice.normalize import (
    brief_call_sentence,
    call_sentence,
    chinese_number,
    speak_counter,
    speak_duration,
    speak_ticket_number,
    waiting_sentence,
)


@pytest.mark.parametrize(
    ("n", "plain", "counting"),
    [
        (0, "零", "零"),
        (1, "一", "一"),
        (2, "二", "两"),
        (10, "十", "十"),
        (12, "十二", "十二"),
        (20, "二十", "二十"),
        (22, "二十二", "二十二"),
        (100, "一百", "一百"),
        (105, "一百零五", "一百零五"),
        (110, "一百一十", "一百一十"),
        (200, "二百", "两百"),
        (1005, "一千零五", "一千零五"),
        (1010, "一千零一十", "一千零一十"),
        (2000, "二千", "两千"),
        (10000, "一万", "一万"),
        (10010, "一万零一十", "一万零一十"),
        (10500, "一万零五百", "一万零五百"),
        (20000, "二万", "两万"),
        (123456, "十二万三千四百五十六", "十二万三千四百五十六"),
        (99_999_999, "九千九百九十九万九千九百九十九", "九千九百九十九万九千九百九十九"),
    ],
)
def test_chinese_number(n: int, plain: str, counting: str) -> None:
    assert chinese_number(n) == plain
    assert chinese_number(n, counting=True) == counting


@pytest.mark.parametrize(
    ("number", "lang", "letters", "spoken"),
    [
        ("A012", "zh", None, "A 零 一 二"),
        ("a012", "zh", None, "A 零 一 二"),  # typed lower-case: still the letter name
        (" B105 ", "zh", None, "B 一 零 五"),
        ("AB001", "zh", None, "A B 零 零 一"),
        ("012", "zh", None, "零 一 二"),
        ("A012", "zh", {"A": "诶"}, "诶 零 一 二"),  # the hall's own letter names win
        ("B100", "zh", {"a": "诶"}, "B 一 零 零"),  # …only for the letters they name
        ("J001", "zh", None, "杰 零 零 一"),  # espeak-ng reads a bare J as zhèi
        ("J001", "zh", {"J": "J"}, "J 零 零 一"),  # a hall may still want espeak's own
        ("CGRVJ9", "zh", None, None),  # five letters: no hall prefix is that long
        ("CGR009", "zh", None, "西 吉 阿尔 零 零 九"),
        ("A1000", "zh", None, "A 一 零 零 零"),  # past 999 the number grows
        ("B12001", "zh", None, "B 一 二 零 零 一"),
        ("A2B001", "zh", None, "A 二 B 零 零 一"),  # a prefix may hold digits
        ("12001", "zh", None, "一 二 零 零 一"),
        ("A012", "en", None, "eh, zero one two"),  # espeak's English reads a lone "A" as "uh"
        ("B7", "en", None, "B, seven"),
        ("J001", "en", None, "J, zero zero one"),  # English keeps the letter
        ("A2B001", "en", None, "eh two B, zero zero one"),
    ],
)
def test_ticket_number_digit_by_digit(
    number: str, lang: str, letters: dict[str, str] | None, spoken: str | None
) -> None:
    if spoken is None:
        with pytest.raises(VoiceInputError):
            speak_ticket_number(number, lang, letters)
    else:
        assert speak_ticket_number(number, lang, letters) == spoken


@pytest.mark.parametrize(
    ("number", "lang", "spoken"),
    [
        ("K1-J001", "zh", "K 一 号机，杰 零 零 一"),
        ("k1-a012", "zh", "K 一 号机，A 零 一 二"),
        ("KIOSK2-B12001", "zh", "K I O S K 二 号机，B 一 二 零 零 一"),
        ("K1-J001", "en", "K one dash J, zero zero one"),
        ("K1-A012", "en", "K one dash eh, zero one two"),
    ],
)
def test_offline_number_says_the_kiosk_then_the_number(number: str, lang: str, spoken: str) -> None:
    assert speak_ticket_number(number, lang) == spoken


def test_offline_call_sentences_in_both_languages() -> None:
    assert call_sentence("K1-J001", "3") == "请 K 一 号机，杰 零 零 一 号，到 三号窗口 办理"
    assert (
        call_sentence("K1-J001", "Counter 3", "en")
        == "Number K one dash J, zero zero one, please go to Counter 3"
    )


def test_brief_call_is_number_and_counter() -> None:
    assert brief_call_sentence("A001", "12号窗口") == "A 零 零 一，十二号窗口"
    assert brief_call_sentence("K1-J001", "3") == "K 一 号机，杰 零 零 一，三号窗口"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "A",
        "ABCDE1",  # prefixes have at most four characters
        "A1234567890123",  # more digits than any day can number
        "零一二",
        "A 12",
        "-A001",
        "K1-",
        "K1--A001",
        "KIOSK12-A001",  # kiosk prefixes have at most six
        "K1-A001-2",
        "K1_A001",
        "Ａ001",  # a full-width letter is not a hall letter
        None,
        12,
    ],
)
def test_bad_ticket_number_is_a_clear_error(bad: object) -> None:
    with pytest.raises(VoiceInputError) as info:
        speak_ticket_number(bad, "zh")  # type: ignore[arg-type]
    assert info.value.code == "voice.bad_input"
    # Afterwards a good number still normalises (no state was disturbed).
    assert speak_ticket_number("A1") == "A 一"


@pytest.mark.parametrize(
    ("counter", "lang", "spoken"),
    [
        (3, "zh", "三号窗口"),
        ("3", "zh", "三号窗口"),
        ("12", "zh", "十二号窗口"),  # a counter is a number, not digits: 十二, not 一二
        ("12号窗口", "zh", "十二号窗口"),
        ("综合窗口", "zh", "综合窗口"),
        ("A区3号窗口", "zh", "A区三号窗口"),
        (3, "en", "counter 3"),
        ("Enquiries", "en", "Enquiries"),
        ("13号窗口", "en", "counter 13"),  # never Chinese characters to the English voice
        ("综合窗口", "en", "the counter shown on the screen"),
    ],
)
def test_counter(counter: str | int, lang: str, spoken: str) -> None:
    assert speak_counter(counter, lang) == spoken


@pytest.mark.parametrize("bad", ["", "   ", None, True, 3.5])
def test_bad_counter(bad: object) -> None:
    with pytest.raises(VoiceInputError):
        speak_counter(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "counter", "lang", "sentence"),
    [
        ("A012", "3", "zh", "请 A 零 一 二 号，到 三号窗口 办理"),
        ("B105", "综合窗口", "zh", "请 B 一 零 五 号，到 综合窗口 办理"),
        ("A012", 3, "en", "Number eh, zero one two, please go to counter 3"),
    ],
)
def test_call_sentence(number: str, counter: str | int, lang: str, sentence: str) -> None:
    assert call_sentence(number, counter, lang) == sentence


def test_recall_sentence_comes_from_the_catalogue() -> None:
    assert call_sentence("A012", 3, recall=True) == "再次呼叫，请 A 零 一 二 号，到 三号窗口 办理"


@pytest.mark.parametrize(
    ("seconds", "lang", "spoken"),
    [
        (0, "zh", "不到一分钟"),
        (59, "zh", "不到一分钟"),
        (60, "zh", "约一分钟"),
        (120, "zh", "约两分钟"),
        (1500, "zh", "约二十五分钟"),
        (3600, "zh", "约一小时"),
        (4800, "zh", "约一小时二十分钟"),
        (4920, "zh", "约一小时二十分钟"),  # 82 min: beyond an hour, to the nearest 5 min
        (4980, "zh", "约一小时二十五分钟"),
        (7200, "zh", "约两小时"),
        (60, "en", "about 1 minute"),
        (1500, "en", "about 25 minutes"),
        (3600, "en", "about 1 hour"),
        (4800, "en", "about 1 hour 20 minutes"),
        (9000, "en", "about 2 hours 30 minutes"),
    ],
)
def test_duration(seconds: float, lang: str, spoken: str) -> None:
    assert speak_duration(seconds, lang) == spoken


@pytest.mark.parametrize(
    ("ahead", "wait_s", "lang", "sentence"),
    [
        (12, 1500, "zh", "前面还有十二人，预计等待约二十五分钟"),
        (2, 300, "zh", "前面还有两人，预计等待约五分钟"),
        (1, 30, "zh", "前面还有一人，预计等待不到一分钟"),
        (0, 0, "zh", "您是下一位，请留意叫号"),
        (12, 1500, "en", "12 people ahead of you, expected wait about 25 minutes"),
        (1, 90, "en", "1 person ahead of you, expected wait about 2 minutes"),
        (0, 0, "en", "You are next, please listen for your number"),
    ],
)
def test_waiting_sentence(ahead: int, wait_s: float, lang: str, sentence: str) -> None:
    assert waiting_sentence(ahead, wait_s, lang) == sentence


@pytest.mark.parametrize(
    ("ahead", "wait_s"), [(-1, 60), (1.5, 60), (True, 60), (3, -5), (3, float("nan")), (3, "5")]
)
def test_bad_waiting_values(ahead: object, wait_s: object) -> None:
    with pytest.raises(VoiceInputError):
        waiting_sentence(ahead, wait_s)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["fr", "", "ZH"])
def test_unknown_language_is_refused_not_mixed(lang: str) -> None:
    # The catalogue alone would fall back to Chinese templates around English-spelled
    # numbers ("到 3号窗口"); normalisation refuses the language instead.
    for make in (
        lambda: call_sentence("A012", 3, lang),
        lambda: waiting_sentence(3, 60, lang),
        lambda: speak_duration(60, lang),
    ):
        with pytest.raises(VoiceInputError) as info:
            make()
        assert info.value.code == "voice.bad_lang"
