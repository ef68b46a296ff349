"""A throwaway PostgreSQL database for tests: KILN_TEST_POSTGRES_URL, else
postgresql://postgres@127.0.0.1:5432 (CI's server); skipped when none answers."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

SERVER = os.environ.get("KILN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_connection():
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[postgres]')")
    try:
        return psycopg.connect(SERVER, autocommit=True, connect_timeout=3)
    except Exception as e:  # noqa: BLE001 - any failure to connect means "no PostgreSQL here"
        pytest.skip(f"no PostgreSQL at {SERVER}: {str(e).strip().splitlines()[0]}")


def available() -> bool:
    try:
        import psycopg

        psycopg.connect(SERVER, connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001
        return False


@contextmanager
def postgres_database():
    """Create a fresh database, yield its URL, drop it afterwards."""
    admin = _admin_connection()
    name = f"kiln_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = SERVER.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
