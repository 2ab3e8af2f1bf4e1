"""``python -m vidreward.verify results/<run>``: see :func:`vidreward.verify.main`."""

import sys

from vidreward.verify import main

sys.exit(main())
