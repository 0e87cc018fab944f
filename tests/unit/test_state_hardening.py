"""data.state under a busy team and a hostile disk: several processes writing at once lose nothing, and a
damaged state file (binary, UTF-16, deeply nested, wrong shape, truncated) never raises - it is moved aside
under a unique name and a warning says where the copy is. Orphaned temporary files are cleaned at start."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest

from data.state import StateStore

N_PROCS, N_ADDS = 4, 50


def _add_many(root: str, who: int) -> None:
    store = StateStore(root)
    for i in range(N_ADDS):
        store.add_intervention("shared", "collection", f"P{who}-{i}", "2024-03-01")


def _save_presets(root: str, who: int) -> None:
    store = StateStore(root)
    for i in range(N_ADDS):
        store.save_preset(f"p{who}-{i}", '{"tables": {}}')
        store.set_last_preset(f"p{who}-{i}")


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_several_processes_adding_at_once_lose_nothing(tmp_path, start):
    # before the cross-process lock: 4 x 100 adds left 108 entries (issue 13, finding 1)
    root = str(tmp_path / "state")
    ctx = mp.get_context(start)
    procs = [ctx.Process(target=_add_many, args=(root, k)) for k in range(N_PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * N_PROCS
    df = StateStore(root).list_interventions("shared")
    assert len(df) == N_PROCS * N_ADDS
    assert set(df["segment"]) == {f"P{k}-{i}" for k in range(N_PROCS) for i in range(N_ADDS)}
    assert df["id"].is_unique
    assert not list(Path(root).rglob("*.tmp")) and not list(Path(root).rglob("*.corrupt-*"))


def test_several_processes_saving_presets_keep_every_one(tmp_path):
    root = str(tmp_path / "state")
    procs = [mp.get_context("fork").Process(target=_save_presets, args=(root, k)) for k in range(N_PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * N_PROCS
    store = StateStore(root)
    assert len(store.list_presets()) == N_PROCS * N_ADDS
    assert store.get_last_preset() in {f"p{k}-{N_ADDS - 1}" for k in range(N_PROCS)}
    assert not list(Path(root).rglob("*.corrupt-*"))


BAD_CONTENT = {
    "binary": bytes(range(256)) * 4,
    "utf16": json.dumps({"name": "x", "mapping": "{}"}).encode("utf-16"),
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "truncated": b'{"name": "x", "mapp',
    "list": b"[1, 2, 3]",
    "wrong_types": b'{"name": 3, "mapping": {"a": 1}}',
    "empty": b"",
}


@pytest.mark.parametrize("kind", sorted(BAD_CONTENT))
def test_bad_preset_file_is_moved_aside_with_a_warning(tmp_path, kind):
    store = StateStore(tmp_path / "state")
    store.save_preset("good", '{"tables": {}}')
    bad = store.root / "presets" / "bad.json"
    bad.write_bytes(BAD_CONTENT[kind])
    assert store.list_presets() == ["good"]  # no exception; the good preset still listed
    warnings = store.take_warnings()
    assert len(warnings) == 1 and "bad.json.corrupt-" in warnings[0] and "set aside" in warnings[0]
    aside = list((store.root / "presets").glob("bad.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == BAD_CONTENT[kind]  # kept byte for byte
    assert str(aside[0]) in warnings[0]
    assert not bad.exists()
    assert store.take_warnings() == []  # taken once
    assert store.list_presets() == ["good"] and store.take_warnings() == []


@pytest.mark.parametrize("kind", sorted(BAD_CONTENT))
def test_bad_interventions_file_never_raises(tmp_path, kind):
    store = StateStore(tmp_path / "state")
    store.add_intervention("ws", "collection", "A", "2024-01-01")
    f = next(store.root.rglob("interventions.json"))
    f.write_bytes(BAD_CONTENT[kind])
    df = store.list_interventions("ws")
    assert df.empty and list(df.columns) == ["id", "dimension", "segment", "start_date", "description"]
    assert len(store.take_warnings()) == 1
    assert len(list(f.parent.glob("interventions.json.corrupt-*"))) == 1
    store.add_intervention("ws", "collection", "B", "2024-02-01")  # and the log works again
    assert store.list_interventions("ws")["segment"].tolist() == ["B"]


def test_bad_entries_are_dropped_and_the_rest_kept(tmp_path):
    # wrong-shape entries raised in list_interventions before (issue 13, finding 4)
    store = StateStore(tmp_path / "state")
    keep = store.add_intervention("ws", "collection", "A", "2024-01-01")
    f = next(store.root.rglob("interventions.json"))
    data = json.loads(f.read_text())
    data["interventions"] += ["oops", 7, {"id": 5}, {"id": "x", "segment": ["a"]}]
    f.write_text(json.dumps(data))
    df = store.list_interventions("ws")
    assert df["id"].tolist() == [keep]
    (w,) = store.take_warnings()
    assert "4 of 5 entries" in w
    assert json.loads(f.read_text())["interventions"][0]["id"] == keep  # cleaned file written back
    assert len(list(f.parent.glob("interventions.json.corrupt-*"))) == 1


def test_bad_settings_file_does_not_break_last_preset(tmp_path):
    store = StateStore(tmp_path / "state")
    (store.root).mkdir(parents=True)
    (store.root / "settings.json").write_text('{"last_preset": {"nested": 1}}')
    assert store.get_last_preset() is None
    store.set_last_preset("A")
    assert store.get_last_preset() == "A"
    assert len(store.take_warnings()) == 1


def test_two_corruptions_in_one_second_keep_both_copies(tmp_path):
    store = StateStore(tmp_path / "state")
    store.add_intervention("ws", "collection", "A", "2024-01-01")
    f = next(store.root.rglob("interventions.json"))
    for text in ("{broken one", "{broken two"):
        f.write_text(text)
        store.list_interventions("ws")
    kept = sorted(p.read_text() for p in f.parent.glob("interventions.json.corrupt-*"))
    assert kept == ["{broken one", "{broken two"]


def test_orphaned_temporary_files_are_cleaned_at_start(tmp_path):
    store = StateStore(tmp_path / "state")
    store.add_intervention("ws", "collection", "A", "2024-01-01")
    store.save_preset("p", "{}")
    ws_dir = next(store.root.rglob("interventions.json")).parent
    orphans = [
        ws_dir / ".interventions.json.abc123.tmp",
        store.root / "presets" / ".p.json.x.tmp",
        store.root / ".settings.json.y.tmp",
    ]
    for o in orphans:
        o.write_text("half a write")
    other = store.root / "presets" / "notes.tmp"  # not one of ours (no leading dot): left alone
    other.write_text("x")
    StateStore(store.root)  # the server starts again
    assert not any(o.exists() for o in orphans)
    assert other.exists()
    assert store.list_interventions("ws")["segment"].tolist() == ["A"]


def test_read_only_state_folder_still_reads(tmp_path, monkeypatch):
    import data.state

    store = StateStore(tmp_path / "state")
    store.add_intervention("ws", "collection", "A", "2024-01-01")
    store.save_preset("p", "{}")
    real_open = data.state.os.open

    def read_only(path, *a, **k):  # the lock file cannot be created, as in a read-only folder
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(data.state.os, "open", read_only)
    again = StateStore(store.root)
    assert again.list_interventions("ws")["segment"].tolist() == ["A"]
    assert again.list_presets() == ["p"]
