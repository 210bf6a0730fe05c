"""The console's script and style, and plotly.js served from the installed plotly package.

Nothing third-party is copied into the repository or fetched from the internet: the
browser gets plotly.min.js as pip installed it (plotly/package_data), read once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import falcon

#: file name -> (package holding it, path inside it, content type)
FILES = {
    "plotly.min.js": ("plotly", "package_data/plotly.min.js", "text/javascript"),
    "console.js": ("api.console", "static/console.js", "text/javascript"),
    "console.css": ("api.console", "static/console.css", "text/css"),
}


class StaticFiles:
    """/ui/static/{file}: the few files the pages load (no login: nothing secret in them)."""

    in_openapi = False

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}

    def on_get(self, req: falcon.Request, resp: falcon.Response, file: str) -> None:
        """Serve one of FILES; 404 for anything else."""
        entry = FILES.get(file)
        if entry is None:
            raise falcon.HTTPNotFound(description=f"no static file {file!r}")
        package, path, kind = entry
        if file not in self._cache:
            self._cache[file] = (package_dir(package) / path).read_bytes()
        resp.data = self._cache[file]
        resp.content_type = kind
        resp.set_header("Cache-Control", "max-age=3600")


def package_dir(package: str) -> Path:
    """Where an installed package lives, found without importing it (plotly is big)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise falcon.HTTPNotFound(description=f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))
