"""``abm viz``: start the workshop app (abm/app/page.py) in a local Solara server.

It listens on 127.0.0.1 unless ``--host`` says otherwise (to share the app on a venue's
network, with a warning), opens the browser unless ``--no-browser``, and switches Solara's
usage reports off. Everything the page loads is served by the app itself from Solara's
asset cache, filled at install time (DEVELOPERS.md), so it works with no internet.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from abm.app import ENV_PLACE, ENV_SAVE_DIR, ENV_SCENARIO
from abm.files.errors import InputError

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8765


def add_parser(subparsers) -> None:
    """Add ``abm viz`` to the ``abm`` command line."""
    viz = subparsers.add_parser("viz", help="open the workshop app in a browser (offline)")
    viz.add_argument("scenario", nargs="?", default="baseline",
                     help="scenario to start from: a name or file (default: baseline)")
    viz.add_argument("--place", help="place to start in (default: the scenario's place)")
    viz.add_argument("--port", type=int, default=DEFAULT_PORT,
                     help=f"port to listen on (default {DEFAULT_PORT})")
    viz.add_argument("--host", default=LOOPBACK,
                     help="address to listen on (default 127.0.0.1: this computer only; "
                          "0.0.0.0 shares it on the venue's network)")
    viz.add_argument("--save-dir", default="workshop_scenarios",
                     help="folder where 'Save this scenario' writes (default "
                          "workshop_scenarios)")
    viz.add_argument("--no-browser", action="store_true", help="do not open a browser")
    viz.set_defaults(handler=_viz)


def server_command(args: argparse.Namespace) -> list[str]:
    """The ``solara run`` command line for these arguments."""
    app = Path(__file__).resolve().parents[1] / "app" / "page.py"
    return [sys.executable, "-m", "solara", "run", str(app), "--host", args.host,
            "--port", str(args.port), "--production",
            "--no-open" if args.no_browser else "--open"]


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    """The server's environment: what to start with, where to save, no usage reports."""
    return {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
            ENV_SCENARIO: str(args.scenario), ENV_PLACE: args.place or "",
            ENV_SAVE_DIR: str(Path(args.save_dir).resolve())}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this computer."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _viz(args: argparse.Namespace) -> int:
    from abm.app.run import Settings
    from abm.model.scenarios import load_scenario

    scenario = load_scenario(args.scenario)  # bad input fails here, before the server starts
    Settings.make(args.place or scenario.place, scenario.rules, scenario.parameters)
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port = {args.port}: allowed is a whole number from 1 to 65535")
    if not is_loopback(args.host):
        print(f"abm viz: warning: listening on {args.host}: anyone who can reach this computer "
              "on the network can open the app and save scenarios. Use it only on a network "
              "you trust, and stop it (Ctrl-C) after the workshop.", file=sys.stderr)
    print(f"abm viz: starting the workshop app at http://{args.host}:{args.port} "
          "(Ctrl-C to stop)", file=sys.stderr)
    sys.stderr.flush()
    command = server_command(args)
    os.execve(command[0], command, server_environment(args))  # the server takes this process
    return 0  # not reached
