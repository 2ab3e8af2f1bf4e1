"""``python -m vidreward.reward.sandbox < payload.json``: run one payload in this process."""

import sys

from vidreward.reward.sandbox.server import main

sys.exit(main())
