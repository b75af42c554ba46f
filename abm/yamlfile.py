"""Safe YAML loading that remembers the line of every key, for error messages users can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from abm.errors import InputError

#: The characters ``str.splitlines`` breaks at, shown escaped so a problem stays on one line.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}
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
    """The problems with any line break inside one (say from a quoted key) shown as ``\\n``."""
    return [problem.translate(_LINE_BREAKS) for problem in problems]


def exists(path: Path) -> bool:
    """Whether ``path`` exists; a name the system cannot use (too long, say) does not."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def load(path: str | Path) -> Any:
    """Load one YAML document with the safe loader (no object construction).

    Mappings come back as :class:`LineDict`. Syntax errors, duplicate keys and unreadable files
    raise :class:`InputError` naming the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(one_line([f"{path}: file not found"])) from None
    except (OSError, ValueError) as error:  # ValueError: not UTF-8, or a NUL in the name
        raise InputError(one_line([f"{path}: cannot read the file ({error})"])) from None
    try:
        loader = yaml.SafeLoader(text)  # checks every character first
    except yaml.reader.ReaderError as error:  # a control character such as a form feed
        line, problem = text.count("\n", 0, error.position) + 1, str(error).splitlines()[0]
        raise InputError(one_line([f"{path}:{line}: not valid YAML: {problem}"])) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(loader, node, path, {})
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


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, built: dict) -> Any:
    """The value of ``node``; ``built`` maps nodes already built (aliases reuse them) to values."""
    if id(node) in built:
        if built[id(node)] is _BUILDING:
            raise InputError(f"{path}:{node.start_mark.line + 1}: an alias (*name) refers to "
                             "the mapping or list that holds it")
        return built[id(node)]
    built[id(node)] = _BUILDING
    if not isinstance(node, yaml.ScalarNode) and node.tag not in loader.yaml_constructors:
        loader.construct_undefined(node)  # refuse a tag such as !!python/object, as safe_load does
    if isinstance(node, yaml.MappingNode):
        written = sum(k.tag != "tag:yaml.org,2002:merge" for k, _ in node.value)
        loader.flatten_mapping(node)  # resolve YAML merge keys (<<) as the safe loader would
        first_written = len(node.value) - written  # merged pairs come first; keys may override
        items, lines = {}, {}
        for index, (key_node, value_node) in enumerate(node.value):
            key = _scalar(loader, key_node, path)
            line = key_node.start_mark.line + 1
            try:
                duplicate = key in items
            except TypeError:  # an unhashable key such as a list
                raise InputError(f"{path}:{line}: a key must be a name, not {key!r}") from None
            if duplicate and index >= first_written and lines[key] >= 0:
                raise InputError(
                    f"{path}:{line}: key '{key}' appears twice (first on line {lines[key]})"
                )
            items[key] = _build(loader, value_node, path, built)
            lines[key] = line if index >= first_written else -line  # < 0: merged, overridable
        lines = {key: abs(line) for key, line in lines.items()}
        value = LineDict(items, lines, node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        value = [_build(loader, child, path, built) for child in node.value]
    else:
        value = _scalar(loader, node, path)
    built[id(node)] = value
    return value


def _scalar(loader: yaml.SafeLoader, node: yaml.Node, path: Path) -> Any:
    """Construct a key or scalar; a value its tag cannot hold (``2023-02-30``) is a problem."""
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, KeyError, AttributeError):
        kind = node.tag.rsplit(":", 1)[-1]
        text = node.value if isinstance(node.value, str) else ""
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise InputError(f"{path}:{node.start_mark.line + 1}: not valid YAML: {shown!r} is not "
                         f"a valid {kind}; put it in quotes if it is text") from None

