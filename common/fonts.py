"""The CJK font every part uses (kiosk and board through Kivy, printer image mode through
Pillow, and ``govhall doctor``, which must check the same font the apps will open).

Order: ``$GOVHALL_CJK_FONT``, fonts bundled in ``common/assets/fonts``, Debian's fonts (wqy-microhei
first: Kivy opens only the first face of a .ttc, and in Noto CJK that is the Japanese one),
then whatever fontconfig knows for Chinese.
"""

from __future__ import annotations

import os
import subprocess
from importlib.resources import files
from pathlib import Path

BUNDLED = Path(str(files("common") / "assets" / "fonts"))
SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
INSTALL_HINT = "apt-get install fonts-wqy-microhei (or set GOVHALL_CJK_FONT)"


def candidates() -> list[Path]:
    env = os.environ.get("GOVHALL_CJK_FONT")
    return [
        *([Path(env)] if env else []),
        *sorted(BUNDLED.glob("*.[ot]t[fc]")),
        *SYSTEM_FONTS,
    ]


def find_cjk_font() -> Path | None:
    """The first CJK font file present, or None."""
    for path in candidates():
        if path.is_file():
            return path
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = Path(out.split(":")[0].strip()) if out.strip() else None
    return found if found is not None and found.is_file() else None
