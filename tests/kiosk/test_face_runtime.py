"""The face step through the real runtime: a real hall on loopback (which records the ticket's
verification), the ID-card simulator behind the real reader, and the camera simulator's
liveness modes behind the real camera driver, with the real face models. The camera is off
until the citizen agrees and off again when the check ends; nothing is written but tickets.

The flow's own rules are tested pure in test_face_consent.py; this is what the devices and
the hall make of them."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import pytest

from devices.camera.driver import Camera, CameraState
from devices.camera.liveness import Challenge, LivenessConfig
from devices.open import Opened, open_idcard, open_player, open_printer
from devices.printer.decode import decode_text
from hall.client import HallClient
from kiosk.flows.flow import KioskFlow
from kiosk.flows.model import Screen, tile_from_api
from kiosk.journal import OfflineJournal
from kiosk.runtime import DeviceSet, Runtime, SyncRunner
from tests.devices.camera.photos import card_crop, photos_dir
from tests.kiosk.conftest import make_settings
from tests.support.hall_server import TOKENS
from tests.support.multi_hall import Hall, MultiHallServer, start_multi_hall

TZ = ZoneInfo("Asia/Shanghai")
MANUAL_LINE = "请到窗口人工核验身份"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultiHallServer]:
    halls = start_multi_hall(tmp_path_factory.mktemp("halls"))
    yield halls
    halls.close()


@pytest.fixture
def hall(server: MultiHallServer, request: pytest.FixtureRequest) -> Hall:
    return server.hall_for("face", request.node.name)


@pytest.fixture(scope="module")
def checker() -> Any:
    from devices.camera.errors import FaceError
    from devices.camera.face import FaceChecker

    try:
        return FaceChecker()
    except FaceError as err:
        pytest.skip(f"face models unavailable here: {err}")


def face_box(checker: Any, name: str) -> tuple[int, int, int, int]:
    image = cv2.imread(str(photos_dir() / name))
    (b,) = checker.find_faces(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return (b.left, b.top, b.right, b.bottom)


def camera_source(checker: Any, mode: str, fps: float = 15) -> str:
    """The citizen at the kiosk: a public photo (obama3) played in ``mode``."""
    box = ",".join(map(str, face_box(checker, "obama3.jpg")))
    return f"sim:{photos_dir() / 'obama3.jpg'}?mode={mode}&face={box}&fps={fps:g}"


def face_card(checker: Any) -> Any:
    """The sample resident card with a card-sized photo of the same person (another photo)."""
    from devices.idcard.cards import load_card
    from devices.idcard.photo import encode_sim_photo

    image = cv2.imread(str(photos_dir() / "obama.jpg"))
    wlt = encode_sim_photo(card_crop(image, face_box(checker, "obama.jpg")))
    return dataclasses.replace(load_card("resident"), photo_wlt=wlt)


class Kiosk:
    def __init__(self, tmp: Path, hall: Hall, camera: str) -> None:
        settings = make_settings(tmp, server=hall.url, token=TOKENS["kiosk"])
        self.client = HallClient(hall.url, TOKENS["kiosk"], timeout=5.0, retries=2)
        self.camera = Camera(camera).start()  # devices.open starts it; the runtime stops it
        self.devices = DeviceSet(
            reader=open_idcard("sim", "sim"),
            printer=open_printer("sim"),
            camera=Opened(self.camera),
            player=open_player("none"),
        )
        self.runtime = Runtime(
            settings,
            self.client,
            OfflineJournal(tmp / "journal.jsonl", "K1"),
            self.devices,
            hall_name="西城区政务服务中心",
            hall_name_en="Xicheng",
            tz=TZ,
        )
        tiles = [tile_from_api(s.model_dump()) for s in self.client.services()]
        self.flow = KioskFlow(
            settings, "西城区", "Xicheng", tiles, clock=self.runtime.now, hall_id=hall.hall_id
        )
        self.runner = SyncRunner(self.flow, self.runtime)
        self.states: list[CameraState] = []
        self.run(self.flow.tick())
        self.run(self.flow.wake())

    def run(self, effects: list[Any]) -> KioskFlow:
        self.states.append(self.camera.state)
        self.runner.run(effects)
        self.states.append(self.camera.state)
        return self.flow

    def to_consent(self, card: Any) -> None:
        self.devices.reader.simulator.place(card)
        self.run(self.flow.tap_service("D"))
        assert self.flow.view.screen is Screen.FACE_CONSENT, self.flow.view.message
        assert self.camera.state is CameraState.STOPPED and self.camera.latest() is None

    def printed(self) -> list[str]:
        return [decode_text(j.data) for j in self.devices.printer.simulator.printed if j.printed]

    def close(self) -> None:
        self.runtime.close()
        self.devices.close()


@pytest.fixture
def make_kiosk(tmp_path: Path, hall: Hall) -> Iterator[Any]:
    made: list[Kiosk] = []

    def make(camera: str) -> Kiosk:
        made.append(Kiosk(tmp_path, hall, camera))
        return made[-1]

    yield make
    for k in made:
        k.close()


@pytest.mark.slow  # > 3 s: make test runs it, make test-fast does not
def test_agreeing_and_turning_as_asked_gives_a_face_verified_ticket(
    make_kiosk: Any, checker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk = make_kiosk(camera_source(checker, "turn_left"))
    # the citizen turns left: the kiosk is set to ask for that one movement
    kiosk.runtime.liveness = LivenessConfig(challenges=(Challenge.TURN_LEFT,))
    kiosk.to_consent(face_card(checker))
    with caplog.at_level(logging.INFO, logger="kiosk.runtime"):
        kiosk.run(kiosk.flow.consent_agree())
    flow = kiosk.flow
    assert flow.view.screen is Screen.TICKET, flow.view.message
    tk = flow.view.ticket
    assert tk is not None and tk.verification == "face"
    assert kiosk.client.ticket(tk.ticket_id).verification == "face"  # the hall recorded it
    (text,) = kiosk.printed()
    assert tk.number in text and MANUAL_LINE not in text
    assert "请慢慢向左转头，再转回来" in kiosk.runtime.spoken
    # the camera was off before the consent and is off again, its last frame dropped
    assert kiosk.states[0] is CameraState.STOPPED and kiosk.states[-1] is CameraState.STOPPED
    assert kiosk.camera.latest() is None
    assert kiosk.runtime.face_counts == {"consent_given": 1, "passed": 1}
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "face check: passed" in logged and "110105" not in logged


@pytest.mark.slow  # > 3 s: make test runs it, make test-fast does not
def test_the_demos_card_and_camera_carry_one_person_through_the_face_check(
    make_kiosk: Any, tmp_path: Path
) -> None:
    """Day in the hall 4: in ``govhall demo`` the face-checked services could never pass.
    The demo's own config (demo_tables) and its resident card now carry one person."""
    import tomllib

    from devices.idcard.cards import load_card
    from govhall.demo import CARD_ALIASES, demo_tables
    from tests.support.hall_server import SAMPLE_FILE

    raw = tomllib.loads(SAMPLE_FILE.read_text(encoding="utf-8"))
    demo = demo_tables(raw, source_dir=SAMPLE_FILE.parent, reader=tmp_path / "idcard", hours=False)
    kiosk = make_kiosk(demo["devices"]["camera"])
    kiosk.runtime.settings = dataclasses.replace(
        kiosk.runtime.settings, liveness=tuple(demo["kiosk"]["liveness"])
    )
    kiosk.to_consent(load_card(CARD_ALIASES["resident"]))  # govhall demo card resident
    kiosk.run(kiosk.flow.consent_agree())
    tk = kiosk.flow.view.ticket
    assert kiosk.flow.view.screen is Screen.TICKET and tk is not None, kiosk.flow.view.message
    assert tk.verification == "face" and kiosk.runtime.face_counts["passed"] == 1


