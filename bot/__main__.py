"""`python -m bot` is the `sozialmonitor` command."""

from .cli import main

raise SystemExit(main())
