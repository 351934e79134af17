"""A ticket taken through the kiosk's 我要办 carries its matters (issue 20): each
``ticket_matters`` row may name the catalogue's matter (``matter_code``, e.g. hj-01), so the
counter page shows what a 一件事一次办 bundle's citizen came for and each is rated once.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_matters") as batch:
        batch.add_column(sa.Column("matter_code", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("ticket_matters") as batch:
        batch.drop_column("matter_code")
