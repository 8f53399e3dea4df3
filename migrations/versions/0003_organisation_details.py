"""organisation details for documents: full name, address, logo, signer and outgoing-number prefix

Revision ID: 0003_organisation_details
Revises: 0002_catalog_snapshots
Create Date: 2026-12-06 01:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003_organisation_details'
down_revision: Union[str, Sequence[str], None] = '0002_catalog_snapshots'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('signer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('signer_position', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('outgoing_prefix', sa.String(length=40), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('outgoing_prefix')
        batch_op.drop_column('signer_position')
        batch_op.drop_column('signer_name')
        batch_op.drop_column('logo')
        batch_op.drop_column('address')
        batch_op.drop_column('legal_name')
