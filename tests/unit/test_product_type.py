"""Orders without a category get the apparel product type read from their product names (data.layouts.
product_type_from_name), so collections and sizes are compared within their type: jeans with jeans.

Seen on generated Shopify exports (no category column, Vendor = the fit): jeans collections were compared with
every tee and belt and listed on 8 of 40 null fix lists (jeans return 0.085, tees 0.05: product type, not a
finding about the collection).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.engine import analyse
from analysis.prepare import prepare
from data.ingest import SourceFile, load_dataset
from data.layouts import product_type_from_name
from data.shopify_sample import generate_shopify_export


def test_types_from_names_and_none_when_names_do_not_carry_one():
    names = pd.Series(["Skinny Jean - Indigo / 32", "Classic Denim Jacket", "Linen Dress - S", "Pocket Tee", None])
    # the right-most keyword names the type: a denim jacket is outerwear
    assert product_type_from_name(names).tolist()[:4] == ["Jeans", "Outerwear", "Dresses", "T-shirts"]
    assert pd.isna(product_type_from_name(names).iloc[4])
    # homeware (the real Online Retail II file's kind of names): not apparel, no type invented
    home = pd.Series(["WHITE HANGING HEART T-LIGHT HOLDER", "JUMBO BAG RED RETROSPOT", "REGENCY CAKESTAND 3 TIER"])
    assert product_type_from_name(home) is None
    # one type only: nothing to compare within
    assert product_type_from_name(pd.Series(["Skinny Jean", "Slim Jean"])) is None
    # weighted by units: 1 tee line of 10 units among 3 unrecognised single units is 10 / 13 recognised
    mixed = pd.Series(["Pocket Tee", "Gift card", "Gift card", "Slim Jean"])
    assert product_type_from_name(mixed, pd.Series([10, 1, 1, 1])) is not None
    assert product_type_from_name(mixed, pd.Series([1, 10, 10, 1])) is None


def test_shopify_collections_are_compared_within_their_product_type():
    files, truth = generate_shopify_export(seed=5, n_orders=3000)
    ds = load_dataset([SourceFile(n, c) for n, c in files.items()])
    assert any("product type read from the product names" in n for n in ds.notes)
    # every merchandise line typed as the generator's product family (its product names say it)
    fam = {"Jean": "Jeans", "Tee": "T-shirts", "Pant": "Trousers", "Belt": "Accessories"}
    expected = ds.orders["product_name"].map(lambda s: next(v for k, v in fam.items() if k in str(s)))
    assert (ds.orders["category"].astype(object) == expected.astype(object)).all()
    a = analyse(prepare(ds), briefs=False)
    row = a.fix_list[(a.fix_list["dimension"] == "collection") & (a.fix_list["segment"] == "SKINNY")].iloc[0]
    assert row["reference"] == "category: Jeans"  # the planted fit, against the other jeans
    # the comparison rate is the other jeans' refunded units / units, recomputed from the lines
    L = prepare(ds).mature_lines
    other = L[(L["category"] == "Jeans") & (L["collection"] != "SKINNY")]
    assert row["baseline_rate"] == pytest.approx(other["returned_units"].sum() / other["quantity"].sum())


def test_a_file_with_its_own_category_keeps_it():
    rows = ["Order ID,SKU,Product,Quantity,Price,Order Date,Category"]
    rows += [f"A{i},SJ-{i % 3},Skinny Jean,1,50,2025-03-0{1 + i % 9},Bottoms" for i in range(20)]
    rows += [f"B{i},PT-{i % 3},Pocket Tee,1,20,2025-03-0{1 + i % 9},Tops" for i in range(20)]
    ds = load_dataset([SourceFile("orders.csv", "\n".join(rows).encode())])
    assert set(ds.orders["category"].astype(object)) == {"Bottoms", "Tops"}  # the file's own, not Jeans/T-shirts
    assert not any("product type read from the product names" in n for n in ds.notes)
