"""Ticket printer (ESC/POS). Pure: ``elements`` (the model), ``text``, ``layout`` (ticket →
elements), ``encode`` (elements → bytes), ``decode`` (bytes → elements) and ``codec`` (DLE
EOT status). Then ``image`` (raster mode), ``link`` (tcp, serial, usb, cups), ``driver``
(status around every job) and a simulator that is a real ESC/POS peer over TCP or a pty."""
