"""The SMS outbox (issue 21): text messages to citizens, each sent once by its key; the
number is cleared once sent.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall.storage.tables import Id, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hall_id", sa.String(64), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("phone_masked", sa.String(24), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("hall_id", "key", name="uq_sms_outbox_key"),
    )
    op.create_index("ix_sms_outbox_pending", "sms_outbox", ["hall_id", "sent_at", "next_at"])


def downgrade() -> None:
    op.drop_table("sms_outbox")
