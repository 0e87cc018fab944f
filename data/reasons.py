"""Harmonised return-reason taxonomy and resolution normalisation.

Why: every platform records return reasons its own way (Shopify enum codes and admin labels, Amazon
FBA reason codes with ``CR-`` / ``AMZ-PG-`` variants, free text typed by customers in several
languages). The analysis needs one small taxonomy so that "Linen Shirts come back because they run
small" can be said across sources, and each category carries a *group* saying who can act on it:

- ``preventable``: preventable by guidance (fit advice, setup steps, truthful photos and copy);
- ``operational``: a fulfilment, carrier or manufacturing failure;
- ``customer_choice``: the customer changed their mind or ordered by mistake;
- ``unknown``: no usable reason.

classify() maps raw reasons (and, where the reason says nothing, the comment) to one category of
CATEGORIES and says which rule matched: ``"user override"``, ``"Shopify code SIZE_TOO_SMALL"``,
``"Shopify label 'Size was too small'"``, ``"Amazon code APPAREL_TOO_SMALL"``, ``"keyword 'runs small'"``
or ``"comment keyword 'zu klein'"``. Rules run once per distinct raw value, so it is fast on large
tables. Reasons no rule recognises are ``other`` (text present) or ``unknown`` (empty): never
silently lumped into a real category.

Sources for the code tables: Shopify GraphQL Admin ``ReturnReason`` enum (shopify.dev, values and their
"Displays as" labels); Amazon Seller Central FBA customer returns report reason codes.

>>> classify_text("SIZE_TOO_SMALL")
('size_too_small', 'Shopify code SIZE_TOO_SMALL')
>>> classify_text("Das Hemd ist zu klein")
('size_too_small', "keyword 'zu klein'")
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

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

GROUP_LABELS: dict[str, str] = {
    "preventable": "Preventable by guidance",
    "operational": "Operational",
    "customer_choice": "Customer choice",
    "unknown": "Unknown / other",
}

SIZE_CATEGORIES = ("size_too_small", "size_too_large", "fit_other")
UNINFORMATIVE = ("other", "unknown")


def category_label(category: str) -> str:
    """Human label of a category key (the key itself if it is not in CATEGORIES)."""
    return CATEGORIES.get(category, (category, ""))[0]


def category_group(category: str) -> str:
    """Group of a category key: preventable / operational / customer_choice / unknown."""
    return CATEGORIES.get(category, ("", "unknown"))[1]


# ---- exact code tables ---------------------------------------------------------------------------

# Shopify GraphQL Admin ReturnReason enum.
SHOPIFY_CODES: dict[str, str] = {
    "COLOR": "colour_style",
    "DEFECTIVE": "defective",
    "NOT_AS_DESCRIBED": "not_as_described",
    "OTHER": "other",
    "SIZE_TOO_LARGE": "size_too_large",
    "SIZE_TOO_SMALL": "size_too_small",
    "STYLE": "colour_style",
    "UNKNOWN": "unknown",
    "UNWANTED": "changed_mind",
    "WRONG_ITEM": "wrong_item",
}

# Shopify admin / customer-facing labels ("Displays as ..."), matched case-insensitively and exactly.
SHOPIFY_LABELS: dict[str, str] = {
    "color": "colour_style",
    "colour": "colour_style",
    "style": "colour_style",
    "damaged or defective": "defective",
    "defective": "defective",
    "item not as described": "not_as_described",
    "not as described": "not_as_described",
    "other": "other",
    "size was too large": "size_too_large",
    "size was too small": "size_too_small",
    "unknown": "unknown",
    "customer changed their mind": "changed_mind",
    "changed my mind": "changed_mind",
    "received the wrong item": "wrong_item",
}

# Amazon FBA customer returns report reason codes.
AMAZON_CODES: dict[str, str] = {
    "APPAREL_TOO_SMALL": "size_too_small",
    "APPAREL_TOO_LARGE": "size_too_large",
    "APPAREL_STYLE": "colour_style",
    "DEFECTIVE": "defective",
    "QUALITY_UNACCEPTABLE": "quality",
    "NOT_AS_DESCRIBED": "not_as_described",
    "MISSING_PARTS": "defective",  # item arrived incomplete: a fulfilment/manufacturing failure
    "EXCESSIVE_INSTALLATION": "setup_confusion",
    "NOT_COMPATIBLE": "not_as_described",  # compatibility is set by the listing's copy
    "PART_NOT_COMPATIBLE": "not_as_described",
    "ORDERED_WRONG_ITEM": "ordered_by_mistake",
    "MISORDERED": "ordered_by_mistake",
    "UNAUTHORIZED_PURCHASE": "ordered_by_mistake",
    "UNWANTED_ITEM": "changed_mind",
    "FOUND_BETTER_PRICE": "changed_mind",
    "DAMAGED_BY_CARRIER": "damaged_in_transit",
    "DAMAGED_BY_FC": "defective",  # damaged in the fulfilment centre, before the carrier
    "NEVER_ARRIVED": "late_or_not_delivered",
    "MISSED_ESTIMATED_DELIVERY": "late_or_not_delivered",
    "NO_REASON_GIVEN": "unknown",
    "SWITCHEROO": "other",  # a different item came back: abuse, not a reason the product failed
    "EXTRA_ITEM": "wrong_item",  # an item the customer did not order was shipped
    # short forms used in AMZ-PG-* codes (after prefix normalisation)
    "BAD_DESC": "not_as_described",
    "PRICE_LOWER": "changed_mind",
}
AMAZON_PREFIX_RULES: tuple[tuple[str, str], ...] = (("UNDELIVERABLE_", "late_or_not_delivered"),)
# AMZ-PG-<product group>-TOO-SMALL etc. (e.g. AMZ-PG-APP-TOO-SMALL, AMZ-PG-WJ-TOO-SMALL)
AMAZON_SUFFIX_RULES: tuple[tuple[str, str], ...] = (
    ("TOO_SMALL", "size_too_small"),
    ("TOO_LARGE", "size_too_large"),
    ("STYLE", "colour_style"),
    ("BAD_DESC", "not_as_described"),
    ("MISORDERED", "ordered_by_mistake"),
    ("DEFECTIVE", "defective"),
)
_AMAZON_PREFIX = re.compile(r"^(?:CR|AMZ[_-]PG)[_-]+")
_PREFIX_ANYCASE = re.compile(r"^(?:cr|amz)[_-]", re.I)
_CODE_SHAPE = re.compile(r"^[A-Z][A-Z0-9]*(?:[_-][A-Z0-9]+)*$")


def _code_rule(raw: str) -> tuple[str, str] | None:
    """Exact platform code lookup; None when the text is not a known code."""
    s = raw.strip()
    if not (s.isupper() or "_" in s or _PREFIX_ANYCASE.match(s)):
        return None
    code = s.upper()
    if not _CODE_SHAPE.match(code):
        return None
    norm = code.replace("-", "_")
    if norm in SHOPIFY_CODES and code == norm:
        return SHOPIFY_CODES[norm], f"Shopify code {norm}"
    stripped = _AMAZON_PREFIX.sub("", code).replace("-", "_")
    had_prefix = stripped != norm
    if stripped in AMAZON_CODES:
        return AMAZON_CODES[stripped], f"Amazon code {code}"
    if stripped in SHOPIFY_CODES and had_prefix:  # CR-DEFECTIVE, CR-NOT_AS_DESCRIBED, ...
        return SHOPIFY_CODES[stripped], f"Amazon code {code}"
    for prefix, cat in AMAZON_PREFIX_RULES:
        if stripped.startswith(prefix):
            return cat, f"Amazon code {code}"
    if code.startswith("AMZ"):
        for suffix, cat in AMAZON_SUFFIX_RULES:
            if stripped.endswith(suffix):
                return cat, f"Amazon code {code}"
    return None


# ---- free-text keyword rules ---------------------------------------------------------------------
# Text is case-folded and stripped of accents before matching (so 'groß' -> 'gross', 'pequeño' ->
# 'pequeno'); the patterns are written in that normalised form. Order matters: the first match wins,
# so specific phrases (wrong item, damaged in transit, setup) come before generic ones (damaged, fit).

_KEYWORDS: list[tuple[str, str]] = [
    ("unknown", r"^(no reason( given)?|none|n/?a|-+)$"),
    ("ordered_by_mistake", r"(clicked|picked|chose|selected|ordered) the wrong (size|colou?r|item|one|product)"),
    (
        "wrong_item",
        r"wrong (item|product|colou?r|size) (was )?(sent|shipped|delivered|received)|"
        r"(got|received|sent) (me )?a different (product|item)|different (product|item) (than|from) (what )?i ordered|"
        r"(sent|shipped|received|delivered|got) (me )?(the |a )?wrong (item|product|size|colou?r|one)|"
        r"\bwrong item\b|incorrect item|not what i ordered|not the item i ordered|"
        r"falsche[rn]? (artikel|ware|produkt)|falsch geliefert|falsche grosse geliefert|"
        r"mauvais (article|produit)|article (errone|incorrect)|pas le bon article|"
        r"articulo (equivocado|incorrecto|erroneo)|producto (equivocado|incorrecto)|no es lo que pedi|"
        r"articolo (sbagliato|errato)|prodotto sbagliato|verkeerde? (artikel|product|item)|verkeerd geleverd",
    ),
    (
        "size_too_small",
        r"too (small|tight|short|narrow)|runs? (small|tight|short)|size up|sized? small|"
        r"smaller than (expected|usual|normal)|fits? small|"
        r"\btight\b|"
        r"zu (klein|eng|kurz)|fallt (zu )?(klein|eng)|kleiner als|"
        r"trop (petit|serre|court|etroit)|taille (petit|trop petit)|"
        r"(demasiado|muy) (pequen|chic|ajustad|estrech|cort)|me queda (pequen|chic|ajustad|estrech|cort)|"
        r"talla pequen|"
        r"troppo (piccol|strett|cort)|veste piccol|\bte (klein|krap|kort)|valt (te )?klein",
    ),
    (
        "size_too_large",
        r"too (large|big|loose|long|wide|baggy)|runs? (large|big|long)|size down|sized? (large|big)|"
        r"bigger than (expected|usual|normal)|larger than (expected|usual|normal)|fits? large|swamp|\broomy\b|"
        r"oversized|\bbaggy\b|"
        r"zu (gross|gros|weit|lang)\b|fallt (zu )?(gross|weit)|grosser als|"
        r"trop (grand|large|long)|taille grand|"
        r"(demasiado|muy) (grande|holgad|anch|larg)|me queda (grande|holgad|anch|larg)|talla grande|"
        r"troppo (grand|larg|lung)|veste grand|\bte (groot|wijd|lang)\b|valt (te )?groot",
    ),
    (
        "damaged_in_transit",
        r"(arrived|came|delivered|received)( [a-z]+)? (damaged|broken|smashed|crushed|cracked|"
        r"shattered|dented|in pieces)|"
        r"damaged (in|during|by) (transit|shipping|delivery|the courier|the carrier|post)|"
        r"(box|package|parcel|packaging) (was |arrived )?(crushed|damaged|smashed|torn|open)|"
        r"(chipped|cracked|broken|damaged|dented|scratched) (on|upon) (arrival|delivery)|"
        r"shipping damage|transit damage|\bcarrier\b|courier|"
        r"transportschaden|beschadigt (angekommen|geliefert)|kaputt (angekommen|geliefert)|"
        r"paket (war )?beschadigt|"
        r"arrive (casse|endommage|abime|brise)|(abime|endommage|casse) (pendant|lors de) (le |la )?"
        r"(transport|livraison)|colis (abime|endommage)|"
        r"llego (roto|danado|rota|danada|golpeado)|danado (en|durante) el (envio|transporte)|"
        r"(paquete|caja) (llego )?(danad|rot|aplastad)|"
        r"arrivat[oa] (rott|danneggiat|rovinat)|danneggiat[oa] (durante|nel) (il )?(trasporto|spedizione)|"
        r"(kapot|beschadigd) (aangekomen|geleverd|ontvangen)",
    ),
    (
        "setup_confusion",
        r"assembl|\binstall|set ?up|instructions?|manual (is |was )?(unclear|confusing)|confus|"
        r"(hard|difficult|too complicated|complicated) to (use|set|connect|assemble|install|understand)|"
        r"too complicated|(couldn'?t|could not|can'?t|cannot|unable to) (get it to work|figure|"
        r"work out|connect|pair|assemble|install|set)|won'?t (connect|pair)|\bapp\b|wi-?fi|bluetooth|"
        r"aufbau|montage|anleitung|bedienung|kompliziert|verbindet nicht|"
        r"mode d'?emploi|notice|difficile a (monter|installer|utiliser)|impossible a (monter|installer)|"
        r"complique|"
        r"instalac|instrucciones|montar|complicad|dificil de (usar|instalar|montar)|"
        r"no (pude|puedo|supe) (montar|instalar|configurar|conectar)",
    ),
    (
        "defective",
        r"defect|broken|faulty|damaged|doesn'?t work|does not work|not working|stopped working|"
        r"won'?t turn on|dead on arrival|\bdoa\b|malfunction|\btorn\b|ripped|hole in|\bcrack|flicker|"
        r"seams? (coming apart|split|came apart|undone)|fell apart|falling apart|"
        r"kaputt|defekt|funktioniert nicht|beschadigt|"
        r"casse|defectueux|ne fonctionne pas|en panne|abime|endommage|"
        r"\broto\b|\brota\b|defectuos|no funciona|danad|averiad|"
        r"difettos|\brott[oa]\b|non funziona|danneggiat|kapot|werkt niet|beschadigd",
    ),
    (
        "not_as_described",
        r"not as (described|pictured|shown|advertised|expected)|"
        r"(different|differs) (from|than|to) (the )?(photo|picture|image|description|website|listing|ad)|"
        r"(looks?|looked) (nothing like|different)|misleading|not like (the )?(photo|picture)|"
        r"not what (was|it was) (described|advertised)|not the (material|fabric|size|colou?r|item) described|"
        r"than (in |on )?the (pictures?|photos?|images?|video|website)|(looked|looks) better online|"
        r"nicht wie (beschrieben|abgebildet)|sieht anders aus|anders als (auf dem )?(bild|foto|beschrieben)|"
        r"entspricht nicht (der )?(beschreibung|abbildung)|"
        r"pas conforme|ne correspond pas|different de (la )?(photo|description)|"
        r"no (es )?como (se )?(describe|en la foto|en la imagen|aparece)|"
        r"no coincide con|distinto (a|de) la (foto|imagen|descripcion)|diferente (a|de) la (foto|imagen|descripcion)",
    ),
    (
        "colour_style",
        r"colou?r|\bstyle\b|didn'?t like the (look|design)|don'?t like the (look|design)|shade|"
        r"didn'?t (go|match) with|doesn'?t (go|match) with|"
        r"farbe|\bstil\b|couleur|\bcolor\b|\bcolore\b|\bkleur\b",
    ),
    (
        "quality",
        r"quality|\bcheap(ly)?\b|\bthin\b|thinner|flimsy|see-?through|\bpill(ed|ing|s)?\b|poorly made|badly made|"
        r"qualitat|\bbillig\b|\bdunn\b|"
        r"qualite|bas de gamme|\bfin\b|"
        r"calidad|(parece|se ve|muy) barat|endeble|\bqualita\b|kwaliteit",
    ),
    (
        "fit_other",
        r"\bfit\b|\bfits\b|fitting|doesn'?t suit|\blength\b|sit right|sits (wrong|strangely|oddly)|"
        r"\bcut is\b|passt nicht|passform|sitzt nicht|"
        r"ne (me )?va pas|\bcoupe\b|no me queda|\btalla\b|\bhorma\b|non (mi )?(sta|calza|veste) bene|\bvestibilita\b|"
        r"past niet|pasvorm|"
        # bracketing: the customer ordered the item in several sizes to keep the one that fits (a size
        # question the guidance can answer; a reason that names the size, "too small", matched above)
        r"(ordered|bought|purchased|got) (it )?(in )?(multiple|several|two|2|three|3|both|different|more than one) sizes|"
        r"(kept|keeping) (the |a |one )?(other|another|different|better) size|"
        r"(mehrere|zwei|verschiedene) grossen|in (mehreren|zwei|verschiedenen) grossen|"
        r"plusieurs tailles|deux tailles|varias tallas|dos tallas|piu taglie|due taglie|meerdere maten",
    ),
    (
        "late_or_not_delivered",
        r"\blate\b|too long to (arrive|deliver)|never (arrived|came|received)|"
        r"not (delivered|received)|didn'?t arrive|missed (estimated )?delivery|delayed|"
        r"zu spat|nie angekommen|nicht (angekommen|geliefert)|verspatet|"
        r"en retard|jamais (recu|arrive)|non (livre|recu)|"
        r"llego tarde|nunca llego|no (me )?llego|retrasad",
    ),
    (
        "ordered_by_mistake",
        r"by mistake|mistaken(ly)?|ordered (the )?wrong|wrong order|accident|ordered twice|duplicate order|"
        r"aus versehen|versehentlich|falsch bestellt|doppelt bestellt|"
        r"par erreur|commande en double|"
        r"por error|me equivoque|pedido duplicado",
    ),
    (
        "changed_mind",
        r"changed? (my |their )?mind|no longer (need|want)|unwanted|don'?t (need|want)|didn'?t (need|want)|"
        r"bought something else|not for me|gift.{0,12}not (wanted|needed|liked)|"
        r"better price|cheaper|\bbilliger\b|found (it )?(elsewhere|cheaper)|not needed|"
        r"nicht mehr (benotigt|gebraucht|gewollt)|brauche .*nicht mehr|anders entschieden|gefallt mir nicht|"
        r"change d'?avis|plus besoin|moins cher|ne me plait pas|"
        r"cambie de opinion|ya no (lo |la )?(necesito|quiero)|mas barato|no me gusta|"
        r"(don'?t|didn'?t|do not|did not) (really )?like (it|them|this|the item|the product)\b|gefallt (uns )?nicht|"
        r"non mi piace|ho cambiato idea|non (mi )?serve piu|bevalt niet|vind (het|ze) niet mooi|"
        r"niet meer nodig|van gedachten veranderd",
    ),
]
_COMPILED = [(cat, re.compile(rx)) for cat, rx in _KEYWORDS]


def _normalise(text: str) -> str:
    """Case-fold, strip accents and collapse whitespace (and typographic apostrophes)."""
    s = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", s).strip()


def _is_missing(text: object) -> bool:
    if text is None or text is pd.NA:
        return True
    if isinstance(text, float) and text != text:
        return True
    return not str(text).strip()


def classify_text(text: object) -> tuple[str, str]:
    """Return (category, rule) for one raw reason text.

    Exact platform codes and Shopify labels first, then keyword rules; ``("unknown", "empty")`` for an
    empty value and ``("other", "no rule matched")`` when text is present but no rule recognises it.

    >>> classify_text("AMZ-PG-APP-TOO-LARGE")
    ('size_too_large', 'Amazon code AMZ-PG-APP-TOO-LARGE')
    >>> classify_text("Item arrived smashed")
    ('damaged_in_transit', "keyword 'arrived smashed'")
    """
    if _is_missing(text):
        return "unknown", "empty"
    s = str(text).strip()
    hit = _code_rule(s)
    if hit is not None:
        return hit
    norm = _normalise(s)
    if norm in SHOPIFY_LABELS:
        return SHOPIFY_LABELS[norm], f"Shopify label '{s}'"
    for cat, rx in _COMPILED:
        m = rx.search(norm)
        if m:
            return cat, f"keyword '{m.group(0)}'"
    return "other", "no rule matched"


def _normalise_overrides(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Validate user corrections (raw reason -> category key or label); keys compared normalised."""
    if not overrides:
        return {}
    by_label = {_normalise(lbl): key for key, (lbl, _) in CATEGORIES.items()}
    out: dict[str, str] = {}
    for raw, cat in overrides.items():
        c = str(cat).strip()
        if c not in CATEGORIES:
            c = by_label.get(_normalise(c), "")
        if not c:
            raise ValueError(
                f"Override for reason {raw!r} names category {cat!r}, which is not one of {', '.join(CATEGORIES)}."
            )
        out[_normalise(str(raw))] = c
    return out


