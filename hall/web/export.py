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
