"""Ticket printer (ESC/POS): pure layout and decoder, a python-escpos driver with DLE EOT
status, and a simulator that is a real ESC/POS peer over TCP or a pty."""
