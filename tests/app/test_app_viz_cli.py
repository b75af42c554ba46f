"""`abm viz`: bad input exits 2 before any server starts; the server command it runs."""

from __future__ import annotations

import pytest

from abm.cli import main
from abm.cli import viz as viz_cli


@pytest.fixture
def started(monkeypatch):
    """Record the command `abm viz` would hand its process to, instead of starting it."""
    calls = []
    monkeypatch.setattr(viz_cli.os, "execve", lambda path, args, env: calls.append((args, env)))
    return calls


@pytest.mark.parametrize(("args", "fragment"), [
    (["viz", "no_such_scenario"], "unknown scenario 'no_such_scenario'"),
    (["viz", "--place", "atlantis"], "unknown place 'atlantis'"),
    (["viz", "--port", "70000"], "--port = 70000: allowed is a whole number from 1 to 65535"),
])
def test_bad_input_exits_2_and_starts_nothing(args, fragment, started, capsys):
    assert main(args) == 2
    assert fragment in capsys.readouterr().err
    assert started == []


def test_local_by_default_offline_and_quiet(started, capsys, tmp_path):
    assert main(["viz", "embed", "--place", "bradford", "--no-browser",
                 "--save-dir", str(tmp_path)]) == 0
    (args, env), = started
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert "--production" in args and "--no-open" in args
    assert args[args.index("run") + 1].endswith("abm/app/page.py")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env[viz_cli.ENV_SCENARIO] == "embed" and env[viz_cli.ENV_PLACE] == "bradford"
    assert env[viz_cli.ENV_SAVE_DIR] == str(tmp_path)
    assert "warning" not in capsys.readouterr().err


def test_sharing_on_a_network_warns(started, capsys):
    assert main(["viz", "--host", "0.0.0.0"]) == 0
    (args, _), = started
    assert "--open" in args
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().err


@pytest.mark.parametrize(("host", "local"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
    ("192.168.1.20", False), ("workshop-laptop", False)])
def test_loopback_hosts(host, local):
    assert viz_cli.is_loopback(host) is local
