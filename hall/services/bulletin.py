"""The monthly 通报 (window and department ranking) as a PDF (reportlab, the hall's CJK font)
and as XLSX/CSV with Chinese headers (English in the second header row), from the hall's
own tickets, ratings and cases. Chinese first. Reads only; no personal data (staff are
named by their account's display name and 工号, as on the evaluation pad).

Ranking of windows: by 满意率 (share of ratings 4–5), then mean wait of the citizens they
called, then tickets served; a window with no rating and no ticket in the month is not
ranked. Departments are the hall's services (业务): by the share called within the
promise, then 满意率. A window last in this month and the month before is marked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from common.fonts import find_cjk_font
from common.i18n import t as text
from hall.domain.workdays import working_day_of_month
from hall.errors import Invalid, StorageUnavailable
from hall.services import cockpit, performance, stats
from hall.services.context import HallContext
from hall.storage import tables as t

BOM = "\ufeff"
PERF_COLUMNS = performance.COLUMNS
STAFF_COLUMNS = performance.STAFF_COLUMNS
RANK_COLUMNS = (
    "rank",
    "counter",
    "name",
    "staff",
    "served",
    "service_avg_min",
    "wait_avg_min",
    "satisfied_pct",
    "bad_reviews",
    "cases_on_time",
    "idle_waiting_min",
    "pauses",
    "mark",
)
DEPT_COLUMNS = (
    "rank",
    "service",
    "name",
    "called",
    "attainment_pct",
    "wait_avg_min",
    "wait_p90_min",
    "satisfied_pct",
    "bad_reviews",
    "cases_on_time",
)


def _h(key: str, lang: str) -> str:
    return text("cockpit", f"ck_col_{key}", lang)


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, dict):
        return "；".join(f"{k} {n}" for k, n in v.items())
    if isinstance(v, list):
        return "、".join(str(x) for x in v)
    return v


def last_month(ctx: HallContext) -> str:
    first = ctx.today().replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def due_month(day: dt.date) -> str | None:
    """The month whose 通报 is due on ``day``: the one before, on the first working day of
    a month (法定节假日 skipped, 调休 counted); None on any other day."""
    if working_day_of_month(day) != 1:
        return None
    prev = day.replace(day=1) - dt.timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def previous(month: str) -> str:
    first, _ = performance.month_range(month)
    prev = first - dt.timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


# -- the figures --------------------------------------------------------------------------


def _ranked_windows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    active = [r for r in rows if r["served"] or r["evaluations"]]

    def key(r: dict[str, Any]) -> tuple[float, float, int]:
        sat = r["satisfied_pct"] if r["satisfied_pct"] is not None else -1.0
        wait = r["wait_avg_min"] if r["wait_avg_min"] is not None else 1e9
        return (-sat, wait, -r["served"])

    out = []
    for i, r in enumerate(sorted(active, key=key), start=1):
        on_time = (
            f"{r['cases_on_time']}/{r['cases']}" if r["cases"] else "—"
        )  # 差评 整改 on time of all
        out.append({**r, "rank": i, "cases_on_time": on_time, "mark": ""})
    return out


def figures(ctx: HallContext, month: str) -> dict[str, Any]:
    """Everything the 通报 shows for ``month`` (``2026-11``)."""
    first, last = performance.month_range(month)
    cfg = ctx.config
    total = stats.compute(ctx, first.isoformat(), last.isoformat()).total
    promise = cockpit.attainment_between(ctx, first, last)
    windows = _ranked_windows(performance.counters(ctx, first, last))
    try:
        pf, pl = performance.month_range(previous(month))
        before = _ranked_windows(performance.counters(ctx, pf, pl))
    except Invalid:  # the first month the hall can have
        before = []
    if windows and before and windows[-1]["counter"] == before[-1]["counter"]:
        windows[-1]["mark"] = text("cockpit", "ck_last_twice", "zh")
    # departments: the services
    lo = dt.datetime.combine(first, dt.time(), tzinfo=cfg.tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=cfg.tz)
    with ctx.read() as conn:
        scores = conn.execute(
            select(t.evaluations.c.service, t.evaluations.c.score).where(
                t.evaluations.c.hall_id == ctx.hall_id,
                t.evaluations.c.created_at >= lo,
                t.evaluations.c.created_at < hi.astimezone(dt.UTC),
            )
        ).all()
        cases = conn.execute(
            select(
                t.cases.c.service, t.cases.c.kind, t.cases.c.due_on, t.cases.c.extended_to,
                t.cases.c.closed_at,
            ).where(
                t.cases.c.hall_id == ctx.hall_id,
                t.cases.c.opened_on >= first,
                t.cases.c.opened_on <= last,
            )
        ).all()  # fmt: skip
    by_score: dict[str, list[int]] = defaultdict(list)
    for service, score in scores:
        by_score[service].append(score)
    case_acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for service, kind, due, extended, closed in cases:
        if kind != "bad_review" or not service:
            continue
        case_acc[service][1] += 1
        case_acc[service][0] += closed is not None and ctx.local(closed).date() <= (extended or due)
    depts: list[dict[str, Any]] = []
    for s in cfg.services:
        p = promise["by_service"].get(s.code)
        sc = by_score.get(s.code, [])
        if not p and not sc:
            continue
        ok, n = case_acc.get(s.code, [0, 0])
        depts.append(
            {
                "service": s.code,
                "name": s.name,
                "called": p["called"] if p else 0,
                "attainment_pct": round(100 * p["share"], 1)
                if p and p["share"] is not None
                else None,
                "wait_avg_min": p["wait_avg_min"] if p else None,
                "wait_p90_min": p["wait_p90_min"] if p else None,
                "satisfied_pct": round(100 * sum(x >= 4 for x in sc) / len(sc), 1) if sc else None,
                "bad_reviews": sum(x <= 2 for x in sc),
                "cases_on_time": f"{ok}/{n}" if n else "—",
            }
        )
    depts.sort(
        key=lambda d: (
            -(d["attainment_pct"] if d["attainment_pct"] is not None else -1),
            -(d["satisfied_pct"] if d["satisfied_pct"] is not None else -1),
        )
    )
    for i, d in enumerate(depts, start=1):
        d["rank"] = i
    all_cases = sum(v[1] for v in case_acc.values())
    return {
        "month": month,
        "hall": cfg.name,
        "total": total.model_dump(),
        "attainment": promise["share"],
        "target": cfg.cockpit.target(cfg.services[0].code) if cfg.services else None,
        "bad_cases": all_cases,
        "bad_cases_on_time": sum(v[0] for v in case_acc.values()),
        "windows": windows,
        "departments": depts,
    }


# -- CSV / XLSX ---------------------------------------------------------------------------


def performance_csv(rows: Sequence[dict[str, Any]], staff: Sequence[dict[str, Any]] = ()) -> str:
    """The counters' table and, after a blank line, the staff members' (when any)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for i, (columns, table) in enumerate(((PERF_COLUMNS, rows), (STAFF_COLUMNS, staff))):
        if i and not table:
            continue
        if i:
            w.writerow([])
        w.writerow([_h(c, "zh") for c in columns])
        w.writerow([_h(c, "en") for c in columns])
        for r in table:
            w.writerow([_cell(r[c]) for c in columns])
    return BOM + out.getvalue()


