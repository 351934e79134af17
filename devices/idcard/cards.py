"""Sample cards for the simulator, demos and tests: JSON files → ``IdCard``, with drawn
portraits (no real person's face may be shipped).

JSON (``devices/idcard/cards/*.json``): fields as ``IdCard``, dates ISO, ``valid_to`` null
for 长期, ``photo`` = ``"synthetic"`` | an image path relative to the file | absent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from devices.idcard.card import NATIONS, CardType, IdCard
from devices.idcard.textblock import encode_text

CARDS_DIR = Path(__file__).with_name("cards")


def synthetic_portrait(seed: str) -> Any:
    """A simple drawn face (BGR, 126 × 102), different per seed: sample cards need a photo
    and no real person's face may be shipped."""
    import cv2
    import numpy as np

    rnd = random.Random(hashlib.sha256(seed.encode()).digest())
    img = np.full((126, 102, 3), rnd.randint(200, 245), np.uint8)
    skin = (rnd.randint(120, 190), rnd.randint(150, 200), rnd.randint(180, 235))
    cv2.ellipse(img, (51, 64), (rnd.randint(28, 34), rnd.randint(38, 44)), 0, 0, 360, skin, -1)
    hair = rnd.randint(10, 80)
    cv2.ellipse(img, (51, 32), (36, rnd.randint(14, 20)), 0, 180, 360, (hair,) * 3, -1)
    eye_y, gap = rnd.randint(54, 60), rnd.randint(11, 14)
    for x in (51 - gap, 51 + gap):
        cv2.ellipse(img, (x, eye_y), (6, 3), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(img, (x, eye_y), 2, (30, 30, 30), -1)
    cv2.line(img, (51, eye_y + 4), (49, eye_y + 16), (90, 110, 150), 1)
    cv2.ellipse(img, (51, eye_y + 26), (rnd.randint(8, 12), 4), 0, 0, 180, (70, 70, 160), 2)
    cv2.rectangle(img, (20, 110), (82, 126), (rnd.randint(40, 120),) * 3, -1)
    return img


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def card_from_json(data: dict[str, Any], base_dir: Path | None = None) -> IdCard:
    """IdCard from the sample-card JSON format (see the module docstring)."""
    from devices.idcard.photo import PHOTO_BYTES, encode_sim_photo

    photo = data.get("photo")
    wlt = b""
    if photo == "synthetic":
        wlt = encode_sim_photo(synthetic_portrait(data["id_number"]))
    elif isinstance(photo, str):
        import cv2

        path = (base_dir or Path.cwd()) / photo
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"card photo {path} cannot be read as an image")
        wlt = encode_sim_photo(image)
    birth = _date(data["birth_date"])
    valid_from = _date(data["valid_from"])
    assert birth is not None and valid_from is not None
    card = IdCard(
        card_type=CardType(data.get("card_type", "resident")),
        name=data.get("name", ""),
        name_en=data.get("name_en", ""),
        sex=data["sex"],
        nation_code=data.get("nation_code", ""),
        nation=NATIONS.get(data.get("nation_code", ""), ""),
        birth_date=birth,
        address=data.get("address", ""),
        id_number=data["id_number"],
        authority=data.get("authority", ""),
        valid_from=valid_from,
        valid_to=_date(data.get("valid_to")),
        pass_number=data.get("pass_number", ""),
        issue_count=data.get("issue_count"),
        nationality=data.get("nationality", ""),
        card_version=data.get("card_version", ""),
        photo_wlt=wlt or bytes(PHOTO_BYTES),
        additional_address=data.get("additional_address"),
    )
    encode_text(card)  # fail now, with the field's name, if something does not fit
    return card


def load_card(name_or_path: str | Path) -> IdCard:
    """A card from a JSON file, or by sample name (``resident``, ``hmt_residence``…)."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = CARDS_DIR / f"{name_or_path}.json"
    with path.open(encoding="utf-8") as f:
        return card_from_json(json.load(f), path.parent)


def sample_card_names() -> list[str]:
    return sorted(p.stem for p in CARDS_DIR.glob("*.json"))
