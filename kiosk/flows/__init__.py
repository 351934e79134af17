"""Pure kiosk flow: state machine, offline journal, effects (no Kivy, no I/O but the journal)."""
