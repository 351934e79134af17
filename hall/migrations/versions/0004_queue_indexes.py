"""queue indexes: call-next, people ahead and service times without scanning a queue

Issue 2's load (a queue growing by hundreds a minute) showed call-next sorting every
waiting ticket of a counter's services, people-ahead reading each queued row, and the wait
estimate reading all of today's tickets: each cost grew with the queue. These indexes make
the first a few seeks, the second an index-only count, the third a short range.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.create_index(
        "ix_tickets_waiting",
        "tickets",
        ["hall_id", "status", "service", "pinned_counter", "klass", "queue_time"],
    )
    pinned = sa.text("pinned_counter IS NOT NULL")
    op.create_index(
        "ix_tickets_pinned",
        "tickets",
        ["hall_id", "pinned_counter", "status", "queue_time"],
        sqlite_where=pinned,
        postgresql_where=pinned,
    )
    finished = sa.text("finished_at IS NOT NULL")
    op.create_index(
        "ix_tickets_finished",
        "tickets",
        ["hall_id", "service", "day", "finished_at"],
        sqlite_where=finished,
        postgresql_where=finished,
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_finished", table_name="tickets")
    op.drop_index("ix_tickets_pinned", table_name="tickets")
    op.drop_index("ix_tickets_waiting", table_name="tickets")
    op.create_index("ix_tickets_queue", "tickets", ["hall_id", "status", "service", "queue_time"])
