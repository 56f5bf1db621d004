"""The production web server's settings: `gunicorn -c python:functions_ui.gunicorn_conf ...`.

One process per core, each with a few threads (gunicorn's `gthread` worker). Measured on the
2-core bench machine (`make bench`): four sync processes spent 1.5-1.7 ms of CPU per webhook and
took about 700 webhooks/s; two processes of four threads spend 0.9 ms and take about 1,100/s.
Every sync process wakes for every new connection and only one takes it, so processes beyond
the cores add wake-ups, context switches and contention in PostgreSQL, not capacity; threads
keep a slow page (a replay, a compare) from holding a whole process while webhooks wait.

WEB_WORKERS and WEB_THREADS override the counts; BIND (or gunicorn's own --bind) the address.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", os.cpu_count() or 1))
threads = int(os.environ.get("WEB_THREADS", "4"))
# A request must finish within this (the editor's runs end in 5 s; a replay of 1,000 events in
# about 2 s); a worker stuck past it is replaced.
timeout = 60
keepalive = 5
