"""`python -m pipeline.cli`: the same as the `congvan` command."""

from pipeline.cli.main import main

main()