def _classify_pair(reason: str, comment: str, ov: dict[str, str]) -> tuple[str, str]:
    if ov and reason and _normalise(reason) in ov:
        return ov[_normalise(reason)], "user override"
    cat, rule = classify_text(reason)
    if cat in UNINFORMATIVE and comment:
        c2, r2 = classify_text(comment)
        if c2 not in UNINFORMATIVE:
            return c2, f"comment {r2}"
    return cat, rule


def classify(
    reasons: pd.Series, comments: pd.Series | None = None, overrides: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Classify a Series of raw reasons (falling back to comments where the reason says nothing).

    Parameters: ``reasons`` raw reason codes or texts; ``comments`` optional free text aligned to
    ``reasons``, used only when the reason is empty, ``other`` or unrecognised; ``overrides`` user
    corrections raw reason -> category key (or label), which win over every built-in rule.

    Returns a frame aligned to ``reasons`` with string columns category, group, rule.
    Classification runs once per distinct (reason, comment) pair.

    >>> classify(pd.Series(["SIZE_TOO_SMALL", "meh", None]), overrides={"meh": "quality"})["rule"].tolist()
    ['Shopify code SIZE_TOO_SMALL', 'user override', 'empty']
    """
    ov = _normalise_overrides(overrides)
    key = reasons.astype("string").fillna("")
    if comments is not None:
        if len(comments) != len(reasons):
            raise ValueError("comments must have the same length as reasons.")
        com = pd.Series(comments.to_numpy(), index=reasons.index).astype("string").fillna("")
        key = key.str.cat(com, sep="\x1f")
    codes, uniq = pd.factorize(key, sort=False)
    cats, rules = [], []
    for k in uniq:
        reason, _, comment = str(k).partition("\x1f")
        cat, rule = _classify_pair(reason, comment, ov)
        cats.append(cat)
        rules.append(rule)
    cat_arr = pd.array(cats, dtype="string")
    rule_arr = pd.array(rules, dtype="string")
    grp_arr = pd.array([CATEGORIES[c][1] for c in cats], dtype="string")
    if len(codes) and (codes < 0).any():  # cannot happen after fillna, kept as a guard
        raise ValueError("Reasons could not be factorised.")
    return pd.DataFrame(
        {
            "category": cat_arr.take(codes) if len(uniq) else pd.array([], dtype="string"),
            "group": grp_arr.take(codes) if len(uniq) else pd.array([], dtype="string"),
            "rule": rule_arr.take(codes) if len(uniq) else pd.array([], dtype="string"),
        },
        index=reasons.index,
    )


def reason_mapping_table(returns_df: pd.DataFrame, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every distinct raw reason with its row count and how it is classified (for the mapping editor).

    Columns: reason (raw text, ``<NA>`` for empty), count (return rows), units (sum of quantity, or
    rows when quantity is absent), category, label, group, rule (classification of the reason itself),
    comment_rows (rows whose comment supplied the category because the reason said nothing).
    Sorted by count, largest first. ``count`` sums to ``len(returns_df)``: every row is accounted for,
    unrecognised reasons show as ``other`` and empty ones as ``unknown``.
    """
    if "reason" not in returns_df.columns:
        raise ValueError("returns_df has no 'reason' column; map the return reason column first.")
    n = len(returns_df)
    reason = returns_df["reason"].astype("string")
    units = (
        pd.to_numeric(returns_df["quantity"], errors="coerce").fillna(1)
        if "quantity" in returns_df.columns
        else pd.Series(1, index=returns_df.index)
    )
    comment = returns_df["comment"] if "comment" in returns_df.columns else None
    full = classify(reason, comment, overrides) if n else None
    frame = pd.DataFrame({"reason": reason, "units": units.astype("float64")})
    frame["by_comment"] = full["rule"].str.startswith("comment ").fillna(False) if full is not None else False
    key = frame["reason"].fillna("\x00")
    g = frame.assign(key=key).groupby("key", sort=False, dropna=False)
    out = pd.DataFrame(
        {
            "count": g.size(),
            "units": g["units"].sum(),
            "comment_rows": g["by_comment"].sum().astype("int64"),
        }
    ).reset_index()
    out["reason"] = out["key"].where(out["key"] != "\x00", pd.NA).astype("string")
    own = classify(out["reason"], None, overrides)
    out["category"] = own["category"]
    out["label"] = out["category"].map(category_label).astype("string")
    out["group"] = own["group"]
    out["rule"] = own["rule"]
    out = out[["reason", "count", "units", "category", "label", "group", "rule", "comment_rows"]]
    return out.sort_values(["count", "reason"], ascending=[False, True], na_position="last").reset_index(drop=True)


# ---- resolutions ---------------------------------------------------------------------------------

RESOLUTION_LABELS: dict[str, str] = {
    "refund": "Refund",
    "exchange": "Exchange",
    "store_credit": "Store credit",
    "other": "Other",
    "unknown": "Unknown",
}

_RESOLUTION_RULES = [
    (
        "store_credit",
        re.compile(
            r"store[ -]?credit|shop credit|account credit|credit to (account|wallet)|voucher|"
            r"gift ?card|gutschein|guthaben|\bavoir\b|bon d'?achat|\bvale\b|credito (en|de) tienda",
            re.I,
        ),
    ),
    ("exchange", re.compile(r"exchang|swap|replace|umtausch|\btausch|[ée]change|cambio|reemplazo", re.I)),
    (
        "refund",
        re.compile(
            r"refund|money back|reimburs|erstattung|erstattet|rembours|reembolso|devolucion del dinero|"
            r"\bcredit\b|returned",
            re.I,
        ),
    ),
]


def normalize_resolution(values: pd.Series) -> pd.Series:
    """Map raw resolution texts to refund / exchange / store_credit / other / unknown.

    Store credit is tested first so that "refund to store credit" counts as store credit; Amazon's
    ``StandardRefund`` is a refund and ``Replacement`` an exchange. Empty values are ``unknown``,
    unrecognised text ``other``.

    >>> normalize_resolution(pd.Series(["StandardRefund", "Exchange", "Gift card", "", None])).tolist()
    ['refund', 'exchange', 'store_credit', 'unknown', 'unknown']
    """
    raw = values.astype("string").fillna("")
    codes, uniq = pd.factorize(raw, sort=False)
    cats = []
    for v in uniq:
        s = str(v).strip()
        cat = "unknown" if not s else "other"
        if s:
            for name, rx in _RESOLUTION_RULES:
                if rx.search(s):
                    cat = name
                    break
        cats.append(cat)
    arr = pd.array(cats, dtype="string")
    out = arr.take(codes) if len(uniq) else pd.array([], dtype="string")
    return pd.Series(out, index=values.index, dtype="string")
