"""Resident ID card reader: pure codec, serial driver, simulator, photo decoders, CLI.

``from devices.idcard import IdCardReader, IdCard`` is the kiosk's entry point."""
