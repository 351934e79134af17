"""Online booking (预约, issue 21): an appointment gets a booking code (its QR code), the
slot's end, its channel, the masked name and phone, why and when it was cancelled and the
hall's notice; closures an admin entered; indexes for a slot's count and a person's record.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall.storage.tables import Id, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = (
    ("code", sa.String(16)),
    ("slot_end", UTCDateTime(timezone=True)),
    ("channel", sa.String(8)),
    ("name_masked", sa.String(64)),
    ("phone_masked", sa.String(24)),
    ("cancelled_at", UTCDateTime(timezone=True)),
    ("cancel_reason", sa.String(16)),
    ("notice", sa.String(200)),
)


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_))
        batch.create_unique_constraint("uq_appointments_code", ["hall_id", "code"])
    op.create_index(
        "ix_appointments_slot", "appointments", ["hall_id", "service", "slot_start", "status"]
    )
    op.create_index("ix_appointments_hash", "appointments", ["hall_id", "id_hash", "status"])
    op.create_table(
        "booking_closures",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hall_id", sa.String(64), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service", sa.String(8)),
        sa.Column("notice", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_booking_closures_day", "booking_closures", ["hall_id", "day"])


def downgrade() -> None:
    op.drop_table("booking_closures")
    op.drop_index("ix_appointments_hash", "appointments")
    op.drop_index("ix_appointments_slot", "appointments")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_constraint("uq_appointments_code", type_="unique")
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
