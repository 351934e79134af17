"""How the lobby speaker reads each letter and digit of a ticket number, measured: the text
devices/voice/normalize.py makes for it, through espeak-ng's phoneme output (``-x``) for the
voice the Chinese calls are synthesised with (``VOICES["zh"]``, cmn-latn-pinyin).

Chinese listeners say the letters of ticket numbers the English way (A "ei", B "bi", J "jie"),
in Mandarin syllables. The table below is that reading, in espeak-ng's phoneme spelling with
stress marks and tone numbers left out (tones shift with the neighbours: 五 alone is w'u214,
before 零 w'u21; a letter is understood in any tone). espeak-ng 1.51's own reading of a bare
letter gets five of them wrong — C sēi, G zhì, J zhèi, R ér, V vēi — which voice.toml
[letter_names] respells; this test fails if a letter's reading drifts (a new espeak-ng, an
edited catalogue), or if a letter that reads wrongly is left bare.

(``espeak-ng -v cmn``, "latin as English", is not used: on Debian's 1.51 it reads Chinese
characters as English-spelled pinyin, 零 as "ling two"; see devices/voice/synth.py VOICES.)
"""

from __future__ import annotations

import re
import string
import subprocess

import pytest

from devices.voice.normalize import call_sentence, speak_ticket_number, spell
from devices.voice.synth import VOICES

# letter or digit → (pinyin as a Chinese listener says it, espeak-ng phonemes without tones)
READING: dict[str, tuple[str, str]] = {
    "A": ("ēi", "ei"),
    "B": ("bì", "pi"),
    "C": ("xī", "S;i"),
    "D": ("dì", "ti"),
    "E": ("yì", "ji"),
    "F": ("ài-f", "aif"),
    "G": ("jí", "tS;i"),
    "H": ("éi-ch", "eits.h"),
    "I": ("ài", "ai"),
    "J": ("jié", "tS;iE"),
    "K": ("kèi", "khei"),
    "L": ("ài-l", "ail"),
    "M": ("ài-m", "aim"),
    "N": ("ēn", "@n"),
    "O": ("ōu", "ou"),
    "P": ("pì", "phi"),
    "Q": ("kiū", "khiou"),
    "R": ("ā-ěr", "A @r"),
    "S": ("ài-s", "ais"),
    "T": ("tì", "thi"),
    "U": ("yōu", "jiou"),
    "V": ("wéi", "wei"),
    "W": ("dá-bliù", "tapliou"),
    "X": ("ài-ks", "aiks"),
    "Y": ("wài", "wuai"),
    "Z": ("zì", "zi"),
    "0": ("líng", "liN"),
    "1": ("yī", "ji"),
    "2": ("èr", "@r"),
    "3": ("sān", "san"),
    "4": ("sì", "si["),
    "5": ("wǔ", "wu"),
    "6": ("liù", "liou"),
    "7": ("qī", "tS;hi"),
    "8": ("bā", "pA"),
    "9": ("jiǔ", "tS;iou"),
}
# What espeak-ng says for a bare letter that is not one of these readings (the bug).
WRONG_BARE = {"C": "sei", "G": "ts.i", "J": "ts.ei", "R": "@r", "V": "vei"}


def phonemes(text: str) -> list[str]:
    """espeak-ng's reading of ``text``, one entry per syllable or letter name, toneless."""
    out = subprocess.run(
        ["espeak-ng", "-v", VOICES["zh"], "-x", "-q", text],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    ).stdout
    words = [w.replace("_|", "") for w in out.split()]
    return [re.sub(r"[0-9',]", "", w) for w in words if w.replace("_|", "")]


def test_the_table_covers_every_letter_and_digit() -> None:
    assert set(READING) == set(string.ascii_uppercase + string.digits)


@pytest.mark.parametrize("ch", sorted(READING))
def test_each_letter_and_digit_reads_as_chinese_listeners_say_it(ch: str) -> None:
    pinyin, expected = READING[ch]
    spoken = spell(ch, "zh")
    assert phonemes(spoken) == expected.split(), f"{ch} should sound {pinyin}"


@pytest.mark.parametrize("ch", sorted(WRONG_BARE))
def test_the_respelled_letters_are_wrong_when_bare(ch: str) -> None:
    # Why voice.toml respells them: espeak-ng's own reading is not the listener's.
    assert phonemes(ch) == [WRONG_BARE[ch]]
    assert spell(ch, "zh") != ch


@pytest.mark.parametrize("letter", list(string.ascii_uppercase))
def test_in_a_whole_call_the_letter_keeps_its_reading(letter: str) -> None:
    """In the sentence the speaker says, the letter sounds as in the table, then the digits."""
    number = f"{letter}001"
    words = phonemes(call_sentence(number, "3"))
    expected = [*READING[letter][1].split(), "liN", "liN", "ji"]
    assert words[1 : 1 + len(expected)] == expected  # after 请
    assert phonemes(speak_ticket_number(number)) == expected


def test_offline_number_reads_kiosk_then_number() -> None:
    words = phonemes(speak_ticket_number("K1-J001"))
    # K 一 号机 杰 零 零 一
    assert words == ["khei", "ji", "XAu", "tS;i", "tS;iE", "liN", "liN", "ji"]
