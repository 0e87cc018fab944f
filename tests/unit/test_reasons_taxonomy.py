"""Reason taxonomy: platform codes, multilingual keywords, overrides, the mapping table, resolutions.

Expected categories are written here from the platforms' documented meaning of each code
(Shopify GraphQL Admin ``ReturnReason`` enum descriptions; Amazon FBA customer returns report
reason descriptions), not copied from data.reasons' tables.
"""

from __future__ import annotations

import pandas as pd
import pytest

from data.reasons import (
    CATEGORIES,
    classify,
    classify_text,
    normalize_resolution,
    reason_mapping_table,
)

# Shopify: "The item is returned because ..." (shopify.dev ReturnReason enum)
SHOPIFY = [
    ("COLOR", "colour_style"),  # the buyer did not like the color
    ("DEFECTIVE", "defective"),  # it is damaged or defective
    ("NOT_AS_DESCRIBED", "not_as_described"),  # it was not as described
    ("OTHER", "other"),  # another reason (a note is provided)
    ("SIZE_TOO_LARGE", "size_too_large"),
    ("SIZE_TOO_SMALL", "size_too_small"),
    ("STYLE", "colour_style"),  # the buyer did not like the style
    ("UNKNOWN", "unknown"),
    ("UNWANTED", "changed_mind"),  # the customer changed their mind
    ("WRONG_ITEM", "wrong_item"),  # the customer received the wrong one
]
# "Displays as ..." labels in the Shopify admin
SHOPIFY_LABELS = [
    ("Color", "colour_style"),
    ("Damaged or defective", "defective"),
    ("Item not as described", "not_as_described"),
    ("Size was too large", "size_too_large"),
    ("Size was too small", "size_too_small"),
    ("Style", "colour_style"),
    ("Customer changed their mind", "changed_mind"),
    ("Changed my mind", "changed_mind"),
    ("Received the wrong item", "wrong_item"),
    ("Other", "other"),
    ("Unknown", "unknown"),
]
# Amazon FBA customer returns: reason -> what the customer said happened
AMAZON = [
    ("APPAREL_TOO_SMALL", "size_too_small"),
    ("APPAREL_TOO_LARGE", "size_too_large"),
    ("APPAREL_STYLE", "colour_style"),  # "style not as expected"
    ("DEFECTIVE", "defective"),
    ("QUALITY_UNACCEPTABLE", "quality"),
    ("NOT_AS_DESCRIBED", "not_as_described"),
    ("MISSING_PARTS", "defective"),  # item incomplete on arrival: operational failure
    ("EXCESSIVE_INSTALLATION", "setup_confusion"),  # "too difficult to install"
    ("NOT_COMPATIBLE", "not_as_described"),  # compatibility the listing promised
    ("PART_NOT_COMPATIBLE", "not_as_described"),
    ("ORDERED_WRONG_ITEM", "ordered_by_mistake"),  # the customer chose the wrong item
    ("MISORDERED", "ordered_by_mistake"),
    ("UNAUTHORIZED_PURCHASE", "ordered_by_mistake"),  # bought without the account owner's consent
    ("UNWANTED_ITEM", "changed_mind"),
    ("FOUND_BETTER_PRICE", "changed_mind"),
    ("DAMAGED_BY_CARRIER", "damaged_in_transit"),
    ("DAMAGED_BY_FC", "defective"),  # damaged at the fulfilment centre: operational, not carrier
    ("NEVER_ARRIVED", "late_or_not_delivered"),
    ("MISSED_ESTIMATED_DELIVERY", "late_or_not_delivered"),
    ("UNDELIVERABLE_REFUSED", "late_or_not_delivered"),
    ("UNDELIVERABLE_INSUFFICIENT_ADDRESS", "late_or_not_delivered"),
    ("UNDELIVERABLE_UNKNOWN", "late_or_not_delivered"),
    ("NO_REASON_GIVEN", "unknown"),
    ("SWITCHEROO", "other"),  # a different item was returned: not a product reason
    ("EXTRA_ITEM", "wrong_item"),  # shipped an item that was not ordered
    # prefixed variants seen in returns reports
    ("AMZ-PG-APP-TOO-SMALL", "size_too_small"),
    ("AMZ-PG-APP-TOO-LARGE", "size_too_large"),
    ("AMZ-PG-APP-STYLE", "colour_style"),
    ("AMZ-PG-BAD-DESC", "not_as_described"),
    ("AMZ-PG-MISORDERED", "ordered_by_mistake"),
    ("AMZ-PG-WJ-TOO-SMALL", "size_too_small"),
    ("CR-DEFECTIVE", "defective"),
    ("CR-UNWANTED_ITEM", "changed_mind"),
    ("CR-SWITCHEROO", "other"),
    ("CR-DAMAGED_BY_CARRIER", "damaged_in_transit"),
    ("CR-QUALITY_UNACCEPTABLE", "quality"),
    ("cr-ordered_wrong_item", "ordered_by_mistake"),
]


