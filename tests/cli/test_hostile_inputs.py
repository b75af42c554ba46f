"""Hostile inputs: each is refused with exit code 2 and one line per problem on stderr (no
traceback, no control character reaching the terminal), writes nothing, and takes little time.

Most cases run in this process under a hard time limit (a SIGALRM that interrupts even a
blocking ``open``). Cases that would eat memory if the guard against them broke (alias bombs,
``/dev/zero``, a 50 MB file) run together in one child process capped at 2 GiB of address
space, so a regression fails the test instead of the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from abm.cli import main
from abm.files.yamlfile import MAX_BYTES, MAX_NODES

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "experiments" / "smoke.yaml"
#: Seconds any one hostile input may take (generous for a busy 2-core machine: the point is
#: to catch hangs and 100-second parses, not to benchmark).
LIMIT_S = 10
#: Characters that must never reach the terminal raw.
CONTROL = [chr(c) for c in (*range(0, 9), *range(11, 32), 127)]
SWEEP_HEAD = "scenarios: [baseline]\nplaces: [bradford]\nseeds: 2\nyears: 1\n"


@dataclass(frozen=True)
class Case:
    """A hostile input: ``make(folder)`` writes any files it needs and returns the argv."""

    name: str
    make: Callable[[Path], list[str]]
    fragments: tuple[str, ...]
    lines: int = 1


def write(folder: Path, name: str, content: str | bytes) -> str:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def fifo(folder: Path, name: str) -> str:
    path = folder / name
    os.mkfifo(path)
    return str(path)


def out(folder: Path) -> str:
    """The --out of a case: beside the inputs, and it must never appear."""
    return str(folder.parent / "out")


def validate(content: str | bytes, name: str = "scenario.yaml") -> Callable[[Path], list[str]]:
    return lambda f: ["validate", write(f, name, content)]


def sweep(content: str, *options: str) -> Callable[[Path], list[str]]:
    return lambda f: ["sweep", write(f, "sweep.yaml", content), "--out", out(f), *options]


def smoke(*options: str) -> Callable[[Path], list[str]]:
    return lambda f: ["sweep", str(SMOKE), "--out", out(f), *options]


def run(*options: str) -> Callable[[Path], list[str]]:
    return lambda f: ["run", "--out", out(f), *options]


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def manifest_folder(content: str | bytes) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        write(folder, "manifest.json", content)
        return ["summarise", str(folder)]
    return make


def socket_file(folder: Path) -> list[str]:
    path = folder / "s.yaml"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return ["validate", str(path)]


def symlink_loop(folder: Path) -> list[str]:
    (folder / "loop.yaml").symlink_to(folder / "loop.yaml")
    return ["validate", str(folder / "loop.yaml")]


def foreign_manifest(folder: Path) -> list[str]:
    target = folder / "results"
    target.mkdir()
    write(target, "manifest.json", json.dumps({"sweep_id": "0" * 16, "runs": [],
                                               "spec_path": "other.yaml"}))
    return ["sweep", str(SMOKE), "--out", str(target)]


def extends_fifo(folder: Path) -> list[str]:
    fifo(folder, "parent.yaml")
    return ["validate", write(folder, "child.yaml", "extends: parent.yaml\n")]


def sweep_of_fifo_scenario(folder: Path) -> list[str]:
    fifo(folder, "odd.yaml")
    return ["sweep", write(folder, "sweep.yaml", SWEEP_HEAD.replace("[baseline]",
                                                                      "[baseline, odd.yaml]")),
            "--out", out(folder)]


GRID_2_56M = SWEEP_HEAD + "grid:\n" + "".join(
    f"  {name}: [{', '.join(f'{0.001 * (i + 1):.3f}' for i in range(40))}]\n"
    for name in ("uptake_rate", "shock_rate", "dropout_rate", "provider_outreach"))
TEN_TO_THE_TEN = ("scenarios: [baseline]\nseeds: 100000\nyears: 1\nsample: {method: sobol, "
                  "n: 100000, ranges: {uptake_rate: []}}\n")


CASES = [
    # --- files that are not regular files --------------------------------------------------
    Case("fifo_scenario", lambda f: ["validate", fifo(f, "pipe.yaml")],
         ("pipe.yaml: a FIFO (named pipe), not a regular file: allowed is a regular file",)),
    Case("folder_as_scenario", lambda f: ["validate", str(f)],
         ("a folder, not a regular file",)),
    Case("dev_null_scenario", lambda f: ["validate", "/dev/null"],
         ("/dev/null: a character device, not a regular file",)),
    Case("socket_scenario", socket_file,
         ("s.yaml: cannot read the file (No such device or address)",)),
    Case("symlink_loop", symlink_loop, ("loop.yaml: cannot read the file (Too many levels",)),
    Case("fifo_place", lambda f: ["run", "--place", fifo(f, "pipe.yaml"), "--out", out(f)],
         ("pipe.yaml: a FIFO (named pipe)",)),
    Case("fifo_sweep", lambda f: ["sweep", fifo(f, "pipe.yaml"), "--out", out(f)],
         ("pipe.yaml: a FIFO (named pipe)",)),
    Case("fifo_extends", extends_fifo, ("parent.yaml: a FIFO (named pipe)",)),
    Case("fifo_scenario_in_sweep", sweep_of_fifo_scenario,
         ("scenario 'odd.yaml'", "odd.yaml: a FIFO (named pipe)")),
    Case("file_just_over_the_cap", validate("#" * MAX_BYTES + "\n"),
         (f"the file is larger than {MAX_BYTES:,} bytes",)),
    # --- text that is not YAML, or not UTF-8 -----------------------------------------------
    Case("latin1_bytes", validate(b"description: caf\xe9\n"),
         (":1: not UTF-8 text (byte 16 is 0xe9): allowed is UTF-8 text",)),
    Case("utf16_file", validate("place: london\n".encode("utf-16")),
         ("not UTF-8 text (byte 0 is 0xff)",)),
    Case("nul_byte_in_text", validate("description: a\x00b\n"),
         (":1: not valid YAML", "special characters are not allowed")),
    Case("escape_in_text", validate("place: london\x1b[2J\n"),
         (":1: not valid YAML", "special characters are not allowed")),
    Case("python_object_tag", validate("place: !!python/object/apply:os.system [ls]\n"),
         ("could not determine a constructor",)),
    Case("merge_key_with_a_number", validate("<<: 5\nplace: london\n"),
         (":1: a merge key (<<) takes a mapping or a list of mappings",)),
    Case("merge_key_twice", validate("a: &a {place: london}\n<<: *a\n<<: *a\n"),
         (":3: key '<<' appears twice (first on line 2)",)),
    Case("key_that_is_a_list", validate("? [a, b]\n: 1\n"),
         (":1: a key must be a name, not a list",)),
    Case("key_that_is_a_mapping", validate("? {a: 1}\n: 1\n"),
         (":1: a key must be a name, not a mapping",)),
    Case("integer_too_long_to_read", validate("parameters: {uptake_rate: " + "9" * 5000 + "}\n"),
         ("is not a valid int; put it in quotes if it is text",)),
    Case("integer_with_4000_digits", validate("parameters: {n_neighbourhoods: " + "9" * 4000
                                              + "}\n"),
         ("parameter 'n_neighbourhoods' = 9999", "is out of range")),
    # --- nesting and size ------------------------------------------------------------------
    Case("flow_nesting_10000", validate("parameters: " + "[" * 10_000 + "]" * 10_000 + "\n"),
         (":1: nesting is deeper than 64 levels: allowed is at most 64",)),
    Case("block_nesting_100", validate("".join("  " * i + "k:\n" for i in range(100))),
         (":64: nesting is deeper than 64 levels",)),
    Case("sequence_nesting_1000", validate("- " * 1000 + "x\n"),
         ("nesting is deeper than 64 levels",)),
    Case("too_many_values", validate("rules: [" + "scale, " * (MAX_NODES + 10) + "]\n"),
         (f"the file holds more than {MAX_NODES:,} values",)),
    Case("too_many_keys", validate("".join(f"k{i}: {i}\n" for i in range(MAX_NODES))),
         (f"the file holds more than {MAX_NODES:,} values",)),
    Case("long_key_is_shortened", validate("? " + "x" * 100_000 + "\n: 1\n"),
         ("unknown key 'xxxxxxxx", "...': allowed are description")),
    Case("long_value_is_shortened", validate("rules: {a: '" + "y" * 100_000 + "'}\n"),
         ("'rules' = {'a': 'yyyy", "allowed is a rule name")),
    Case("long_list_is_shortened", validate("description: [" + "1, " * 5000 + "]\n"),
         ("'description' = [1, 1, 1, 1, ...]: allowed is text",)),
    # --- control characters that must not reach the terminal ---------------------------------
    Case("escape_and_bell_in_a_key", validate('"\\e[31mred\\a": 1\n'),
         (r"unknown key '\x1b[31mred\x07'",)),
    Case("newline_in_a_key", validate('"two\\nlines": 1\n'), (r"unknown key 'two\nlines'",)),
    Case("bidi_override_in_a_place", validate('place: "\\u202Eevil"\n'),
         (r"unknown place '\u202eevil'",)),
    Case("escape_in_a_file_name", lambda f: ["validate", str(f / "\x1b[2Jgone\x07.yaml")],
         (r"\x1b[2Jgone\x07.yaml: file not found",)),
    Case("escape_in_a_file_name_with_a_defect",
         lambda f: ["validate", write(f, "\x1b]0;pwned\x07.yaml", "rule: scale\n")],
         (r"\x1b]0;pwned\x07.yaml:1: unknown key 'rule'",)),
    Case("nul_in_a_file_name", lambda f: ["validate", str(f / "a\x00b.yaml")],
         (r"a\x00b.yaml: file not found",)),
    Case("escape_in_a_rule", run("--rule", "scale+\x1b[2J"), (r"unknown rule '\x1b[2J'",)),
    Case("bell_in_a_place_name", run("--place", "\x07bell"), (r"unknown place '\x07bell'",)),
    Case("escape_in_a_setting", run("--set", "\x1b[31m=1"),
         (r"unknown parameter '\x1b[31m'",)),
    Case("escape_in_an_unknown_option", lambda f: ["run", "--\x1b[2J"],
         (r"unrecognized arguments: --\x1b[2J",)),
    Case("very_long_file_name", lambda f: ["validate", "n" * 5000 + ".yaml"],
         ("nnnnnnnn", " ... ", ".yaml: file not found")),
    # --- seeds and numbers -----------------------------------------------------------------
    Case("run_seed_2_to_the_70", run("--seed", str(2**70)),
         (f"--seed = {2**70}: allowed is a whole number from 0 to 2**63 - 1",)),
    Case("run_seed_5000_digits", run("--seed", "9" * 5000), ("argument --seed: invalid int",)),
    Case("run_seed_negative", run("--seed", "-3"), ("--seed = -3: allowed is a whole number",)),
    Case("run_years_nan", run("--years", "nan"), ("--years = nan: allowed is a number above 0",)),
    Case("run_years_infinite", run("--years", "inf"), ("--years = inf",)),
    Case("run_setting_nan", run("--set", "uptake_rate=nan"),
         ("parameter 'uptake_rate' = nan is out of range",)),
    Case("sweep_master_seed_2_to_the_70", sweep(SWEEP_HEAD + f"master_seed: {2**70}\n"),
         (f"'master_seed' = {2**70}: allowed is a whole number from 0 to",)),
    Case("sweep_sample_seed_2_to_the_70",
         sweep(SWEEP_HEAD + "sample: {method: sobol, n: 4, seed: " + str(2**70)
               + ", ranges: {uptake_rate: []}}\n"),
         (f"sample 'seed' = {2**70}: allowed is a whole number from 0 to 2**63 - 1",)),
    Case("sweep_years_nan", sweep(SWEEP_HEAD.replace("years: 1", "years: .nan")),
         ("'years' = nan: allowed is a number from one week",)),
    # --- sweeps too big to build -----------------------------------------------------------
    Case("grid_of_2_56_million_points", sweep(GRID_2_56M),
         ("the sweep has 5,120,000 runs (1 scenario(s) x 1 place(s) x 2,560,000 parameter "
          "point(s) x 2 seed(s)): allowed is at most 100,000",)),
    Case("ten_to_the_ten_runs", sweep(TEN_TO_THE_TEN),
         ("the sweep has 10,000,000,000 runs", "raise 'max_runs' in the file or give --max-runs")),
    Case("max_runs_zero_in_file", sweep(SWEEP_HEAD + "max_runs: 0\n"),
         ("'max_runs' = 0: allowed is a whole number from 1 to 10,000,000",)),
    Case("max_runs_zero_on_command_line", smoke("--max-runs", "0"),
         ("--max-runs = 0: allowed is a whole number from 1 to 10,000,000",)),
    Case("places_listed_1001_times", sweep(SWEEP_HEAD.replace(
        "places: [bradford]", "places: [" + ", ".join(["bradford"] * 1001) + "]")),
         ("'places' = ['bradford', 'bradford', 'bradford', 'bradford', ...]: allowed is a list "
          "of 1 to 1,000 place names",)),
    Case("grid_value_repeated_5000_times",
         sweep(SWEEP_HEAD + "grid: {uptake_rate: [" + ", ".join(["0.5"] * 5000) + "]}\n"),
         ("grid 'uptake_rate' lists 0.5 more than once",)),
    Case("compare_a_million_runs", lambda f: ["compare", "embed", "--seeds", "1000000"],
         ("--seeds = 1000000: allowed is a whole number from 1 to 100,000",)),
    Case("compare_too_many_runs",
         lambda f: ["compare", "embed", "sustain", "scale", "--seeds", "50000"],
         ("compare would make 200,000 runs: allowed is at most 100,000",)),
    # --- output folders --------------------------------------------------------------------
    Case("run_out_is_a_file", lambda f: ["run", "--out", write(f, "taken", "x")],
         ("taken: a file, not a folder",)),
    Case("run_out_under_a_file",
         lambda f: ["run", "--out", write(f, "taken", "x") + "/sub"],
         ("taken/sub: a file, not a folder", "taken is a file")),
    Case("sweep_out_is_a_file", lambda f: ["sweep", str(SMOKE), "--out", write(f, "taken", "")],
         ("taken: a file, not a folder",)),
    Case("compare_out_is_a_file",
         lambda f: ["compare", "embed", "--out", write(f, "taken", "x")],
         ("taken: a file, not a folder",)),
    Case("sweep_out_not_empty_and_no_sweep",
         lambda f: ["sweep", str(SMOKE), "--out", str(Path(write(f, "notes.txt", "x")).parent)],
         ("is not empty and holds no sweep; choose another --out",)),
    Case("sweep_out_holds_another_sweep", foreign_manifest,
         ("holds results of a different sweep (other.yaml); choose another --out",)),
    Case("resume_of_nothing", smoke("--resume"), ("--resume: nothing to resume in",)),
    # --- Ray addresses ---------------------------------------------------------------------
    Case("address_not_an_address", smoke("--address", "not-an-address"),
         ("--address 'not-an-address': allowed is auto",)),
    Case("address_port_too_big", smoke("--address", "10.0.0.5:99999"),
         ("--address '10.0.0.5:99999'",)),
    Case("address_http_url", smoke("--address", "http://10.0.0.5:8265"),
         ("--address 'http://10.0.0.5:8265'",)),
    Case("address_with_escape", smoke("--address", "\x1b[2J:1"), (r"--address '\x1b[2J:1'",)),
    Case("address_nothing_listens", smoke("--address", "127.0.0.1:1"),
         ("--address 127.0.0.1:1: nothing answers there (Connection refused)",)),
    Case("serial_with_address", smoke("--serial", "--address", "auto"),
         ("--serial runs in this process without Ray: leave out --address",)),
    Case("num_cpus_zero", smoke("--num-cpus", "0"),
         ("--num-cpus = 0: allowed is a whole number from 1",)),
    Case("connect_timeout_zero", smoke("--connect-timeout", "0"),
         ("--connect-timeout = 0.0: allowed is a number of seconds above 0",)),
    # --- results folders that are not what they seem ---------------------------------------
    Case("summarise_a_file", lambda f: ["summarise", write(f, "x.parquet", "PAR1")],
         ("x.parquet: no such folder",)),
    Case("summarise_empty_manifest", manifest_folder(""),
         ("manifest.json: not valid JSON", "run the sweep command again to rebuild it")),
    Case("summarise_truncated_manifest", manifest_folder('{"sweep_id": "ab'),
         ("manifest.json: not valid JSON",)),
    Case("summarise_manifest_nested_100000_deep", manifest_folder(nested_json(100_000)),
         ("manifest.json:",)),
    Case("summarise_manifest_of_wrong_shape", manifest_folder("[]"),
         ("manifest.json: not a sweep's manifest",)),
    Case("summarise_manifest_that_is_a_fifo",
         lambda f: (fifo(f, "manifest.json"), ["summarise", str(f)])[1],
         ("manifest.json: a FIFO (named pipe)",)),
]


class TimeLimit(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail (rather than hang) if the block runs longer than ``seconds``."""

    def expire(signum, frame):
        raise TimeLimit(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(folder: Path) -> dict:
    """Every path under ``folder`` with its type, size and modification time."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        found[str(path)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def check_refusal(case: Case, code, err: str, seconds: float) -> None:
    lines = err.splitlines()
    assert code == 2, (code, err)
    assert len(lines) == case.lines, err
    assert all(line.startswith("abm: error: ") for line in lines), err
    assert "Traceback" not in err
    assert not [c for c in CONTROL if c in err], f"control character printed: {err!r}"
    assert all(len(line) <= 1_100 for line in lines), "a problem line must be short"
    for fragment in case.fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert seconds < LIMIT_S


def test_the_corpus_is_large_and_names_are_unique():
    names = [c.name for c in CASES + MEMORY_CASES]
    assert len(names) == len(set(names))
    assert len(names) >= 60, "besides the malformed files of tests/cli/malformed/"


def assert_refused_writing_nothing(case: Case, tmp_path: Path, capsys) -> None:
    """Run ``case``'s command on inputs it makes in ``tmp_path/inputs``: refused in one line,
    quickly, printing nothing on stdout and writing nothing (the check every hostile-input
    corpus of the commands shares)."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    argv = case.make(folder)
    before = snapshot(tmp_path)
    start = time.monotonic()
    with time_limit(LIMIT_S):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
    seconds = time.monotonic() - start
    captured = capsys.readouterr()
    check_refusal(case, code, captured.err, seconds)
    assert captured.out == ""
    assert snapshot(tmp_path) == before, "nothing may be written"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_input_is_refused_in_one_line_quickly_writing_nothing(case, tmp_path, capsys):
    assert_refused_writing_nothing(case, tmp_path, capsys)


MALFORMED = sorted((Path(__file__).resolve().parent / "malformed").glob("*.yaml"))


def command_for(path: Path, out_folder: Path) -> list[str]:
    """The command that reads a malformed file of the corpus in tests/cli/malformed/."""
    kind = path.name.split("_", 1)[0]
    if kind == "scenario":
        return ["validate", str(path)]
    if kind == "place":
        return ["run", "--place", str(path), "--out", str(out_folder)]
    return ["sweep", str(path), "--out", str(out_folder)]


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.stem)
def test_each_malformed_file_is_refused_by_its_command_in_one_line(path, tmp_path, capsys):
    """The files of tests/cli/malformed/ (one defect each, messages pinned in
    test_malformed_files.py), read by the command a user would run on them."""
    before = snapshot(path.parent)
    start = time.monotonic()
    with time_limit(LIMIT_S):
        code = main(command_for(path, tmp_path / "out"))
    err = capsys.readouterr().err
    check_refusal(Case(path.stem, lambda f: [], (str(path.parent),)), code, err,
                  time.monotonic() - start)
    assert snapshot(path.parent) == before and not (tmp_path / "out").exists()


