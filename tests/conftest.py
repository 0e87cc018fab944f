"""Shared test paths. The real export and the oracles live in ../shared, never in the repo."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL_DATA = SHARED / "data" / "online_retail_II_2009-12_to_2010-11.csv.gz"
ORACLES = SHARED / "oracles" / "stats_oracles.json"
ARTIFACTS = ROOT / "test-artifacts"
