"""`make run`: start the whole stack under supervisord in the foreground (Ctrl-C stops it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Prepare .enodo/ and exec supervisord with configs/supervisord.conf."""
    for sub in ("logs", "hub"):
        (ROOT / ".enodo" / sub).mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, ENODO_ROOT=str(ROOT), ENODO_BIN=str(bin_dir))
    env.setdefault("ENODO_HUB_DATA_DIR", str(ROOT / ".enodo" / "hub"))
    env.setdefault("ENODO_WORKER_STATE_DIR", str(ROOT / ".enodo" / "worker"))
    # The API (and the demo) read configs/api.conf: the hub token and the REST bearer
    # token both come from the file the hub generates in its data_dir.
    env.setdefault("ENODO_API_CONFIG", str(ROOT / "configs" / "api.conf"))
    token_file = str(Path(env["ENODO_HUB_DATA_DIR"]) / "token")
    for var in ("LISTENER_TOKEN_FILE", "WORKER_TOKEN_FILE", "API_TOKEN_FILE",
                "API_BEARER_TOKEN_FILE", "CLIENT_TOKEN_FILE"):
        env.setdefault(f"ENODO_{var}", token_file)
    print(f"Starting Enodo (logs in {ROOT / '.enodo' / 'logs'}); Ctrl-C stops everything.",
          flush=True)
    supervisord = str(bin_dir / "supervisord")
    os.chdir(ROOT)
    os.execve(supervisord, [supervisord, "-n", "-c", str(ROOT / "configs" / "supervisord.conf")],
              env)
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main())
