"""预约签到 by the booking's QR code (issue 21): the camera simulator plays a photo of a
phone held up to the kiosk camera, its screen showing the booking page's QR code (tilted,
in perspective, with glare and noise); the runtime reads it with zxing-cpp through the real
camera driver, the hall checks the booking in, and the ticket is an appointment one. A
code for another day, a cancelled one, and a QR code that is not a booking's are told
apart. A real hall process, the real HallClient, the printer simulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
import qrcode
import requests

from devices.camera.qr import read_qr
from devices.open import open_camera, open_idcard, open_player, open_printer
from devices.printer.decode import decode_text
from hall.client import HallClient, booking_code_of
from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import CancelCard, CheckInByCode, ScanBooking, Screen, tile_from_api
from kiosk.journal import OfflineJournal
from kiosk.runtime import DeviceSet, Runtime, SyncRunner
from tests.hall.test_booking_api import person
from tests.kiosk.conftest import make_settings
from tests.support.hall_server import TOKENS, HallProcess, start_hall

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Asia/Shanghai")
ADMIN = {"Authorization": f"Bearer {TOKENS['admin']}"}


def phone_photo(text: str, path: Path, *, angle: float = 9.0) -> Path:
    """A 640×480 camera frame of a phone held up to the kiosk: a dark body, a lit screen
    with the page's header and the QR code of ``text``, turned and in perspective, over a
    grey hall with a ceiling light's glare, blurred and noisy like a webcam."""
    qr = np.array(qrcode.make(text, box_size=4, border=2).convert("L"))
    screen = np.full((400, 220), 246, np.uint8)
    cv2.rectangle(screen, (0, 0), (220, 44), 40, -1)  # the page's dark header bar
    for y in (60, 76):  # lines of text above the code
        cv2.rectangle(screen, (18, y), (200, y + 8), 120, -1)
    side = 180
    screen[110 : 110 + side, 20 : 20 + side] = cv2.resize(qr, (side, side), cv2.INTER_NEAREST)
    for y in (310, 326, 342):  # lines of text below
        cv2.rectangle(screen, (18, y), (170, y + 8), 140, -1)
    phone = np.full((440, 240), 25, np.uint8)
    phone[20:420, 10:230] = screen
    frame = np.tile(np.linspace(150, 95, 640, dtype=np.float32), (480, 1))
    h, w = phone.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[215, 28], [432, 52], [418, 462], [196, 440]])  # held a little turned
    warp = cv2.getPerspectiveTransform(src, dst)
    rot = cv2.getRotationMatrix2D((320, 240), angle, 1.0)
    warp = np.vstack([rot, [0, 0, 1]]) @ warp
    mask = cv2.warpPerspective(np.ones_like(phone, np.float32), warp, (640, 480))
    shown = cv2.warpPerspective(phone.astype(np.float32), warp, (640, 480))
    frame = frame * (1 - mask) + shown * mask
    yy, xx = np.mgrid[0:480, 0:640]
    frame += 40 * np.exp(-(((xx - 380) ** 2) + ((yy - 150) ** 2)) / (2 * 70.0**2))  # glare
    frame = cv2.GaussianBlur(frame, (3, 3), 0.8)
    frame += np.random.default_rng(7).normal(0, 5, frame.shape)
    bgr = cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    cv2.imwrite(str(path), bgr)
    return path


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallProcess]:
    proc = start_hall(tmp_path_factory.mktemp("qr-hall"))
    yield proc
    proc.stop()


def appointment(hall: HallProcess, who: str, slot: dt.datetime) -> str:
    body = {"service": "A", "id_number": who, "slot_start": slot.isoformat()}
    r = requests.post(f"{hall.url}/api/v1/appointments", json=body, headers=ADMIN, timeout=10)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert code and len(code) == 10
    return code


class QrKiosk:
    def __init__(self, tmp: Path, hall: HallProcess, picture: Path) -> None:
        self.settings = make_settings(tmp, server=hall.url, token=TOKENS["kiosk"])
        self.client = HallClient(hall.url, TOKENS["kiosk"], timeout=5, retries=2, backoff_s=0.05)
        self.devices = DeviceSet(
            reader=open_idcard("sim", "sim"),
            printer=open_printer("sim"),
            player=open_player("none"),
            camera=open_camera(f"sim:{picture}?fps=10"),
        )
        self.runtime = Runtime(
            self.settings,
            self.client,
            OfflineJournal(tmp / "journal.jsonl", "K1"),
            self.devices,
            hall_name="西城区政务服务中心",
            hall_name_en="Xicheng",
            tz=TZ,
            load_face_models=False,
        )
        tiles = [tile_from_api(s.model_dump()) for s in self.client.services()]
        self.flow = KioskFlow(
            self.settings, "西城区政务服务中心", "Xicheng", tiles, clock=self.runtime.now
        )
        self.runner = SyncRunner(self.flow, self.runtime)
        self.runner.run(self.flow.tick())
        self.runner.run(self.flow.wake())

    def scan(self) -> list:
        """预约签到 tapped; the card screen waits while the camera looks for a QR code
        (the kiosk app runs both at once; here the scan runs, the card wait is cancelled)."""
        effects = self.flow.tap_checkin()
        assert self.flow.view.screen is Screen.ID_CARD
        assert "预约二维码" in self.flow.view.message
        scan = next(e for e in effects if isinstance(e, ScanBooking))
        cont = self.runtime.execute(scan)
        assert self.devices.camera.driver.state != "running"  # off again after the scan
        return [] if cont is None else cont(self.flow)

    def close(self) -> None:
        self.runtime.close()
        self.devices.close()


