"""Check a finished run's artifacts against its provenance records and dvc.lock.

usage: python scripts/verify_run.py results/<run> [--no-dvc] [--outputs-only] [--json out.json]
Exit status 0 when everything matches, 1 when something differs or is missing.
"""

import sys

from vidreward.verify import main

if __name__ == "__main__":
    sys.exit(main())
