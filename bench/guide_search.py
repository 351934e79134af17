"""智能导办 search: accuracy and latency over the evaluation set (tests/guide/queries.toml).

Prints top-1 and top-3 accuracy per kind of phrasing (spoken Chinese, pinyin, initials,
typos, English) and overall, on the set the search was tuned on, on the development set
it is tuned on since (``dev``, and ``dev2`` written blind), on a held-out set (never
tuned on), on a second and a third held-out set written blind (tests/guide/holdout2.toml,
holdout3.toml) and on the three together, the queries it gets wrong, the unanswerable
queries' results, the index build time, the per-query latency (p50, p99, max over every
query, several rounds), the same for the kiosk's letters-only index over the typed (ASCII)
queries, and the process's peak RSS.
The issue's targets: top-1 ≥ 90 %, top-3 ≥ 98 %, p99 < 30 ms.

    .venv/bin/python bench/guide_search.py [--rounds 5] [--show-misses]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guide.catalogue import catalogue  # noqa: E402
from guide.search import THRESHOLD, SearchIndex  # noqa: E402

QUERIES = ROOT / "tests" / "guide" / "queries.toml"
HOLDOUT2 = ROOT / "tests" / "guide" / "holdout2.toml"
DEV2 = ROOT / "tests" / "guide" / "dev2.toml"  # written blind, for tuning
HOLDOUT3 = ROOT / "tests" / "guide" / "holdout3.toml"  # written blind, first run 2026-12-02


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="timed passes over the set")
    ap.add_argument("--show-misses", action="store_true", help="list top-3 misses too")
    args = ap.parse_args()
    with QUERIES.open("rb") as f:
        data = tomllib.load(f)
    cases, unanswerable = data["cases"], data["unanswerable"]
    with HOLDOUT2.open("rb") as f:
        holdout2 = tomllib.load(f)["holdout2"]
    with DEV2.open("rb") as f:
        dev2 = tomllib.load(f)["dev2"]
    with HOLDOUT3.open("rb") as f:
        holdout3 = tomllib.load(f)["holdout3"]

    t0 = time.perf_counter()
    index = SearchIndex(catalogue())
    build_s = time.perf_counter() - t0

    report(index, cases, "tuned on", args.show_misses)
    report(index, data["dev"], "dev (tuning)", True)
    report(index, dev2, "dev 2 (blind, for tuning)", True)
    report(index, data["holdout"], "held out", True)
    report(index, holdout2, "held out 2 (blind)", True)
    report(index, holdout3, "held out 3 (blind, measured once after tuning on dev 2)", True)
    report(index, data["holdout"] + holdout2 + holdout3, "held out, all three", True)
    unanswered(index, unanswerable)
    latency(index, [c["q"] for c in cases] + [u["q"] for u in unanswerable], args.rounds)
    print(f"index build {build_s:.2f} s")

    # the kiosk's index: letters only (its keyboard types pinyin, initials and English)
    from guide.letters import load_letters

    t0 = time.perf_counter()
    kiosk = SearchIndex(catalogue(), letters_only=True, letters=load_letters())
    kiosk_s = time.perf_counter() - t0
    typed = [c for c in cases + data["dev"] + data["holdout"] if c["q"].isascii()]
    print(f"kiosk (letters only), index build {kiosk_s:.2f} s:")
    report(kiosk, typed, "kiosk, typed letters", True)
    latency(kiosk, [c["q"] for c in typed], args.rounds)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (this process: catalogue, jieba, bm25s, pypinyin, rapidfuzz)")


def report(index: SearchIndex, cases: list[dict[str, Any]], what: str, show: bool) -> None:
    by_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    misses = []
    for c in cases:
        codes = [h.code for h in index.search(c["q"], 3).hits]
        top1 = bool(codes) and codes[0] in c["expect"]
        top3 = any(code in c["expect"] for code in codes)
        by_kind[c["kind"]].append((top1, top3))
        if not top1:
            misses.append((c["kind"], c["q"], c["expect"], codes, top3))

    print(f"{what}: {len(cases)} queries, {len(index.entries)} entries, threshold {THRESHOLD}")
    print(f"{'kind':10} {'n':>4} {'top-1':>7} {'top-3':>7}")
    everything = []
    for kind in sorted(by_kind):
        rows = by_kind[kind]
        everything += rows
        p1, p3 = _pct(r[0] for r in rows), _pct(r[1] for r in rows)
        print(f"{kind:10} {len(rows):4} {p1:>7} {p3:>7}")
    print(
        f"{'all':10} {len(everything):4} {_pct(r[0] for r in everything):>7}"
        f" {_pct(r[1] for r in everything):>7}"
    )
    for kind, q, expect, codes, top3 in misses:
        if show or not top3:
            miss = "top-3 miss" if not top3 else "top-1 miss"
            print(f"  {miss} [{kind}] {q!r}: want {expect}, got {codes}")


def unanswered(index: SearchIndex, unanswerable: list[dict[str, Any]]) -> None:
    print("unanswerable (nothing above the threshold; where to go when known):")
    for u in unanswerable:
        ans = index.search(u["q"], 3)
        ok = not ans.hits and (ans.elsewhere is not None) == u["elsewhere"]
        where = ans.elsewhere.where if ans.elsewhere else "-"
        got = [(h.code, h.score) for h in ans.hits]
        print(f"  {'ok ' if ok else 'BAD'} {u['q']!r}: {got or where}")


def latency(index: SearchIndex, texts: list[str], rounds: int) -> None:
    times = []
    for _ in range(rounds):
        for q in texts:
            t = time.perf_counter()
            index.search(q, 5)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(
        f"latency over {len(times)} searches: p50 {p50:.2f} ms, p99 {p99:.2f} ms,"
        f" max {times[-1]:.2f} ms"
    )


def _pct(values: Iterable[bool]) -> str:
    vals = list(values)
    return f"{100 * sum(vals) / len(vals):.1f} %"


if __name__ == "__main__":
    main()