@pytest.mark.parametrize("code,expected", SHOPIFY)
def test_shopify_codes(code, expected):
    cat, rule = classify_text(code)
    assert cat == expected
    assert rule == f"Shopify code {code}"


@pytest.mark.parametrize("label,expected", SHOPIFY_LABELS)
def test_shopify_labels(label, expected):
    cat, rule = classify_text(label)
    assert cat == expected
    assert rule.startswith("Shopify label")


@pytest.mark.parametrize("code,expected", AMAZON)
def test_amazon_codes(code, expected):
    cat, rule = classify_text(code)
    assert cat == expected
    # shared codes (DEFECTIVE, NOT_AS_DESCRIBED) are reported as Shopify's; every other is named Amazon
    assert rule.startswith("Amazon code ") or rule.startswith("Shopify code ")


KEYWORDS = [
    # English
    ("These run small, had to send back", "size_too_small", "run small"),
    ("way too tight across the shoulders", "size_too_small", "too tight"),
    ("Too big around the waist", "size_too_large", "too big"),
    ("Item arrived smashed", "damaged_in_transit", "arrived smashed"),
    ("Couldn't assemble it, instructions missing steps", "setup_confusion", "assembl"),
    ("Lamp won't connect to the app", "setup_confusion", "connect"),
    ("stopped working after two days", "defective", "stopped working"),
    ("Looks nothing like the photo", "not_as_described", "looks nothing like"),
    ("Didn't like the colour", "colour_style", "colour"),
    ("Fabric is thin and cheap", "quality", "thin"),
    ("They sent me the wrong item", "wrong_item", "wrong item"),
    ("Never arrived in time for the wedding", "late_or_not_delivered", "never arrived"),
    ("Ordered by mistake", "ordered_by_mistake", "by mistake"),
    ("Found it cheaper elsewhere", "changed_mind", "cheaper"),
    ("Chipped on arrival", "damaged_in_transit", "chipped on arrival"),
    ("Swamped me", "size_too_large", "swamp"),
    ("Clicked the wrong size", "ordered_by_mistake", "clicked the wrong size"),
    ("Got a different product", "wrong_item", "different product"),
    ("Pilled after one wear", "quality", "pilled"),
    # German
    ("Das Hemd ist zu klein", "size_too_small", "zu klein"),
    ("Fällt klein aus", "size_too_small", "fallt klein"),
    ("Viel zu groß", "size_too_large", "zu gross"),
    ("Lampe defekt", "defective", "defekt"),
    ("Aufbau zu kompliziert", "setup_confusion", "aufbau"),
    ("Farbe gefällt nicht", "colour_style", "farbe"),
    ("Nicht wie beschrieben", "not_as_described", "nicht wie beschrieben"),
    ("Aus Versehen bestellt", "ordered_by_mistake", "aus versehen"),
    # French
    ("Trop grand pour moi", "size_too_large", "trop grand"),
    ("Un peu trop petit", "size_too_small", "trop petit"),
    ("Arrivé cassé", "damaged_in_transit", "arrive casse"),
    ("Produit défectueux", "defective", "defect"),
    ("Ne correspond pas à la photo", "not_as_described", "ne correspond pas"),
    ("Notice incompréhensible", "setup_confusion", "notice"),
    ("J'ai changé d'avis", "changed_mind", "change d'avis"),
    # Spanish
    ("No me queda bien", "fit_other", "no me queda"),
    ("Me queda pequeño", "size_too_small", "me queda pequen"),
    ("Demasiado grande", "size_too_large", "demasiado grande"),
    ("Llegó roto", "damaged_in_transit", "llego roto"),
    ("No funciona", "defective", "no funciona"),
    ("No pude instalarlo", "setup_confusion", "instal"),
    ("Lo pedí por error", "ordered_by_mistake", "por error"),
    ("Mala calidad", "quality", "calidad"),
    # Italian
    ("Troppo piccolo", "size_too_small", "troppo piccol"),
    ("Troppo grande sui fianchi", "size_too_large", "troppo grand"),
    ("Articolo sbagliato", "wrong_item", "articolo sbagliato"),
    ("Arrivato rotto", "damaged_in_transit", "arrivato rott"),
    ("Difettoso", "defective", "difettos"),
    ("Qualità scadente", "quality", "qualita"),
    ("Non veste bene", "fit_other", "non veste bene"),
    ("Non mi piace", "changed_mind", "non mi piace"),
    # Dutch
    ("Te klein", "size_too_small", "te klein"),
    ("Valt groot", "size_too_large", "valt groot"),
    ("Kapot aangekomen", "damaged_in_transit", "kapot aangekomen"),
    ("Werkt niet", "defective", "werkt niet"),
    ("Verkeerde artikel ontvangen", "wrong_item", "verkeerde artikel"),
    ("Past niet", "fit_other", "past niet"),
    ("Bevalt niet", "changed_mind", "bevalt niet"),
    # liking it or not, with nothing more specific said (a named colour or fit wins: rules above)
    ("Don't like it", "changed_mind", "don't like it"),
    ("I did not like them", "changed_mind", "did not like them"),
    ("Gefällt nicht", "changed_mind", "gefallt nicht"),
    ("Don't like the fit", "fit_other", "fit"),
    # bracketing (several sizes ordered to keep one): a size question, unless the reason names the size
    ("Ordered multiple sizes", "fit_other", "ordered multiple sizes"),
    ("Bought 2 sizes, kept the other", "fit_other", "bought 2 sizes"),
    ("Kept a different size", "fit_other", "kept a different size"),
    ("In mehreren Größen bestellt", "fit_other", "in mehreren grossen"),
    ("Commandé en plusieurs tailles", "fit_other", "plusieurs tailles"),
    ("Pedí dos tallas", "fit_other", "dos tallas"),
    ("Ordered two sizes, this one too small", "size_too_small", "too small"),
]


