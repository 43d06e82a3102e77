"""`make app` serves on 127.0.0.1 unless HOST says otherwise; `streamlit run app.py` alone too."""

from __future__ import annotations

import re
import subprocess
import tomllib

from tests.app.conftest import ROOT


def _app_command(*variables: str) -> str:
    printed = subprocess.run(["make", "-n", "app", *variables], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    return next(line for line in printed.splitlines() if "streamlit run app.py" in line)


def test_make_app_listens_on_localhost_by_default():
    assert re.search(r"--server\.address 127\.0\.0\.1\b", _app_command())


def test_host_opens_it_to_the_network():
    command = _app_command("HOST=0.0.0.0", "PORT=8601")
    assert "--server.address 0.0.0.0" in command and "--server.port 8601" in command


def test_the_apps_settings_listen_on_localhost():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["server"]["address"] == "127.0.0.1"
