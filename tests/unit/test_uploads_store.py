"""data.uploads: a browser's uploaded data kept on the server under a private key."""

from __future__ import annotations

import hashlib

import pytest

from data.uploads import UploadStore, new_key, valid_key


def _ds(*blobs: bytes) -> tuple[dict, dict]:
    files = [
        {"name": f"f{i}.csv", "sha256": hashlib.sha256(b).hexdigest(), "role": None, "sheet": None}
        for i, b in enumerate(blobs)
    ]
    return {"kind": "upload", "name": "x", "files": files}, {f["sha256"]: b for f, b in zip(files, blobs)}


def test_round_trip_update_and_remove(tmp_path):
    s, k = UploadStore(tmp_path), new_key()
    ds, contents = _ds(b"a,b\n1,2\n", b"other")
    s.save(k, ds, contents)
    back = UploadStore(tmp_path).load(k)  # a new store object: as after a server restart
    assert back.dataset["files"] == ds["files"] and back.contents == contents
    s.update(k, filters={"flt_channels": ["web"]})
    assert s.load(k).dataset["filters"] == {"flt_channels": ["web"]}
    # saving a dataset that no longer names a file removes its bytes
    ds2, c2 = _ds(b"other")
    s.save(k, ds2, c2)
    assert sorted(p.name for p in (tmp_path / "uploads" / k).iterdir()) == sorted(["dataset.json", *c2])
    s.remove(k)
    assert s.load(k) is None and not (tmp_path / "uploads" / k).exists()


def test_keys_are_private_and_cannot_name_other_paths(tmp_path):
    s = UploadStore(tmp_path)
    assert valid_key(new_key()) and new_key() != new_key()
    for bad in ("../../etc", "a/b" * 10, "", None, "x" * 10):
        assert not valid_key(bad)
        assert s.load(bad) is None
    with pytest.raises(ValueError):
        s.save("../escape-attempt-1234567890", *_ds(b"x"))


def test_damaged_or_missing_bytes_are_not_used(tmp_path):
    s, k = UploadStore(tmp_path), new_key()
    ds, contents = _ds(b"payload")
    s.save(k, ds, contents)
    sha = ds["files"][0]["sha256"]
    (tmp_path / "uploads" / k / sha).write_bytes(b"tampered")
    assert s.load(k) is None
    with pytest.raises(ValueError):
        s.save(new_key(), ds, {sha: b"not the bytes of that hash"})
    with pytest.raises(KeyError):
        s.save(new_key(), ds, {})
