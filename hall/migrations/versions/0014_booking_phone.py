"""A booking keeps its mobile number while it is open, for the hall's SMS when its day is
closed (issue 21); cleared when the booking ends.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("phone", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("phone")
