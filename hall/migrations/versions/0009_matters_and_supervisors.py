"""好差评 一次一评 per matter: the 办件编号 a counter registers for a ticket (entered, scanned
or generated), a rating per (ticket, matter) instead of one per ticket; and the
departments (service codes) a ``supervisor`` web account (department head) handles.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall.storage.tables import Id, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_matters",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hall_id", sa.String(64), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("matter_no", sa.String(40), nullable=False),
        sa.Column("service", sa.String(8), nullable=False),
        sa.Column("counter_id", sa.String(16)),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("hall_id", "matter_no", name="uq_ticket_matters_no"),
    )
    op.create_index("ix_ticket_matters_ticket", "ticket_matters", ["hall_id", "ticket_id"])
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_constraint("uq_evaluations_ticket", type_="unique")
        batch.create_unique_constraint(
            "uq_evaluations_matter", ["hall_id", "ticket_id", "matter_no"]
        )
    with op.batch_alter_table("web_accounts") as batch:
        batch.add_column(sa.Column("departments", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("web_accounts") as batch:
        batch.drop_column("departments")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_constraint("uq_evaluations_matter", type_="unique")
        batch.create_unique_constraint("uq_evaluations_ticket", ["hall_id", "ticket_id"])
    op.drop_index("ix_ticket_matters_ticket", table_name="ticket_matters")
    op.drop_table("ticket_matters")
