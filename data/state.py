"""Persistent user-entered state: the interventions log and column-mapping presets.

Survives a browser refresh and a server restart because it lives in JSON files under a state directory
(``RI_STATE_DIR``, default ``~/.returns-intelligence``), not in the Streamlit session:

    <root>/workspaces/<workspace>/interventions.json   one log per dataset (content hash) or "default"
    <root>/presets/<name>.json                         saved column mappings (JSON text, kept verbatim)
    <root>/settings.json                               the last preset used

Writes are atomic (write a temporary file in the same directory, fsync, ``os.replace``), and every
read-modify-write happens under two locks: a thread lock shared by all StateStore instances on the same
directory (Streamlit sessions are threads) and an ``fcntl.flock`` on ``<root>/.lock`` that holds across
processes (two app instances, or the CLI, sharing one state folder). So concurrent writers never lose each
other's entries. Names become file names only after sanitising (letters, digits, ``.-_``; anything else
replaced, plus a short hash so different names never collide).

A state file that cannot be read (not UTF-8, not JSON, nested too deeply, too large, or JSON of the wrong
shape) is moved aside under a unique name (``*.corrupt-<time>-<random>``), never overwritten, and never
breaks a page: the store carries on as if the file were absent and records a warning naming the copy,
which the page shows (``take_warnings``). Temporary files orphaned by a killed writer are removed when a
store opens its folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import types
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from data.errors import InputError, Problem
from data.readers import is_excel, read_table

fcntl: types.ModuleType | None
try:  # POSIX; on other systems only the thread lock applies
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

# Dimensions an intervention can target (the analysis dimensions of analysis.prepare).
KNOWN_DIMENSIONS = (
    "collection",
    "category",
    "product",
    "size",
    "journey",
    "channel",
    "intent",
    "customer_type",
    "promotion",
    "country",
    "addon",
)
INTERVENTION_FIELDS = ("dimension", "segment", "start_date", "description")
COLUMNS = ("id",) + INTERVENTION_FIELDS
LOG_NAME = "interventions log"

# A state file larger than this is not something the app wrote (a log of 10,000 interventions is ~2 MB).
MAX_STATE_FILE_BYTES = 32 * 1024 * 1024
_TMP_GLOB = ".*.tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes so that readers see the old file or the new one, never half of it (temp file in the
    same folder, fsync, os.replace); the temp file is removed when anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class _DirLock:
    """Re-entrant lock for one state folder: a thread RLock plus, while held, an exclusive flock on
    <root>/.lock (flock locks belong to the open file, so one open file per holder, not per process)."""

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_LOCKS: dict[str, _DirLock] = {}
_LOCKS_GUARD = threading.Lock()


def default_root() -> Path:
    """The state directory: $RI_STATE_DIR, else ~/.returns-intelligence."""
    env = os.environ.get("RI_STATE_DIR", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".returns-intelligence"


def safe_name(name: str, what: str = "name") -> str:
    """A file-system-safe version of a user-given name (workspace, preset).

    Keeps letters, digits, '.', '-', '_'; other characters become '_'; a short hash of the original is
    appended whenever anything was changed, so 'a/b' and 'a_b' map to different files.

    >>> safe_name("Spring fit/size guide")[:21]
    'Spring_fit_size_guide'
    >>> safe_name("default")
    'default'
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            f"Empty {what}",
            f"The {what} is empty; type a name such as 'Shopify export'.",
            [Problem(LOG_NAME, f"Empty {what}", f"The {what} is empty.", f"Give the {what} a name.")],
        )
    raw = name.strip()
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", raw).lstrip(".")[:80] or "_"
    if cleaned != raw:
        cleaned += "-" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]
    return cleaned


def _problem(title: str, message: str, fix: str, column: str | None = None, examples: Iterable[object] = ()) -> Problem:
    return Problem(LOG_NAME, title, message, fix, column=column, examples=tuple(str(e) for e in examples))


