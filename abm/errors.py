"""The one exception type for bad input, so every entry point reports it the same way."""

from __future__ import annotations


class InputError(ValueError):
    """Input (a parameter, file, place or rule) was rejected.

    ``problems`` holds one self-contained line per defect, each naming where it is (file and
    line when known), the key, the value and what is allowed. Command-line tools print each
    line and exit with code 2.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
