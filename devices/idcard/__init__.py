"""Resident ID card reader: pure wire framing (``frames``), card model (``card``) and text
block (``textblock``); the serial driver, the simulator with its sample cards (``cards``),
photo decoders and the CLI.

The kiosk's entry points: ``driver.IdCardReader`` and ``card.IdCard``."""
