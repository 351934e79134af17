"""Tables of the hall database (SQLAlchemy Core). Every row carries ``hall_id`` so many
halls can share one PostgreSQL. Times are stored as UTC-aware timestamps.

Personal data: only masked forms (``id_masked``, ``name_masked``) and a keyed hash of the
ID number (``id_hash``) are stored, and purged after the retention period.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

metadata = MetaData()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Autoincrement ids: BigInteger on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")

halls = Table(
    "halls",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Daily sequence per service: the row is locked/updated in the issuing transaction.
sequences = Table(
    "sequences",
    metadata,
    Column("hall_id", String(64), ForeignKey("halls.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("service", String(8), primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("day", Date, nullable=False),
    Column("number", String(24), nullable=False),
    Column("service", String(8), nullable=False),
    Column("klass", String(16), nullable=False),
    Column("priority_reason", String(16)),
    Column("status", String(16), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("queue_time", UTCDateTime, nullable=False),
    Column("called_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("counter_id", String(16)),
    Column("recall_count", Integer, nullable=False, default=0),
    Column("last_announced_at", UTCDateTime),
    Column("pinned_counter", String(16)),
    Column("return_counter", String(16)),
    Column("return_service", String(8)),
    Column("origin_id", Id),
    Column("transferred_to", Id),
    Column("note", String(200)),
    Column("kiosk", String(64)),
    Column("offline_number", String(24)),
    Column("idempotency_key", String(128)),
    Column("appointment_id", Id),
    Column("public_token", String(64), nullable=False),
    Column("id_hash", String(64)),
    Column("id_masked", String(24)),
    Column("name_masked", String(64)),
    # face | manual (人工核验 at the counter) | NULL: no check asked for
    Column("verification", String(8)),
    Column("reprinted_at", UTCDateTime),  # 补打: a lost ticket is reprinted once
    # 远程取号 (0012): taken from the phone; not called until confirmed on arrival (kiosk
    # or counter) before confirm_by, after which it expires (issue 21)
    Column("remote", Integer),
    Column("confirm_by", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    # the staff account (and its 工号) that last acted on the ticket at its counter from the
    # counter page: who served it; NULL when a counter device's token did (0016)
    Column("staff_account", Id),
    Column("staff_no", String(32)),
    UniqueConstraint("hall_id", "idempotency_key", name="uq_tickets_idempotency"),
    UniqueConstraint("hall_id", "day", "kiosk", "offline_number", name="uq_tickets_offline"),
    UniqueConstraint("public_token", name="uq_tickets_public_token"),
)
# One queue (a service's unpinned tickets) by class and time: call-next seeks the head
# of each class, and people-ahead and waiting counts are read from the index alone.
Index(
    "ix_tickets_waiting",
    tickets.c.hall_id,
    tickets.c.status,
    tickets.c.service,
    tickets.c.pinned_counter,
    tickets.c.klass,
    tickets.c.queue_time,
)
# Tickets reserved for a counter (returned after a transfer): few, found without a scan.
Index(
    "ix_tickets_pinned",
    tickets.c.hall_id,
    tickets.c.pinned_counter,
    tickets.c.status,
    tickets.c.queue_time,
    sqlite_where=tickets.c.pinned_counter.is_not(None),
    postgresql_where=tickets.c.pinned_counter.is_not(None),
)
# Today's latest service times of a service (the wait estimate) without reading the day.
Index(
    "ix_tickets_finished",
    tickets.c.hall_id,
    tickets.c.service,
    tickets.c.day,
    tickets.c.finished_at,
    sqlite_where=tickets.c.finished_at.is_not(None),
    postgresql_where=tickets.c.finished_at.is_not(None),
)
Index("ix_tickets_person", tickets.c.hall_id, tickets.c.day, tickets.c.id_hash)
Index("ix_tickets_counter", tickets.c.hall_id, tickets.c.counter_id, tickets.c.status)
Index("ix_tickets_day", tickets.c.hall_id, tickets.c.day)

counters = Table(
    "counters",
    metadata,
    Column("hall_id", String(64), ForeignKey("halls.id"), primary_key=True),
    Column("id", String(16), primary_key=True),
    Column("state", String(16), nullable=False),  # closed, open, paused
    Column("reason", String(200)),
    Column("since", UTCDateTime, nullable=False),
    # the staff account that opened, resumed or paused it from the counter page: who is
    # there (the live advice's services); NULL for a counter device, or once closed (0016)
    Column("staff_account", Id),
)

pauses = Table(
    "pauses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("counter_id", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("staff_account", Id),  # who paused, from the counter page (0016)
    Column("staff_no", String(32)),
)
Index("ix_pauses_counter", pauses.c.hall_id, pauses.c.counter_id, pauses.c.started_at)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("ticket_id", Id, nullable=False),
    Column("score", Integer, nullable=False),
    Column("comment", String(500)),
    Column("service", String(8), nullable=False),
    Column("counter_id", String(16)),
    Column("created_at", UTCDateTime, nullable=False),
    # 好差评 (GB/T 39734): the 办件编号 rated (一次一评), the channel, the three fixed
    # indicators (1–5 each, optional) and a 差评's reasons
    Column("matter_no", String(40)),
    Column("channel", String(8)),
    Column("efficiency", Integer),
    Column("competence", Integer),
    Column("attitude", Integer),
    Column("reasons", JSON),
    Column("staff", String(64)),  # the account logged in on the pad that asked (0011)
    # 一次一评: one rating per matter handled (0009; was one per ticket)
    UniqueConstraint("hall_id", "ticket_id", "matter_no", name="uq_evaluations_matter"),
)

# Rating integrity: a visit already rated, rated again on a second channel (the citizen's
# phone page after the pad); kept apart from the ratings, compared with them (0011)
rating_checks = Table(
    "rating_checks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("evaluation_id", Id, nullable=False),
    Column("ticket_id", Id, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("score", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("hall_id", "evaluation_id", "channel", name="uq_rating_checks"),
)

# 好差评: the 办件编号 a counter registered for a ticket (entered, scanned or generated in the
# hall's format); a visit of several matters, or a transfer, is rated once per matter (0009)
ticket_matters = Table(
    "ticket_matters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("ticket_id", Id, nullable=False),
    Column("matter_no", String(40), nullable=False),
    Column("service", String(8), nullable=False),
    Column("counter_id", String(16)),
    Column("source", String(10), nullable=False),  # entered | generated | guide
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # the catalogue's code of the matter (guide/data/matters.toml) when the kiosk's 我要办
    # sent it with the ticket (source guide: a 一件事一次办 bundle's matters, or one) (0015)
    Column("matter_code", String(8)),
    UniqueConstraint("hall_id", "matter_no", name="uq_ticket_matters_no"),
)
Index("ix_ticket_matters_ticket", ticket_matters.c.hall_id, ticket_matters.c.ticket_id)

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # hall.domain.evaluation.CaseKind
    Column("status", String(16), nullable=False),  # CaseStatus
    Column("ticket_id", Id),
    Column("evaluation_id", Id),
    Column("service", String(8)),
    Column("counter_id", String(16)),
    Column("contact", String(64)),  # for 回访; purged with the retention period
    Column("description", String(1000), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("extended_to", Date),
    Column("extension_reason", String(500)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
)
Index("ix_cases_hall", cases.c.hall_id, cases.c.status, cases.c.due_on)

case_steps = Table(
    "case_steps",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("step", String(16), nullable=False),  # hall.domain.evaluation.Step
    Column("by", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", String(1000), nullable=False),
    Column("fields", JSON, nullable=False),  # the six-step guidance, a follow-up's outcome…
)
Index("ix_case_steps_case", case_steps.c.case_id, case_steps.c.id)

# Every rating and case change for the provincial 好差评 system, written in the same
# transaction as the change; a sender delivers each once by its key.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("key", String(80), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    UniqueConstraint("hall_id", "key", name="uq_outbox_key"),
)
Index("ix_outbox_pending", outbox.c.hall_id, outbox.c.sent_at, outbox.c.id)

appointments = Table(
    "appointments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("service", String(8), nullable=False),
    Column("slot_start", UTCDateTime, nullable=False),
    Column("day", Date, nullable=False),
    Column("status", String(16), nullable=False),  # booked, checked_in, cancelled
    Column("id_hash", String(64)),
    Column("id_masked", String(24)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("checked_in_at", UTCDateTime),
    Column("ticket_id", Id),
    # online booking (0010): the citizen's code (QR), the slot's end, where it was made,
    # masked name and phone, why it ended (citizen | staff | closed) and the hall's notice
    Column("code", String(16)),
    Column("slot_end", UTCDateTime),
    Column("channel", String(8)),  # api | online | desk
    Column("name_masked", String(64)),
    Column("phone_masked", String(24)),
    Column("cancelled_at", UTCDateTime),
    Column("cancel_reason", String(16)),
    Column("notice", String(200)),
    # the mobile number for the hall's SMS about this booking (closed day); cleared when the
    # booking is checked in, cancelled or closed, else at the retention purge (0014)
    Column("phone", String(20)),
    UniqueConstraint("hall_id", "code", name="uq_appointments_code"),
)
Index("ix_appointments_person", appointments.c.hall_id, appointments.c.day, appointments.c.id_hash)
# A slot's bookings are counted under the write lock on every booking (capacity).
Index(
    "ix_appointments_slot",
    appointments.c.hall_id,
    appointments.c.service,
    appointments.c.slot_start,
    appointments.c.status,
)
# A person's open bookings, no-shows and cancellations (the limits and the month's block).
Index("ix_appointments_hash", appointments.c.hall_id, appointments.c.id_hash, appointments.c.status)

# Days (or one service's day) an admin closed for booking, with the notice shown to those
# who had booked (0010).
booking_closures = Table(
    "booking_closures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("day", Date, nullable=False),
    Column("service", String(8)),  # NULL: every service
    Column("notice", String(200), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_booking_closures_day", booking_closures.c.hall_id, booking_closures.c.day)

# Text messages to citizens (issue 21, 0013): sent once each by key; the number is cleared
# when sent (and purged with the rest after the retention period).
sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("key", String(80), nullable=False),
    Column("template", String(32), nullable=False),
    Column("phone", String(20)),
    Column("phone_masked", String(24), nullable=False),
    Column("params", Text, nullable=False),  # JSON, nothing personal
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    UniqueConstraint("hall_id", "key", name="uq_sms_outbox_key"),
)
Index("ix_sms_outbox_pending", sms_outbox.c.hall_id, sms_outbox.c.sent_at, sms_outbox.c.next_at)

help_requests = Table(
    "help_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("kiosk", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
)

devices = Table(
    "devices",
    metadata,
    Column("hall_id", String(64), ForeignKey("halls.id"), primary_key=True),
    Column("device", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("parts", JSON, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_events_hall", events.c.hall_id, events.c.id)


# -- web pages (hall.web): staff accounts and their browser sessions -----------------------
web_accounts = Table(
    "web_accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("username", String(64), nullable=False),
    Column("display_name", String(64), nullable=False),
    Column("role", String(16), nullable=False),  # admin | counter
    Column("counters", JSON, nullable=False),  # counter ids a counter account may act for
    Column("password_hash", String(255), nullable=False),  # argon2id, never the password
    Column("active", Integer, nullable=False, default=1),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("staff_no", String(32)),  # 工号, shown on the evaluation pad; optional (0007)
    # a supervisor's (department head's) departments: the service codes whose cases it
    # sees and handles (0009); null for other roles
    Column("departments", JSON),
    # the service codes a staff member can handle (综合窗口 staff often handle only some of
    # a counter's); the staffing plan recommends a counter only for its staff's. NULL: not
    # recorded, every service of the account's counters (0016)
    Column("services", JSON),
    UniqueConstraint("hall_id", "username", name="uq_web_accounts_username"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # sha256 of the cookie value: a leaked database does not hand out live sessions
    Column("id", String(64), primary_key=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("account_id", Id, ForeignKey("web_accounts.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
Index("ix_web_sessions_account", web_sessions.c.account_id)
