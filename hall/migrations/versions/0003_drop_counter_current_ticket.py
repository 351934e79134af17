"""drop counters.current_ticket_id

Nothing read it: a counter's current ticket is the ticket called or being served at that
counter, derived from the tickets table, so the column was write-only state that could
drift from the truth.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.drop_column("current_ticket_id")


def downgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.add_column(
            sa.Column(
                "current_ticket_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
