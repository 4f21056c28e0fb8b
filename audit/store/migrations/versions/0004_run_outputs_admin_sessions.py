"""where each run wrote its outputs; server-side admin sessions

Revision ID: 0004_run_outputs_admin_sessions
Revises: 0003_admin_log
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_run_outputs_admin_sessions"
down_revision = "0003_admin_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("output_dir", sa.String(length=1000), nullable=True))
    op.create_table(
        "admin_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("admin_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_session_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admin_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_session_expires_at"))
    op.drop_table("admin_session")
    with op.batch_alter_table("audit_run", schema=None) as batch_op:
        batch_op.drop_column("output_dir")
