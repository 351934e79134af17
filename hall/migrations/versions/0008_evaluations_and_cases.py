"""好差评 as halls are assessed on it: a rating's 办件编号, channel, indicators and reasons;
cases (差评, 办不成事, complaints, suggestions) with working-day deadlines and their steps;
the outbox the provincial 好差评 system is fed from.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall.storage.tables import Id, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("matter_no", sa.String(40)))
        batch.add_column(sa.Column("channel", sa.String(8)))
        batch.add_column(sa.Column("efficiency", sa.Integer()))
        batch.add_column(sa.Column("competence", sa.Integer()))
        batch.add_column(sa.Column("attitude", sa.Integer()))
        batch.add_column(sa.Column("reasons", sa.JSON()))
    op.create_table(
        "cases",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hall_id", sa.String(64), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ticket_id", Id),
        sa.Column("evaluation_id", Id),
        sa.Column("service", sa.String(8)),
        sa.Column("counter_id", sa.String(16)),
        sa.Column("contact", sa.String(64)),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_to", sa.Date()),
        sa.Column("extension_reason", sa.String(500)),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True)),
    )
    op.create_index("ix_cases_hall", "cases", ["hall_id", "status", "due_on"])
    op.create_table(
        "case_steps",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
    )
    op.create_index("ix_case_steps_case", "case_steps", ["case_id", "id"])
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hall_id", sa.String(64), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("hall_id", "key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["hall_id", "sent_at", "id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("case_steps")
    op.drop_table("cases")
    with op.batch_alter_table("evaluations") as batch:
        for column in ("reasons", "attitude", "competence", "efficiency", "channel", "matter_no"):
            batch.drop_column(column)
