"""The data layers behind the routes; ``store_class`` picks one by Settings.store."""

from __future__ import annotations

from ..settings import Settings
from .base import Store


def store_class(settings: Settings) -> type:
    """The Store implementation the settings select (a class with ``await open(settings)`` and
    ``translators``).  Each store's module is imported only when chosen, so the app runs without
    mnemo installed on PostgreSQL and without SQLAlchemy on mnemo."""
    if settings.store == "postgres":
        from .pg_store import PostgresStore
        return PostgresStore
    from .mnemo_store import MnemoStore
    return MnemoStore


__all__ = ["Store", "store_class"]
