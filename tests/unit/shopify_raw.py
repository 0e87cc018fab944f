"""A generated Shopify orders export read back as raw text, and which of its lines the loader must set aside,
told from the export's own columns with pandas (the expected values of the tests, never the loader's code)."""

from __future__ import annotations

import io

import pandas as pd

from data.shopify_sample import generate_shopify_export


def raw_export(seed: int, n_orders: int) -> tuple[str, bytes, pd.DataFrame]:
    """(file name, bytes, every cell as text) of the first file of a generated export."""
    files, _ = generate_shopify_export(seed=seed, n_orders=n_orders)
    name, content = next(iter(files.items()))
    return name, content, pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)


def order_kinds(raw: pd.DataFrame) -> pd.DataFrame:
    """Per line of the export: cancelled (cancelled or voided order), exchange (an exchange order a returns app
    made, tagged so) and live (neither), read off the order's first line as Shopify writes order fields there."""
    first = raw.groupby("Name")[["Cancelled at", "Financial Status", "Tags"]].transform("first")
    cancelled = (first["Cancelled at"] != "") | (first["Financial Status"] == "voided")
    exchange = first["Tags"].str.contains("exchange", case=False)
    return pd.DataFrame({"cancelled": cancelled, "exchange": exchange, "live": ~cancelled & ~exchange})
