"""``python -m abm.cli``: the ``abm`` command."""

from abm.cli import main

raise SystemExit(main())
