"""Counter actions record the staff member who did them (issue 22): a ticket keeps the
account (and 工号) that last acted on it at its counter, a pause the one who took it, so
the performance figures credit the person, not the accounts listing the counter; a
counter, who is at it now. A staff account records the services its holder can handle, for
the staffing plan and the live advice.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    for table in ("tickets", "pauses"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("staff_account", Id))
            batch.add_column(sa.Column("staff_no", sa.String(32)))
    with op.batch_alter_table("web_accounts") as batch:
        batch.add_column(sa.Column("services", sa.JSON()))
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("staff_account", Id))


def downgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.drop_column("staff_account")
    with op.batch_alter_table("web_accounts") as batch:
        batch.drop_column("services")
    for table in ("tickets", "pauses"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("staff_no")
            batch.drop_column("staff_account")
