"""Small canonical Datasets built in tests from plain rows (shared by the engine and reasons tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.model import Dataset
from data.schema import CATALOG, INTERVENTIONS, ORDERS, RETURNS


def _frame(table, rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    data = {}
    for c in table.columns:
        if isinstance(rows, pd.DataFrame):
            vals = list(rows[c.name]) if c.name in rows.columns else [c.default] * len(rows)
        else:
            vals = [r.get(c.name, c.default) for r in rows]
        if c.dtype == "date":
            data[c.name] = pd.to_datetime(pd.Series(vals, dtype=object)).astype("datetime64[ns]")
        elif c.dtype == "int":
            data[c.name] = pd.Series([1 if v is None else v for v in vals], dtype="int64")
        elif c.dtype == "float":
            data[c.name] = pd.Series([np.nan if v is None else v for v in vals], dtype="float64")
        else:
            data[c.name] = pd.Series(vals, dtype="string")
    return pd.DataFrame(data)


def make_dataset(
    order_rows: list[dict] | pd.DataFrame, return_rows: list[dict] | pd.DataFrame, name: str = "test"
) -> Dataset:
    """A canonical Dataset from plain dicts (missing optional columns are entirely missing)."""
    empty_rej = pd.DataFrame({c: pd.Series(dtype="string") for c in ("file", "row", "kind", "reason", "data")})
    return Dataset(
        name=name,
        orders=_frame(ORDERS, order_rows),
        returns=_frame(RETURNS, return_rows),
        catalog=_frame(CATALOG, []),
        interventions=_frame(INTERVENTIONS, []),
        files=(),
        rejected=empty_rej,
        unmatched_returns=_frame(RETURNS, []),
        excluded=_frame(ORDERS, []),
    )


# one wholesale order at a fair: 5,000 units of S1, 4,800 sent back on one credit note (the real Online Retail II
# export holds such orders); the fix-list and method-sheet tests plant it among ordinary orders
WHOLESALE_ORDER = {
    "order_id": "BIG",
    "order_date": "2024-01-05",
    "sku": "S1",
    "quantity": 5000,
    "unit_price": 10.0,
    "channel": "Fair",
    "customer_id": "wholesaler",
}
WHOLESALE_RETURN = {"order_id": "BIG", "sku": "S1", "quantity": 4800}
