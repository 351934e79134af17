"""QR codes in camera frames (zxing-cpp): the booking code a citizen shows on a phone at
the kiosk camera (预约签到, issue 21). The frame is read in memory and dropped; nothing is
kept but the decoded text."""

from __future__ import annotations

import cv2
import numpy as np
import zxingcpp


def read_qr(image: np.ndarray) -> list[str]:
    """The texts of the QR codes in a BGR (or grayscale) frame, the clearest first."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(gray, formats=qr)
    return [r.text for r in found if r.valid and r.text]
