"""audit lock table (one audit at a time per portal)

Revision ID: 0002_audit_lock
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_audit_lock"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_lock",
        sa.Column("portal_url", sa.String(length=500), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("portal_url"),
    )


def downgrade() -> None:
    op.drop_table("audit_lock")
