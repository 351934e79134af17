"""The offline journal on disk (numbering, durability, torn lines, no ID numbers) and the
[kiosk]/[devices] config checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from hall.config import ConfigError, load_config
from kiosk.journal import OfflineJournal
from kiosk.settings import KioskConfigError, KioskSettings, parse_devices, parse_kiosk
from tests.support.hall_server import SAMPLE

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 5, 6, 9, 30, tzinfo=TZ)


def test_numbers_continue_per_service_and_day_across_reopen(tmp_path: Path) -> None:
    j = OfflineJournal(tmp_path / "j.jsonl", "K2")
    assert j.issue("A", "A", NOW).offline_number == "K2-A001"
    assert j.issue("A", "A", NOW).offline_number == "K2-A002"
    assert j.issue("G", "G", NOW, name_masked="张**").offline_number == "K2-G001"
    again = OfflineJournal(tmp_path / "j.jsonl", "K2")  # a power cut and restart
    assert again.issue("A", "A", NOW).offline_number == "K2-A003"
    assert again.issue("A", "A", NOW + dt.timedelta(days=1)).offline_number == "K2-A001"
    # afterwards: four pending from today, nothing personal but the masked name
    assert [p.offline_number for p in again.pending()][:4] == [
        "K2-A001",
        "K2-A002",
        "K2-G001",
        "K2-A003",
    ]
    assert "张小三" not in (tmp_path / "j.jsonl").read_text(encoding="utf-8")


def test_uploaded_tickets_leave_pending_but_keep_their_numbers(tmp_path: Path) -> None:
    j = OfflineJournal(tmp_path / "j.jsonl", "K1")
    a, b = j.issue("A", "A", NOW), j.issue("A", "A", NOW)
    j.mark_uploaded([a], [12])
    assert [p.offline_number for p in j.pending()] == [b.offline_number]
    assert j.issue("A", "A", NOW).offline_number == "K1-A003"  # never reused


def test_torn_last_line_is_skipped_and_next_line_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = OfflineJournal(path, "K1")
    j.issue("A", "A", NOW)
    with path.open("ab") as f:
        f.write(b'{"kind": "issued", "day": "2025-05-06", "offline_nu')  # power cut mid-write
    t = j.issue("A", "A", NOW)
    assert t.offline_number == "K1-A002"
    assert [p.offline_number for p in j.pending()] == ["K1-A001", "K1-A002"]


def test_earlier_days_are_dropped_not_uploaded(tmp_path: Path) -> None:
    j = OfflineJournal(tmp_path / "j.jsonl", "K1")
    j.issue("A", "A", NOW - dt.timedelta(days=1))
    j.issue("A", "A", NOW)
    stale = j.drop_stale(NOW.date())
    assert len(stale) == 1 and len(j.pending()) == 1


def test_lost_answer_keys_settle_independently_of_the_upload(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = OfflineJournal(path, "K1")
    old = j.issue("A", "A", NOW - dt.timedelta(days=1), withdraw_key="k-old")
    a = j.issue("A", "A", NOW, withdraw_key="k-a")
    j.issue("A", "A", NOW)  # issued while already known offline: nothing to withdraw
    j.mark_uploaded([a], [5])
    # uploading the offline ticket does not settle the phantom, and a restart keeps it
    again = OfflineJournal(path, "K1")
    assert [w.key for w in again.withdrawals()] == ["k-old", "k-a"]
    assert again.withdrawals()[0].offline_number == old.offline_number
    again.drop_stale(NOW.date())
    (w,) = again.withdrawals()
    again.mark_withdrawn(w, "cancelled")
    assert again.withdrawals() == []
    with pytest.raises(ValueError):
        again.mark_withdrawn(w, "maybe")
    # the key never reaches the hall's import
    assert "withdraw_key" not in a.import_item("K1")


def test_import_item_matches_the_hall_contract(tmp_path: Path) -> None:
    t = OfflineJournal(tmp_path / "j.jsonl", "K1").issue("A", "A", NOW, name_masked="张*")
    item = t.import_item("K1")
    assert item == {
        "kiosk": "K1",
        "offline_number": "K1-A001",
        "service": "A",
        "issued_at": "2025-05-06T09:30:00+08:00",
        "name_masked": "张*",
    }


def test_naive_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        OfflineJournal(tmp_path / "j.jsonl", "K1").issue("A", "A", NOW.replace(tzinfo=None))


def test_sample_config_parses() -> None:
    cfg = load_config(SAMPLE)
    kiosk, devices = parse_kiosk(cfg)
    assert kiosk.kiosk_id == "K1" and kiosk.offline_prefix == "K1"
    assert kiosk.data_dir.is_absolute() and devices.printer == "sim"
    assert kiosk.idle_timeout_s == 60.0 and kiosk.orientation == "portrait"
    assert "token" not in repr(kiosk) and "2468" not in repr(kiosk)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"admin_pin": "12"}, "[kiosk].admin_pin: must be 4–12 digits"),
        ({"token": "short"}, "[kiosk].token: must have at least 16 characters"),
        ({"server": "ftp://x"}, "[kiosk].server: 'ftp://x' is not an http:// or https:// URL"),
        ({"offline_prefix": "k-1"}, "[kiosk].offline_prefix: must be a capital letter"),
        ({"id": "k 1"}, "[kiosk].id: 'k 1' must be 1–32 letters, digits, - or _"),
        (
            {"orientation": "upside"},
            "[kiosk].orientation: must be 'portrait' or 'landscape', got 'upside'",
        ),
        ({"idle_timeout_s": True}, "[kiosk].idle_timeout_s: must be a number, got true"),
        ({"heartbeat_s": 0}, "[kiosk].heartbeat_s: must be > 0"),
        ({"idle_warning_s": 100}, "[kiosk].idle_warning_s: must be below idle_timeout_s"),
        ({"colour": "red"}, "[kiosk].colour: unknown key (misspelt?)"),
    ],
)
def test_bad_kiosk_values_fail_with_the_key_named(change: dict, message: str) -> None:
    cfg = load_config(SAMPLE)
    sections = {**cfg.sections, "kiosk": {**cfg.sections["kiosk"], **change}}
    with pytest.raises(KioskConfigError) as err:
        parse_kiosk(cfg.model_copy(update={"sections": sections}))
    assert str(err.value).startswith(f"{SAMPLE}: {message}")
    assert "2468" not in str(err.value)  # nor any other secret


def test_offline_prefix_defaults_to_the_id() -> None:
    cfg = load_config(SAMPLE)
    kiosk = {k: v for k, v in cfg.sections["kiosk"].items() if k != "offline_prefix"}
    settings, _ = parse_kiosk(
        cfg.model_copy(update={"sections": {"kiosk": {**kiosk, "id": "k-2"}}})
    )
    assert settings.offline_prefix == "K2" and settings.kiosk_id == "k-2"


def test_settings_stay_dataclasses_that_validate() -> None:
    settings = KioskSettings("K1", "http://127.0.0.1:1", "x" * 20, "K1", "2468")
    shorter = dataclasses.replace(settings, idle_timeout_s=6.0, idle_warning_s=3.0)
    assert shorter.idle_timeout_s == 6.0 and shorter.kiosk_id == "K1"
    with pytest.raises(ValidationError):
        dataclasses.replace(settings, idle_warning_s=60.0)


def test_bad_devices_table() -> None:
    with pytest.raises(KioskConfigError, match=r"^config: \[devices\]\.scanner: unknown key"):
        parse_devices({"scanner": "x"})
    with pytest.raises(KioskConfigError, match=r"\[devices\]\.printer: must not be empty"):
        parse_devices({"printer": " "})
    assert parse_devices({"printer": " tcp://10.0.0.5:9100 "}).printer == "tcp://10.0.0.5:9100"
    with pytest.raises(ConfigError):  # what every command catches
        parse_devices([])


def test_a_ticket_the_hall_refused_leaves_the_pending_set_with_its_reason(tmp_path: Path) -> None:
    # issue "reliability" 3: a refused item was resent with every heartbeat for ever
    j = OfflineJournal(tmp_path / "j.jsonl", "K1")
    a = j.issue("A", "A", NOW)
    b = j.issue("A", "A", NOW)
    j.mark_refused(a, "stale_ticket", "offline ticket K1-A001 is from another day")
    assert [t.offline_number for t in j.pending()] == [b.offline_number]
    assert j.refused(NOW.date()) == [(a.offline_number, "stale_ticket")]
    # it survives a restart of the kiosk, and a number is never given twice
    again = OfflineJournal(tmp_path / "j.jsonl", "K1")
    assert again.refused(NOW.date()) == [(a.offline_number, "stale_ticket")]
    assert again.issue("A", "A", NOW).offline_number == "K1-A003"


def test_the_retired_face_fallback_is_accepted_said_and_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # a kiosk config from the first round still starts; the key changes nothing any more
    cfg = load_config(SAMPLE)
    sections = {**cfg.sections, "kiosk": {**cfg.sections["kiosk"], "face_fallback": "skip"}}
    with caplog.at_level("WARNING"):
        kiosk, _ = parse_kiosk(cfg.model_copy(update={"sections": sections}))
    assert "face_fallback is no longer used" in caplog.text
    assert not hasattr(kiosk, "face_fallback")
