"""The ``emining`` command: operations on the platform (serve, database, load, export, accounts,
rasters, the highly available cluster), not HTTP. It uses api/, layers/ and geo/; none of them
imports it (tests/test_imports.py)."""
