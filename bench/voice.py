"""Voice latency: from ``Voice.say()`` to the first audio sample handed to the player.

For the 20 most common phrases (10 kiosk prompts, 10 lobby calls / waiting sentences):
- cold: empty cache and a fresh ``Voice`` (synthesis + check + cache write on the path);
- cached (disk): a fresh ``Voice`` on a warmed directory (a restarted kiosk);
- cached (memory): the same ``Voice`` saying it again.
Targets: cached < 20 ms, cold < 150 ms. Run: ``.venv/bin/python bench/voice.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.i18n import t
from devices.voice.normalize import call_sentence, waiting_sentence
from devices.voice.player import RecordingPlayer
from devices.voice.voice import Priority, Voice

PROMPTS = [
    "prompt_welcome", "prompt_choose_service", "prompt_insert_id", "prompt_id_read",
    "prompt_take_ticket", "prompt_face", "prompt_evaluate", "prompt_thanks",
    "prompt_goodbye", "prompt_help_coming",
]  # fmt: skip


def phrases() -> list[tuple[str, Priority]]:
    out: list[tuple[str, Priority]] = [(t("voice", key), "prompt") for key in PROMPTS]
    for number, counter in [("A001", 1), ("A002", 2), ("B015", 3), ("A012", "综合窗口")]:
        out.append((call_sentence(number, counter), "call"))
    out.append((call_sentence("C108", 12, recall=True), "call"))
    out.append((call_sentence("A012", 3, "en"), "call"))
    for ahead, wait_s in [(12, 1500), (3, 300), (1, 45), (25, 4800)]:
        out.append((waiting_sentence(ahead, wait_s), "prompt"))
    return out


def latency_ms(voice: Voice, text: str, priority: Priority) -> float:
    u = voice.say(text, priority)
    while u.handed_at is None:  # the speaker thread picks it up
        time.sleep(0.0002)
    voice.stop()  # only the start is measured; do not wait for the whole sentence
    u.wait(timeout=10)
    assert u.latency_s is not None
    return u.latency_s * 1000


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    items = phrases()
    results: dict[str, list[float]] = {"cold": [], "cached (disk)": [], "cached (memory)": []}
    backends: dict[str, int] = {}
    # One throw-away synthesis so engine start-up (espeak-ng data load) is not in "cold".
    with tempfile.TemporaryDirectory() as d, Voice(cache_dir=d, player=RecordingPlayer()) as v:
        v.synthesize("您好")
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as d:
            with Voice(cache_dir=d, player=RecordingPlayer()) as v:
                for text, priority in items:
                    v.synthesizer.last_backend = None
                    results["cold"].append(latency_ms(v, text, priority))
                    backend = v.synthesizer.last_backend or "?"
                    backends[backend] = backends.get(backend, 0) + 1
                for text, priority in items:
                    results["cached (memory)"].append(latency_ms(v, text, priority))
            with Voice(cache_dir=d, player=RecordingPlayer()) as v:
                for text, priority in items:
                    results["cached (disk)"].append(latency_ms(v, text, priority))
    print(f"voice latency, say() → first sample handed to the player; {len(items)} phrases × "
          f"{args.rounds} rounds")  # fmt: skip
    targets = {"cold": 150.0, "cached (disk)": 20.0, "cached (memory)": 20.0}
    ok = True
    for name, values in results.items():
        med, worst = statistics.median(values), p99(values)
        met = worst < targets[name]
        ok &= met
        print(f"  {name:16} median {med:7.2f} ms   p99 {worst:7.2f} ms   "
              f"target < {targets[name]:.0f} ms: {'met' if met else 'MISSED'}")  # fmt: skip
    print(f"  cold syntheses by backend: {backends}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
