"""ticket verification: how the kiosk verified the holder (face check, or 人工核验 by staff)

The face step needs separate consent (PIPL Art. 26, 28, 29) and may never be the only way:
a citizen who declines, or whose check fails, still gets a ticket, marked so the counter
checks the ID card by hand. The mark is all that is kept: no image, no score.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("verification", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("verification")
