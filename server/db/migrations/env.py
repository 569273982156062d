"""Alembic environment: migrations run on the connection the server hands over."""

from alembic import context
from sqlalchemy import create_engine

from server.db.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` on the command line: SPACEHUB_DATABASE_URL
    from server.settings import Settings

    engine = create_engine(Settings().database_url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
