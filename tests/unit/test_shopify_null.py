"""The Shopify generator's null mode (effects=False) plants nothing but keeps the product types' base rates.

Used by bench/calibration_shopify.py. Expected values are written out from the generator's specification
(data/shopify_sample.py docstring: jeans 0.085, tees 0.05, carpenter 0.09, belts 0.03; Nordstrom 3x, SKINNY
2.2x, NA40 2x, insurance 1.6x, bracketing extra sizes 0.5) and, for the default export, from the bytes the
generator wrote before the keyword existed.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from data.shopify_sample import generate_shopify_export

BASE = {"jean": 0.085, "tee": 0.05, "carpenter": 0.09, "belt": 0.03}


def _family(product: str) -> str:
    return (
        "jean"
        if product.endswith("Jean")
        else "tee"
        if product.endswith("Tee")
        else ("carpenter" if product.startswith("Carpenter") else "belt")
    )


@pytest.fixture(scope="module")
def pair():
    return generate_shopify_export(seed=3, n_orders=600), generate_shopify_export(seed=3, n_orders=600, effects=False)


def test_default_export_is_byte_identical_to_before_the_keyword():
    files, truth = generate_shopify_export(seed=1, n_orders=400)
    digests = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    # sha256 of the files written by the generator at commit 2cebe19 (before `effects` existed)
    assert digests == {
        "orders_export_1.csv": "b1ae607169b36985c2010ba0cf15d257a5bcbedd30ee05edf2aff03c41a42a1f",
        "orders_export_2.csv": "beec80a1db3c650c59c0b6523fc62190a172243f02d23f122d128b5f6314de21",
    }
    assert truth.multipliers == {
        "source=Nordstrom": 3.0,
        "vendor=SKINNY": 2.2,
        "discount=NA40": 2.0,
        "insurance": 1.6,
    }
    assert truth.bracket_p == 0.5


def test_null_export_plants_nothing_and_keeps_base_rates(pair):
    _, (files, truth) = pair
    assert truth.multipliers == {} and truth.bracket_p is None
    lines = truth.lines
    expected = lines["product"].map(lambda p: BASE[_family(p)]).to_numpy(float)
    # every line, incl. Nordstrom, NA40, insured, SKINNY and bracketing extra sizes, at its product type's rate
    np.testing.assert_array_equal(lines["p_refund"].to_numpy(float), expected)
    o = truth.orders
    assert {"Nordstrom"} <= set(o["source"]) and {"NA40"} <= set(o["discount"]) and o["insurance"].any()
    assert (o["intent"] == "bracketing").any() and (lines["vendor"] == "SKINNY").any()


def test_planted_probabilities_follow_the_specification(pair):
    (_, truth), _ = pair
    lines = truth.lines.merge(truth.orders[["name", "discount", "insurance"]], on="name")
    mult = (
        np.where(lines["source"] == "Nordstrom", 3.0, 1.0)
        * np.where(lines["discount"] == "NA40", 2.0, 1.0)
        * np.where(lines["insurance"], 1.6, 1.0)
        * np.where(lines["vendor"] == "SKINNY", 2.2, 1.0)
    )
    p = lines["product"].map(lambda x: BASE[_family(x)]).to_numpy(float) * mult
    # a bracketing order's second line of the same product comes back at >= 0.5
    extra = (lines["intent"] == "bracketing") & lines.duplicated(["name", "product"])
    p = np.where(extra, np.maximum(p, 0.5), p)
    np.testing.assert_allclose(lines["p_refund"].to_numpy(float), np.minimum(p, 0.95), rtol=1e-12)
    assert extra.any() and (mult > 1).any()
