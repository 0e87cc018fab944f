"""Generated demo data: "Northwind Living", a mid-size fashion-and-home retailer.

The demo is what a newcomer sees first (`make run`) and the ground truth of the analysis recovery
tests, so every deliberate effect is declared in PLANTED (and the logged guidance change in
INTERVENTION) with its true size; everything else is null - a segment's units return at its
category's baseline rate.

How a unit comes to be returned (all vectorised numpy, one pass):

    p(unit returned) = baseline(category) x customer propensity          (customer propensity ~ Gamma, mean 1)
                     + collection effect (Linen Shirts, Smart Lighting, Hiking Jackets before the fit guide)
                     + journey effect (TikTok campaign, on every unit of the order)
                     + pair effect (orders holding both Summer Dresses and Sandals, on every unit of the order)

and returned units ~ Binomial(quantity, p). The customer propensity makes returns cluster within
customers and orders, as they do in real data (METHOD section 4). Bracketing orders (one product in
2-3 adjacent sizes) follow their own mechanism: the customer keeps one size and sends the rest back.
Each returned line's reason is drawn from the mechanism that caused it (the baseline mix of its
category, or the planted reason of the effect, picked in proportion to each term's share of p), so
planted reasons dominate the planted segments' returns, then written in a realistic raw format:
Shopify codes and labels, free text, some German/French, Amazon FBA codes on marketplace orders,
some blanks.

The canonical Dataset is clean (it stands for data after ingestion). Raw exports with real-world
headers and formats come from data.demo_files.write_demo_files().
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from data.model import Dataset, FileReport
from data.schema import CATALOG, INTERVENTIONS, ORDERS, RETURNS, Table

RETAILER = "Northwind Living"
DATASET_NAME = "Demo: Northwind Living (generated)"


@dataclass(frozen=True, slots=True)
class PlantedEffect:
    """One deliberate effect of the demo data, with its true size.

    dimension / segment name the segment as the analysis does (collection, journey, combination,
    intent, ...); kind is "elevated_rate", "interaction", "intent", "intervention" or "noise_only";
    size is the true absolute change of the unit return rate (0.09 = +9 percentage points) over the
    segment's null rate; reason_category is the dominant reason of the extra returns (data.reasons
    category names), if any.
    """

    dimension: str
    segment: str
    kind: str
    description: str
    size: float
    reason_category: str | None = None


# ---------------------------------------------------------------------------------------------
# The catalog: (collection, category, code, size kind, products (name, list price), popularity)
# ---------------------------------------------------------------------------------------------
_SIZE_KINDS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "apparel": (("XS", "S", "M", "L", "XL"), (0.09, 0.23, 0.32, 0.24, 0.12)),
    "sandal": (("36", "37", "38", "39", "40", "41", "42"), (0.06, 0.13, 0.21, 0.23, 0.19, 0.12, 0.06)),
    "trainer": (
        ("37", "38", "39", "40", "41", "42", "43", "44", "45"),
        (0.05, 0.09, 0.12, 0.14, 0.15, 0.15, 0.13, 0.1, 0.07),
    ),
    "bed": (("Single", "Double", "King"), (0.2, 0.5, 0.3)),
    "one": (("One size",), (1.0,)),
}
_BED_PRICE = {"Single": 0.8, "Double": 1.0, "King": 1.25}

_COLLECTIONS: tuple[tuple[str, str, str, str, tuple[tuple[str, float], ...], float], ...] = (
    (
        "Linen Shirts",
        "Tops",
        "LIN",
        "apparel",
        (
            ("Relaxed Linen Shirt", 59.0),
            ("Linen Camp Collar Shirt", 55.0),
            ("Linen Overshirt", 69.0),
            ("Cropped Linen Shirt", 49.0),
        ),
        8.0,
    ),
    (
        "Cotton Tees",
        "Tops",
        "TEE",
        "apparel",
        (
            ("Organic Crew Tee", 19.0),
            ("Boxy Pocket Tee", 22.0),
            ("Long Sleeve Tee", 25.0),
            ("Striped Breton Tee", 29.0),
            ("Ribbed Tank", 15.0),
        ),
        13.0,
    ),
    (
        "Knitwear",
        "Tops",
        "KNT",
        "apparel",
        (("Merino Crew Jumper", 79.0), ("Cable Knit Cardigan", 89.0), ("Cotton Rib Sweater", 65.0)),
        7.0,
    ),
    (
        "Summer Dresses",
        "Dresses",
        "SDR",
        "apparel",
        (
            ("Tiered Midi Dress", 69.0),
            ("Linen Slip Dress", 59.0),
            ("Floral Wrap Dress", 75.0),
            ("Smocked Sundress", 55.0),
            ("Broderie Maxi Dress", 85.0),
        ),
        9.0,
    ),
    (
        "Hiking Jackets",
        "Outerwear",
        "HIK",
        "apparel",
        (
            ("Trail Shell Jacket", 149.0),
            ("Insulated Hiking Jacket", 179.0),
            ("Packable Windbreaker", 89.0),
            ("3-in-1 Mountain Jacket", 199.0),
        ),
        6.0,
    ),
    (
        "Rain Coats",
        "Outerwear",
        "RNC",
        "apparel",
        (("Waxed Rain Jacket", 129.0), ("Hooded Raincoat", 109.0), ("Classic Trench", 159.0)),
        5.0,
    ),
    (
        "Wool Coats",
        "Outerwear",
        "WOL",
        "apparel",
        (("Wool Blend Overcoat", 189.0), ("Double-Breasted Coat", 219.0), ("Boucle Jacket", 149.0)),
        4.5,
    ),
    (
        "Sandals",
        "Footwear",
        "SAN",
        "sandal",
        (
            ("Leather Slide Sandal", 49.0),
            ("Woven Strap Sandal", 59.0),
            ("Espadrille Wedge", 65.0),
            ("Sport Sandal", 55.0),
        ),
        7.0,
    ),
    (
        "Trainers",
        "Footwear",
        "TRN",
        "trainer",
        (("Canvas Low Trainer", 55.0), ("Leather Court Trainer", 89.0), ("Runner Trainer", 79.0)),
        7.0,
    ),
    (
        "Smart Lighting",
        "Lighting",
        "SML",
        "one",
        (
            ("Smart Bulb E27 2-pack", 29.0),
            ("Smart Light Strip 2m", 45.0),
            ("Smart Table Lamp", 79.0),
            ("Motion Sensor Night Light", 25.0),
            ("Smart Lighting Starter Kit", 99.0),
        ),
        6.0,
    ),
    (
        "Table Lamps",
        "Lighting",
        "LMP",
        "one",
        (("Ceramic Base Table Lamp", 69.0), ("Rattan Pendant Shade", 49.0), ("Brass Reading Lamp", 89.0)),
        5.0,
    ),
    (
        "Bed Linen",
        "Bedding",
        "BED",
        "bed",
        (
            ("Washed Linen Duvet Cover", 119.0),
            ("Percale Sheet Set", 79.0),
            ("Waffle Blanket", 69.0),
            ("Linen Pillowcase Pair", 35.0),
        ),
        8.0,
    ),
    (
        "Stoneware Dinnerware",
        "Tableware",
        "STN",
        "one",
        (
            ("Stoneware Dinner Plates (4)", 49.0),
            ("Speckled Bowl Set", 39.0),
            ("Mug Set of 4", 32.0),
            ("Serving Platter", 35.0),
        ),
        8.5,
    ),
    # a small limited drop: sold only in a few months, never by the popularity weights (see _inject_limited)
    (
        "Limited Edition Ceramics",
        "Tableware",
        "LEC",
        "one",
        (("Hand-thrown Vase", 95.0), ("Artist Series Bowl", 65.0), ("Glazed Jug", 75.0)),
        0.0,
    ),
)
_WITHIN_PRODUCT = (1.4, 1.0, 0.8, 0.65, 0.5)  # relative popularity of a collection's 1st, 2nd, ... product

# Baseline unit return rate of each category (apparel higher than home); every collection without a
# planted effect returns at its category's rate.
CATEGORY_BASE_RATE: dict[str, float] = {
    "Tops": 0.105,
    "Dresses": 0.12,
    "Outerwear": 0.12,
    "Footwear": 0.115,
    "Lighting": 0.10,
    "Bedding": 0.085,
    "Tableware": 0.09,
}
NULL_RATE = 0.13  # the one rate of every unit when generate_frames(null=True)

# Month-of-year demand (Jan sales, Nov/Dec peak) and collections with seasonal demand.
_MONTH_DEMAND = np.array([1.15, 0.8, 0.88, 0.92, 0.98, 1.05, 1.0, 0.9, 0.95, 1.05, 1.6, 1.75])
_SUMMER = np.array([0.45, 0.5, 0.8, 1.2, 1.9, 2.3, 2.3, 1.8, 1.0, 0.6, 0.5, 0.45])
_WINTER = np.array([1.8, 1.4, 1.0, 0.6, 0.4, 0.3, 0.3, 0.45, 0.9, 1.5, 2.0, 2.2])
_SEASONAL = {"Summer Dresses": _SUMMER, "Sandals": _SUMMER, "Wool Coats": _WINTER, "Knitwear": _WINTER}

CHANNELS = ("Web", "App", "Marketplace", "Instagram Shop")
_CHANNEL_P = np.array([0.48, 0.27, 0.15, 0.10])
JOURNEYS = ("Homepage", "Direct", "Google Shopping", "Summer Sale email", "TikTok campaign", "Gift guide")
_JOURNEY_BASE = np.array([0.25, 0.19, 0.21, 0.07, 0.11, 0.06])
_JOURNEY_MONTH = np.ones((12, len(JOURNEYS)))
_JOURNEY_MONTH[:, 3] = [0.1, 0.1, 0.1, 0.2, 0.6, 3.0, 3.5, 2.5, 0.2, 0.1, 0.1, 0.1]  # Summer Sale email
_JOURNEY_MONTH[:, 5] = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.4, 5.0, 6.0]  # Gift guide

# ---------------------------------------------------------------------------------------------
# Planted effects
# ---------------------------------------------------------------------------------------------
_LINEN, _SMART, _HIKING = "Linen Shirts", "Smart Lighting", "Hiking Jackets"
_DRESSES, _SANDALS, _CERAMICS = "Summer Dresses", "Sandals", "Limited Edition Ceramics"
_TIKTOK = "TikTok campaign"
_COLLECTION_EFFECT = {_LINEN: 0.09, _SMART: 0.07}
_JOURNEY_EFFECT = 0.08
_PAIR_EFFECT = 0.10
_HIKING_PRE_EFFECT = 0.08  # ~24% observed before the fit guide, ~16% after (Outerwear's observed rate)
_CERAMICS_UNITS = 60  # at the default 45,000 orders (scaled with n_orders)
_CERAMICS_UNLUCKY = 1.45  # the kept draw has at least this many times the expected returns

PLANTED: tuple[PlantedEffect, ...] = (
    PlantedEffect(
        "collection",
        _LINEN,
        "elevated_rate",
        "Linen Shirts run small: unit return rate +9 pp above Tops, mostly 'size too small'; "
        "exchanges mostly one size up.",
        _COLLECTION_EFFECT[_LINEN],
        "size_too_small",
    ),
    PlantedEffect(
        "collection",
        _SMART,
        "elevated_rate",
        "Smart Lighting confuses at setup (app connection, unclear instructions): +7 pp above Lighting.",
        _COLLECTION_EFFECT[_SMART],
        "setup_confusion",
    ),
    PlantedEffect(
        "journey",
        _TIKTOK,
        "elevated_rate",
        "Orders from the TikTok campaign return more (+8 pp on every unit of the order): "
        "products look different from the videos.",
        _JOURNEY_EFFECT,
        "not_as_described",
    ),
    PlantedEffect(
        "combination",
        " + ".join(sorted((_DRESSES, _SANDALS))),
        "interaction",
        "Orders holding both a Summer Dress and Sandals return more than either alone suggests "
        "(+10 pp on every unit of those orders; the outfit does not go together).",
        _PAIR_EFFECT,
        "colour_style",
    ),
    PlantedEffect(
        "intent",
        "bracketing",
        "intent",
        "Bracketing orders (one product in 2-3 sizes) keep one size and send the rest back: about half "
        "of their bracketed units return (size too small / too large). size = bracketed units' rate "
        "(0.5) minus the overall baseline (~0.14).",
        0.36,
        "size_too_large",
    ),
    PlantedEffect(
        "collection",
        _HIKING,
        "intervention",
        "Hiking Jackets returned at ~24% until the fit-guide video launched (INTERVENTION), ~16% after "
        "(Outerwear's baseline); the other Outerwear collections did not change.",
        -_HIKING_PRE_EFFECT,
        "size_too_small",
    ),
    PlantedEffect(
        "collection",
        _CERAMICS,
        "noise_only",
        "Limited Edition Ceramics: about 60 units sold in a short drop 8-11 months back; true rate = "
        "Tableware's baseline (9%), but the demo keeps an unlucky draw (at least 1.45x the expected "
        "returns, a deliberately selected ~1% tail draw) so the raw rate looks high - shrinkage should pull "
        "it back.",
        0.0,
        None,
    ),
)


def _months_before(d: date, months: int) -> date:
    """First day of the month `months` calendar months before d's month."""
    m = d.year * 12 + (d.month - 1) - months
    return date(m // 12, m % 12 + 1, 1)


def _intervention(end_date: date) -> dict:
    return {
        "dimension": "collection",
        "segment": _HIKING,
        "start_date": _months_before(end_date, 6),  # the 1st of the month ~7 months before end_date
        "description": "Fit guide video and size advice on product pages",
        "true_effect": -_HIKING_PRE_EFFECT,  # absolute change of the unit return rate at launch
        "comparison": ("Rain Coats", "Wool Coats"),  # same category, untreated, unchanged
    }


INTERVENTION: dict = _intervention(date(2026, 10, 31))
"""The logged guidance change at the default end_date (generate_frames moves it with end_date)."""

# ---------------------------------------------------------------------------------------------
# Reasons: the mix of each mechanism, and the raw texts each category is written as
# ---------------------------------------------------------------------------------------------
_BASE_MIX: dict[str, dict[str, float]] = {
    "apparel": {
        "size_too_small": 0.19,
        "size_too_large": 0.21,
        "fit_other": 0.10,
        "not_as_described": 0.08,
        "colour_style": 0.12,
        "quality": 0.08,
        "changed_mind": 0.12,
        "defective": 0.03,
        "wrong_item": 0.02,
        "ordered_by_mistake": 0.02,
        "late_or_not_delivered": 0.01,
        "other": 0.02,
    },
    "footwear": {
        "size_too_small": 0.24,
        "size_too_large": 0.2,
        "fit_other": 0.14,
        "not_as_described": 0.05,
        "colour_style": 0.08,
        "quality": 0.08,
        "changed_mind": 0.12,
        "defective": 0.04,
        "wrong_item": 0.02,
        "ordered_by_mistake": 0.02,
        "other": 0.01,
    },
    "lighting": {
        "defective": 0.25,
        "damaged_in_transit": 0.15,
        "not_as_described": 0.12,
        "colour_style": 0.12,
        "quality": 0.08,
        "changed_mind": 0.14,
        "setup_confusion": 0.05,
        "wrong_item": 0.04,
        "ordered_by_mistake": 0.04,
        "other": 0.01,
    },
    "bedding": {
        "size_too_small": 0.06,
        "size_too_large": 0.05,
        "not_as_described": 0.12,
        "colour_style": 0.2,
        "quality": 0.15,
        "defective": 0.1,
        "damaged_in_transit": 0.05,
        "changed_mind": 0.17,
        "wrong_item": 0.04,
        "ordered_by_mistake": 0.05,
        "other": 0.01,
    },
    "tableware": {
        "damaged_in_transit": 0.38,
        "defective": 0.12,
        "not_as_described": 0.1,
        "colour_style": 0.12,
        "quality": 0.08,
        "changed_mind": 0.12,
        "wrong_item": 0.03,
        "ordered_by_mistake": 0.04,
        "other": 0.01,
    },
}
_CATEGORY_GROUP = {
    "Tops": "apparel",
    "Dresses": "apparel",
    "Outerwear": "apparel",
    "Footwear": "footwear",
    "Lighting": "lighting",
    "Bedding": "bedding",
    "Tableware": "tableware",
}
_EFFECT_MIX: dict[str, dict[str, float]] = {
    _LINEN: {"size_too_small": 0.85, "fit_other": 0.15},
    _SMART: {"setup_confusion": 1.0},
    _HIKING: {"size_too_small": 0.4, "size_too_large": 0.25, "fit_other": 0.35},
    _TIKTOK: {"not_as_described": 0.6, "colour_style": 0.4},
    "pair": {"colour_style": 0.6, "changed_mind": 0.4},
}

# Raw texts on web/app/Instagram returns: Shopify codes, Shopify admin labels, free text, DE/FR.
_REASON_TEXTS: dict[str, tuple[tuple[str, float], ...]] = {
    "size_too_small": (
        ("SIZE_TOO_SMALL", 2.0),
        ("Size too small", 2.0),
        ("Size was too small", 1.0),
        ("runs small", 1.5),
        ("Too tight", 1.0),
        ("Came up small, needed a size up", 0.6),
        ("Zu klein", 0.3),
        ("Trop petit", 0.3),
    ),
    "size_too_large": (
        ("SIZE_TOO_LARGE", 2.0),
        ("Size too large", 2.0),
        ("Size was too large", 1.0),
        ("runs large", 1.0),
        ("Too big", 1.0),
        ("Zu groß", 0.3),
        ("Trop grand", 0.3),
    ),
    "fit_other": (("Didn't fit", 2.0), ("Poor fit", 1.0), ("Length not right", 0.7), ("Passform passt nicht", 0.2)),
    "not_as_described": (
        ("NOT_AS_DESCRIBED", 1.5),
        ("Item not as described", 1.5),
        ("Not as described", 1.0),
        ("colour looks different from the photo", 2.0),
        ("Looks different from the pictures", 1.0),
        ("Nicht wie beschrieben", 0.3),
        ("Pas conforme à la description", 0.3),
    ),
    "colour_style": (
        ("COLOR", 1.0),
        ("STYLE", 1.0),
        ("Color", 0.5),
        ("Didn't like the colour", 2.0),
        ("Not my style", 1.0),
        ("Farbe gefällt mir nicht", 0.3),
        ("Couleur différente de la photo", 0.3),
    ),
    "quality": (
        ("Poor quality", 2.0),
        ("Fabric feels cheap", 1.0),
        ("Material too thin", 1.0),
        ("Qualität enttäuschend", 0.2),
    ),
    "defective": (
        ("DEFECTIVE", 1.5),
        ("Damaged or defective", 1.0),
        ("arrived broken", 2.0),
        ("Not working out of the box", 1.0),
        ("Defekt", 0.3),
    ),
    "damaged_in_transit": (
        ("Arrived damaged", 2.0),
        ("Damaged in transit", 1.5),
        ("Box crushed by the carrier", 1.0),
        ("Transportschaden", 0.2),
    ),
    "wrong_item": (("WRONG_ITEM", 1.0), ("Received the wrong item", 1.5), ("Wrong item sent", 1.5)),
    "setup_confusion": (
        ("couldn't connect to the app", 2.0),
        ("instructions unclear", 2.0),
        ("Couldn't set it up", 1.5),
        ("couldn't work out how to assemble it", 0.7),
        ("Too complicated to install", 1.0),
        ("Montage trop compliqué", 0.2),
    ),
    "late_or_not_delivered": (("Arrived too late", 1.0), ("Missed delivery date", 1.0)),
    "changed_mind": (
        ("UNWANTED", 1.5),
        ("Changed my mind", 2.0),
        ("No longer needed", 1.0),
        ("Found a better price", 0.5),
        ("Nicht mehr benötigt", 0.2),
    ),
    "ordered_by_mistake": (("Ordered by mistake", 2.0), ("Commandé par erreur", 0.2)),
    "other": (("OTHER", 1.0), ("Other", 1.0), ("Gift, not for me", 0.5)),
}
# Marketplace (Amazon FBA) returns carry Amazon reason codes.
_AMAZON_CODE = {
    "size_too_small": "APPAREL_TOO_SMALL",
    "size_too_large": "APPAREL_TOO_LARGE",
    "fit_other": "APPAREL_STYLE",
    "not_as_described": "NOT_AS_DESCRIBED",
    "colour_style": "APPAREL_STYLE",
    "quality": "QUALITY_UNACCEPTABLE",
    "defective": "DEFECTIVE",
    "damaged_in_transit": "DAMAGED_BY_CARRIER",
    "wrong_item": "SWITCHEROO",
    "setup_confusion": "EXCESSIVE_INSTALLATION",
    "late_or_not_delivered": "MISSED_ESTIMATED_DELIVERY",
    "changed_mind": "UNWANTED_ITEM",
    "ordered_by_mistake": "ORDERED_WRONG_ITEM",
    "other": "NO_REASON_GIVEN",
}
_COMMENTS: dict[str, tuple[str, ...]] = {
    "size_too_small": (
        "Usually a M but this was tight across the shoulders",
        "Had to size up",
        "Sleeves too short for me",
        "Runs at least one size small",
    ),
    "size_too_large": ("Very roomy, size down", "Swamped me", "Too long in the body", "Generous fit, go one size down"),
    "fit_other": ("Odd fit around the waist", "Cut is strange on me", "Didn't sit right"),
    "not_as_described": (
        "Colour looks different from the photo",
        "Much shinier than in the pictures",
        "Not the material described",
        "Looked nothing like the video",
    ),
    "colour_style": (
        "Not the shade I expected",
        "Didn't go with the dress",
        "Colours clash with the outfit",
        "Looked better online",
    ),
    "quality": ("Seams coming apart", "Pilled after one wear", "Thinner than expected"),
    "defective": ("Flickers constantly", "Zip broken", "Crack in the glaze", "Stopped working after two days"),
    "damaged_in_transit": ("Box was crushed", "Arrived in pieces", "Chipped on arrival"),
    "wrong_item": ("Sent the wrong colour", "Got a different product"),
    "setup_confusion": (
        "The app would not find the bulb",
        "Setup instructions were confusing",
        "Couldn't pair it with my phone",
        "Could not work out the hub setup",
    ),
    "late_or_not_delivered": ("Needed it for an event, came too late",),
    "changed_mind": ("Don't need it any more", "Bought something else", "Gift not wanted"),
    "ordered_by_mistake": ("Clicked the wrong size", "Ordered twice by accident"),
    "other": ("See email", "No reason"),
}
_COMMENT_RATE = 0.30
_BLANK_REASON_RATE = 0.04


# ---------------------------------------------------------------------------------------------
# Catalog tables (static)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Catalog:
    coll_name: np.ndarray  # per collection
    coll_cat: np.ndarray
    coll_pop: np.ndarray
    prod_coll: np.ndarray  # per product: collection index
    prod_name: np.ndarray
    prod_price: np.ndarray
    prod_within: np.ndarray  # within-collection popularity
    prod_kind: np.ndarray  # size kind
    prod_nsizes: np.ndarray
    sku_of: np.ndarray  # (products, max sizes) -> sku index, -1 if none
    skus: pd.DataFrame  # sku, product, collection, category, size, size_rank, unit_price, product index


def _build_catalog() -> _Catalog:
    coll_name, coll_cat, coll_pop = [], [], []
    prod_rows = []
    for ci, (name, cat, code, kind, products, pop) in enumerate(_COLLECTIONS):
        coll_name.append(name)
        coll_cat.append(cat)
        coll_pop.append(pop)
        for pi, (pname, price) in enumerate(products):
            prod_rows.append((ci, pname, price, _WITHIN_PRODUCT[pi], kind, f"{code}{pi + 1:02d}"))
    max_sizes = max(len(v[0]) for v in _SIZE_KINDS.values())
    sku_of = np.full((len(prod_rows), max_sizes), -1, dtype=np.int64)
    sku_rows: list = []
    for p, (ci, pname, price, _, kind, pcode) in enumerate(prod_rows):
        sizes = _SIZE_KINDS[kind][0]
        for si, size in enumerate(sizes):
            suffix = {"One size": "OS", "Single": "SGL", "Double": "DBL", "King": "KNG"}.get(size, size)
            sku_price = round(price * _BED_PRICE.get(size, 1.0), 2) if kind == "bed" else price
            sku_of[p, si] = len(sku_rows)
            sku_rows.append((f"{pcode}-{suffix}", pname, coll_name[ci], coll_cat[ci], size, si, sku_price, p))
    skus = pd.DataFrame(
        sku_rows,
        columns=["sku", "product_name", "collection", "category", "size", "size_rank", "unit_price", "product"],
    )
    return _Catalog(
        coll_name=np.array(coll_name, dtype=object),
        coll_cat=np.array(coll_cat, dtype=object),
        coll_pop=np.array(coll_pop, dtype=float),
        prod_coll=np.array([r[0] for r in prod_rows]),
        prod_name=np.array([r[1] for r in prod_rows], dtype=object),
        prod_price=np.array([r[2] for r in prod_rows]),
        prod_within=np.array([r[3] for r in prod_rows]),
        prod_kind=np.array([r[4] for r in prod_rows], dtype=object),
        prod_nsizes=np.array([len(_SIZE_KINDS[r[4]][0]) for r in prod_rows]),
        sku_of=sku_of,
        skus=skus,
    )


_CAT = _build_catalog()


def _coll_index(name: str) -> int:
    return int(np.flatnonzero(_CAT.coll_name == name)[0])


# ---------------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------------
def _choice_rows(rng: np.random.Generator, prob: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(prob, axis=1)
    u = rng.random(len(prob)) * cum[:, -1]
    return np.minimum((u[:, None] > cum).sum(axis=1), prob.shape[1] - 1)


def _gumbel_top(rng: np.random.Generator, logw: np.ndarray, k: int) -> np.ndarray:
    """Indices of k draws without replacement per row, weights exp(logw) (Gumbel-top-k trick)."""
    keys = logw + rng.gumbel(size=logw.shape)
    if k == 1:
        return keys.argmax(axis=1)[:, None]
    top = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def _sample_sizes(rng: np.random.Generator, products: np.ndarray) -> np.ndarray:
    """A size index for each product, drawn from its size kind's size curve."""
    out = np.zeros(len(products), dtype=np.int64)
    kinds = _CAT.prod_kind[products]
    for kind, (sizes, probs) in _SIZE_KINDS.items():
        m = kinds == kind
        if m.any() and len(sizes) > 1:
            out[m] = rng.choice(len(sizes), size=int(m.sum()), p=np.asarray(probs) / np.sum(probs))
    return out


def _pick_texts(rng: np.random.Generator, categories: np.ndarray, table: dict[str, tuple]) -> np.ndarray:
    """A raw text for each category value, drawn from table[category] = ((text, weight), ...)."""
    out = np.empty(len(categories), dtype=object)
    for cat in pd.unique(categories):
        m = categories == cat
        opts = table[cat]
        texts = np.array([t for t, _ in opts], dtype=object)
        w = np.array([w for _, w in opts], dtype=float)
        out[m] = texts[rng.choice(len(texts), size=int(m.sum()), p=w / w.sum())]
    return out


def _draw_from_mix(rng: np.random.Generator, mixes: list[dict[str, float]], which: np.ndarray) -> np.ndarray:
    """Reason category for each row, drawn from mixes[which[row]]."""
    out = np.empty(len(which), dtype=object)
    for i, mix in enumerate(mixes):
        m = which == i
        if m.any():
            cats = np.array(list(mix), dtype=object)
            w = np.array(list(mix.values()), dtype=float)
            out[m] = cats[rng.choice(len(cats), size=int(m.sum()), p=w / w.sum())]
    return out


def canonical_frame(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Columns of `table` in schema order with canonical dtypes (missing columns entirely missing)."""
    n = len(df)
    cols = {}
    for c in table.columns:
        s = df[c.name] if c.name in df.columns else pd.Series([None] * n, index=df.index, dtype="object")
        if c.dtype == "str":
            cols[c.name] = s.astype("string")
        elif c.dtype == "date":
            cols[c.name] = pd.to_datetime(s).astype("datetime64[ns]").dt.normalize()
        elif c.dtype == "int":
            cols[c.name] = s.astype("int64")
        else:
            cols[c.name] = pd.to_numeric(s).astype("float64")
    return pd.DataFrame(cols, index=pd.RangeIndex(n))


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------
def generate_frames(
    seed: int = 7, n_orders: int = 45_000, end_date: date = date(2026, 10, 31), months: int = 18, *, null: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Generate the canonical (orders, returns, catalog, interventions) frames of the demo retailer.

    Orders span `months` months ending at end_date; returns are dated 2-45 days after their order
    and only those dated on or before end_date exist (so the last weeks look low until their return
    window matures, as in a real export). With null=True every unit returns at one rate (NULL_RATE,
    times the customer propensity): no planted effect, no category difference, bracketing included -
    the null dataset for false-discovery checks. The interventions frame is the same either way.

    >>> orders, returns, catalog, interventions = generate_frames(seed=1, n_orders=500)
    >>> bool(orders["order_id"].nunique() == 500), list(interventions["segment"])
    (True, ['Hiking Jackets'])
    """
    if isinstance(n_orders, bool) or not isinstance(n_orders, (int, np.integer)) or n_orders < 1:
        raise ValueError(f"n_orders must be a positive whole number of orders; got {n_orders!r}.")
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or not 2 <= months <= 120:
        raise ValueError(f"months must be a whole number of months between 2 and 120; got {months!r}.")
    if not isinstance(end_date, date):
        raise ValueError(f"end_date must be a datetime.date; got {end_date!r}.")
    n = int(n_orders)
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end_date)
    start = end - pd.DateOffset(months=months) + pd.Timedelta(days=1)
    intervention = _intervention(end_date)
    launch = pd.Timestamp(intervention["start_date"])

    # ---- order dates: month-of-year demand, growth over the period, weekend and Black-Friday bumps
    days = pd.date_range(start, end, freq="D")
    moy = days.month.to_numpy() - 1
    w = _MONTH_DEMAND[moy] * np.linspace(1.0, 1.35, len(days))
    w = w * np.where(days.dayofweek.to_numpy() >= 5, 1.15, 1.0)
    w = w * np.where((moy == 10) & (days.day.to_numpy() >= 24), 1.8, 1.0)
    day_idx = np.sort(rng.choice(len(days), size=n, p=w / w.sum()))
    order_date = days[day_idx]
    o_moy = order_date.month.to_numpy() - 1

    # ---- customers (a heavy-tailed number of orders each) with their own return propensity
    n_cust = max(1, int(n * 0.6))
    cust_w = rng.gamma(0.6, size=n_cust)
    cust = rng.choice(n_cust, size=n, p=cust_w / cust_w.sum())
    cust_mult = rng.gamma(4.0, 0.25, size=n_cust)
    channel = rng.choice(len(CHANNELS), size=n, p=_CHANNEL_P)
    jp = _JOURNEY_BASE[None, :] * _JOURNEY_MONTH
    journey = _choice_rows(rng, (jp / jp.sum(axis=1, keepdims=True))[o_moy])

    # ---- basket types: single, bracketing, full refresh, the dress-and-sandals outfit, multi-item
    u = rng.random(n)
    p_outfit = np.where(np.isin(o_moy, [4, 5, 6, 7]), 0.03, 0.008)
    btype = np.full(n, "multi", dtype=object)
    btype[u < 0.41] = "single"
    btype[(u >= 0.41) & (u < 0.455)] = "bracket"
    btype[(u >= 0.455) & (u < 0.52)] = "refresh"
    btype[(u >= 0.52) & (u < 0.52 + p_outfit)] = "outfit"

    n_prod = len(_CAT.prod_coll)
    coll_season = np.ones((12, len(_CAT.coll_name)))
    for name, curve in _SEASONAL.items():
        coll_season[:, _coll_index(name)] = curve
    with np.errstate(divide="ignore"):
        prod_logw_m = np.log(
            _CAT.coll_pop[_CAT.prod_coll][None, :] * _CAT.prod_within[None, :] * coll_season[:, _CAT.prod_coll]
        )  # (12, products); -inf = never drawn
    prod_cat = _CAT.coll_cat[_CAT.prod_coll]

    line_order: list[np.ndarray] = []
    line_prod: list[np.ndarray] = []
    line_size: list[np.ndarray] = []  # -1 = draw from the size curve
    line_qty: list[np.ndarray] = []
    line_bracket: list[np.ndarray] = []  # position in the bracket (0, 1, 2) or -1

    def add(
        orders_idx: np.ndarray,
        prods: np.ndarray,
        sizes: np.ndarray | None = None,
        qty: np.ndarray | None = None,
        bracket: np.ndarray | None = None,
    ) -> None:
        k = len(orders_idx)
        line_order.append(np.asarray(orders_idx, dtype=np.int64))
        line_prod.append(np.asarray(prods, dtype=np.int64))
        line_size.append(np.full(k, -1, dtype=np.int64) if sizes is None else np.asarray(sizes, dtype=np.int64))
        line_qty.append(np.ones(k, dtype=np.int64) if qty is None else np.asarray(qty, dtype=np.int64))
        line_bracket.append(np.full(k, -1, dtype=np.int64) if bracket is None else np.asarray(bracket, dtype=np.int64))

    # single-item
    idx = np.flatnonzero(btype == "single")
    add(idx, _gumbel_top(rng, prod_logw_m[o_moy[idx]], 1)[:, 0])

    # multi-item: 2-5 distinct products, the rest drawn with affinity to the first one's category
    idx = np.flatnonzero(btype == "multi")
    if len(idx):
        k = rng.choice([1, 2, 3, 4, 5], size=len(idx), p=[0.06, 0.55, 0.26, 0.1, 0.03])
        logw = prod_logw_m[o_moy[idx]]
        first = _gumbel_top(rng, logw, 1)[:, 0]
        logw2 = (
            logw
            + np.log(3.0) * (prod_cat[None, :] == prod_cat[first][:, None])
            + np.log(5.0) * (_CAT.prod_coll[None, :] == _CAT.prod_coll[first][:, None])
        )
        logw2[np.arange(len(idx)), first] = -np.inf
        rest = _gumbel_top(rng, logw2, 4)
        prods = np.column_stack([first, rest])
        keep = np.arange(5)[None, :] < k[:, None]
        oi = np.repeat(idx, k)
        pr = prods[keep]
        home = np.isin(_CAT.coll_cat[_CAT.prod_coll[pr]], ["Tableware", "Bedding", "Lighting"])
        qty = np.where(rng.random(len(pr)) < np.where(home, 0.15, 0.05), 2, 1)
        qty[np.repeat(k == 1, k)] = 2  # a one-line multi-item order is two units of it
        add(oi, pr, qty=qty)

    # full refresh: 3-5 distinct collections, one product from each
    idx = np.flatnonzero(btype == "refresh")
    if len(idx):
        k = rng.choice([3, 4, 5], size=len(idx), p=[0.55, 0.3, 0.15])
        coll_logw = np.log(np.maximum(_CAT.coll_pop[None, :] * coll_season[o_moy[idx]], 1e-300))
        coll_logw[:, _CAT.coll_pop == 0] = -np.inf
        colls = _gumbel_top(rng, coll_logw, 5)
        keep = np.arange(5)[None, :] < k[:, None]
        oi = np.repeat(idx, k)
        cl = colls[keep]
        within = np.where(_CAT.prod_coll[None, :] == cl[:, None], np.log(_CAT.prod_within)[None, :], -np.inf)
        add(oi, _gumbel_top(rng, within, 1)[:, 0])

    # outfit: a Summer Dress and Sandals (+ sometimes one more item from elsewhere)
    idx = np.flatnonzero(btype == "outfit")
    if len(idx):
        for cname in (_DRESSES, _SANDALS):
            ci = _coll_index(cname)
            within = np.where(_CAT.prod_coll == ci, np.log(_CAT.prod_within), -np.inf)
            add(idx, _gumbel_top(rng, np.broadcast_to(within, (len(idx), n_prod)).copy(), 1)[:, 0])
        extra = idx[rng.random(len(idx)) < 0.3]
        logw = prod_logw_m[o_moy[extra]].copy()
        logw[:, np.isin(_CAT.prod_coll, [_coll_index(_DRESSES), _coll_index(_SANDALS)])] = -np.inf
        add(extra, _gumbel_top(rng, logw, 1)[:, 0])

    # bracketing: one apparel/footwear product in 2-3 adjacent sizes (+ sometimes one other item)
    idx = np.flatnonzero(btype == "bracket")
    if len(idx):
        logw = prod_logw_m[o_moy[idx]].copy()
        logw[:, ~np.isin(_CAT.prod_kind, ["apparel", "sandal", "trainer"])] = -np.inf
        prod = _gumbel_top(rng, logw, 1)[:, 0]
        m = np.where(rng.random(len(idx)) < 0.7, 2, 3)
        base = _sample_sizes(rng, prod)
        first_size = np.clip(base - rng.integers(0, m), 0, _CAT.prod_nsizes[prod] - m)
        for j in range(3):
            sel = j < m
            add(idx[sel], prod[sel], sizes=first_size[sel] + j, bracket=np.full(int(sel.sum()), j))
        has_extra = rng.random(len(idx)) < 0.3
        logw_x = prod_logw_m[o_moy[idx[has_extra]]].copy()
        logw_x[_CAT.prod_coll[None, :] == _CAT.prod_coll[prod[has_extra]][:, None]] = -np.inf
        add(idx[has_extra], _gumbel_top(rng, logw_x, 1)[:, 0])

    lo = np.concatenate(line_order)
    lp = np.concatenate(line_prod)
    ls = np.concatenate(line_size)
    lq = np.concatenate(line_qty)
    lb = np.concatenate(line_bracket)
    perm = np.lexsort((np.arange(len(lo)), lo))
    lo, lp, ls, lq, lb = lo[perm], lp[perm], ls[perm], lq[perm], lb[perm]

    # limited drop of ceramics: replace the product of some single-item orders 8-11 months back
    lec = _coll_index(_CERAMICS)
    drop_lo, drop_hi = pd.Timestamp(_months_before(end_date, 11)), pd.Timestamp(_months_before(end_date, 8))
    single_lines = np.flatnonzero((btype[lo] == "single"))
    in_drop = single_lines[(order_date[lo[single_lines]] >= drop_lo) & (order_date[lo[single_lines]] < drop_hi)]
    n_lec = min(len(in_drop), max(5, round(_CERAMICS_UNITS * n / 45_000)))
    lec_lines = rng.choice(in_drop, size=n_lec, replace=False) if n_lec else np.array([], dtype=np.int64)
    lec_prods = np.flatnonzero(_CAT.prod_coll == lec)
    lp[lec_lines] = rng.choice(lec_prods, size=len(lec_lines))

    size_draw = _sample_sizes(rng, lp)
    ls = np.where(ls >= 0, ls, size_draw)
    sku_idx = _CAT.sku_of[lp, ls]
    skus = _CAT.skus

    # ---- prices: list price, January sale, Summer Sale email, Black Friday week
    l_moy = o_moy[lo]
    l_date = order_date[lo]
    disc = np.zeros(len(lo))
    disc = np.where((l_moy == 0) & (rng.random(len(lo)) < 0.6), 0.25, disc)
    disc = np.where(journey[lo] == JOURNEYS.index("Summer Sale email"), 0.2, disc)
    disc = np.where((l_moy == 10) & (l_date.day.to_numpy() >= 24), 0.2, disc)
    price = np.round(skus["unit_price"].to_numpy()[sku_idx] * (1 - disc), 2)

    # ---- return probability per unit, as a sum of mechanisms (columns of `comp`)
    l_coll = _CAT.prod_coll[lp]
    l_cat = _CAT.coll_cat[l_coll]
    l_mult = cust_mult[cust[lo]]

    def order_has(collection: str) -> np.ndarray:
        return np.bincount(lo[l_coll == _coll_index(collection)], minlength=n) > 0

    pair_order = order_has(_DRESSES) & order_has(_SANDALS)
    sources = ["base", _LINEN, _SMART, _HIKING, _TIKTOK, "pair"]
    comp = np.zeros((len(lo), len(sources)))
    if null:
        comp[:, 0] = NULL_RATE * l_mult
    else:
        comp[:, 0] = pd.Series(l_cat).map(CATEGORY_BASE_RATE).to_numpy(dtype=float) * l_mult
        comp[:, 1] = np.where(l_coll == _coll_index(_LINEN), _COLLECTION_EFFECT[_LINEN], 0.0)
        comp[:, 2] = np.where(l_coll == _coll_index(_SMART), _COLLECTION_EFFECT[_SMART], 0.0)
        comp[:, 3] = np.where((l_coll == _coll_index(_HIKING)) & (l_date < launch), _HIKING_PRE_EFFECT, 0.0)
        comp[:, 4] = np.where(journey[lo] == JOURNEYS.index(_TIKTOK), _JOURNEY_EFFECT, 0.0)
        comp[:, 5] = np.where(pair_order[lo], _PAIR_EFFECT, 0.0)
    p = np.minimum(comp.sum(axis=1), 0.9)
    ret_q = rng.binomial(lq, p)
    source = _choice_rows(rng, comp)

    # reasons of ordinary returns: the mix of the mechanism that caused them
    group_names = list(_BASE_MIX)
    mixes = [_BASE_MIX[g] for g in group_names] + [_EFFECT_MIX[s] for s in sources[1:]]
    which = np.where(
        source == 0,
        pd.Series(l_cat).map(_CATEGORY_GROUP).map(group_names.index).to_numpy(),
        len(group_names) + source - 1,
    )
    reason_cat = _draw_from_mix(rng, mixes, which)

    # bracketing lines: keep one size (85%), send all back (10%) or keep all (5%)
    bl = np.flatnonzero(lb >= 0)
    if len(bl) and not null:
        b_order = lo[bl]
        uo, inv = np.unique(b_order, return_inverse=True)
        m_o = np.bincount(inv)
        outcome = rng.random(len(uo))
        kept = (rng.random(len(uo)) * m_o).astype(np.int64)
        pos = lb[bl]
        keep_one = outcome[inv] < 0.85
        all_back = (outcome[inv] >= 0.85) & (outcome[inv] < 0.95)
        ret_q[bl] = np.where(keep_one, (pos != kept[inv]).astype(np.int64), np.where(all_back, 1, 0))
        # relative to the size kept (or, when all go back, to the middle): smaller -> too small
        ref = np.where(keep_one, kept[inv], (m_o[inv] - 1) / 2)
        reason_cat[bl] = np.where(pos < ref, "size_too_small", np.where(pos > ref, "size_too_large", "fit_other"))

    # limited-edition ceramics: true rate = Tableware's baseline, but keep an unlucky draw (at least
    # 1.45x the expected returns) so the small collection's raw rate looks high and shrinkage has work to do
    if len(lec_lines) and not null:
        p0 = CATEGORY_BASE_RATE["Tableware"]
        kmin = min(len(lec_lines), max(1, math.ceil(_CERAMICS_UNLUCKY * len(lec_lines) * p0)))
        ks = np.arange(kmin, len(lec_lines) + 1)
        pmf = stats.binom.pmf(ks, len(lec_lines), p0)
        n_returned = int(rng.choice(ks, p=pmf / pmf.sum()))
        ret_q[lec_lines] = 0
        ret_q[rng.choice(lec_lines, size=n_returned, replace=False)] = 1

    # ---- orders frame
    order_no = np.arange(100_001, 100_001 + n)
    amazon = channel == CHANNELS.index("Marketplace")
    amz_id = (
        pd.Series(rng.integers(202, 207, n)).astype(str)
        + "-"
        + pd.Series(rng.integers(1_000_000, 9_999_999, n)).astype(str)
        + "-"
        + pd.Series(rng.integers(1_000_000, 9_999_999, n)).astype(str)
    ).to_numpy(dtype=object)
    order_ids = np.where(amazon, amz_id, np.char.add("NW", order_no.astype(str)).astype(object))
    cust_ids = np.char.add("C", np.char.zfill((cust + 10_001).astype(str), 6)).astype(object)
    orders = pd.DataFrame(
        {
            "order_id": order_ids[lo],
            "order_date": l_date,
            "sku": skus["sku"].to_numpy()[sku_idx],
            "quantity": lq,
            "unit_price": price,
            "product_name": skus["product_name"].to_numpy()[sku_idx],
            "collection": skus["collection"].to_numpy()[sku_idx],
            "category": skus["category"].to_numpy()[sku_idx],
            "size": skus["size"].to_numpy()[sku_idx],
            "customer_id": cust_ids[lo],
            "channel": np.array(CHANNELS, dtype=object)[channel[lo]],
            "journey": np.array(JOURNEYS, dtype=object)[journey[lo]],
        }
    )

    # ---- returns frame: one row per returned line
    rl = np.flatnonzero(ret_q > 0)
    r_order = lo[rl]
    uo, inv = np.unique(r_order, return_inverse=True)
    delay_o = 2 + np.floor(rng.gamma(2.0, 5.5, size=len(uo)))
    delay = delay_o[inv] + np.where(rng.random(len(rl)) < 0.12, rng.integers(1, 11, len(rl)), 0)
    delay = np.minimum(delay, 45).astype("int64")
    r_date = l_date[rl] + pd.to_timedelta(delay, unit="D")
    r_cat = reason_cat[rl]
    r_amazon = amazon[r_order]
    raw = _pick_texts(rng, r_cat, _REASON_TEXTS)
    raw = np.where(r_amazon, pd.Series(r_cat).map(_AMAZON_CODE).to_numpy(dtype=object), raw)
    raw = np.asarray(raw, dtype=object)  # a copy from np.where above: blanked in place
    raw[rng.random(len(rl)) < _BLANK_REASON_RATE] = None
    comment_rate = np.where(pd.Series(r_cat).isin(["setup_confusion", "fit_other"]).to_numpy(), 0.5, _COMMENT_RATE)
    has_comment = rng.random(len(rl)) < comment_rate  # drawn before the texts, as the demo's seed fixes
    comment = np.array(
        _pick_texts(rng, r_cat, {k: tuple((c, 1.0) for c in v) for k, v in _COMMENTS.items()}), dtype=object
    )
    comment[~has_comment] = None

    # resolution: size returns of sized products are often exchanged for the neighbouring size
    r_prod = lp[rl]
    r_size = ls[rl]
    nsz = _CAT.prod_nsizes[r_prod]
    step = np.where(r_cat == "size_too_small", 1, np.where(r_cat == "size_too_large", -1, 0))
    target = r_size + step
    sized = nsz > 1
    replace = np.isin(r_cat, ["defective", "damaged_in_transit"])  # same SKU sent again
    p_exch = np.where(sized & (step != 0), 0.45, np.where(replace, 0.3, 0.06))
    p_exch = np.where((lb[rl] >= 0) | r_amazon, 0.0, p_exch)  # bracketing returns and FBA returns are refunds
    exch = (rng.random(len(rl)) < p_exch) & (target >= 0) & (target < nsz)
    exch_sku = np.where(exch, skus["sku"].to_numpy()[_CAT.sku_of[r_prod, np.clip(target, 0, nsz - 1)]], None)
    other_res = _pick_texts(
        rng,
        np.full(len(rl), "x", dtype=object),
        {"x": (("Refund", 0.62), ("refund", 0.18), ("Store credit", 0.13), ("Gift card", 0.07))},
    )
    other_res = np.where(r_amazon, "Refund", other_res)
    exch_text = np.where(rng.random(len(rl)) < 0.85, "Exchange", "exchange")
    resolution = np.where(exch, exch_text, other_res)
    r_qty = ret_q[rl]
    refund = price[rl] * r_qty
    fee = (rng.random(len(rl)) < 0.08) & ~r_amazon
    refund = np.where(fee, np.maximum(refund - 3.95, 0.0), refund)
    refund = np.where(exch, 0.0, np.round(refund, 2))

    returns = pd.DataFrame(
        {
            "order_id": order_ids[r_order],
            "sku": skus["sku"].to_numpy()[sku_idx[rl]],
            "quantity": r_qty,
            "return_date": r_date,
            "reason": raw,
            "comment": comment,
            "resolution": resolution,
            "refund_amount": refund,
            "exchange_sku": exch_sku,
        }
    )
    returns = returns[returns["return_date"] <= end].sort_values(["return_date", "order_id"], kind="stable")
    rma_key = returns["order_id"] + "|" + returns["return_date"].dt.strftime("%Y%m%d")
    returns["return_id"] = "RMA-" + (pd.factorize(rma_key)[0] + 500_001).astype(str)
    returns = returns.reset_index(drop=True)

    catalog = skus[["sku", "product_name", "collection", "category", "size", "unit_price"]]
    interventions = pd.DataFrame(
        {
            "dimension": [intervention["dimension"]],
            "segment": [intervention["segment"]],
            "start_date": [pd.Timestamp(intervention["start_date"])],
            "description": [intervention["description"]],
        }
    )
    return (
        canonical_frame(orders, ORDERS),
        canonical_frame(returns, RETURNS),
        canonical_frame(catalog, CATALOG),
        canonical_frame(interventions, INTERVENTIONS),
    )


def _empty_rejected() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": pd.Series(dtype="string"),
            "row": pd.Series(dtype="int64"),
            "kind": pd.Series(dtype="string"),
            "reason": pd.Series(dtype="string"),
            "data": pd.Series(dtype="string"),
        }
    )


