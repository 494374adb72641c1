"""the database dates memos too

Revision ID: 82d900cf9be5
Revises: 52b8db63b84a
Create Date: 2026-12-02 15:04:34.229754

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '82d900cf9be5'
down_revision = '52b8db63b84a'
branch_labels = None
depends_on = None


def upgrade():
    # Written by hand: rows inserted with SQL (an import script, another service) get
    # their creation time from the database. The model's Python default covers the
    # app's own rows; create_all() would not make this one.
    with op.batch_alter_table("memo") as batch_op:
        batch_op.alter_column(
            "created",
            server_default=sa.text("CURRENT_TIMESTAMP"),
            existing_type=sa.DateTime(),
            existing_nullable=False,
        )


def downgrade():
    with op.batch_alter_table("memo") as batch_op:
        # Without existing_nullable, MySQL would make the column nullable (the round
        # trip check found it).
        batch_op.alter_column(
            "created", server_default=None, existing_type=sa.DateTime(), existing_nullable=False
        )
