"""Files users give and files the project writes: safe YAML reading with line numbers,
one-line problems, shared value checks, atomic and checksummed writing, and provenance (git
commit, package versions). The lowest layer: it imports nothing else of the project."""
