"""gunicorn settings for production, read by gunicorn as a config module.

From a checkout: `gunicorn -c gunicorn.conf.py wsgi:app` (gunicorn.conf.py imports this);
from an installed wheel: `python -m myapi` or `myapi`. Every value can be changed from the
environment (GUNICORN_*); the defaults suit a small host behind a reverse proxy that
terminates TLS. This module is read by gunicorn's master process, which checks the app's
configuration here but imports nothing that loads prometheus_client (see
`_share_metrics_between_workers`).
"""

import os
import shutil
import sys
import tempfile
from typing import Any

from myapi.config import (  # read as the app reads them, .env included
    ConfigError,
    env_boolean,
    env_integer,
    read_env_file,
    refuse_unsafe,
    select_config,
)


def _refuse_to_start_on_a_bad_configuration() -> None:
    """Check the app's configuration here, in the master, before any worker starts: a
    refusal is then one line on stderr and exit status 1. Found by a worker instead, it
    would be a traceback per worker, and gunicorn would keep replacing them."""
    try:
        read_env_file()
        refuse_unsafe(select_config())
        _server_settings()
    except ConfigError as error:
        sys.exit(f"myapi: {error}")


def _server_settings() -> dict[str, int]:
    """The numeric GUNICORN_* settings (each a ConfigError when not a whole number)."""
    threads = env_integer("GUNICORN_THREADS", 4)
    return {
        # Password hashing is CPU-bound, so processes (not threads) carry the load: one
        # worker per core plus one, and a few threads each so slow clients don't idle a core.
        "workers": env_integer("GUNICORN_WORKERS", (os.cpu_count() or 1) + 1),
        "threads": threads,
        "timeout": env_integer("GUNICORN_TIMEOUT", 30),
        "graceful_timeout": env_integer("GUNICORN_GRACEFUL_TIMEOUT", 30),
        # Recycle workers now and then, at staggered times, to bound any slow leak.
        "max_requests": env_integer("GUNICORN_MAX_REQUESTS", 10000),
        "max_requests_jitter": env_integer("GUNICORN_MAX_REQUESTS_JITTER", 1000),
    }


_refuse_to_start_on_a_bad_configuration()
_settings = _server_settings()

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _settings["workers"]
threads = _settings["threads"]
# gunicorn's gthread and sync workers, answering the requests gunicorn refuses itself (414,
# 431, 400) as problem+json like every other error (myapi/adapters/gunicorn.py).
worker_class = (
    "myapi.adapters.gunicorn.ThreadProblemWorker"
    if threads > 1
    else "myapi.adapters.gunicorn.SyncProblemWorker"
)
timeout = _settings["timeout"]
graceful_timeout = _settings["graceful_timeout"]
keepalive = 5
max_requests = _settings["max_requests"]
max_requests_jitter = _settings["max_requests_jitter"]

# Small request lines and headers: a 64 KB Authorization header is refused here (431), a
# request line over 4094 bytes too (414).
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# The app writes one JSON line per request; gunicorn's access log would duplicate it
# and, unlike the app's, would include query strings.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Trust no forwarded headers at the gunicorn layer: X-Forwarded-* are honoured only by
# the app's ProxyFix, for exactly TRUSTED_PROXIES hops.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# No runtime control socket: nothing should reconfigure a production server from a
# shared path, and several servers on one host would contend for it.
control_socket_disable = True


# --- Prometheus metrics (myapi/metrics.py) ---------------------------------------------------
# Each worker is a process with its own counters, so without help a scrape would see one
# random worker's share. In prometheus_client's multiprocess mode every worker writes its
# samples to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds up all the files.
#
# The directory must be empty when the server starts, or counts from an earlier run would
# be added again: point PROMETHEUS_MULTIPROC_DIR at a directory emptied on every start (such
# as systemd's RuntimeDirectory=), or leave it unset and, when metrics are on, a new private
# one is made here on each start (under systemd's PrivateTmp it is removed when the service
# stops). It is set here, in the master, before any worker starts or imports
# prometheus_client (which chooses its storage when imported), so every worker inherits it.


_MADE_HERE = "MYAPI_METRICS_DIR_MADE_BY_GUNICORN"


def _share_metrics_between_workers() -> None:
    """With metrics on and no directory chosen, make a private one for this run."""
    if env_boolean("METRICS_ENABLED", False) and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made = tempfile.mkdtemp(prefix="myapi-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_MADE_HERE] = made


_share_metrics_between_workers()


def on_exit(server: Any) -> None:  # gunicorn hook: (Arbiter)
    """The server stops: remove the metrics directory it made (one it was given stays)."""
    made = os.environ.get(_MADE_HERE)
    if made:
        shutil.rmtree(made, ignore_errors=True)


def child_exit(server, worker) -> None:  # gunicorn hook: (Arbiter, Worker)
    """A worker has exited: drop its live-gauge files (its counters stay in the sum)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
