"""Run a command against a throwaway PostgreSQL cluster.

    python -m functions_ui.devserver.with_postgres [--slow] -- CMD ARGS...

CMD runs with DATABASE_URL pointing at the new cluster (the rest of the environment is
inherited); its exit code is ours, and the cluster is stopped and deleted however CMD ends.
--slow keeps PostgreSQL's durability settings (for honest benchmarks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from functions_ui.devserver.postgres_server import PostgresServer, PostgresUnavailable

USAGE = "usage: python -m functions_ui.devserver.with_postgres [--slow] -- CMD [ARGS...]"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args:
        sys.stderr.write(USAGE + "\n")
        return 2
    options, command = args[: args.index("--")], args[args.index("--") + 1 :]
    if not command or options not in ([], ["--slow"]):
        sys.stderr.write(USAGE + "\n")
        return 2
    fast = options != ["--slow"]
    # Python's default SIGTERM ends us without `finally`, leaving the cluster running (it has
    # a session of its own): until the command runs, a SIGTERM unwinds like an exception.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server = PostgresServer(fast=fast)
    try:
        try:
            server.start()
        except PostgresUnavailable as error:
            sys.stderr.write(f"with_postgres: {error}\n")
            return 1
        sys.stderr.write(f"with_postgres: PostgreSQL on 127.0.0.1:{server.port}\n")
        sys.stderr.flush()
        child = subprocess.Popen(command, env={**os.environ, "DATABASE_URL": server.url})
        # From now on the command decides when to end, after its own teardown.
        signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
        while True:
            try:
                code = child.wait()
                # A child ended by a signal reports as a shell would (128 + the signal).
                return 128 - code if code < 0 else code
            except KeyboardInterrupt:
                # The terminal sent Ctrl-C to the child too: let it finish its own teardown
                # (pytest drops its test database) before the cluster goes.
                continue
    finally:
        server.stop()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