def test_declining_gives_a_manual_ticket_and_never_starts_the_camera(
    make_kiosk: Any, checker: Any
) -> None:
    kiosk = make_kiosk(camera_source(checker, "turn_left"))
    kiosk.to_consent(face_card(checker))
    kiosk.run(kiosk.flow.consent_decline())
    tk = kiosk.flow.view.ticket
    assert kiosk.flow.view.screen is Screen.TICKET and tk is not None
    assert tk.verification == "manual"
    assert kiosk.client.ticket(tk.ticket_id).verification == "manual"
    (text,) = kiosk.printed()
    words = " ".join(text.split())  # the paper wraps at 48 columns
    assert MANUAL_LINE in words and "Identity will be checked at the counter" in words
    assert set(kiosk.states) == {CameraState.STOPPED} and kiosk.camera.reopens == 0
    assert kiosk.runtime.face_counts == {"consent_declined": 1}


@pytest.mark.slow  # > 3 s: make test runs it, make test-fast does not
def test_a_photo_held_up_fails_twice_and_gets_a_manual_ticket(
    make_kiosk: Any, checker: Any
) -> None:
    # a printed photo of the card holder: it matches the card, but it never moves
    kiosk = make_kiosk(camera_source(checker, "still"))
    kiosk.to_consent(face_card(checker))
    kiosk.run(kiosk.flow.consent_agree())  # two attempts of 8 s each
    tk = kiosk.flow.view.ticket
    assert kiosk.flow.view.screen is Screen.TICKET and tk is not None
    assert kiosk.client.ticket(tk.ticket_id).verification == "manual"
    spoken = " ".join(kiosk.runtime.spoken)
    assert "没有看到转头动作" in spoken and "人脸核验未通过" in spoken
    assert kiosk.runtime.face_counts == {"consent_given": 1, "failed": 1}
    assert kiosk.camera.state is CameraState.STOPPED and kiosk.camera.latest() is None


