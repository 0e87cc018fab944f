"""data.state: the persistent interventions log and mapping presets."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pytest

from data.errors import InputError
from data.state import KNOWN_DIMENSIONS, StateStore, default_root, safe_name


@pytest.fixture
def store(tmp_path):
    return StateStore(tmp_path / "state")


def test_round_trip_and_survives_restart(store):
    a = store.add_intervention("ws1", "collection", "Hiking Jackets", "2024-03-01", "fit video")
    b = store.add_intervention("ws1", "channel", "app", pd.Timestamp("2024-01-15"))
    again = StateStore(store.root)  # a new instance = the server restarted
    df = again.list_interventions("ws1")
    assert df["id"].tolist() == [b, a]  # sorted by start date
    assert df["segment"].tolist() == ["app", "Hiking Jackets"]
    assert df["start_date"].tolist() == [pd.Timestamp("2024-01-15"), pd.Timestamp("2024-03-01")]
    assert df.loc[1, "description"] == "fit video"
    assert str(df["start_date"].dtype) == "datetime64[ns]"


def test_workspaces_are_separate(store):
    store.add_intervention("hash-aaa", "collection", "A", "2024-03-01")
    store.add_intervention("hash-bbb", "collection", "B", "2024-03-01")
    assert store.list_interventions("hash-aaa")["segment"].tolist() == ["A"]
    assert store.list_interventions("hash-bbb")["segment"].tolist() == ["B"]
    assert store.list_interventions("never-used").empty
    assert list(store.list_interventions("never-used").columns) == [
        "id",
        "dimension",
        "segment",
        "start_date",
        "description",
    ]


def test_update_and_delete(store):
    i = store.add_intervention("default", "collection", "Fleece", "2024-03-01")
    store.update_intervention("default", i, start_date="2024-04-02", description="new photos")
    row = StateStore(store.root).list_interventions("default").iloc[0]
    assert row["start_date"] == pd.Timestamp("2024-04-02") and row["description"] == "new photos"
    store.delete_intervention("default", i)
    assert store.list_interventions("default").empty
    with pytest.raises(InputError, match="Intervention not found"):
        store.delete_intervention("default", i)
    with pytest.raises(InputError, match="Intervention not found"):
        store.update_intervention("default", "nope", segment="x")


@pytest.mark.parametrize(
    "kwargs, title, words",
    [
        (dict(dimension="colour", segment="Red", start_date="2024-01-01"), "Unknown dimension", "collection"),
        (dict(dimension="collection", segment="  ", start_date="2024-01-01"), "Missing segment", "segment"),
        (
            dict(dimension="collection", segment="A", start_date="next tuesday"),
            "Start date not understood",
            "YYYY-MM-DD",
        ),
        (dict(dimension="collection", segment="A", start_date=""), "Missing start date", "YYYY-MM-DD"),
    ],
)
def test_bad_input_messages_name_field_and_fix(store, kwargs, title, words):
    with pytest.raises(InputError) as e:
        store.add_intervention("default", **kwargs)
    p = e.value.problems[0]
    assert p.title == title
    assert p.column in ("dimension", "segment", "start_date")
    assert words in p.fix
    assert store.list_interventions("default").empty


def test_update_rejects_unknown_fields(store):
    i = store.add_intervention("default", "collection", "A", "2024-01-01")
    with pytest.raises(InputError, match="Unknown field|Cannot update"):
        store.update_intervention("default", i, colour="red")
    with pytest.raises(InputError):
        store.update_intervention("default", i, dimension="weather")


def test_import_validates_all_rows_and_skips_duplicates(store):
    good = pd.DataFrame(
        {
            "Dimension": ["collection", "Collection", "channel"],
            "Segment": ["A", "A", "web"],
            "Start Date": ["2024-01-01", "2024-01-01", "2024-02-01"],
            "description": [None, "dup", "x"],
        }
    )
    assert store.import_interventions("ws", good) == 2  # the second row duplicates the first
    assert store.import_interventions("ws", good) == 0
    bad = pd.DataFrame(
        {"dimension": ["collection", "planet"], "segment": ["B", "C"], "start_date": ["31/31/2024", "2024-01-01"]}
    )
    with pytest.raises(InputError) as e:
        store.import_interventions("ws", bad)
    titles = {p.title for p in e.value.problems}
    assert titles == {"Start date not understood", "Unknown dimension"}
    assert "row 1" in e.value.problems[0].message or "row 1" in e.value.problems[1].message
    assert len(store.list_interventions("ws")) == 2  # nothing from the bad table was saved
    with pytest.raises(InputError, match="segment"):
        store.import_interventions("ws", pd.DataFrame({"dimension": ["collection"], "start_date": ["2024-01-01"]}))


def test_concurrent_adds_from_threads_lose_nothing(store):
    n_threads, per_thread = 8, 15

    def work(k):
        s = StateStore(store.root)  # each Streamlit session has its own instance
        for j in range(per_thread):
            s.add_intervention("shared", "collection", f"C{k}-{j}", "2024-01-01")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    df = StateStore(store.root).list_interventions("shared")
    assert len(df) == n_threads * per_thread
    assert df["id"].is_unique


def test_presets_round_trip(store):
    m = json.dumps({"order_id": "Invoice", "order_date": "InvoiceDate"})
    store.save_preset("Online Retail II", m)
    store.save_preset("shopify", "{}")
    s2 = StateStore(store.root)
    assert s2.list_presets() == ["Online Retail II", "shopify"]
    assert s2.load_preset("Online Retail II") == m
    s2.last_preset = "shopify"
    assert StateStore(store.root).get_last_preset() == "shopify"
    s2.delete_preset("shopify")
    assert s2.list_presets() == ["Online Retail II"]
    assert s2.get_last_preset() is None
    with pytest.raises(InputError, match="Preset not found"):
        s2.load_preset("shopify")
    with pytest.raises(InputError, match="not valid JSON"):
        s2.save_preset("x", "{not json")


def test_names_are_sanitised_for_paths(store):
    store.save_preset("../../etc/passwd", "{}")
    store.add_intervention("../evil", "collection", "A", "2024-01-01")
    for p in store.root.rglob("*"):
        assert store.root in p.resolve().parents or p.resolve() == store.root
    assert store.list_presets() == ["../../etc/passwd"]
    assert safe_name("a/b") != safe_name("a_b")
    with pytest.raises(InputError, match="Empty"):
        safe_name("   ", "preset name")


def test_corrupt_file_is_moved_aside_not_lost(store):
    store.add_intervention("ws", "collection", "A", "2024-01-01")
    f = next(store.root.rglob("interventions.json"))
    f.write_text("{broken")
    assert store.list_interventions("ws").empty
    assert list(f.parent.glob("interventions.json.corrupt-*"))


def test_state_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RI_STATE_DIR", str(tmp_path / "env-state"))
    assert default_root() == tmp_path / "env-state"
    assert StateStore().root == tmp_path / "env-state"
    monkeypatch.delenv("RI_STATE_DIR")
    assert default_root().name == ".returns-intelligence"
    assert "collection" in KNOWN_DIMENSIONS
