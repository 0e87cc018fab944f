"""Demo data: "Northwind Living", a generated mid-size fashion-and-home retailer.

Two modules, re-exported here so `from data.demo import ...` keeps working:

- data.demo_generator: the canonical Dataset with its planted effects (generate_frames, generate_dataset,
  PLANTED, INTERVENTION) - the ground truth of the recovery tests;
- data.demo_files: the same lines written as raw exports in real-world layouts (write_demo_files).
"""

from __future__ import annotations

from data.demo_generator import CATEGORY_BASE_RATE as CATEGORY_BASE_RATE
from data.demo_generator import CHANNELS as CHANNELS
from data.demo_generator import DATASET_NAME as DATASET_NAME
from data.demo_generator import INTERVENTION as INTERVENTION
from data.demo_generator import JOURNEYS as JOURNEYS
from data.demo_generator import NULL_RATE as NULL_RATE
from data.demo_generator import PLANTED as PLANTED
from data.demo_generator import PlantedEffect as PlantedEffect
from data.demo_generator import RETAILER as RETAILER
from data.demo_generator import _empty_rejected as _empty_rejected
from data.demo_generator import canonical_frame as canonical_frame
from data.demo_generator import generate_dataset as generate_dataset
from data.demo_generator import generate_frames as generate_frames
from data.demo_files import CATALOG_CSV_COLUMNS as CATALOG_CSV_COLUMNS
from data.demo_files import FBA_COLUMNS as FBA_COLUMNS
from data.demo_files import ORDERS_XLSX_COLUMNS as ORDERS_XLSX_COLUMNS
from data.demo_files import RETURNS_CSV_COLUMNS as RETURNS_CSV_COLUMNS
from data.demo_files import write_demo_files as write_demo_files
