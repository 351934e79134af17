"""Pure kiosk flow: the state machine (``flow.KioskFlow`` and its journeys) and what it shows
and asks for (``model``); no Kivy, no I/O."""
