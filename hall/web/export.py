"""The dashboard's report as a CSV file for Excel (``/web/api/report.csv``).

For the hall manager, not for programs (those read ``/web/api/report`` or the API's
``/api/v1/stats``, whose CSV keeps the stable column keys): two header rows, the column
names in Chinese, then in English below them; row kinds in words (合计, 业务, 窗口, 时段)
and the service's or counter's name beside its code. RFC 4180 (quoted where needed, CRLF
line ends), UTF-8 with a byte-order mark, or Excel on a Chinese Windows shows mojibake.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from common.i18n import t
from hall.config import HallConfig
from hall.schemas import Figures, Stats
from hall.services.cases import LEDGER_COLUMNS
from hall.services.stats import METRICS

BOM = "\ufeff"
HEAD = ("csv_dimension", "csv_key", "csv_name", *(f"metric_{m}" for m in METRICS))
HEADER_ROWS = 2


def _cells(figures: Figures) -> list[str]:
    values = figures.model_dump()
    return ["" if values[m] is None else str(values[m]) for m in METRICS]


def _hour(key: str) -> str:
    return f"{key}:00–{int(key) + 1:02d}:00" if key.isdigit() else key


def report_csv(config: HallConfig, stats: Stats) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([t("web", k, "zh") for k in HEAD])
    w.writerow([t("web", k, "en") for k in HEAD])

    def dim(key: str) -> str:
        return f"{t('web', key, 'zh')} {t('web', key, 'en')}"

    w.writerow([dim("dim_total"), "", "", *_cells(stats.total)])
    for code, figures in stats.by_service.items():
        service = config.service(code)
        w.writerow([dim("dim_service"), code, service.name if service else "", *_cells(figures)])
    for cid, figures in stats.by_counter.items():
        counter = config.counter(cid)
        w.writerow([dim("dim_counter"), cid, counter.name if counter else "", *_cells(figures)])
    for hour, figures in stats.by_hour.items():
        w.writerow([dim("dim_hour"), hour, _hour(hour), *_cells(figures)])
    return BOM + out.getvalue()


def read_report_csv(text: str) -> list[dict[str, Any]]:
    """The rows of :func:`report_csv` keyed by the stable column keys (``csv_key``,
    ``metric_issued`` …): what a test, or a script that must read the manager's file,
    uses; the two header rows are checked, not trusted."""
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))
    zh, en = rows[0], rows[1]
    if zh != [t("web", k, "zh") for k in HEAD] or en != [t("web", k, "en") for k in HEAD]:
        raise ValueError("not a govhall report CSV (its two header rows differ)")
    return [dict(zip(HEAD, r, strict=True)) for r in rows[HEADER_ROWS:]]


# -- the cases' ledger (台账), CSV and XLSX ----------------------------------------------------


def _words(key: str, fallback: str) -> str:
    try:
        return t("cases", key, "zh")
    except KeyError:
        return fallback


def ledger_table(config: HallConfig, rows: list[dict[str, Any]]) -> list[list[str]]:
    """The ledger as a table: one Chinese header row, then a row per case with its values
    in words (类型 差评, 状态 已归档, 回访 满意 …), the service's name beside its code and
    every step as "time 步骤 by: note". Personal data as the service gave it: masked."""
    table = [[t("cases", f"ledger_{c}", "zh") for c in LEDGER_COLUMNS]]
    for r in rows:
        service = config.service(r["service"]) if r["service"] else None
        cells = {
            **{k: "" if v is None else str(v) for k, v in r.items()},
            "kind": _words(f"case_kind_{r['kind']}", r["kind"]),
            "status": _words(f"case_status_{r['status']}", r["status"]),
            "service": f"{r['service']} {service.name}" if service else r["service"],
            "channel": _words(f"channel_{r['channel']}", r["channel"]) if r["channel"] else "",
            "score": t("web", f"score_{r['score']}", "zh") if r["score"] != "" else "",
            "reasons": "、".join(t("web", f"pad_reason_{x}", "zh") for x in r["reasons"]),
            "overdue": t("web", "yes" if r["overdue"] else "no", "zh"),
            "follow_up": _words(f"follow_{r['follow_up']}", "") if r["follow_up"] else "",
            "appeal": _words(f"appeal_{r['appeal']}", "") if r["appeal"] else "",
            "referral": _words(f"referral_{r['referral']}", "") if r["referral"] else "",
            "steps": "\n".join(
                f"{s['at'][:16].replace('T', ' ')} {_words('step_' + s['step'], s['step'])} "
                f"{s['by']}: {s['note']}".rstrip(": ")
                for s in r["steps"]
            ),
        }
        table.append([cells[c] for c in LEDGER_COLUMNS])
    return table


def ledger_csv(config: HallConfig, rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(ledger_table(config, rows))
    return BOM + out.getvalue()


def ledger_xlsx(config: HallConfig, rows: list[dict[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    for row in ledger_table(config, rows):
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column in ws.columns:
        letter = column[0].column_letter
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[letter].width = min(60, max(8, width * 2))
        for c in column[1:]:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
