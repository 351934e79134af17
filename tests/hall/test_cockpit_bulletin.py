"""The monthly 通报 (issue 22) from three generated months in the database: the PDF renders
(text and a page image through poppler when installed), Chinese first; the XLSX and CSV
carry Chinese headers with English beneath; windows last two months running are marked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hall.services import bulletin, performance
from hall.services.context import HallContext
from hall.storage import migrate
from hall.storage.engine import make_engine
from tests.hall.test_cockpit_services import SERVICES
from tests.support.clock import FakeClock
from tests.support.hall import make_config
from tests.support.history import fill_history


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallContext]:
    path: Path = tmp_path_factory.mktemp("bulletin") / "hall.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    ctx = HallContext(make_config(), engine, FakeClock())
    ctx.ensure_rows()
    fill_history(engine, ctx.config, dt.date(2026, 9, 1), dt.date(2026, 11, 20), services=SERVICES)
    yield ctx
    engine.dispose()


def test_figures_rank_windows_and_mark_the_last_twice(hall: HallContext) -> None:
    f = bulletin.figures(hall, "2026-10")
    sats = [w["satisfied_pct"] for w in f["windows"]]
    assert sats == sorted(sats, reverse=True) and [w["rank"] for w in f["windows"]] == [1, 2, 3]
    before = bulletin.figures(hall, "2026-09")["windows"]
    last_twice = f["windows"][-1]["counter"] == before[-1]["counter"]
    assert (f["windows"][-1]["mark"] == "连续两月末位") is last_twice
    assert all(not w["mark"] for w in f["windows"][:-1])
    assert [d["service"] for d in f["departments"]] and f["attainment"] is not None
    assert f["total"]["issued"] > 1000


def test_the_pdf_renders_in_chinese(hall: HallContext, tmp_path: Path) -> None:
    pdf = bulletin.monthly_pdf(hall, "2026-10")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed: PDF bytes checked only")
    (tmp_path / "t.pdf").write_bytes(pdf)
    words = subprocess.run(
        ["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for needed in ("2026年10月窗口服务情况通报", "窗口排名", "1号综合窗口", "满意率", "承诺达成率"):
        assert needed in words, needed
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(tmp_path / "t.pdf"),
         str(tmp_path / "page")], check=True,
    )  # fmt: skip
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000


def test_xlsx_and_csv_have_chinese_headers(hall: HallContext) -> None:
    wb = load_workbook(io.BytesIO(bulletin.monthly_xlsx(hall, "2026-10")))
    assert wb.sheetnames == ["窗口排名", "业务排名"]
    ws = wb["窗口排名"]
    assert [c.value for c in ws[1]][:3] == ["名次", "窗口号", "名称"]
    assert [c.value for c in ws[2]][:3] == ["Rank", "Counter", "Name"]
    assert ws.max_row == 2 + 3
    rows = performance.period(hall, month="2026-10")["rows"]
    text = bulletin.performance_csv(rows)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert table[0][:4] == ["窗口号", "名称", "工作人员", "办结量"] and table[1][0] == "Counter"
    assert len(table) == 2 + 3
    text = bulletin.monthly_csv(hall, "2026-10")
    parts = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert parts[0] == ["测试政务服务中心 2026-10 窗口排名 Windows"]
    assert parts[1][:2] == ["名次", "窗口号"] and parts[2][:2] == ["Rank", "Counter"]
    assert [] in parts and any(p[:1] == ["业务代码"] or p[1:2] == ["业务代码"] for p in parts)


def test_the_bulletin_is_due_on_the_first_working_day_of_a_month() -> None:
    assert bulletin.due_month(dt.date(2026, 12, 1)) == "2026-11"  # a Tuesday
    assert bulletin.due_month(dt.date(2026, 10, 1)) is None  # 国庆
    assert bulletin.due_month(dt.date(2026, 10, 8)) == "2026-09"  # the first after it
    assert bulletin.due_month(dt.date(2026, 10, 9)) is None


def test_the_command_writes_the_month_and_is_quiet_when_nothing_is_due(tmp_path: Path) -> None:
    from tests.support.hall_server import free_port, write_config

    cfg = write_config(tmp_path / "hall.toml", free_port())
    out = tmp_path / "out"
    # an unmigrated database is a message, not a traceback
    assert bulletin.main(["--config", str(cfg), "--month", "2026-10", "--out", str(out)]) == 1
    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")  # the hall's, beside its config
    migrate.upgrade(engine)
    engine.dispose()
    assert bulletin.main(["--config", str(cfg), "--month", "2026-10", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "tongbao-2026-10.csv", "tongbao-2026-10.pdf", "tongbao-2026-10.xlsx",
    ]  # fmt: skip
    assert (out / "tongbao-2026-10.pdf").read_bytes().startswith(b"%PDF")
    assert bulletin.main(["--config", str(cfg), "--month", "1999-12", "--out", str(out)]) == 2
