"""The README's promises checked against the files that keep them (STYLE habit 14)."""

import json
import re
import tomllib

from data.mapping import Mapping
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_two_commands_come_first_and_exist():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "PORT" in makefile  # make run PORT=...
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_documented_server_settings():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["showErrorDetails"] == "none"
    # a 1,048,576-row sheet of ~40 columns is a few hundred MB
    assert cfg["server"]["maxUploadSize"] >= 300


def test_mapping_example_in_readme_is_a_valid_mapping():
    block = README.split("### Mapping file", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    m = Mapping.from_json(block)
    assert m.tables["orders"]["order_id"] == "Order Number"
    assert json.loads(m.to_json())["settings"]["credit_note_prefix"] == "C"
    assert m.columns_for("erp_orders.csv", None, "orders") == {
        "order_id": "Beleg",
        "order_date": "Datum",
        "sku": "Artikel",
        "quantity": "Menge",
    }


def test_readme_screenshots_exist():
    for name in re.findall(r"\]\((docs/[^)]+\.png)\)", README):
        assert (ROOT / name).is_file(), name
