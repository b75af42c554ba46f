"""Reading users' files safely: YAML that remembers the line of every key, and limits that keep
a hostile file from hanging the program or eating its memory.

Every reader of users' files (scenarios, places, sweeps, calibration targets, manifests) goes
through :func:`read_text`, which reads only a regular file (a FIFO, a device such as
``/dev/zero``, a folder or a socket is refused at once, without reading) of at most
``max_bytes``. :func:`load` then parses YAML with the safe loader (no object construction),
refusing nesting deeper than :data:`MAX_DEPTH` (no ``RecursionError``) and aliases that would
expand the document beyond :data:`MAX_EXPANDED` characters (a "billion laughs" bomb is refused
in milliseconds, before any message could print its expansion).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from abm.files.errors import InputError, printable, shown

#: Largest file read, in bytes: every shipped scenario, place and sweep file is under 4 KiB.
#: A larger file is refused before it is read.
MAX_BYTES = 256 << 10
#: Most values (mappings, lists, scalars, aliases) a document may hold: shipped files hold
#: under 100, a sweep's grid of four parameters with a thousand values each 4,000. PyYAML
#: (pure Python) composes about 10,000 values a second on a busy core; a file with more is
#: refused part-read, so no file takes more than a second or two.
MAX_NODES = 10_000
#: Deepest nesting of mappings and lists accepted (shipped files nest 3 deep).
MAX_DEPTH = 64
#: Most characters a document may stand for once every alias (*name) is expanded: scalar
#: lengths plus one per node. A file without aliases stands for about as many characters as it
#: has, so this only ever refuses alias expansion.
MAX_EXPANDED = 4 * MAX_BYTES
_MERGE = "tag:yaml.org,2002:merge"
_BUILDING = object()  # marks a node whose value is being built, to catch an alias to itself


class LineDict(dict):
    """A dict from a YAML mapping; ``lines[key]`` is the 1-based line where ``key`` was written."""

    def __init__(self, items: dict, lines: dict, line: int):
        super().__init__(items)
        self.lines = lines
        self.line = line

    def line_of(self, key: Any) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.lines.get(key, self.line)


def one_line(problems: list[str]) -> list[str]:
    """The problems with any control character inside one (a line break in a quoted key, ESC
    in a file name) shown escaped, so each stays one harmless line."""
    return [printable(problem) for problem in problems]


def exists(path: Path) -> bool:
    """Whether something is at ``path`` (a symbolic link counts, even one that leads nowhere:
    reading it then says why); a name the system cannot use (too long, say) is nothing."""
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def read_bytes(path: str | Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path``, of at most ``max_bytes`` bytes.

    Anything else raises :class:`InputError` naming the file and why, without blocking: the
    file is opened non-blocking (a FIFO with no writer would otherwise wait forever) and its
    type and size are checked on the open descriptor before a byte is read.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(one_line([f"{path}: file not found"])) from None
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        raise InputError(one_line([f"{path}: cannot read the file ({_reason(error)})"])) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputError(one_line([f"{path}: {_kind(status.st_mode)}, not a regular file: "
                                       "allowed is a regular file"]))
        with os.fdopen(fd, "rb", closefd=False) as file:
            # The size is checked again after reading: a file may grow, /proc's say 0.
            data = b"" if status.st_size > max_bytes else file.read(max_bytes + 1)
    except OSError as error:
        raise InputError(one_line([f"{path}: cannot read the file ({_reason(error)})"])
                         ) from None
    finally:
        os.close(fd)
    if status.st_size > max_bytes or len(data) > max_bytes:
        raise InputError(one_line([f"{path}: the file is larger than {max_bytes:,} bytes: "
                                   "allowed is a smaller file"]))
    return data


def read_text(path: str | Path, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_bytes`)."""
    data = read_bytes(path, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(one_line([f"{path}:{line}: not UTF-8 text (byte {error.start:,} is "
                                   f"{data[error.start]:#04x}): allowed is UTF-8 text"])) from None


def load(path: str | Path, max_bytes: int = MAX_BYTES) -> Any:
    """Load one YAML document from ``path`` with the safe loader (see :func:`read_text`)."""
    return parse(read_text(path, max_bytes), path)


def parse(text: str, path: str | Path) -> Any:
    """Parse one YAML document (``path`` only names it in problems).

    Mappings come back as :class:`LineDict`. Syntax errors, duplicate keys, keys that are not
    names, nesting deeper than :data:`MAX_DEPTH` and alias expansion beyond
    :data:`MAX_EXPANDED` raise :class:`InputError` naming the file and line.
    """
    path = Path(path)
    try:
        loader = _Loader(text, path)  # checks every character first
    except yaml.reader.ReaderError as error:  # a control character such as a form feed
        line, problem = text.count("\n", 0, error.position) + 1, str(error).splitlines()[0]
        raise InputError(one_line([f"{path}:{line}: not valid YAML: {problem}"])) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(loader, node, path, {}, {})
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context = getattr(error, "context", None)
        context_mark = getattr(error, "context_mark", None)
        if context and context_mark is not None:  # say where the unfinished part began
            problem += f" ({context} on line {context_mark.line + 1})"
        raise InputError(one_line([f"{where}: not valid YAML: {problem}"])) from None
    except InputError as error:
        raise InputError(one_line(error.problems)) from None
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting deeper than :data:`MAX_DEPTH` (PyYAML's composer
    recurses once per level: 50,000 levels end in ``RecursionError``) and more than
    :data:`MAX_NODES` values, while composing: the rest of the file is never read."""

    def __init__(self, text: str, path: Path):
        super().__init__(text)
        self._path = path
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH or self._nodes > MAX_NODES:
                line = self.peek_event().start_mark.line + 1
                what = (f"nesting is deeper than {MAX_DEPTH} levels: allowed is at most "
                        f"{MAX_DEPTH}" if self._depth > MAX_DEPTH else
                        f"the file holds more than {MAX_NODES:,} values: allowed is at most "
                        f"{MAX_NODES:,}")
                raise InputError(f"{self._path}:{line}: {what}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _build(loader: _Loader, node: yaml.Node, path: Path, built: dict, sizes: dict) -> Any:
    """The value of ``node``; ``built`` maps nodes already built (aliases reuse them) to values,
    ``sizes`` maps them to the characters they stand for once aliases are expanded."""
    if id(node) in built:
        if built[id(node)] is _BUILDING:
            raise InputError(f"{path}:{node.start_mark.line + 1}: an alias (*name) refers to "
                             "the mapping or list that holds it")
        return built[id(node)]
    built[id(node)] = _BUILDING
    if not isinstance(node, yaml.ScalarNode) and node.tag not in loader.yaml_constructors:
        loader.construct_undefined(node)  # refuse a tag such as !!python/object, as safe_load does
    if isinstance(node, yaml.MappingNode):
        value, size = _mapping(loader, node, path, built, sizes)
    elif isinstance(node, yaml.SequenceNode):
        value = [_build(loader, child, path, built, sizes) for child in node.value]
        size = 1 + sum(sizes[id(child)] for child in node.value)
    else:
        value = _scalar(loader, node, path)
        size = 1 + len(node.value)
    if size > MAX_EXPANDED:
        raise InputError(f"{path}:{node.start_mark.line + 1}: aliases (*name) expand this value "
                         f"to more than {MAX_EXPANDED:,} characters: allowed is at most "
                         f"{MAX_EXPANDED:,}")
    built[id(node)], sizes[id(node)] = value, size
    return value


def _mapping(loader: _Loader, node: yaml.MappingNode, path: Path, built: dict, sizes: dict
             ) -> tuple[LineDict, int]:
    """A mapping's value and expanded size. Merge keys (``<<: *defaults``) bring in the keys
    of other mappings that the mapping does not set itself; of several merged mappings the
    first listed wins (the YAML merge-key rule PyYAML's safe loader follows)."""
    items, lines, size = {}, {}, 1
    merges = []
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag == _MERGE:
            merges.append((value_node, line))
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            raise InputError(f"{path}:{line}: a key must be a name, not a "
                             f"{'mapping' if isinstance(key_node, yaml.MappingNode) else 'list'}")
        key = _scalar(loader, key_node, path)
        if key in items:
            raise InputError(f"{path}:{line}: key {shown(key)} appears twice (first on line "
                             f"{lines[key]})")
        items[key] = _build(loader, value_node, path, built, sizes)
        lines[key] = line
        size += 1 + len(key_node.value) + sizes[id(value_node)]
    if len(merges) > 1:
        raise InputError(f"{path}:{merges[1][1]}: key '<<' appears twice (first on line "
                         f"{merges[0][1]}): merge several mappings with <<: [*a, *b]")
    for value_node, line in merges:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise InputError(f"{path}:{line}: a merge key (<<) takes a mapping or a list "
                                 "of mappings")
            merged = _build(loader, source, path, built, sizes)
            size += sizes[id(source)]
            if size > MAX_EXPANDED:  # checked before copying: merges can multiply too
                break
            for key, value in merged.items():
                if key not in items:
                    items[key], lines[key] = value, merged.line_of(key)
    return LineDict(items, lines, node.start_mark.line + 1), size


def _scalar(loader: _Loader, node: yaml.ScalarNode, path: Path) -> Any:
    """Construct a key or scalar; a value its tag cannot hold (``2023-02-30``) is a problem."""
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, KeyError, AttributeError):
        kind = node.tag.rsplit(":", 1)[-1]
        raise InputError(f"{path}:{node.start_mark.line + 1}: not valid YAML: "
                         f"{shown(node.value, 40)} is not a valid {kind}; put it in quotes if it "
                         "is text") from None


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def _reason(error: BaseException) -> str:
    """An OS error's reason without the file name it repeats (``Permission denied``)."""
    return getattr(error, "strerror", None) or str(error)
