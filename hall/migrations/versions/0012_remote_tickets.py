"""远程取号 (issue 21): a ticket taken from the phone is marked remote and waits to be
confirmed on arrival (kiosk or counter) before ``confirm_by``; it is not called before.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall.storage.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("remote", sa.Integer()))
        batch.add_column(sa.Column("confirm_by", UTCDateTime(timezone=True)))
        batch.add_column(sa.Column("confirmed_at", UTCDateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for column in ("confirmed_at", "confirm_by", "remote"):
            batch.drop_column(column)
