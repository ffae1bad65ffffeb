"""`python -m graftzoo` is the `graftzoo` command."""

from graftzoo.registry.cli import main

raise SystemExit(main())
