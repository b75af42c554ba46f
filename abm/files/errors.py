"""How problems reach people: the exception types every entry point reports the same way, and
the helpers that make any value safe to print in a problem line.

A problem line must stay one line and must not drive the terminal: a YAML key or a file name
can hold ESC, BEL or a line break, and a value can be huge (an alias bomb, a 1 MB string).
:func:`shown` prints a value shortened and escaped; :func:`printable` escapes a whole line.
"""

from __future__ import annotations

import difflib
import reprlib
import unicodedata
from collections.abc import Mapping
from typing import Any

#: Longest value shown in a problem line, in characters (longer ones end in "...").
SHOWN_CHARACTERS = 80

_REPR = reprlib.Repr(maxlevel=3, maxtuple=4, maxlist=4, maxdict=4, maxset=4, maxfrozenset=4,
                     maxdeque=4, maxarray=4, maxstring=SHOWN_CHARACTERS,
                     maxlong=SHOWN_CHARACTERS, maxother=SHOWN_CHARACTERS)
#: Characters that are not control characters (Unicode category Cc) but still move the cursor
#: or reorder text on a terminal: line and paragraph separators, bidirectional overrides.
_INVISIBLE = {*"\u2028\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


class InputError(ValueError):
    """Input (a parameter, file, place or rule) was rejected.

    ``problems`` holds one self-contained line per defect, each naming where it is (file and
    line when known), the key, the value and what is allowed. Command-line tools print each
    line and exit with code 2.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ResourceError(InputError):
    """Something the command needs outside its input failed: the disk is full, a folder cannot
    be written, a Ray cluster cannot be reached. Reported like bad input (one line each,
    exit code 2), after leaving any results folder resumable and its manifest honest."""


def printable(text: str) -> str:
    """``text`` with every control character (ESC, BEL, line breaks, tabs, DEL, C1 codes) and
    every cursor-moving or text-reordering character shown as a Python escape (``\\x1b``)."""
    if text.isprintable():
        return text
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def printable_text(text: str) -> str:
    """Several lines of output (a table), each made :func:`printable`; line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


def shown(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr(value)`` for a problem line: bounded in work and length whatever the value's size
    (nested containers are cut at a few items per level) and with control characters escaped."""
    text = printable(_REPR.repr(value)[:4 * limit])
    return text if len(text) <= limit else text[:limit - 3] + "..."


def clipped(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """``str(value)`` for a name quoted in a problem line (a key, a place): escaped, and cut to
    ``limit`` characters. Use :func:`shown` for values, which may be containers."""
    if not isinstance(value, str):
        return shown(value, limit)
    text = printable(value[:limit + 1])  # cut first: the name may be a megabyte long
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _unsafe(character: str) -> bool:
    return unicodedata.category(character) == "Cc" or character in _INVISIBLE


def _escape(character: str) -> str:
    code = ord(character)
    special = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if character in special:
        return special[character]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unknown_name_message(what: str, name: object, allowed: Mapping[str, Any] | list[str],
                         list_command: str | None = None) -> str:
    """One line saying ``name`` is not a known ``what``, with the closest match if there is one.

    Long lists are replaced by a pointer to ``list_command`` (e.g. ``abm parameters``).
    """
    names = sorted(allowed)
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    if list_command and len(names) > 12:
        listing = f"see `{list_command}` for the full list"
    else:
        listing = "allowed are " + ", ".join(names)
    return f"unknown {what} '{name}': {hint}{listing}"