@pytest.mark.parametrize("text,expected,fragment", KEYWORDS)
def test_keyword_classification(text, expected, fragment):
    cat, rule = classify_text(text)
    assert cat == expected, (text, rule)
    assert rule.startswith("keyword '") and fragment in rule


@pytest.mark.parametrize(
    "text", ["chocolate brown", "template", "nothing to add", "ok", "the latest model", "a lovely item, kept it"]
)
def test_unrecognised_text_is_other_not_a_real_category(text):
    # 'late' inside 'chocolate'/'template' and 'thin' inside 'nothing' must not match
    assert classify_text(text) == ("other", "no rule matched")


@pytest.mark.parametrize("empty", [None, "", "   ", pd.NA, float("nan")])
def test_empty_is_unknown(empty):
    assert classify_text(empty) == ("unknown", "empty")


def test_comment_used_only_when_reason_is_uninformative():
    reasons = pd.Series(["OTHER", "SIZE_TOO_LARGE", None, "OTHER"])
    comments = pd.Series(["Sleeves too short", "it was too small actually", "zu spät geliefert", None])
    out = classify(reasons, comments)
    assert out["category"].tolist() == ["size_too_small", "size_too_large", "late_or_not_delivered", "other"]
    assert out["rule"].tolist()[0] == "comment keyword 'too short'"
    assert out["rule"].tolist()[1] == "Shopify code SIZE_TOO_LARGE"
    assert out["group"].tolist() == ["preventable", "preventable", "operational", "unknown"]
    assert str(out["category"].dtype) == "string"


