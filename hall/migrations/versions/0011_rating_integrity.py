"""Rating integrity (好差评): the staff account that served, on each rating given on a
counter's pad; and the second-channel checks of a visit already rated (the citizen's phone
page asks again after the pad), kept apart from the ratings so 一次一评 and the figures
stay as they are.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall.storage.tables import Id, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("staff", sa.String(64)))
    op.create_table(
        "rating_checks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hall_id", sa.String(64), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("evaluation_id", Id, nullable=False),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("hall_id", "evaluation_id", "channel", name="uq_rating_checks"),
    )


def downgrade() -> None:
    op.drop_table("rating_checks")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("staff")
