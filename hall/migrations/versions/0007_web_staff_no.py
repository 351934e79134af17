"""web accounts: the staff member's 工号 (staff number), shown on the evaluation pad beside
the name, as the 好差评 rules ask (the citizen rates a person they can name). Optional:
accounts made before have none, and the pad then shows the name only.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_accounts") as batch:
        batch.add_column(sa.Column("staff_no", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("web_accounts") as batch:
        batch.drop_column("staff_no")
