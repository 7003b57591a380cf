"""Orders and their lines.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=True),
        sa.Column("reject_reason", sa.String(64), nullable=False),
        sa.Column("release_pending", sa.Boolean(), nullable=False),
        sa.Column("reservation_committed", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'REJECTED')",
            name=op.f("ck_orders_state"),
        ),
        sa.CheckConstraint("total_cents IS NULL OR total_cents >= 0", name=op.f("ck_orders_total")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("user_id", "request_id", name=op.f("uq_orders_user_request")),
    )
    op.create_index("ix_orders_user_id_create_time", "orders", ["user_id", "create_time"])
    op.create_index("ix_orders_state_create_time", "orders", ["state", "create_time"])
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(63), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 100", name=op.f("ck_order_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_lines")),
    )


def downgrade() -> None:
    op.drop_table("order_lines")
    op.drop_index("ix_orders_state_create_time", table_name="orders")
    op.drop_index("ix_orders_user_id_create_time", table_name="orders")
    op.drop_table("orders")
