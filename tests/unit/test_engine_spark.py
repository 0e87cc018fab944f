"""The same counting queries on two engines: DuckDB (default) and Apache Spark (local[2]).

`python -m analysis report` runs on canonical tables written as Parquet, once with --engine duckdb and
once with --engine spark (the SQL of analysis/sql transpiled by SQLGlot), on a dataset with a planted
effect and on a null one (bench.calibration.frailty_dataset). The JSON must carry identical counts for
every segment and the identical fix list; the planted collection must be on it (simulation truth), and
the null dataset's list empty. One SparkSession serves the module (pyspark from requirements-spark.txt,
Java 17 from Debian's openjdk-17-jre-headless).
"""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (openjdk-17-jre-headless)", allow_module_level=True)

from analysis import cli  # noqa: E402
from bench.calibration import Plant, frailty_dataset  # noqa: E402

PLANT = Plant(collection="Lighting C", collection_mult=2.0)


@pytest.fixture(scope="module")
def spark():
    from data.engine_sql import spark_session

    s = spark_session()
    yield s
    s.stop()


def _tables(ds, folder):
    folder.mkdir()
    paths = {}
    for role in ("orders", "returns"):
        paths[role] = str(folder / f"{role}.parquet")
        # microsecond timestamps: Spark reads no nanosecond Parquet timestamps (pandas writes ns by default)
        getattr(ds, role).to_parquet(paths[role], index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
    return paths


def _report(paths, engine, out, capsys):
    code = cli.main(
        [
            "report",
            "--engine",
            engine,
            "--orders-table",
            paths["orders"],
            "--returns-table",
            paths["returns"],
            "--cost-per-return",
            "40",
            "--json",
            str(out),
        ]
    )
    capsys.readouterr()
    assert code == 0
    return json.loads(out.read_text())


@pytest.mark.parametrize("name,seed,plant", [("planted", 11, PLANT), ("null", 12, None)])
def test_duckdb_and_spark_agree(spark, tmp_path, capsys, name, seed, plant):
    paths = _tables(frailty_dataset(seed, 5000, plant=plant), tmp_path / name)
    duck = _report(paths, "duckdb", tmp_path / "duck.json", capsys)
    spk = _report(paths, "spark", tmp_path / "spark.json", capsys)
    key = ("dimension", "segment", "n", "returned", "test", "verdict", "reference")
    assert [tuple(r[k] for k in key) for r in duck["segments"]] == [tuple(r[k] for k in key) for r in spk["segments"]]
    for a, b in zip(duck["segments"], spk["segments"]):
        assert a["deff"] == pytest.approx(b["deff"], rel=1e-9)
        assert (a["p_value"] is None) == (b["p_value"] is None)
        if a["p_value"] is not None:
            assert a["p_value"] == pytest.approx(b["p_value"], rel=1e-9, abs=1e-300)
    fix = ("rank", "dimension", "segment")
    assert [tuple(r[k] for k in fix) for r in duck["fix_list"]] == [tuple(r[k] for k in fix) for r in spk["fix_list"]]
    listed = {(r["dimension"], r["segment"]) for r in spk["fix_list"]}
    if plant is None:
        assert not listed  # every unit returns at the same rate: nothing to fix (simulation truth)
    else:
        assert ("collection", "Lighting C") in listed  # the planted 2x collection (simulation truth)
