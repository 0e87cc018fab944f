"""Every session-state key the dashboard uses, in one place. Values are plain and serialisable."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# The loaded dataset: a DatasetSpec (small, hashable) plus the uploaded bytes kept in this session only.
DATASET_SPEC = "ri_dataset_spec"
UPLOAD_BYTES = (
    "ri_upload_bytes"  # {sha256: bytes}: only handed in here; kept on the server (dashboard.cache.session_uploads)
)
HELD_TOKEN = "ri_held_token"  # this session's token to its big objects held on the server (dashboard.cache.hold)
LOAD_MESSAGE = "ri_load_message"
APPLIED_PRESET = "up_applied_preset"
REASON_OVERRIDES = "ri_reason_overrides"  # {raw reason: taxonomy category}, edited on Reasons & outcomes
BROWSER_KEY = "ri_browser_key"  # this browser's private key to its uploaded data stored on the server (data.uploads)
URL_KEY = "data"  # query parameter that carries BROWSER_KEY in the page URL, so a refresh finds the data again
RESTORED = "ri_restored"  # a message: the data was restored from the server after a refresh or restart
LOAD_PENDING = "ri_load_pending"  # name of a load started and not finished (left the page while reading)
SAVED_FILTERS = "ri_saved_filters"  # the filters last written to the server store (to write only on change)
LEAVE_OUT_OUTLIERS = "ri_leave_out_outliers"  # bool: leave the few orders that dominate the units out of every page

# Global filters (sidebar widgets)
F_DATES = "flt_dates"
F_CHANNELS = "flt_channels"
F_JOURNEYS = "flt_journeys"
F_COUNTRIES = "flt_countries"
F_COLLECTIONS = "flt_collections"
F_BASIS = "flt_basis"

# Settings
S_COST = "set_cost_per_return"
S_WINDOW = "set_window_days"
S_HANDLING = "set_handling_cost"
S_CURRENCY = "set_currency"

# Upload page
U_FILES = "up_files"
U_MAPPING_JSON = "up_mapping_json"
U_PRESET = "up_preset"
U_PRESET_FILE = "up_preset_file"


@dataclass(frozen=True, slots=True)
class UploadedRef:
    name: str
    sha256: str
    role: str | None
    sheet: str | None


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """What identifies a dataset's content: demo seed, or the uploaded files' hashes plus the mapping."""

    kind: str  # "demo" | "upload"
    files: tuple[UploadedRef, ...] = ()
    mapping_json: str = ""
    seed: int = 7
    name: str = ""

    @property
    def workspace(self) -> str:
        """Key under which user-entered state (interventions) is stored for this dataset."""
        if self.kind == "demo":
            return "demo"
        h = hashlib.sha256("|".join(sorted(f.sha256 for f in self.files)).encode()).hexdigest()
        return h[:16]


def spec_to_dict(spec: DatasetSpec, filters: dict | None = None) -> dict:
    """Plain JSON for data.uploads.UploadStore (what identifies the dataset, plus the browser's filters)."""
    return {
        "kind": spec.kind,
        "seed": spec.seed,
        "name": spec.name,
        "mapping_json": spec.mapping_json,
        "files": [{"name": f.name, "sha256": f.sha256, "role": f.role, "sheet": f.sheet} for f in spec.files],
        "filters": dict(filters or {}),
    }


def spec_from_dict(d: dict) -> DatasetSpec:
    files = tuple(
        UploadedRef(name=str(f.get("name", "")), sha256=str(f["sha256"]), role=f.get("role"), sheet=f.get("sheet"))
        for f in d.get("files", [])
    )
    return DatasetSpec(
        kind=str(d.get("kind", "demo")),
        files=files,
        mapping_json=str(d.get("mapping_json") or ""),
        seed=int(d.get("seed", 7)),
        name=str(d.get("name") or ""),
    )
