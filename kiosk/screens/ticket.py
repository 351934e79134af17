"""The issued ticket: number, people ahead, estimate (or "unavailable" offline), printing
state; on a printer fault the QR code stands in for the paper."""

from __future__ import annotations

from typing import Any

from kiosk.screens.widgets import KioskScreen


class TicketScreen(KioskScreen):
    def render(self, view: Any) -> None:
        super().render(view)
        tk = view.ticket
        if tk is None:
            return
        lines = [tk.service_name]
        if tk.priority == "priority":  # 绿色通道: said on the screen as on the paper
            reason = tk.priority_reason
            if reason in ("elderly", "disabled", "military"):
                lines.append(self.tr("green_lane_line", who=self.tr(f"green_lane_{reason}")))
            else:
                lines.append(self.tr("green_lane_plain"))
        if tk.offline:
            lines.append(self.tr("offline_banner"))
        elif tk.waiting_ahead is not None:
            lines.append(
                self.tr("ahead_line", n=tk.waiting_ahead)
                if tk.waiting_ahead
                else self.tr("ahead_none")
            )
            if tk.waiting_ahead and tk.wait_range_s and tk.wait_range_s[1] >= 60:
                lo, hi = (round(s / 60) for s in tk.wait_range_s)
                if lo > 0:
                    lines.append(self.tr("wait_range_line", lo=lo, hi=hi))
                else:
                    lines.append(self.tr("wait_within_line", hi=hi))
            elif tk.waiting_ahead:
                minutes = round((tk.estimated_wait_s or 0) / 60)
                key = "wait_line" if minutes >= 1 else "wait_soon"
                lines.append(self.tr(key, minutes=minutes))
        lines.append(self.tr("issued_at_line", time=tk.issued_at.strftime("%H:%M")))
        self.ids.info.text = "\n".join(lines)
        self.ids.number.text = tk.number
        manual = tk.verification is not None and tk.verification.value == "manual"
        self.ids.verify_note.text = self.tr("manual_line") if manual else ""
        if tk.printing:
            state = self.tr("printing")
        elif tk.print_failed:
            state = self.tr("show_qr")
        else:
            state = self.tr("printed")
        self.ids.state.text = state
        self.ids.state.error = tk.print_failed
        self.ids.qr.payload = tk.qr_payload if tk.print_failed else ""
        self.ids.qr.opacity = 1 if tk.print_failed else 0
        qr = self.ids.qr
        qr.size_hint = (1, 1) if tk.print_failed else (None, None)
        if not tk.print_failed:
            qr.size = (0, 0)  # no blank hole where the QR code would be

    def forget(self) -> None:
        super().forget()
        # The last citizen's number and QR code are not left for the next to see.
        self.ids.number.text = self.ids.info.text = self.ids.state.text = ""
        self.ids.verify_note.text = ""
        self.ids.qr.payload = ""
