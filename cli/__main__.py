"""``python -m cli``: the ``emining`` command where its console script is not on the PATH (a
checkout without ``pip install``, or another interpreter's venv)."""

from cli.main import main

if __name__ == "__main__":  # not when a spawned worker re-imports it (serve --workers N)
    main()
