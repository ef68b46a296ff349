"""Persistence: SQLAlchemy Core schema and the repository the service layer talks to."""
from kiln.store.repository import Row, Store, Tx

__all__ = ["Row", "Store", "Tx"]