def monthly_csv(ctx: HallContext, month: str) -> str:
    """The 通报's two rankings for Excel: windows, a blank line, services; each table with
    its Chinese header row and the English one beneath (UTF-8 with a BOM)."""
    f = figures(ctx, month)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for i, (title, columns, rows) in enumerate(
        (("窗口排名 Windows", RANK_COLUMNS, f["windows"]),
         ("业务排名 Services", DEPT_COLUMNS, f["departments"]))
    ):  # fmt: skip
        if i:
            w.writerow([])
        w.writerow([f"{f['hall']} {month} {title}"])
        w.writerow([_h(c, "zh") for c in columns])
        w.writerow([_h(c, "en") for c in columns])
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
    return BOM + out.getvalue()


def _sheet(wb: Any, title: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    ws.append([_h(c, "zh") for c in columns])
    ws.append([_h(c, "en") for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([_cell(r.get(c)) for c in columns])
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(8, len(_h(c, "zh")) * 2 + 2)
    ws.freeze_panes = "A3"


def _xlsx(sheets: Sequence[tuple[str, Sequence[str], Sequence[dict[str, Any]]]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, columns, rows in sheets:
        _sheet(wb, title, columns, rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def performance_xlsx(
    rows: Sequence[dict[str, Any]], period: str, staff: Sequence[dict[str, Any]] = ()
) -> bytes:
    sheets: list[tuple[str, Sequence[str], Sequence[dict[str, Any]]]] = [
        (f"窗口绩效 {period}", PERF_COLUMNS, rows)
    ]
    if staff:
        sheets.append((f"人员绩效 {period}", STAFF_COLUMNS, staff))
    return _xlsx(sheets)


def monthly_xlsx(ctx: HallContext, month: str) -> bytes:
    f = figures(ctx, month)
    return _xlsx(
        [
            ("窗口排名", RANK_COLUMNS, f["windows"]),
            ("业务排名", DEPT_COLUMNS, f["departments"]),
        ]
    )


# -- PDF ----------------------------------------------------------------------------------

FONT = "GovhallCJK"


@cache
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = find_cjk_font()
    if path is None:
        raise RuntimeError("no CJK font for the 通报: apt-get install fonts-wqy-microhei")
    pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    return FONT


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _bar_chart(labels: Sequence[str], values: Sequence[float], title: str) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    font = _font()
    d = Drawing(500, 190)
    d.add(String(0, 176, title, fontName=font, fontSize=10))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 36, 30, 450, 130
    chart.data = [list(values) or [0]]
    chart.categoryAxis.categoryNames = list(labels) or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if len(labels) > 10 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 10 else "n"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#b71c1c")
    chart.barLabelFormat = "%.0f"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 6
    d.add(chart)
    return d


def monthly_pdf(ctx: HallContext, month: str) -> bytes:
    """The 通报 of ``month`` as PDF bytes (A4, Chinese first)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _font()
    f = figures(ctx, month)
    year, mon = (int(x) for x in month.split("-"))
    title_style = ParagraphStyle("t", fontName=font, fontSize=17, leading=24, alignment=1)
    sub = ParagraphStyle(
        "s", fontName=font, fontSize=9, leading=13, alignment=1, textColor=colors.grey
    )
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("b", fontName=font, fontSize=9.5, leading=15)
    cell = ParagraphStyle("c", fontName=font, fontSize=7.5, leading=10)

    def table(
        columns: Sequence[str], rows: Sequence[dict[str, Any]], widths: Sequence[float]
    ) -> Any:
        head = [
            Paragraph(f"{_h(c, 'zh')}<br/><font size=6 color=grey>{_h(c, 'en')}</font>", cell)
            for c in columns
        ]
        data = [head] + [[Paragraph(str(_cell(r.get(c))), cell) for c in columns] for r in rows]
        tbl = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c8d0d8")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        for i, r in enumerate(rows, start=1):
            if r.get("mark"):
                style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#ffebee")))
        tbl.setStyle(TableStyle(style))
        return tbl

    total = f["total"]
    target_s, level = f["target"] or (1200.0, 0.9)
    cases_line = (
        f"差评 {f['bad_cases']} 件，按期整改 {f['bad_cases_on_time']} 件"
        if f["bad_cases"]
        else "本月无差评整改件"
    )
    wait_avg = total.get("wait_avg_s")
    wait_p90 = total.get("wait_p90_s")
    overview = (
        f"本月共取号 {total['issued']} 人次，办结 {total['served']} 件，"
        f"过号 {total['no_show']} 人次；"
        f"平均等候 {round(wait_avg / 60, 1) if wait_avg is not None else '—'} 分钟，"
        f"90% 群众等候不超过 {round(wait_p90 / 60, 1) if wait_p90 is not None else '—'} 分钟；"
        f"等候承诺（{round(target_s / 60)} 分钟内叫号，目标 {round(level * 100)}%）达成率 "
        f"{_pct(f['attainment'])}；评价 {total['evaluations']} 次，满意率 "
        f"{total['satisfied_pct'] if total['satisfied_pct'] is not None else '—'}%；{cases_line}。"
    )
    story: list[Any] = [
        Paragraph(f"{f['hall']}<br/>{year}年{mon}月窗口服务情况通报", title_style),
        Paragraph(f"Monthly service bulletin · {month} · 由排队叫号系统数据自动生成", sub),
        Spacer(1, 6 * mm),
        Paragraph("一、总体情况", h2),
        Paragraph(overview, body),
        Paragraph("二、窗口排名（按满意率、平均等候、办件量）", h2),
        table(RANK_COLUMNS, f["windows"], (12, 14, 28, 26, 14, 17, 17, 15, 12, 17, 19, 13, 26)),
        Spacer(1, 2 * mm),
        Paragraph(
            "注：标红者为连续两个月排名末位的窗口；“空闲(有人排队)”为窗口在岗、未在办理而其业务仍有群众等候的分钟数。",
            ParagraphStyle("n", parent=body, fontSize=8, textColor=colors.grey),
        ),
    ]
    if f["windows"]:
        story.append(
            _bar_chart(
                [w["name"] for w in f["windows"]],
                [w["satisfied_pct"] or 0 for w in f["windows"]],
                "各窗口满意率（%） Satisfaction by window (%)",
            )
        )
    story += [
        Paragraph("三、业务（部门）排名（按承诺达成率、满意率）", h2),
        table(DEPT_COLUMNS, f["departments"], (12, 16, 32, 18, 20, 20, 20, 18, 14, 20)),
    ]
    if f["departments"]:
        story.append(
            _bar_chart(
                [d["name"] for d in f["departments"]],
                [d["attainment_pct"] or 0 for d in f["departments"]],
                "各业务等候承诺达成率（%） Share called within the promise (%)",
            )
        )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{f['hall']} {month} 通报",
        author="govhall",
    )
    doc.build(story)
    return buf.getvalue()


# -- ``govhall bulletin`` (the lead wires it in govhall/cli.py) -----------------------------


def main(argv: list[str] | None = None) -> int:
    """``govhall bulletin --config FILE [--month 2026-11 | --due] --out DIR``: write the
    month's 通报 as PDF, XLSX and CSV into ``DIR``. ``--due`` (for a daily timer): only on
    the first working day of a month, for the month before; quietly nothing otherwise."""
    import argparse
    import sys

    from hall.config import ConfigError, load_config
    from hall.storage.engine import make_engine

    parser = argparse.ArgumentParser(prog="govhall bulletin", description=main.__doc__)
    parser.add_argument("--config", required=True, help="the hall's config file")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--month", help="the month, e.g. 2026-11 (default: last month)")
    which.add_argument("--due", action="store_true", help="only when a bulletin is due today")
    parser.add_argument("--out", required=True, help="directory to write the files into")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"govhall bulletin: {err}", file=sys.stderr)
        return 2
    engine = make_engine(config.server.database)
    try:
        return _write(config, engine, args.month, args.due, Path(args.out))
    except (SQLAlchemyError, StorageUnavailable) as err:
        print(
            f"govhall bulletin: cannot read the hall's database: {type(err).__name__}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()


def _write(config: Any, engine: Any, month: str | None, due: bool, out: Path) -> int:
    import sys

    ctx = HallContext(config, engine)
    if due:
        month = due_month(ctx.today())
        if month is None:
            return 0
    month = month or last_month(ctx)
    try:
        performance.month_range(month)
    except Invalid as err:
        print(f"govhall bulletin: {err}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for suffix, data in (
        ("pdf", monthly_pdf(ctx, month)),
        ("xlsx", monthly_xlsx(ctx, month)),
        ("csv", monthly_csv(ctx, month).encode("utf-8")),
    ):
        path = out / f"tongbao-{month}.{suffix}"
        path.write_bytes(data)
        print(f"govhall bulletin: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