def _parse_date(value: object, row: str = "") -> tuple[str | None, Problem | None]:
    where = f" (row {row})" if row else ""
    if (
        value is None
        or (not isinstance(value, str) and pd.isna(value))
        or (isinstance(value, str) and not value.strip())
    ):
        return None, _problem(
            "Missing start date",
            f"The start_date is empty{where}.",
            "Enter the date the change went live as YYYY-MM-DD, e.g. 2024-03-01.",
            "start_date",
        )
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if pd.isna(ts):
        return None, _problem(
            "Start date not understood",
            f"The start_date '{value}' is not a date{where}.",
            "Write the date as YYYY-MM-DD, e.g. 2024-03-01.",
            "start_date",
            [value],
        )
    return ts.normalize().strftime("%Y-%m-%d"), None


def _validate(fields: dict, row: str = "") -> tuple[dict, list[Problem]]:
    """Check and normalise intervention fields; return (clean fields, problems)."""
    problems: list[Problem] = []
    clean: dict = {}
    where = f" (row {row})" if row else ""
    if "dimension" in fields:
        d = fields["dimension"]
        d = "" if d is None or (not isinstance(d, str) and pd.isna(d)) else str(d).strip().lower().replace(" ", "_")
        if d not in KNOWN_DIMENSIONS:
            problems.append(
                _problem(
                    "Unknown dimension",
                    f"The dimension '{fields['dimension']}' is not one we can evaluate{where}.",
                    f"Use one of: {', '.join(KNOWN_DIMENSIONS)}.",
                    "dimension",
                    [fields["dimension"]],
                )
            )
        clean["dimension"] = d
    if "segment" in fields:
        s = fields["segment"]
        s = "" if s is None or (not isinstance(s, str) and pd.isna(s)) else str(s).strip()
        if not s:
            problems.append(
                _problem(
                    "Missing segment",
                    f"The segment is empty{where}.",
                    "Enter the treated segment, e.g. the collection name 'Hiking Jackets'.",
                    "segment",
                )
            )
        clean["segment"] = s
    if "start_date" in fields:
        iso, p = _parse_date(fields["start_date"], row)
        if p:
            problems.append(p)
        clean["start_date"] = iso
    if "description" in fields:
        t = fields["description"]
        clean["description"] = "" if t is None or (not isinstance(t, str) and pd.isna(t)) else str(t).strip()
    return clean, problems


def _raise(problems: list[Problem], title: str = "Intervention not saved") -> None:
    if problems:
        msg = " ".join(f"{p.message} {p.fix}" for p in problems[:5])
        if len(problems) > 5:
            msg += f" ({len(problems) - 5} more problems.)"
        raise InputError(title, msg, problems)


def _entry_ok(e: object) -> bool:
    """An intervention entry as this module writes it: an id and text fields (start_date ISO text)."""
    return (
        isinstance(e, dict)
        and isinstance(e.get("id"), str)
        and bool(e["id"])
        and all(isinstance(e.get(k, ""), str) for k in INTERVENTION_FIELDS)
    )


def _preset_ok(d: object) -> bool:
    return isinstance(d, dict) and isinstance(d.get("name"), str) and isinstance(d.get("mapping"), str)


def _settings_ok(d: object) -> bool:
    return isinstance(d, dict) and (d.get("last_preset") is None or isinstance(d.get("last_preset"), str))


def read_interventions_file(name: str, content: bytes) -> pd.DataFrame:
    """The rows of an uploaded interventions log (CSV/TSV or a workbook), read by data.readers like any upload.

    Columns: dimension, segment, start_date[, description] (checked by StateStore.import_interventions).
    Raises InputError naming the file when it is empty, not a table, or holds a header but no rows.
    """
    columns = "dimension, segment, start_date and description"

    def fail(title: str, message: str, fix: str) -> InputError:
        return InputError(title, f"{message} {fix}", [Problem(name, title, message, fix)])

    if not content or not content.strip():
        raise fail("Empty file", f"'{name}' is empty.", f"Upload a CSV with the columns {columns}.")
    compressed = name.lower().endswith((".gz", ".bz2", ".xz"))
    if b"\x00" in content[:8192] and not compressed and not is_excel(name, content):
        raise fail(
            "Not a text file", f"'{name}' is not a text (CSV) file.", "Save the log as CSV (UTF-8) and upload it again."
        )
    raw = read_table(name, content)  # InputError for oversized or unreadable files
    frame = raw.frame[~raw.footer] if len(raw.frame) else raw.frame
    if frame.empty:
        raise fail("No rows", f"'{name}' has a header but no interventions.", "Add one row per guidance change.")
    return frame.reset_index(drop=True)


