"""`python -m cli`, the same as the `shipway` command."""

from cli.main import run

run()
