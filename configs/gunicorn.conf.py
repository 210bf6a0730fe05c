"""gunicorn settings for the Enodo REST API: `gunicorn -c configs/gunicorn.conf.py api.wsgi:app`.

Environment overrides: ENODO_API_BIND (default 127.0.0.1:8000), ENODO_API_WORKERS
(default 2), ENODO_API_WORKER_CLASS (default sync), ENODO_API_WORKER_TIMEOUT (seconds,
default 30; keep it above the hub timeout, api.timeout), ENODO_API_LOG_LEVEL (default
info), ENODO_API_ACCESS_LOG (a path, `-` for stderr (default) or `off`). The API's own
options (hub address, timeout, signing key) are in configs/api.conf.
"""

import os

from gunicorn.arbiter import Arbiter

from api.server_edges import REQUEST_LINE_LIMIT, install_json_errors

bind = os.environ.get("ENODO_API_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("ENODO_API_WORKERS", "2"))
worker_class = os.environ.get("ENODO_API_WORKER_CLASS", "sync")
# A request waits at most api.timeout (5 s) for the hub; a worker silent this long is stuck.
timeout = int(os.environ.get("ENODO_API_WORKER_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 5  # used by threaded/async workers; sync workers close after each response
# Sockets must be created after the fork: never preload the app into the master.
preload_app = False
loglevel = os.environ.get("ENODO_API_LOG_LEVEL", "info")
_access = os.environ.get("ENODO_API_ACCESS_LOG", "-")
accesslog = None if _access.lower() in ("", "off") else _access
# Names in URLs may be long (see api/server_edges.py): POST /series refuses a name whose
# URL would not fit this, so every name added can be read and deleted again.
limit_request_line = REQUEST_LINE_LIMIT
# gunicorn's own errors (request line too long, bad headers) in the API's JSON shape;
# patched here, in the master, so every forked worker has it whatever its class.
install_json_errors()
errorlog = "-"
proc_name = "enodo-api"


def on_starting(server: Arbiter) -> None:
    """Check the API's config once in the master, so a bad key stops the start with its name."""
    from actors.common.auth import warn_exposed_secrets
    from actors.common.config import ConfigError
    from api.config import hub_client_from_config, load_api_config

    try:
        config = load_api_config()
        hub_client_from_config(config)  # CURVE key files are read here
    except ConfigError as exc:
        server.log.error("enodo-api: config error: %s", exc)
        raise SystemExit(2) from None
    warn_exposed_secrets(config, lambda text: server.log.warning("enodo-api: %s", text))
