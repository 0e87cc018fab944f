import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
REAL_DATA = SHARED / "data" / "online_retail_II_2009-12_to_2010-11.csv.gz"
ORACLES = SHARED / "oracles" / "stats_oracles.json"
ARTIFACTS = ROOT / "test-artifacts"
