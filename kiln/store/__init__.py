"""Persistence: SQLAlchemy Core schema and the repository the service layer talks to."""
from kiln.store.repository import Row, Store, Tx
from kiln.store.schema_version import StoreTooNew

__all__ = ["Row", "Store", "StoreTooNew", "Tx"]
