import sys

from examdash.cli import main

sys.exit(main())