def test_overrides_win_over_codes_keywords_and_comments():
    reasons = pd.Series(["SIZE_TOO_SMALL", "meh", "Meh ", "weird thing", None], index=[10, 11, 12, 13, 14])
    comments = pd.Series(["", "too small", "", "", ""], index=[10, 11, 12, 13, 14])
    out = classify(reasons, comments, overrides={"SIZE_TOO_SMALL": "fit_other", "meh": "Quality"})
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out["category"].tolist() == ["fit_other", "quality", "quality", "other", "unknown"]
    assert out["rule"].tolist()[:3] == ["user override"] * 3


def test_bad_override_raises():
    with pytest.raises(ValueError, match="not one of"):
        classify(pd.Series(["x"]), overrides={"x": "sizing"})


def test_every_category_has_a_known_group():
    assert {g for _, g in CATEGORIES.values()} == {"preventable", "operational", "customer_choice", "unknown"}


def test_mapping_table_reconciles_with_rows():
    df = pd.DataFrame(
        {
            "reason": ["SIZE_TOO_SMALL"] * 5 + ["OTHER"] * 3 + [None] * 2 + ["zzz", "Too big", "Too big"],
            "comment": [None] * 5 + ["too tight", None, None, "broken", None, None, None, None],
            "quantity": [1, 2, 1, 1, 1, 1, 1, 3, 1, 1, 1, 2, 1],
        }
    )
    t = reason_mapping_table(df, overrides={"zzz": "quality"})
    # plain pandas: rows per raw reason (missing kept as its own group)
    expected = df["reason"].fillna("<empty>").value_counts()
    assert int(t["count"].sum()) == len(df)
    assert int(t["units"].sum()) == int(df["quantity"].sum())
    got = dict(zip(t["reason"].fillna("<empty>"), t["count"]))
    assert got == expected.to_dict()
    row = t.set_index(t["reason"].fillna("<empty>"))
    assert row.loc["OTHER", "category"] == "other" and row.loc["OTHER", "comment_rows"] == 1
    assert row.loc["<empty>", "category"] == "unknown" and row.loc["<empty>", "comment_rows"] == 1
    assert row.loc["zzz", "rule"] == "user override"
    assert row.loc["Too big", "category"] == "size_too_large"
    assert t["count"].is_monotonic_decreasing


def test_classify_is_per_distinct_value_fast():
    # 200k rows of 4 distinct values: the result is broadcast back correctly (speed lives in bench/)
    reasons = pd.Series(["runs small", "COLOR", None, "zu klein"] * 50_000)
    out = classify(reasons, pd.Series([None] * len(reasons)))
    assert out["category"].value_counts().to_dict() == {
        "size_too_small": 100_000,
        "colour_style": 50_000,
        "unknown": 50_000,
    }


RESOLUTIONS = [
    ("Refund", "refund"),
    ("StandardRefund", "refund"),  # Amazon FBA resolution
    ("refunded to original payment", "refund"),
    ("Exchange", "exchange"),
    ("Replacement", "exchange"),  # Amazon replacement order
    ("Umtausch", "exchange"),
    ("Store credit", "store_credit"),
    ("Refund to store credit", "store_credit"),
    ("Gift card", "store_credit"),
    ("Gutschein", "store_credit"),
    ("Kept item", "other"),
    ("", "unknown"),
    (None, "unknown"),
]


def test_normalize_resolution():
    raw = pd.Series([r for r, _ in RESOLUTIONS], index=range(5, 5 + len(RESOLUTIONS)))
    out = normalize_resolution(raw)
    assert out.tolist() == [e for _, e in RESOLUTIONS]
    assert list(out.index) == list(raw.index)


@pytest.mark.parametrize(
    "text, expected",
    [
        # English words ending in 'te' before a name: Dutch 'te klein' / 'te lang' (too small / too long) must be
        # whole words, and Italian 'rotto' (broken) must not be found inside 'grotto'
        ("Gift from Charlotte Klein, not needed", "changed_mind"),
        ("Bought the white Lang blazer elsewhere cheaper", "changed_mind"),
        ("Grotto print mug, not needed", "changed_mind"),
        # the Dutch and Italian keywords still match as words
        ("Te klein", "size_too_small"),
        ("veel te lang", "size_too_large"),
        ("arrivato rotto", "damaged_in_transit"),
        ("rotto", "defective"),
    ],
)
def test_dutch_and_italian_keywords_match_whole_words_only(text, expected):
    cat, rule = classify_text(text)
    assert cat == expected, (text, rule)
