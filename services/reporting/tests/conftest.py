"""Shared helpers of the reporting tests (the scripted year lives next to this file)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