def test_withdrawing_during_the_check_stops_the_camera_without_calling_it_missing(
    make_kiosk: Any, checker: Any
) -> None:
    import threading

    from kiosk.flows.model import CaptureFace, StartCamera

    # a photo that never moves, at 2 fps: the check spends its time waiting for a frame,
    # which is when the camera is stopped under it
    kiosk = make_kiosk(camera_source(checker, "still", fps=2))
    flow, runtime = kiosk.flow, kiosk.runtime
    kiosk.to_consent(face_card(checker))
    effects = flow.consent_agree()
    (start,) = [e for e in effects if isinstance(e, StartCamera)]
    kiosk.run([e for e in effects if e is not start])  # the count (and nothing that waits)
    ready = runtime.execute(start)
    assert ready is not None and kiosk.camera.state is CameraState.RUNNING
    (capture,) = [e for e in ready(flow) if isinstance(e, CaptureFace)]
    answers: list[Any] = []
    worker = threading.Thread(target=lambda: answers.append(runtime.execute(capture)))
    worker.start()
    time.sleep(1.25)  # the check is watching, between two frames
    kiosk.run(flow.face_withdraw())  # 改为人工核验: CancelFace first, then the ticket
    assert kiosk.camera.state is CameraState.STOPPED  # off at once, not at the deadline
    worker.join(10)
    (answer,) = answers
    assert answer is not None and answer(flow) == []  # its late answer changes nothing
    tk = flow.view.ticket
    assert flow.view.screen is Screen.TICKET and tk is not None and tk.verification == "manual"
    # the camera was stopped under the check: that is no missing camera for the hall
    assert runtime.poll_parts()["camera"] == "ok"
    assert runtime.face_counts == {"consent_given": 1, "consent_withdrawn": 1}