class StateStore:
    """JSON-file store for interventions (per workspace) and mapping presets; safe across threads.

    >>> import tempfile, pathlib
    >>> s = StateStore(pathlib.Path(tempfile.mkdtemp()))
    >>> i = s.add_intervention("default", "collection", "Hiking Jackets", "2024-03-01", "fit video")
    >>> StateStore(s.root).list_interventions("default")["segment"].tolist()
    ['Hiking Jackets']
    """

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        key = str(self.root.resolve()) if self.root.exists() else str(self.root.absolute())
        with _LOCKS_GUARD:
            self._dirlock = _LOCKS.setdefault(key, _DirLock())
        self._local = threading.local()
        if self.root.exists():
            self._clean_temporary_files()

    @property
    @contextmanager
    def _lock(self) -> Iterator[None]:
        """Hold the folder: the thread lock, then (outermost holder only) the cross-process flock."""
        dl = self._dirlock
        with dl.rlock:
            if dl.depth == 0 and fcntl is not None:
                try:
                    self.root.mkdir(parents=True, exist_ok=True)
                    fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
                except OSError:  # a read-only folder: nothing can be written there, so reading needs no flock
                    fd = None
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX)
                    except BaseException:
                        os.close(fd)
                        raise
                dl.fd = fd
            dl.depth += 1
            try:
                yield
            finally:
                dl.depth -= 1
                if dl.depth == 0 and dl.fd is not None:
                    fd, dl.fd = dl.fd, None
                    if fcntl is not None:  # always: dl.fd is only set when fcntl is available
                        fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)

    def _clean_temporary_files(self) -> None:
        """Remove temporary files left by a writer that was killed mid-write. Every write happens under the
        folder lock, so while we hold it any temporary file is an orphan."""
        with self._lock:
            for folder in [self.root, self.root / "presets", *sorted((self.root / "workspaces").glob("*"))]:
                if folder.is_dir():
                    for tmp in folder.glob(_TMP_GLOB):
                        try:
                            tmp.unlink()
                        except OSError:
                            pass

    # ---- warnings (per thread: each Streamlit session runs its script in its own thread)
    def _warn(self, message: str) -> None:
        if not hasattr(self._local, "warnings"):
            self._local.warnings = []
        self._local.warnings.append(message)

    def take_warnings(self) -> list[str]:
        """Warnings recorded by this thread's calls since the last take (damaged files moved aside), cleared.

        A page calls this after using the store and shows each one (st.warning).
        """
        out = list(getattr(self._local, "warnings", []))
        self._local.warnings = []
        return out

    # ---- files
    def _ws_file(self, workspace: str) -> Path:
        return self.root / "workspaces" / safe_name(workspace or "default", "workspace") / "interventions.json"

    def _preset_file(self, name: str) -> Path:
        return self.root / "presets" / (safe_name(name, "preset name") + ".json")

    def _settings_file(self) -> Path:
        return self.root / "settings.json"

    def _move_aside(self, path: Path, why: str) -> Path | None:
        """Keep a damaged file for inspection under a name no other corruption can take; record a warning."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{uuid.uuid4().hex[:8]}")
        try:
            path.replace(aside)
        except FileNotFoundError:
            return None
        except OSError as exc:  # read-only folder: carry on without it, still say so
            self._warn(
                f"The saved file {path} could not be read ({why}) and could not be moved aside ({exc}); "
                "it is ignored. Delete or repair it."
            )
            return None
        self._warn(
            f"A saved file could not be read ({why}), so it was set aside and is ignored: the damaged copy is "
            f"{aside}. Anything it held is not shown; restore it from a backup if you need it."
        )
        return aside

    def _read(self, path: Path, default: Any, valid: Callable[[Any], bool] | None = None) -> Any:
        """JSON content of a state file, or ``default`` when it is absent. A file that cannot be read, or whose
        content fails ``valid`` (a shape check), is moved aside and ``default`` returned."""
        try:
            size = path.stat().st_size
            if size > MAX_STATE_FILE_BYTES:
                raise ValueError(f"{size / 1e6:.0f} MB, larger than any state file this app writes")
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return default
        except UnicodeDecodeError:
            why = "not UTF-8 text"
        except RecursionError:
            why = "JSON nested too deeply"
        except ValueError as exc:  # json.JSONDecodeError included
            why = f"not valid JSON: {str(exc)[:80]}"
        except OSError as exc:
            why = f"{type(exc).__name__}: {exc.strerror or exc}"
        else:
            if valid is None or valid(data):
                return data
            why = "unexpected content"
        self._move_aside(path, why)
        return default

    def _write(self, path: Path, data: object) -> None:
        atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8"))

    def _entries(self, workspace: str) -> list[dict]:
        """The saved entries (call under the lock). Entries of the wrong shape are dropped: the file as it was is
        moved aside (with a warning) and the readable entries are written back."""
        path = self._ws_file(workspace)
        data = self._read(
            path, {"interventions": []}, lambda d: isinstance(d, dict) and isinstance(d.get("interventions"), list)
        )
        entries = list(data.get("interventions", []))
        good = [e for e in entries if _entry_ok(e)]
        if len(good) < len(entries) and self._move_aside(
            path, f"{len(entries) - len(good)} of {len(entries)} entries are not interventions"
        ):
            self._save_entries(workspace, good)
        return good

    def _save_entries(self, workspace: str, entries: list[dict]) -> None:
        self._write(self._ws_file(workspace), {"workspace": workspace, "interventions": entries})

    # ---- interventions
    def list_interventions(self, workspace: str = "default") -> pd.DataFrame:
        """The workspace's interventions: id, dimension, segment, start_date (datetime), description."""
        with self._lock:
            entries = self._entries(workspace)
        df = pd.DataFrame(entries, columns=list(COLUMNS))
        for c in ("id", "dimension", "segment", "description"):
            df[c] = df[c].astype("string")
        df["start_date"] = pd.to_datetime(df["start_date"], errors="coerce").astype("datetime64[ns]")
        return df.sort_values(["start_date", "id"], kind="stable").reset_index(drop=True)

    def add_intervention(
        self, workspace: str, dimension: str, segment: str, start_date: object, description: str = ""
    ) -> str:
        """Validate and append one intervention; returns its new id."""
        clean, problems = _validate(
            {"dimension": dimension, "segment": segment, "start_date": start_date, "description": description}
        )
        _raise(problems)
        entry = {"id": uuid.uuid4().hex[:12], **clean}
        with self._lock:
            entries = self._entries(workspace)
            entries.append(entry)
            self._save_entries(workspace, entries)
        return entry["id"]

    def update_intervention(self, workspace: str, id: str, **fields: object) -> None:
        """Change some of dimension, segment, start_date, description of one intervention."""
        unknown = set(fields) - set(INTERVENTION_FIELDS)
        if unknown:
            _raise(
                [
                    _problem(
                        "Unknown field",
                        f"Cannot update {', '.join(sorted(unknown))}.",
                        f"Update only {', '.join(INTERVENTION_FIELDS)}.",
                    )
                ]
            )
        clean, problems = _validate(fields)
        _raise(problems)
        with self._lock:
            entries = self._entries(workspace)
            for e in entries:
                if e.get("id") == id:
                    e.update(clean)
                    break
            else:
                _raise(
                    [
                        _problem(
                            "Intervention not found",
                            f"No intervention with id '{id}' in this workspace.",
                            "Reload the page: it may have been deleted in another tab.",
                        )
                    ],
                    "Intervention not found",
                )
            self._save_entries(workspace, entries)

    def delete_intervention(self, workspace: str, id: str) -> None:
        """Remove one intervention by id."""
        with self._lock:
            entries = self._entries(workspace)
            kept = [e for e in entries if e.get("id") != id]
            if len(kept) == len(entries):
                _raise(
                    [
                        _problem(
                            "Intervention not found",
                            f"No intervention with id '{id}' in this workspace.",
                            "Reload the page: it may have been deleted in another tab.",
                        )
                    ],
                    "Intervention not found",
                )
            self._save_entries(workspace, kept)

    def import_interventions(self, workspace: str, df: pd.DataFrame) -> int:
        """Add every row of a table (dimension, segment, start_date[, description]); returns rows added.

        All rows are checked first and every problem is reported at once (nothing is saved if any row
        is bad). Rows identical to an existing entry (same dimension, segment, start date) are skipped.
        """
        if df is None or len(df) == 0:
            return 0
        cols = {str(c).strip().lower().replace(" ", "_"): c for c in df.columns}
        missing = [c for c in ("dimension", "segment", "start_date") if c not in cols]
        if missing:
            _raise(
                [
                    _problem(
                        "Missing columns",
                        f"The interventions table has no {', '.join(missing)} column.",
                        "Use the columns dimension, segment, start_date and (optionally) description.",
                        examples=list(df.columns)[:5],
                    )
                ],
                "Interventions not imported",
            )
        new, problems = [], []
        for i, rec in enumerate(df.to_dict("records"), start=1):
            fields = {k: rec[cols[k]] for k in INTERVENTION_FIELDS if k in cols}
            clean, probs = _validate(fields, row=str(i))
            problems += probs
            clean.setdefault("description", "")
            new.append(clean)
        _raise(problems, "Interventions not imported")
        with self._lock:
            entries = self._entries(workspace)
            seen = {(e.get("dimension"), e.get("segment"), e.get("start_date")) for e in entries}
            added = 0
            for clean in new:
                key = (clean["dimension"], clean["segment"], clean["start_date"])
                if key in seen:
                    continue
                seen.add(key)
                entries.append({"id": uuid.uuid4().hex[:12], **clean})
                added += 1
            if added:
                self._save_entries(workspace, entries)
        return added

    # ---- mapping presets
    def save_preset(self, name: str, mapping_json: str) -> None:
        """Save a column-mapping preset (JSON text, stored verbatim) under a name; overwrites."""
        try:
            json.loads(mapping_json)
        except (TypeError, json.JSONDecodeError) as e:
            raise InputError(
                "Preset not saved",
                f"The mapping for preset '{name}' is not valid JSON ({e}). "
                "Save the mapping from the upload page again.",
            ) from e
        with self._lock:
            self._write(self._preset_file(name), {"name": name.strip(), "mapping": mapping_json})

    def list_presets(self) -> list[str]:
        """Names of saved presets, alphabetically."""
        folder = self.root / "presets"
        names = []
        with self._lock:
            for p in sorted(folder.glob("*.json")) if folder.exists() else []:
                data = self._read(p, None, _preset_ok)
                if data is not None:
                    names.append(str(data["name"]))
        return sorted(names, key=str.lower)

    def load_preset(self, name: str) -> str:
        """The mapping JSON saved under ``name``."""
        with self._lock:
            data = self._read(self._preset_file(name), None, _preset_ok)
        if data is None:
            have = self.list_presets()
            raise InputError(
                "Preset not found",
                f"There is no saved preset called '{name}'. "
                + (f"Saved presets: {', '.join(have)}." if have else "No presets are saved yet."),
            )
        return str(data["mapping"])

    def delete_preset(self, name: str) -> None:
        """Delete a preset (and forget it as the last preset)."""
        with self._lock:
            path = self._preset_file(name)
            if not path.exists():
                raise InputError("Preset not found", f"There is no saved preset called '{name}'.")
            path.unlink()
            if self.get_last_preset() == name.strip():
                self.set_last_preset(None)

    def get_last_preset(self) -> str | None:
        """Name of the preset used last, or None."""
        with self._lock:
            data = self._read(self._settings_file(), {}, _settings_ok)
        v = data.get("last_preset")
        return str(v) if v else None

    def set_last_preset(self, name: str | None) -> None:
        """Remember (or with None, forget) the preset used last."""
        with self._lock:
            data = self._read(self._settings_file(), {}, _settings_ok)
            data["last_preset"] = name.strip() if name else None
            self._write(self._settings_file(), data)

    last_preset = property(get_last_preset, set_last_preset)
