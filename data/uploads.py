"""Uploaded data kept on the server for one browser, so a refresh or a server restart does not lose it.

Each browser gets a private random key (kept in the page URL by the dashboard); its current dataset
lives under the state directory (data.state.default_root(), ``RI_STATE_DIR``):

    <root>/uploads/<key>/dataset.json      what identifies the dataset: files (name, sha256, role, sheet),
                                           the mapping JSON, a display name, and the browser's filters
    <root>/uploads/<key>/<sha256>          the uploaded bytes, one file per content hash

Only keys made by new_key() (URL-safe, 22-64 characters) are accepted, so a key never names a path
outside the folder. Bytes are checked against their hash when read back. Writes are atomic
(temporary file + os.replace). remove() deletes everything stored for a key.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard

from data.state import atomic_write, default_root

_KEY = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def new_key() -> str:
    """A private random key for one browser (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def valid_key(key: object) -> TypeGuard[str]:
    """A browser key as new_key makes it (so, a str: callers pass it on as one once this is true)."""
    return isinstance(key, str) and bool(_KEY.match(key))


@dataclass(frozen=True)
class StoredUpload:
    """What was stored for a browser: the dataset description (plain JSON) and the bytes by sha256."""

    dataset: dict
    contents: dict = field(default_factory=dict)


class UploadStore:
    """Per-browser storage of the current uploaded dataset.

    >>> import tempfile
    >>> s = UploadStore(tempfile.mkdtemp())
    >>> k = new_key()
    >>> s.save(k, {"kind": "upload", "files": [{"name": "a.csv", "sha256": hashlib.sha256(b"x").hexdigest()}]},
    ...        {hashlib.sha256(b"x").hexdigest(): b"x"})
    >>> s.load(k).contents[hashlib.sha256(b"x").hexdigest()]
    b'x'
    >>> s.remove(k); s.load(k) is None
    True
    """

    def __init__(self, root: Path | str | None = None):
        self.root = (Path(root).expanduser() if root is not None else default_root()) / "uploads"

    def _dir(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError("Not a valid browser key.")
        return self.root / key

    @staticmethod
    def _atomic(path: Path, data: bytes) -> None:
        atomic_write(path, data)

    def save(self, key: str, dataset: dict, contents: dict[str, bytes] | None = None) -> None:
        """Store the dataset description and the bytes of every file it names (others are removed)."""
        d = self._dir(key)
        needed = {str(f.get("sha256")) for f in dataset.get("files", [])}
        for sha in needed:
            if not _SHA.match(sha):
                raise ValueError("A file hash is not a sha256 hex digest.")
            target = d / sha
            if target.exists():
                continue
            data = (contents or {}).get(sha)
            if data is None:
                raise KeyError(f"The bytes of file {sha[:12]} were not given.")
            if hashlib.sha256(data).hexdigest() != sha:
                raise ValueError("The bytes do not match their hash.")
            self._atomic(target, data)
        self._atomic(d / "dataset.json", json.dumps(dataset, ensure_ascii=False, default=str).encode("utf-8"))
        for p in d.iterdir():
            if _SHA.match(p.name) and p.name not in needed:
                p.unlink(missing_ok=True)

    def load(self, key: str) -> StoredUpload | None:
        """What is stored for ``key``, or None (unknown key, nothing stored, damaged or missing bytes)."""
        if not valid_key(key):
            return None
        d = self.root / key
        try:
            dataset = json.loads((d / "dataset.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return None
        if not isinstance(dataset, dict):
            return None
        contents = {}
        for f in dataset.get("files", []):
            sha = str(f.get("sha256"))
            if not _SHA.match(sha):
                return None
            try:
                data = (d / sha).read_bytes()
            except FileNotFoundError:
                return None
            if hashlib.sha256(data).hexdigest() != sha:
                return None
            contents[sha] = data
        return StoredUpload(dataset, contents)

    def update(self, key: str, **fields: object) -> None:
        """Change top-level fields of a stored dataset description (e.g. filters); no-op when none is stored."""
        if not valid_key(key):
            return
        path = self.root / key / "dataset.json"
        try:
            dataset = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return
        dataset.update(fields)
        self._atomic(path, json.dumps(dataset, ensure_ascii=False, default=str).encode("utf-8"))

    def remove(self, key: str) -> None:
        """Delete everything stored for ``key`` (no error when nothing is)."""
        if valid_key(key):
            shutil.rmtree(self.root / key, ignore_errors=True)
