"""Exam-office dashboard for the 1+X 数字营销技术应用 certificate."""

import os as _os

__version__ = "0.1.0"

# Owner-only files, whatever the umask of the user who runs the product: what it writes holds personal
# data (the catalog, the Parquet files DuckDB writes with 0666 & ~umask, SQLite's -wal/-shm, the
# application database, kept originals, backups, the per-process mirror, temp files). Every process of the
# product (the command line, the Streamlit server, its worker and reader children, a `python -c` helper)
# imports this package before it writes anything, so the umask is set here, once: new files are 0600 and
# new folders 0700. examdash/store/private.py has the same as `restrict()`, the explicit modes and the
# repair of an existing store (`maintain`). (Not imported from there: this package may import nothing of
# the layers, tests/test_layers.py.)
_os.umask(_os.umask(0o077) | 0o077)
