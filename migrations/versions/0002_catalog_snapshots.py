"""catalog snapshots: the catalog versions stored checks used, and which catalog a replay ran under

Revision ID: 0002_catalog_snapshots
Revises: 0001
Create Date: 2026-12-05 19:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002_catalog_snapshots'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('catalog_snapshots',
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('regime', sa.String(length=40), nullable=False),
    sa.Column('catalog_version', sa.String(length=200), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('content_hash')
    )
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replay_catalog', sa.String(length=10), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.drop_column('replay_catalog')

    op.drop_table('catalog_snapshots')
