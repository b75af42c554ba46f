"""Safe YAML loading that remembers the line of every key, for error messages users can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from abm.errors import InputError


class LineDict(dict):
    """A dict from a YAML mapping; ``lines[key]`` is the 1-based line where ``key`` was written."""

    def __init__(self, items: dict, lines: dict, line: int):
        super().__init__(items)
        self.lines = lines
        self.line = line

    def line_of(self, key: Any) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.lines.get(key, self.line)


def load(path: str | Path) -> Any:
    """Load one YAML document with the safe loader (no object construction).

    Mappings come back as :class:`LineDict`. Syntax errors, duplicate keys and unreadable files
    raise :class:`InputError` naming the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the file ({error})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(loader, node, path)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise InputError(f"{where}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve YAML merge keys (<<) as the safe loader would
        items, lines = {}, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                duplicate = key in items
            except TypeError:  # an unhashable key such as a list
                raise InputError(f"{path}:{line}: a key must be a name, not {key!r}") from None
            if duplicate:
                raise InputError(
                    f"{path}:{line}: key '{key}' appears twice (first on line {lines[key]})"
                )
            items[key] = _build(loader, value_node, path)
            lines[key] = line
        return LineDict(items, lines, node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, child, path) for child in node.value]
    return loader.construct_object(node, deep=True)
