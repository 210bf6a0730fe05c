"""The WSGI entry point for gunicorn: `gunicorn -c configs/gunicorn.conf.py api.wsgi:app`.

Importing this module reads the config (ENODO_API_CONFIG, ENODO_API_<KEY>) but
opens no socket: each gunicorn worker creates its own REQ socket on its first
request, after the fork.
"""

from __future__ import annotations

from api.app import create_app
from api.config import (
    bearer_from_config,
    history_from_config,
    hub_client_from_config,
    load_api_config,
    read_bearer_from_config,
)

config = load_api_config()
hub = hub_client_from_config(config)
app = create_app(
    hub, bearer=bearer_from_config(config), read_bearer=read_bearer_from_config(config),
    body_timeout=config.get("api", "body_timeout"), history=history_from_config(config),
)
