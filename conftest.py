"""The repository root on sys.path, so tests, benchmarks and the app import `examdash` without installing
it. Fixtures are in tests/conftest.py, helpers in tests/helpers.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
