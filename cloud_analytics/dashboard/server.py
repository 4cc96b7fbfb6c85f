"""How ``cloud-analytics dashboard`` runs the Streamlit app: on loopback, headless, usage
statistics off (Streamlit sends them by default), no file watcher."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
            "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer",
            "--theme.base", "light"]


def serve(host: str, port: int) -> None:
    """Replace this process with the Streamlit server (Ctrl-C stops it)."""
    print(f"Dashboard on http://{host}:{port}/ (platform) and http://{host}:{port}/org?org=<org_id>", flush=True)
    argv = command(host, port)
    os.execv(argv[0], argv)
