from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from shopmesh_kit.migrations import alembic_config, upgrade
from shopmesh_product.app import MIGRATIONS
from shopmesh_product.db.models import Base
from sqlalchemy import create_engine, make_url


def _sync_url(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite")
    return url.render_as_string(hide_password=False)


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    upgrade(database_url, MIGRATIONS)
    engine = create_engine(_sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    upgrade(database_url, MIGRATIONS)
    command.downgrade(alembic_config(database_url, MIGRATIONS), "base")
    upgrade(database_url, MIGRATIONS)