def generate_dataset(seed: int = 7, n_orders: int = 45_000, **kw: Any) -> Dataset:
    """The demo as a loaded Dataset (as if its files had been ingested without a single rejected row).

    Keyword arguments go to generate_frames (end_date, months, null).

    >>> ds = generate_dataset(seed=1, n_orders=2000)
    >>> ds.name, all(f.reconciles for f in ds.files), len(ds.rejected)
    ('Demo: Northwind Living (generated)', True, 0)
    """
    orders, returns, catalog, interventions = generate_frames(seed=seed, n_orders=n_orders, **kw)
    files = []
    for role, df in (("orders", orders), ("returns", returns), ("catalog", catalog), ("interventions", interventions)):
        files.append(
            FileReport(
                file=f"demo_{role} (generated)",
                role=role,
                layout="demo",
                layout_label="Generated demo data",
                rows_read=len(df),
                rows_loaded=len(df),
                rows_rejected=0,
                mapping={c: c for c in df.columns},
                notes=("Generated by data.demo; no rows were rejected.",),
            )
        )
    settings = ", ".join(f"{k}={v}" for k, v in sorted(kw.items()))
    key = f"demo|seed={seed}|n_orders={n_orders}|{settings}"
    null_note = (
        " This is the NULL variant: every segment shares one return rate."
        if kw.get("null")
        else " Known effects were planted on purpose (data.demo.PLANTED) so the analysis has true stories to find."
    )
    notes = (
        f"Generated demo data for a fictional retailer, {RETAILER} (seed {seed}, {n_orders:,} orders"
        + (f", {settings}" if settings else "")
        + ")."
        + null_note,
        "Upload your own orders and returns exports to analyse your store.",
    )
    return Dataset(
        name=DATASET_NAME,
        orders=orders,
        returns=returns,
        catalog=catalog,
        interventions=interventions,
        files=tuple(files),
        rejected=_empty_rejected(),
        unmatched_returns=_empty_rejected(),
        excluded=_empty_rejected(),
        notes=notes,
        content_hash=hashlib.sha256(key.encode()).hexdigest(),
    )
