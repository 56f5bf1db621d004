"""Start a throwaway PostgreSQL cluster on loopback, for the test suite and the benchmark.

The suite runs its pipeline, fault and concurrency tests on PostgreSQL as well as on SQLite,
and nothing on these machines runs a PostgreSQL server by itself, so the project starts one
from Debian's packages: a fresh cluster in a temporary directory, deleted when it stops.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from functions_ui.devserver.redis_server import free_port

INSTALL_HINT = (
    "Install PostgreSQL's server (Debian: `apt-get install postgresql`), "
    "or point DATABASE_URL at a running PostgreSQL."
)
# initdb and postgres refuse to run as root; as root the cluster belongs to one of these.
SERVICE_USERS = ("postgres", "nobody")
SUPERUSER = "functions_ui"


class PostgresUnavailable(RuntimeError):
    pass


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path))


def find_postgres_bindir() -> Path:
    """The directory holding initdb and postgres: pg_config's answer, else Debian's newest."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        # Debian's pg_config belongs to libpq-dev and may name a version whose server is absent.
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        bindir = Path(candidate)
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise PostgresUnavailable(
        f"No PostgreSQL server binaries (initdb, postgres) found. {INSTALL_HINT}"
    )


def _service_user() -> pwd.struct_passwd | None:
    """Whom the server runs as: None for the current user, a system user when we are root."""
    if os.geteuid() != 0:
        return None
    for name in SERVICE_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable(
        "Running as root, and PostgreSQL refuses root: no `postgres` system user to run it as. "
        + INSTALL_HINT
    )


class PostgresServer:
    """A postgres child process on 127.0.0.1 with its own cluster in a temporary directory.

    fast=True trades durability for speed (fsync, synchronous commit and full-page writes
    off), which suits tests; the benchmark keeps PostgreSQL's defaults to measure honestly.
    """

    def __init__(
        self,
        database: str = "functions_ui",
        *,
        fast: bool = True,
        port: int | None = None,
        max_connections: int = 200,
    ) -> None:
        self.database = database
        self.fast = fast
        self.port = port or free_port()
        self.max_connections = max_connections
        self.password = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self._user = _service_user()
        self._dir = Path(tempfile.mkdtemp(prefix="functions-ui-postgres-"))
        if self._user is not None:
            os.chown(self._dir, self._user.pw_uid, self._user.pw_gid)
        self.data_dir = self._dir / "data"
        self.socket_dir = self._dir
        self.log_path = self._dir / "postgres.log"

    @property
    def url(self) -> str:
        """A DATABASE_URL for the settings (dj-database-url)."""
        return (
            f"postgres://{SUPERUSER}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{quote(self.database, safe='')}"
        )

    def _as_service_user(self) -> dict[str, Any]:
        """Popen arguments that run a child as the cluster's owner (nothing when not root)."""
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _initdb(self, bindir: Path) -> None:
        pwfile = self._dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._user is not None:
            os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
        result = subprocess.run(
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                # The socket sits in a directory only the cluster's owner can enter; TCP is
                # loopback only and asks for the password.
                "--auth-local",
                "trust",
                "--auth-host",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            cwd=self._dir,
            capture_output=True,
            text=True,
            check=False,
            **self._as_service_user(),
        )
        pwfile.unlink()
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {(result.stderr or result.stdout).strip()}")

    def _server_argv(self, bindir: Path) -> list[str]:
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": str(self.max_connections),
            "logging_collector": "off",
        }
        if self.fast:
            options |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        argv = [str(bindir / "postgres"), "-D", str(self.data_dir)]
        for name, value in options.items():
            argv += ["-c", f"{name}={value}"]
        return argv

    def _connect(self, dbname: str, timeout: float) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname=dbname,
            connect_timeout=max(1, int(timeout)),
            autocommit=True,
        )

    def start(self, ready_timeout: float = 30.0) -> PostgresServer:
        try:
            return self._start(ready_timeout)
        except BaseException:
            # Nobody else can stop a server whose start failed (or was interrupted).
            self.stop()
            raise

    def _start(self, ready_timeout: float) -> PostgresServer:
        bindir = find_postgres_bindir()
        self._initdb(bindir)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it until stop()
        try:
            self.process = subprocess.Popen(
                self._server_argv(bindir),
                cwd=self._dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Ctrl-C in a terminal goes to the whole process group; the owner stops the
                # server itself, after whatever runs against it has finished.
                start_new_session=True,
                **self._as_service_user(),
            )
        finally:
            log.close()
        deadline = time.monotonic() + ready_timeout
        while True:
            if self.process.poll() is not None:
                output = self.log_path.read_text(errors="replace").strip()
                raise PostgresUnavailable(f"postgres exited at start: {output[-2000:]}")
            try:
                with self._connect("postgres", timeout=1) as conn:
                    conn.execute(f'CREATE DATABASE "{self.database}"')
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable(
                        f"postgres did not answer on port {self.port} within {ready_timeout} s."
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGINT is PostgreSQL's fast shutdown: open sessions are ended, not waited for.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
