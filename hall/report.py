"""``govhall report --database URL --from DAY --to DAY [--hall ID …] [--csv]``: a city
report across every hall that shares one database (docs/multi-hall.md).

Reads only; one row per hall: tickets issued, served, no-shows, cancelled, mean and 90th
percentile wait (issue → first call), mean service time (start → finish), evaluations and
the share rated 4–5 (满意率). Days are the halls' local days (the ``day`` column, set at
issue in each hall's time zone). Nothing personal is read: no names, no ID hashes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from common.i18n import t as text
from hall.storage import tables as t
from hall.storage.engine import make_engine

COLUMNS = (
    "hall",
    "name",
    "issued",
    "served",
    "no_show",
    "cancelled",
    "wait_mean_min",
    "wait_p90_min",
    "service_mean_min",
    "evaluations",
    "satisfied_pct",
)


@dataclass
class HallRow:
    hall: str
    name: str
    issued: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    evaluations: int = 0
    satisfied: int = 0

    def values(self) -> dict[str, Any]:
        waits = sorted(self.waits)
        return {
            "hall": self.hall,
            "name": self.name,
            "issued": self.issued,
            "served": self.served,
            "no_show": self.no_show,
            "cancelled": self.cancelled,
            "wait_mean_min": _minutes(sum(waits) / len(waits)) if waits else None,
            "wait_p90_min": _minutes(waits[min(len(waits) - 1, int(0.9 * len(waits)))])
            if waits
            else None,
            "service_mean_min": _minutes(sum(self.services) / len(self.services))
            if self.services
            else None,
            "evaluations": self.evaluations,
            "satisfied_pct": round(100 * self.satisfied / self.evaluations, 1)
            if self.evaluations
            else None,
        }


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 1)


def city_report(
    engine: Engine, start: dt.date, end: dt.date, halls: list[str] | None = None
) -> list[dict[str, Any]]:
    """Rows per hall for local days ``start``..``end`` (inclusive), ordered by hall id."""
    rows: dict[str, HallRow] = {}
    with engine.connect() as conn:
        q = select(t.halls.c.id, t.halls.c.name)
        if halls:
            q = q.where(t.halls.c.id.in_(halls))
        for hall_id, name in conn.execute(q):
            rows[hall_id] = HallRow(hall_id, name)
        tq = select(
            t.tickets.c.hall_id,
            t.tickets.c.status,
            t.tickets.c.issued_at,
            t.tickets.c.called_at,
            t.tickets.c.started_at,
            t.tickets.c.finished_at,
            t.tickets.c.origin_id,
        ).where(t.tickets.c.day.between(start, end))
        if halls:
            tq = tq.where(t.tickets.c.hall_id.in_(halls))
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for hall_id, status, issued, called, started, finished, origin in conn.execution_options(
            stream_results=True, yield_per=5000
        ).execute(tq):
            row = rows.get(hall_id)
            if row is None:
                continue
            if origin is None:  # a transfer's follow-up ticket is not a second citizen
                row.issued += 1
                if called is not None:
                    row.waits.append((called - issued).total_seconds())
            counts[hall_id][status] += 1
            if status == "done" and started is not None and finished is not None:
                row.services.append((finished - started).total_seconds())
        for hall_id, c in counts.items():
            rows[hall_id].served = c.get("done", 0)
            rows[hall_id].no_show = c.get("no_show", 0)
            rows[hall_id].cancelled = c.get("cancelled", 0)
        # evaluations belong to the day of their ticket: join on it
        eq = (
            select(
                t.evaluations.c.hall_id,
                func.count(),
                func.sum(case((t.evaluations.c.score >= 4, 1), else_=0)),
            )
            .select_from(
                t.evaluations.join(
                    t.tickets,
                    (t.tickets.c.id == t.evaluations.c.ticket_id)
                    & (t.tickets.c.hall_id == t.evaluations.c.hall_id),
                )
            )
            .where(t.tickets.c.day.between(start, end))
            .group_by(t.evaluations.c.hall_id)
        )
        for hall_id, n, good in conn.execute(eq):
            if hall_id in rows:
                rows[hall_id].evaluations, rows[hall_id].satisfied = n, int(good or 0)
    return [rows[k].values() for k in sorted(rows)]


def render_text(rows: list[dict[str, Any]], start: dt.date, end: dt.date) -> str:
    head = (
        "hall",
        "issued",
        "served",
        "no-show",
        "wait min (mean/p90)",
        "service min",
        "rated",
        "satisfied",
    )
    lines = [
        f"city report {start} – {end}: {len(rows)} hall(s)",
        f"{head[0]:<16}{head[1]:>8}{head[2]:>8}{head[3]:>9}{head[4]:>22}{head[5]:>13}"
        f"{head[6]:>7}{head[7]:>11}",
    ]

    def f(v: Any) -> str:
        return "–" if v is None else str(v)

    totals: defaultdict[str, int] = defaultdict(int)
    for r in rows:
        wait = f"{f(r['wait_mean_min'])}/{f(r['wait_p90_min'])}"
        sat = "–" if r["satisfied_pct"] is None else f"{r['satisfied_pct']}%"
        lines.append(
            f"{r['hall']:<16}{r['issued']:>8}{r['served']:>8}{r['no_show']:>9}"
            f"{wait:>22}{f(r['service_mean_min']):>13}{r['evaluations']:>7}{sat:>11}"
        )
        for k in ("issued", "served", "no_show", "evaluations"):
            totals[k] += r[k]
    lines.append(
        f"{'all halls':<16}{totals['issued']:>8}{totals['served']:>8}"
        f"{totals['no_show']:>9}{'':>22}{'':>13}{totals['evaluations']:>7}"
    )
    return "\n".join(lines)


def render_csv(rows: list[dict[str, Any]]) -> str:
    """For the city's manager in Excel: two header rows, the column names in Chinese and
    then in English (``city_<column>`` in common/assets/locales/web.toml), one row per
    hall. RFC 4180, UTF-8 with a BOM (Excel opens Chinese hall names correctly only
    with it). A program reads the columns by position, in ``COLUMNS`` order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for lang in ("zh", "en"):
        writer.writerow([text("web", f"city_{c}", lang) for c in COLUMNS])
    writer.writerows([["" if r[c] is None else r[c] for c in COLUMNS] for r in rows])
    return "\ufeff" + out.getvalue()


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2026-11-23") from err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="govhall report", description="City report across the halls of one database."
    )
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of the shared database")
    parser.add_argument("--from", dest="start", type=_day, required=True, help="first day")
    parser.add_argument("--to", dest="end", type=_day, required=True, help="last day")
    parser.add_argument("--hall", action="append", help="only this hall id (repeatable)")
    parser.add_argument("--csv", action="store_true", help="CSV for Excel instead of a table")
    args = parser.parse_args(argv)
    if args.end < args.start:
        print("govhall report: --to is before --from", file=sys.stderr)
        return 2
    url = make_url(args.database)
    safe = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # make_engine would create an empty file: a typo must not look like a quiet city
        print(f"govhall report: {url.database}: no such database", file=sys.stderr)
        return 2
    try:
        engine = (
            make_engine(args.database, nullpool=True)
            if url.get_backend_name() != "sqlite"
            else make_engine(args.database)
        )
        rows = city_report(engine, args.start, args.end, args.hall)
    except SQLAlchemyError as err:
        print(
            f"govhall report: cannot read {safe}: {type(err).__name__}: "
            f"{str(err.orig if hasattr(err, 'orig') else err).strip()[:300]}",
            file=sys.stderr,
        )
        return 1
    print(
        render_csv(rows) if args.csv else render_text(rows, args.start, args.end),
        end="" if args.csv else "\n",
    )
    return 0
