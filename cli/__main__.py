"""``python -m cli``: the ``emining`` command where its console script is not on the PATH (a
checkout without ``pip install``, or another interpreter's venv)."""

from cli.main import main

main()
