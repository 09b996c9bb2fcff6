"""The shop demo is a project folder, not an installed package: put it on ``sys.path`` for these tests."""

from __future__ import annotations

import sys
from pathlib import Path

SHOP_DIR = Path(__file__).resolve().parents[2] / "examples" / "shop"

if str(SHOP_DIR) not in sys.path:
    sys.path.insert(0, str(SHOP_DIR))
