"""Consent before the face check (PIPL Art. 26, 28, 29): what is compared (the citizen's face
with the ID card photo), where (on this machine only), that nothing is stored or sent, and
the other way — staff check the ID at the counter (人工核验). Agree and decline are two
equally large buttons; declining is one tap and still gives a ticket. The camera is off."""

from __future__ import annotations

from kiosk.screens.widgets import KioskScreen


class FaceConsentScreen(KioskScreen):
    pass
