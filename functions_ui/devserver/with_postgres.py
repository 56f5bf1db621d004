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
    fast = True
    if "--" not in args:
        print(USAGE, file=sys.stderr)
        return 2
    options, command = args[: args.index("--")], args[args.index("--") + 1 :]
    if options == ["--slow"]:
        fast = False
    elif options or not command:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        server = PostgresServer(fast=fast).start()
    except PostgresUnavailable as error:
        print(f"with_postgres: {error}", file=sys.stderr)
        return 1
    try:
        print(f"with_postgres: PostgreSQL on 127.0.0.1:{server.port}", file=sys.stderr)
        child = subprocess.Popen(command, env={**os.environ, "DATABASE_URL": server.url})
        # Python's default SIGTERM ends us without `finally`, leaving the cluster running.
        signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                # The terminal sent Ctrl-C to the child too: let it finish its own teardown
                # (pytest removes its test database) before the cluster goes.
                child.send_signal(signal.SIGINT)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