def test_the_phone_screen_code_is_read_from_the_simulated_camera(tmp_path: Path) -> None:
    url = "https://hall.example.gov.cn/book/b/ABCDE23456"
    picture = phone_photo(url, tmp_path / "phone.png")
    assert read_qr(cv2.imread(str(picture))) == [url]
    assert booking_code_of(url) == "ABCDE23456"
    assert booking_code_of("ABCDE-23456") == "ABCDE23456"
    assert booking_code_of("https://hall.example.gov.cn/t/3kq9xM2pLw") is None  # a ticket's
    blank = np.full((480, 640, 3), 128, np.uint8)
    assert read_qr(blank) == []


def test_check_in_by_showing_the_booking_qr_code(tmp_path: Path, hall: HallProcess) -> None:
    soon = dt.datetime.now(TZ).replace(second=0, microsecond=0) + dt.timedelta(minutes=20)
    code = appointment(hall, person(301), soon)
    picture = phone_photo(f"{hall.url}/book/b/{code}", tmp_path / "phone.png")
    kiosk = QrKiosk(tmp_path, hall, picture)
    try:
        found = kiosk.scan()
        assert isinstance(found[0], CancelCard)
        assert isinstance(found[1], CheckInByCode) and found[1].code == code
        kiosk.runner.run(found)
        tk = kiosk.flow.view.ticket
        assert kiosk.flow.view.screen is Screen.TICKET and tk is not None
        assert tk.number.startswith("A")
        state = kiosk.client.ticket(tk.ticket_id)
        assert state.priority == "appointment"
        printed = [decode_text(j.data) for j in kiosk.devices.printer.simulator.printed]
        assert printed and tk.number in printed[-1]
        booking = requests.get(f"{hall.url}/api/v1/bookings/{code}", timeout=10).json()
        assert booking["status"] == "checked_in" and booking["ticket_id"] == tk.ticket_id

        # the same code again: already checked in, said in words
        kiosk.runner.run(kiosk.flow.home())
        kiosk.runner.run(kiosk.scan())
        assert kiosk.flow.view.screen is Screen.MESSAGE
        assert "已签到" in kiosk.flow.view.message
    finally:
        kiosk.close()


def test_a_code_for_another_day_or_cancelled_is_refused_in_words(
    tmp_path: Path, hall: HallProcess
) -> None:
    slots = requests.get(f"{hall.url}/api/v1/booking/slots", params={"service": "B"}, timeout=10)
    day = next(d for d in slots.json()["days"] if d["state"] == "open")
    body = {
        "service": "B",
        "slot_start": day["slots"][0]["start"],
        "name": "李四",
        "id_number": person(302),
        "phone": "13912345678",
    }
    later = requests.post(f"{hall.url}/api/v1/bookings", json=body, timeout=10).json()["code"]
    picture = phone_photo(f"{hall.url}/book/b/{later}", tmp_path / "later.png", angle=-7)
    kiosk = QrKiosk(tmp_path, hall, picture)
    try:
        kiosk.runner.run(kiosk.scan())
        assert kiosk.flow.view.screen is Screen.MESSAGE
        assert "不是今天的" in kiosk.flow.view.message
    finally:
        kiosk.close()

    soon = dt.datetime.now(TZ).replace(second=0, microsecond=0) + dt.timedelta(minutes=30)
    code = appointment(hall, person(303), soon)
    assert (
        requests.post(
            f"{hall.url}/api/v1/bookings/{code}/cancel", headers=ADMIN, timeout=10
        ).status_code
        == 200
    )
    picture = phone_photo(f"{hall.url}/book/b/{code}", tmp_path / "cancelled.png")
    (tmp_path / "k2").mkdir()
    kiosk = QrKiosk(tmp_path / "k2", hall, picture)
    try:
        kiosk.runner.run(kiosk.scan())
        assert kiosk.flow.view.screen is Screen.MESSAGE
        assert "已取消或已失效" in kiosk.flow.view.message
    finally:
        kiosk.close()


def test_a_remote_ticket_is_confirmed_by_its_qr_code(tmp_path: Path, hall: HallProcess) -> None:
    near = {"lat": 39.9130, "lon": 116.3665}  # the sample hall stands at 39.9123, 116.3661
    body = {"service": "J", "id_number": person(304), "position": near}
    r = requests.post(f"{hall.url}/api/v1/remote-tickets", json=body, timeout=10)
    assert r.status_code == 201, r.text
    remote = r.json()
    assert remote["confirmed"] is False
    picture = phone_photo(f"{hall.url}/t/{remote['public_token']}", tmp_path / "remote.png")
    kiosk = QrKiosk(tmp_path, hall, picture)
    try:
        kiosk.runner.run(kiosk.scan())
        tk = kiosk.flow.view.ticket
        assert kiosk.flow.view.screen is Screen.TICKET and tk is not None
        assert tk.number == remote["number"]  # the same ticket, now on paper
        state = kiosk.client.confirm_remote(remote["public_token"])
        assert state.confirmed and state.confirm_by is None
    finally:
        kiosk.close()
