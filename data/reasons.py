"""Harmonised return-reason taxonomy and resolution normalisation.

classify() maps raw reason codes/texts (and comments) to one category of CATEGORIES, and says
which rule matched. normalize_resolution() maps raw outcomes to refund / exchange / store_credit /
other / unknown.
"""
from __future__ import annotations

import re

import pandas as pd

# category -> (label, group). group: preventable (by guidance), operational, customer_choice, unknown
CATEGORIES: dict[str, tuple[str, str]] = {
    "size_too_small": ("Size too small", "preventable"),
    "size_too_large": ("Size too large", "preventable"),
    "fit_other": ("Fit (other)", "preventable"),
    "not_as_described": ("Not as described / pictured", "preventable"),
    "colour_style": ("Colour or style", "preventable"),
    "quality": ("Quality", "preventable"),
    "defective": ("Defective or damaged", "operational"),
    "damaged_in_transit": ("Damaged in transit", "operational"),
    "wrong_item": ("Wrong item sent", "operational"),
    "setup_confusion": ("Setup or usage confusion", "preventable"),
    "late_or_not_delivered": ("Late or not delivered", "operational"),
    "changed_mind": ("Changed mind / unwanted", "customer_choice"),
    "ordered_by_mistake": ("Ordered by mistake", "customer_choice"),
    "other": ("Other", "unknown"),
    "unknown": ("Unknown", "unknown"),
}

_KEYWORDS: list[tuple[str, str]] = [
    ("size_too_small", r"too small|too tight|runs small|size up|smaller than|zu klein|trop petit|demasiado peque|muy peque"),
    ("size_too_large", r"too large|too big|too loose|runs large|size down|bigger than|zu gro|trop grand|demasiado grand|muy grand"),
    ("fit_other", r"\bfit\b|fitting|length|passform|coupe|talla"),
    ("damaged_in_transit", r"damaged (in|during) (transit|shipping|delivery)|carrier|arrived damaged|transportschaden"),
    ("defective", r"defect|broken|faulty|damaged|doesn'?t work|not working|kaputt|defekt|cass[ée]|roto|d[ée]fectueux"),
    ("wrong_item", r"wrong item|wrong product|wrong size sent|incorrect item|falscher artikel|mauvais article|art[ií]culo equivocado"),
    ("setup_confusion", r"assembl|install|set ?up|instructions|confus|hard to use|complicated|aufbau|montage|instalaci"),
    ("not_as_described", r"not as (described|pictured|shown)|different from (the )?(photo|picture|description)|looks different|nicht wie beschrieben|pas conforme|no como se describe"),
    ("colour_style", r"colou?r|style|didn'?t like the look|farbe|couleur"),
    ("quality", r"quality|cheap|thin|flimsy|qualit[äa]t|qualit[ée]|calidad"),
    ("late_or_not_delivered", r"late|never arrived|not delivered|missed (estimated )?delivery|zu sp[äa]t|retard|tarde"),
    ("ordered_by_mistake", r"by mistake|ordered wrong|mistaken|accident|aus versehen|par erreur|por error"),
    ("changed_mind", r"changed? (my )?mind|no longer (needed|wanted)|unwanted|don'?t need|better price|found cheaper|nicht mehr|plus besoin|ya no"),
]
_COMPILED = [(cat, re.compile(rx, re.IGNORECASE)) for cat, rx in _KEYWORDS]


def classify_text(text: object) -> tuple[str, str]:
    """Return (category, rule) for one raw reason text. Unknown when empty."""
    if text is None or (isinstance(text, float) and pd.isna(text)) or text is pd.NA:
        return "unknown", "empty"
    s = str(text).strip()
    if not s:
        return "unknown", "empty"
    for cat, rx in _COMPILED:
        m = rx.search(s)
        if m:
            return cat, f"keyword '{m.group(0).lower()}'"
    return "other", "no rule matched"


def classify(reasons: pd.Series, comments: pd.Series | None = None) -> pd.DataFrame:
    """Classify a Series of raw reasons (falling back to comments where the reason says nothing).

    Returns a frame aligned to `reasons` with columns category, group, rule.
    Classification runs once per distinct raw value, so it is fast on large tables.
    """
    raw = reasons.astype("string")
    key = raw.fillna("")
    if comments is not None:
        key = key.str.cat(comments.astype("string").fillna(""), sep="\x1f")
    uniq = pd.unique(key)
    table = {}
    for k in uniq:
        reason, _, comment = k.partition("\x1f")
        cat, rule = classify_text(reason)
        if cat in ("unknown", "other") and comment:
            c2, r2 = classify_text(comment)
            if c2 not in ("unknown", "other"):
                cat, rule = c2, f"comment {r2}"
        table[k] = (cat, rule)
    cats = key.map(lambda k: table[k][0])
    rules = key.map(lambda k: table[k][1])
    return pd.DataFrame(
        {"category": cats.astype("string"), "group": cats.map(lambda c: CATEGORIES[c][1]).astype("string"),
         "rule": rules.astype("string")},
        index=reasons.index,
    )


_RESOLUTION_RULES = [
    ("exchange", re.compile(r"exchang|swap|replace|umtausch|[ée]change|cambio", re.I)),
    ("store_credit", re.compile(r"store credit|credit|voucher|gift ?card|gutschein|avoir|vale", re.I)),
    ("refund", re.compile(r"refund|money back|reimburs|erstattung|rembours|reembolso|returned", re.I)),
]


def normalize_resolution(values: pd.Series) -> pd.Series:
    """Map raw resolution texts to refund / exchange / store_credit / other / unknown."""
    raw = values.astype("string")
    out = {}
    for v in pd.unique(raw.dropna()):
        cat = "other"
        for name, rx in _RESOLUTION_RULES:
            if rx.search(str(v)):
                cat = name
                break
        if not str(v).strip():
            cat = "unknown"
        out[v] = cat
    res = raw.map(lambda v: out.get(v, "unknown") if v is not pd.NA else "unknown")
    return res.fillna("unknown").astype("string")
