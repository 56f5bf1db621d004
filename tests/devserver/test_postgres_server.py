"""The throwaway PostgreSQL cluster `make test` runs the pipeline tests on."""

import subprocess
import sys

import psycopg
import pytest

from functions_ui.devserver import postgres_server
from functions_ui.devserver.postgres_server import PostgresServer, PostgresUnavailable


def test_a_cluster_starts_on_loopback_with_its_database_and_is_gone_after_stop():
    server = PostgresServer(database="shop").start()
    try:
        assert server.url.startswith("postgres://functions_ui:")
        assert server.url.endswith(f"@127.0.0.1:{server.port}/shop")
        with psycopg.connect(server.url) as conn:
            settings = conn.execute(
                "select current_database(), current_setting('fsync'),"
                " current_setting('max_connections')"
            ).fetchone()
        assert settings == ("shop", "off", "200")
    finally:
        server.stop()
    assert not server.data_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=1)


def test_missing_binaries_name_the_package_to_install(monkeypatch):
    monkeypatch.setattr(postgres_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres_server.glob, "glob", lambda pattern: [])
    with pytest.raises(PostgresUnavailable, match="apt-get install postgresql"):
        postgres_server.find_postgres_bindir()


def test_with_postgres_runs_the_command_on_the_cluster_and_returns_its_exit_code():
    script = (
        "import os, sys, psycopg; "
        "psycopg.connect(os.environ['DATABASE_URL']).execute('select 1'); sys.exit(7)"
    )
    result = subprocess.run(
        [sys.executable, "-m", "functions_ui.devserver.with_postgres", "--", sys.executable]
        + ["-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 7, result.stderr