# --- inputs that would eat memory if their guard broke: in a child capped at 2 GiB -----------

def bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" alias bomb: ``width ** levels`` strings from a few hundred bytes."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def inline_bomb(levels: int = 4, width: int = 9) -> str:
    """A smaller bomb as one flow list (anchors inside it), to be the value of a key."""
    parts = ["&l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        parts.append(f"&l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "[" + ", ".join(parts) + "]"


def merge_bomb(levels: int = 12, width: int = 9) -> str:
    lines = ["m0: &m0 {a: 1, b: 2}"]
    for level in range(1, levels + 1):
        lines.append(f"m{level}: &m{level} {{<<: [" + ", ".join([f"*m{level - 1}"] * width)
                     + "]}")
    return "\n".join(lines) + "\n"


PLACE = (ROOT / "scenarios" / "places" / "bradford.yaml").read_text()

MEMORY_CASES = [
    Case("alias_bomb_in_parameters", validate(bomb() + "parameters: {uptake_rate: *l9}\n"),
         ("aliases (*name) expand this value to more than",)),
    Case("alias_bomb_as_a_key", validate(bomb() + "? *l9\n: 1\n"),
         ("aliases (*name) expand this value",)),
    Case("alias_bomb_in_rules", validate(f"rules: {inline_bomb()}\n"),
         ("unknown rule '['lol', 'lol', 'lol', 'lol', ...]': allowed are develop, embed",)),
    Case("merge_key_bomb", validate(merge_bomb()), ("aliases (*name) expand this value",)),
    Case("alias_bomb_in_a_place", lambda f: ["run", "--out", out(f), "--place", write(
        f, "place.yaml", re.sub(r"rural_share: .*", f"rural_share: {inline_bomb()}", PLACE,
                                count=1))],
         ("'rural_share' = [['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol'], ",
          " ... ", "allowed is a number from 0 to 1")),
    Case("alias_bomb_in_a_sweep", sweep(bomb() + SWEEP_HEAD + "description: *l9\n"),
         ("aliases (*name) expand this value",)),
    Case("dev_zero_sweep", lambda f: ["sweep", "/dev/zero", "--out", out(f)],
         ("/dev/zero: a character device",)),
    Case("dev_urandom_scenario", lambda f: ["validate", "/dev/urandom"],
         ("/dev/urandom: a character device",)),
    Case("dev_zero_place", run("--place", "/dev/zero"), ("/dev/zero: a character device",)),
    Case("file_of_50_mb", lambda f: ["validate", write(f, "big.yaml", "description: "
                                                       + "x" * 50_000_000 + "\n")],
         ("big.yaml: the file is larger than",)),
    Case("nesting_50000_deep", validate("[" * 50_000 + "]" * 50_000 + "\n"),
         ("nesting is deeper than 64 levels",)),
]

_CHILD = """
import contextlib, io, json, os, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from abm.cli import main
results = {}
for name, argv in json.loads(sys.stdin.read()):
    err = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        except MemoryError:
            code = "MemoryError"
    results[name] = [code, err.getvalue(), time.monotonic() - start]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def memory_results(tmp_path_factory):
    """Run every memory case in one child process (one interpreter start for all)."""
    folder = tmp_path_factory.mktemp("memory")
    argvs, befores = [], {}
    for case in MEMORY_CASES:
        case_folder = folder / case.name / "inputs"
        case_folder.mkdir(parents=True)
        argvs.append([case.name, case.make(case_folder)])
        befores[case.name] = snapshot(case_folder.parent)
    started = time.monotonic()
    child = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(argvs),
                           capture_output=True, text=True, cwd=ROOT,
                           timeout=LIMIT_S * len(MEMORY_CASES) + 60)
    assert child.returncode == 0, child.stderr[-2000:]
    results = json.loads(child.stdout)
    afters = {case.name: snapshot(folder / case.name) for case in MEMORY_CASES}
    return results, befores, afters, folder, time.monotonic() - started


@pytest.mark.parametrize("case", MEMORY_CASES, ids=lambda c: c.name)
def test_memory_hostile_input_is_refused_within_2_gib(case, memory_results):
    results, befores, afters, folder, _ = memory_results
    code, err, seconds = results[case.name]
    check_refusal(case, code, err, seconds)
    assert afters[case.name] == befores[case.name], "nothing may be written"
    assert not (folder / case.name / "out").exists()


def test_the_child_really_is_capped_at_2_gib():
    """The cap that protects the machine works: the same child dies allocating 3 GiB."""
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
            "try:\n    b = bytearray(3 << 30)\nexcept MemoryError:\n    print('capped')\n")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=60)
    assert child.stdout.strip() == "capped"
    assert resource.RLIMIT_AS  # the platform has the limit the corpus relies on
