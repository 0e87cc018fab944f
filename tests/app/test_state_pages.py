"""AppTest: a damaged state file never breaks a page; the page says it was set aside and where the copy is."""

from __future__ import annotations

from tests.app.conftest import run_page


def test_binary_preset_file_does_not_break_upload_and_map(tmp_path):
    root = tmp_path / "state"  # RI_STATE_DIR of the autouse _state_dir fixture
    (root / "presets").mkdir(parents=True)
    (root / "presets" / "junk.json").write_bytes(bytes(range(256)) * 4)
    at = run_page("views/upload.py")
    assert not at.exception, [e.value for e in at.exception]
    shown = [w.value.replace("\\", "") for w in at.warning if "set aside" in w.value]  # markdown escapes removed
    assert len(shown) == 1 and "junk.json.corrupt-" in shown[0]
    assert list((root / "presets").glob("junk.json.corrupt-*"))


def test_wrong_shape_log_does_not_break_interventions(tmp_path):
    root = tmp_path / "state"
    f = root / "workspaces" / "demo" / "interventions.json"  # the demo dataset's workspace
    f.parent.mkdir(parents=True)
    f.write_text('{"interventions": {"not": "a list"}}')
    at = run_page("views/interventions.py")
    assert not at.exception, [e.value for e in at.exception]
    shown = [w.value.replace("\\", "") for w in at.warning]  # markdown escapes removed
    assert any("set aside" in w and "interventions.json.corrupt-" in w for w in shown)
    assert at.title[0].value == "Interventions"
