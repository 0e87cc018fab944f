"""Header matching that generalises: which source column is which canonical column, how sure, and why.

A header is reduced to a set of *concept tokens* before it is compared with anything:

1. only the first MAX_HEADER_CHARS characters are looked at (a 50 MB one-line "header" costs the
   same as a short one), and notes in brackets are dropped ("Qty (pcs)" -> "Qty");
2. camelCase, PascalCase, digits and separators split words ("InvoiceNo" -> invoice no,
   "CustomerID" -> customer id, "DOC_NUM" -> doc num);
3. run-together words and compounds are split into known words ("stockcode" -> stock code,
   "Bestellnummer" -> bestell nummer, "Rechnungsdatum" -> rechnungs datum);
4. abbreviations and words in German, French, Spanish, Dutch and Italian become one English concept
   (no/nr/num/#/nummer/numéro -> number, qty/menge/cantidad -> quantity, datum/fecha -> date ...), and
   filler words (de, of, the ...) are dropped;
5. an unknown word one edit from a known one, with the same first letter, is read as a typo ("Ordre",
   "Qantity"; rapidfuzz's optimal string alignment distance), and the suggestion is marked less sure.

Word order is ignored ("Numéro de commande" and "order number" are the same set). Each candidate
(canonical column, source column) gets a name score - exact set match, the synonym contained in a
longer header (a lone generic word such as 'code' or 'name' only asks), or a near-identical spelling -
times a value check on sample rows: a date
column must hold dates, a quantity or money column numbers, an id column not dates. Columns are then
assigned greedily, best score first, each used once.

Every Suggestion carries its confidence (0-1) and a reason a user can read. At or above APPLY_AT a
suggestion is applied; below it the Upload page only asks ("did you mean ...?") - except a header that
plainly names a column whose values disagree, when nothing else fits: it is applied (and shown as
unsure) so that validation can list the unreadable values with examples.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.readers import parse_dates, parse_numbers

try:  # a fuzzy matcher in C; difflib keeps the module working where it is missing
    from rapidfuzz import fuzz as _fuzz
    from rapidfuzz import process as _process
    from rapidfuzz.distance import OSA as _OSA

    def _ratio(a: str, b: str) -> float:
        return _fuzz.ratio(a, b) / 100.0

    def _nearest(word: str, vocab: Sequence[str], max_edits: int) -> str | None:
        hit = _process.extractOne(word, vocab, scorer=_OSA.distance, score_cutoff=max_edits)
        return hit[0] if hit else None
except ImportError:  # pragma: no cover - rapidfuzz is pinned in requirements.txt
    import difflib

    def _ratio(a: str, b: str) -> float:
        return difflib.SequenceMatcher(None, a, b).ratio()

    def _nearest(word: str, vocab: Sequence[str], max_edits: int) -> str | None:
        hits = difflib.get_close_matches(word, vocab, n=1, cutoff=0.85)
        return hits[0] if hits else None


MAX_HEADER_CHARS = 120  # a header longer than this is looked at only up to here
MAX_COLUMNS = 2000  # columns beyond this are not matched (the mapping editor still lists them)
SAMPLE_ROWS = 200  # rows used for value checks
APPLY_AT = 0.6  # suggestions at or above are applied; below, the Upload page asks
HIGH_AT = 0.85  # at or above: shown as sure

# word -> English concept. Keys are lower-case words as they appear after splitting.
CONCEPTS: dict[str, str] = {
    # number / identifier
    "no": "number",
    "nr": "number",
    "num": "number",
    "nbr": "number",
    "nro": "number",
    "nº": "number",
    "number": "number",
    "nummer": "number",
    "numéro": "number",
    "numero": "number",
    "número": "number",
    "n": "number",
    "id": "number",
    "ident": "number",
    "identifier": "number",
    "nummern": "number",
    # order
    "order": "order",
    "orders": "order",
    "ord": "order",
    "bestell": "order",
    "bestellung": "order",
    "auftrag": "order",
    "auftrags": "order",
    "commande": "order",
    "pedido": "order",
    "bestel": "order",
    "bestelling": "order",
    "ordine": "order",
    "purchase": "purchase",
    "purchased": "purchase",
    # invoice / document
    "invoice": "invoice",
    "inv": "invoice",
    "rechnung": "invoice",
    "rechnungs": "invoice",
    "facture": "invoice",
    "factura": "invoice",
    "factuur": "invoice",
    "fattura": "invoice",
    "doc": "document",
    "document": "document",
    "beleg": "document",
    "documento": "document",
    "transaction": "transaction",
    "txn": "transaction",
    # date / time
    "date": "date",
    "dt": "date",
    "datum": "date",
    "fecha": "date",
    "data": "date",
    "day": "date",
    "created": "created",
    "creation": "created",
    "erstellt": "created",
    "timestamp": "date",
    "time": "time",
    # quantity
    "qty": "quantity",
    "quantity": "quantity",
    "quantities": "quantity",
    "menge": "quantity",
    "anzahl": "quantity",
    "stückzahl": "quantity",
    "quantité": "quantity",
    "qté": "quantity",
    "qte": "quantity",
    "cantidad": "quantity",
    "cant": "quantity",
    "aantal": "quantity",
    "quantità": "quantity",
    "qta": "quantity",
    "quantita": "quantity",
    "pcs": "pieces",
    "pieces": "pieces",
    "stk": "pieces",
    "units": "units",
    "unidades": "units",
    # money
    "price": "price",
    "prc": "price",
    "preis": "price",
    "prix": "price",
    "precio": "price",
    "prijs": "price",
    "prezzo": "price",
    "amt": "amount",
    "amount": "amount",
    "betrag": "amount",
    "montant": "amount",
    "importe": "amount",
    "bedrag": "amount",
    "importo": "amount",
    "value": "value",
    "val": "value",
    "wert": "value",
    "valeur": "value",
    "valor": "value",
    "waarde": "value",
    "valore": "value",
    "unit": "unit",
    "einzel": "unit",
    "stück": "unit",
    "unitaire": "unit",
    "unitario": "unit",
    "stuk": "unit",
    "net": "net",
    "netto": "net",
    "neto": "net",
    "total": "total",
    "gesamt": "total",
    "totale": "total",
    # people
    "customer": "customer",
    "cust": "customer",
    "kunde": "customer",
    "kunden": "customer",
    "client": "customer",
    "cliente": "customer",
    "klant": "customer",
    "buyer": "customer",
    "käufer": "customer",
    "shopper": "customer",
    "email": "email",
    "mail": "email",
    # product
    "product": "product",
    "prod": "product",
    "produkt": "product",
    "produit": "product",
    "producto": "product",
    "prodotto": "product",
    "item": "item",
    "itm": "item",
    "article": "article",
    "art": "type",
    "type": "type",
    "artikel": "article",
    "articulo": "article",
    "artículo": "article",
    "articolo": "article",
    "sku": "sku",
    "skus": "sku",
    "msku": "sku",
    "stock": "stock",
    "code": "code",
    "cd": "code",
    "código": "code",
    "codigo": "code",
    "codice": "code",
    "ref": "reference",
    "réf": "reference",
    "reference": "reference",
    "référence": "reference",
    "referencia": "reference",
    "referenz": "reference",
    "riferimento": "reference",
    "variant": "variant",
    "variante": "variant",
    "lineitem": "lineitem",
    "line": "line",
    "style": "style",
    "model": "style",
    "modell": "style",
    "modèle": "style",
    "modelo": "style",
    "modello": "style",
    # text
    "desc": "description",
    "descr": "description",
    "description": "description",
    "beschreibung": "description",
    "bezeichnung": "description",
    "descripción": "description",
    "descripcion": "description",
    "omschrijving": "description",
    "descrizione": "description",
    "désignation": "description",
    "libellé": "description",
    "libelle": "description",
    "name": "name",
    "nm": "name",
    "naam": "name",
    "nom": "name",
    "nombre": "name",
    "nome": "name",
    "title": "title",
    "titel": "title",
    "titre": "title",
    "titolo": "title",
    "título": "title",
    # returns
    "return": "return",
    "returns": "return",
    "returned": "return",
    "ret": "return",
    "rtn": "return",
    "rma": "rma",
    "retour": "return",
    "retoure": "return",
    "retouren": "return",
    "rücksende": "return",
    "rücksendung": "return",
    "rucksende": "return",
    "devolución": "return",
    "devolucion": "return",
    "reso": "return",
    "retourzending": "return",
    "retourneren": "return",
    "reason": "reason",
    "why": "reason",
    "rsn": "reason",
    "grund": "reason",
    "motif": "reason",
    "motivo": "reason",
    "reden": "reason",
    "raison": "reason",
    "causale": "reason",
    "refund": "refund",
    "refunded": "refund",
    "rfnd": "refund",
    "erstattung": "refund",
    "erstattungs": "refund",
    "erstattet": "refund",
    "remboursement": "refund",
    "remboursé": "refund",
    "reembolso": "refund",
    "reembolsado": "refund",
    "terugbetaling": "refund",
    "terugbetaald": "refund",
    "rimborso": "refund",
    "rimborsato": "refund",
    "comment": "comment",
    "comments": "comment",
    "kommentar": "comment",
    "commentaire": "comment",
    "comentario": "comment",
    "opmerking": "comment",
    "commento": "comment",
    "bemerkung": "comment",
    "note": "note",
    "notes": "note",
    "notiz": "note",
    "exchange": "exchange",
    "umtausch": "exchange",
    "échange": "exchange",
    "cambio": "exchange",
    "ruil": "exchange",
    "replacement": "exchange",
    # attributes
    "size": "size",
    "sz": "size",
    "größe": "size",
    "grösse": "size",
    "groesse": "size",
    "taille": "size",
    "talla": "size",
    "maat": "size",
    "taglia": "size",
    "colour": "colour",
    "color": "colour",
    "farbe": "colour",
    "couleur": "colour",
    "kleur": "colour",
    "colore": "colour",
    "category": "category",
    "cat": "category",
    "kategorie": "category",
    "catégorie": "category",
    "categorie": "category",
    "categoría": "category",
    "categoria": "category",
    "warengruppe": "category",
    "collection": "collection",
    "kollektion": "collection",
    "colección": "collection",
    "coleccion": "collection",
    "collectie": "collection",
    "collezione": "collection",
    "channel": "channel",
    "kanal": "channel",
    "canal": "channel",
    "kanaal": "channel",
    "canale": "channel",
    "country": "country",
    "land": "country",
    "pays": "country",
    "país": "country",
    "pais": "country",
    "paese": "country",
    "ctry": "country",
    "status": "status",
    "zustand": "status",
    "statut": "status",
    "estado": "status",
    "stato": "status",
}
STOPWORDS = frozenset(
    {
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "d",
        "l",
        "of",
        "the",
        "del",
        "di",
        "van",
        "der",
        "het",
        "per",
        "a",
        "an",
        "el",
        "en",
        "y",
        "und",
        "et",
        "for",
        "por",
        "pour",
        "zum",
        "zur",
        "da",
        "dei",
        "della",
        "e",
        "at",
    }
)

# Real header words one edit away from a vocabulary word: never "corrected".
NOT_TYPOS = frozenset(
    {
        "stars",
        "start",
        "state",
        "states",
        "stats",
        "option",
        "options",
        "sales",
        "seller",
        "sender",
        "season",
        "dates",
        "rates",
        "rated",
        "rater",
        "codes",
        "coded",
        "names",
        "named",
        "types",
        "typed",
        "lines",
        "lined",
        "items",
        "pricey",
        "prices",
        "priced",
        "value",
        "values",
        "total",
        "totals",
        "notes",
        "noted",
        "refer",
        "refers",
        "return",
        "orderly",
        "channels",
        "channeled",
        "source",
        "sources",
        "storey",
        "stores",
        "stored",
        "ranges",
        "ranged",
        "level",
        "levels",
        "stages",
        "staged",
        "shape",
        "shapes",
        "sizes",
        "sized",
        "title",
        "titles",
        "cases",
    }
)
_BRACKETS = re.compile(r"[(\[{][^)\]}]*[)\]}]")
_LOWER = "a-zà-öø-ÿß"
_UPPER = "A-ZÀ-ÖØ-Þ"
_CAMEL = re.compile(rf"(?<=[{_LOWER}])(?=[{_UPPER}])|(?<=[{_UPPER}])(?=[{_UPPER}][{_LOWER}])")
_DIGIT = re.compile(rf"(?<=[{_LOWER}{_UPPER}])(?=\d)|(?<=\d)(?=[{_LOWER}{_UPPER}])")
_WORD = re.compile(rf"[0-9{_LOWER}º]+")


@functools.lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    words = {w for w in CONCEPTS if len(w) >= 2}
    for syns in SYNONYMS.values():
        for syn in syns:
            words.update(w for w in _WORD.findall(syn.lower()) if len(w) >= 3)
    return frozenset(words)


@functools.lru_cache(maxsize=8192)
def _segment(word: str) -> tuple[str, ...]:
    """Split a run-together word into known words ('stockcode' -> stock, code); unchanged when it cannot.

    Dynamic programming over split points (word length is bounded by MAX_HEADER_CHARS), fewest pieces
    first; a German linking 's' is allowed on a piece ('rechnungsdatum').
    """
    known = _known_words()
    if word in known or word in STOPWORDS or len(word) < 5 or len(word) > 40:
        return (word,)
    n = len(word)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(1, n + 1):
        for j in range(max(0, i - 20), i - 1):
            head, cur = best[j], best[i]
            if head is None:
                continue
            piece = word[j:i]
            ok = piece in known or (len(piece) >= 5 and piece.endswith("s") and piece[:-1] in known)
            if ok and (cur is None or len(head) + 1 < len(cur)):
                best[i] = head + (piece if piece in known else piece[:-1],)
    return best[n] or (word,)


@functools.lru_cache(maxsize=8192)
def header_words(header: str) -> tuple[str, ...]:
    """The words of a header: first MAX_HEADER_CHARS characters, brackets dropped, camelCase and digits split,
    run-together words segmented. `#` reads as 'number'.

    >>> header_words("InvoiceNo"), header_words("CustomerID"), header_words("Qty (pcs)"), header_words("StockCode")
    (('invoice', 'no'), ('customer', 'id'), ('qty',), ('stock', 'code'))
    """
    s = str(header)[:MAX_HEADER_CHARS]
    stripped = _BRACKETS.sub(" ", s)
    if _WORD.search(stripped.lower()):  # a header that is only a bracketed note keeps its note
        s = stripped
    s = s.replace("#", " number ").replace("°", "º")
    s = _DIGIT.sub(" ", _CAMEL.sub(" ", s)).lower()
    out: list[str] = []
    for w in _WORD.findall(s):
        out.extend(_segment(w))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _vocab() -> tuple[str, ...]:
    return tuple(sorted(w for w in _known_words() if len(w) >= 5))


@functools.lru_cache(maxsize=8192)
def _typo_fix(word: str) -> str | None:
    """The known word one edit away (two for long words) from an unknown word of 5+ letters: 'ordre' -> order."""
    if len(word) < 5 or word in _known_words() or word in STOPWORDS or word in NOT_TYPOS or not word.isalpha():
        return None
    fix = _nearest(word, _vocab(), 2 if len(word) >= 9 else 1)
    return fix if fix and fix[0] == word[0] else None  # typos rarely change the first letter ('season' is no 'reason')


@functools.lru_cache(maxsize=8192)
def concepts_and_fixes(header: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """Concept tokens of a header (order ignored) and the typo corrections made to get them."""
    out, fixes = set(), []
    for w in header_words(header):
        if w in STOPWORDS:
            continue
        if w not in CONCEPTS and (fix := _typo_fix(w)):
            fixes.append((w, fix))
            w = fix
        out.add(CONCEPTS.get(w, w))
    return frozenset(out), tuple(fixes)


def concepts(header: str) -> frozenset[str]:
    """Concept tokens of a header, order ignored.

    >>> sorted(concepts("Numéro de commande")) == sorted(concepts("ORDER_NO")) == ["number", "order"]
    True
    """
    return concepts_and_fixes(header)[0]


# canonical -> synonyms, most typical first (earlier synonyms win ties). Written in any language:
# each goes through concepts(), so one English entry also covers its abbreviations and translations.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "order_id": (
        "order id",
        "order number",
        "order",
        "order name",
        "name",
        "order ref",
        "invoice",
        "invoice number",
        "amazon order id",
        "document number",
        "document",
        "transaction id",
        "receipt number",
        "bestellung",
        "ordernummer",
        "sales order",
        "so number",
    ),
    "sku": (
        "sku",
        "lineitem sku",
        "variant sku",
        "custom label",  # eBay's name for the seller's SKU (its "Item Number" is the listing, for every size)
        "stock code",
        "item code",
        "item",  # alone, the item's identifier (a code, or its name: either tells items apart)
        "product code",
        "article",
        "article number",
        "item number",
        "item id",
        "product id",
        "seller sku",
        "article code",
        "reference",
        "product reference",
        "item reference",
        "article reference",
        "ean",
        "upc",
        "gtin",
        "barcode",
        "code",
        "part number",
        "material number",
        "style number",
        "merchant sku",
    ),
    "quantity": (
        "quantity",
        "lineitem quantity",
        "units",
        "quantity returned",
        "returned quantity",
        "pieces",
        "units sold",
        "unit count",
        "item count",
    ),
    "unit_price": (
        "unit price",
        "price",
        "lineitem price",
        "item price",
        "sale price",
        "selling price",
        "price per unit",
        "unit value",
        "net price",
        "unit net price",
        "item cost",
        "sold for",  # eBay orders report
        "unit cost",
        "net amount",
        "line amount",
        "amount",
    ),
    "product_name": (
        "product name",
        "product",
        "lineitem name",
        "item name",
        "title",
        "product title",
        "item title",
        "description",
        "item description",
        "article description",
        "product description",
        "article name",
        "name",
        "designation",
    ),
    "collection": ("collection", "product collection", "line", "range", "product line", "family", "product family"),
    "category": (
        "category",
        "product category",
        "product type",
        "type",
        "department",
        "warengruppe",
        "rayon",
        "product group",
        "item category",
    ),
    "size": ("size", "variant", "variant title", "option1 value", "size name", "variant size"),
    "customer_id": (
        "customer id",
        "customer",
        "customer number",
        "client id",
        "email",
        "customer email",
        "buyer email",
        "customer code",
        "customer reference",
        "account number",
        "member id",
    ),
    "channel": (
        "channel",
        "sales channel",
        "source",
        "source name",
        "marketplace",
        "store",
        "vertriebskanal",
        "canal de venta",
        "shop",
        "sales channel name",
        "order channel",
    ),
    "journey": (
        "journey",
        "campaign",
        "utm campaign",
        "landing page",
        "landing site",
        "referring site",
        "referrer",
        "kampagne",
        "campagne",
        "campaña",
        "campagna",
    ),
    "intent": ("intent", "customer intent"),
    "promotion": ("discount code", "promo code", "promotion code", "coupon code", "voucher code", "promotion"),
    "country": (
        "country",
        "ship country",
        "shipping country",
        "ship to country",
        "delivery country",
        "destination country",
    ),
    "addon": ("add ons bought", "addons bought"),
    "line_refunded": ("line refunded", "refund attributed to line"),
    "order_refunded": ("order refunded", "refunded amount", "order refund amount"),
    "return_id": (
        "return id",
        "return number",
        "rma",
        "rma number",
        "credit note",
        "license plate number",
        "return reference",
        "credit note number",
        "return request id",
        "amazon rma id",
    ),
    "reason": ("reason", "return reason", "reason code", "return reason code", "reason for return"),
    "comment": (
        "comment",
        "customer comment",
        "note",
        "customer note",
        "return comment",
        "customer feedback",
        "remarks",
        "nota",
    ),
    "resolution": (
        "resolution",
        "outcome",
        "return type",
        "refund type",
        "disposition",
        "action",
        "lösung",
        "résolution",
        "resolución",
        "resolucion",
        "afhandeling",
        "risoluzione",
        "esito",
        "return outcome",
        "return method",
    ),
    "refund_amount": ("refund amount", "refund", "credit amount", "refund value", "refund total", "amount"),
    "exchange_sku": (
        "exchange sku",
        "exchange item",
        "replacement sku",
        "exchanged for",
        "exchange product",
        "exchange variant sku",
    ),
    "dimension": ("dimension", "segment type", "level"),
    "segment": ("segment", "target", "affected segment", "collection name"),
    "start_date": (
        "start date",
        "start",
        "launch date",
        "live date",
        "go live",
        "date",
        "effective date",
        "startdatum",
        "date de début",
        "fecha de inicio",
        "data inizio",
    ),
    "description": ("description", "change", "what changed", "intervention"),
    "order_date": (
        "order date",
        "date",
        "created at",
        "invoice date",
        "purchase date",
        "order created",
        "ordered at",
        "document date",
        "transaction date",
        "order time",
        "created",
        "purchase",
    ),
    "return_date": (
        "return date",
        "returned at",
        "returned on",
        "return created",
        "date returned",
        "received date",
        "return received",
        "refund date",
        "date",
        "created at",
        "created",
        "return requested",
        "request date",
        "return started",  # Happy Returns
        "return initiated",
    ),
}
# Synonyms that are only a guess: an amount may be the line total rather than the price of one unit.
WEAK: dict[str, frozenset[str]] = {"unit_price": frozenset({"net amount", "line amount", "amount"})}
WEAK_CAP = 0.65
# Synonyms that only make sense in one role (a 'credit note' is a return id in returns files,
# but in signed transactions the credit note number is the document number).
ROLE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "returns": {
        "quantity": (
            "quantity returned",
            "returned quantity",
            "return quantity",
            "quantity",
            "units",
            "pieces",
            "units returned",
        )
    },
    "interventions": {"description": ("description", "change", "what changed", "intervention", "note", "notes")},
}
# Concept tokens that rule a canonical column out even when its synonym is contained in the header
# ("Order Date" holds 'date' but is no return date; "Quantity returned" is not the quantity bought).
FORBIDDEN: dict[str, frozenset[str]] = {
    # where a product was made is not where the order went (and is not constant within an order)
    "country": frozenset({"origin", "origine", "origen", "herkunft", "manufacturing", "manufacturer", "made"}),
    "return_date": frozenset({"order", "purchase", "ship", "shipped", "delivery", "invoice", "paid"}),
    "order_date": frozenset(
        {
            "return",
            "refund",
            "ship",
            "shipped",
            "delivery",
            "paid",
            "fulfilled",
            "cancelled",
            "updated",
            "last",
            "birth",
            "start",
            "end",
            "due",
        }
    ),
    "order_id": frozenset(
        {
            "date",
            "created",
            "amount",
            "price",
            "quantity",
            "status",
            "customer",
            "email",
            "line",
            "time",
            "return",
            "rma",
        }
    ),
    "return_id": frozenset({"date", "created", "amount", "quantity", "status", "reason", "order"}),
    "sku": frozenset({"quantity", "price", "amount", "date", "name", "description", "exchange", "title"}),
    "quantity": frozenset({"price", "amount", "date", "value"}),
    "unit_price": frozenset({"quantity", "date", "refund", "tax", "shipping", "discount"}),
    "refund_amount": frozenset({"date", "quantity", "status", "tax", "shipping", "order", "label", "cost"}),
    "customer_id": frozenset({"date", "comment", "note", "name"}),
    "product_name": frozenset({"number", "code", "sku", "date", "quantity", "price"}),
    "reason": frozenset({"date", "comment"}),
    "size": frozenset({"quantity", "date", "price"}),
}
_NOT_AN_ID = frozenset(
    {
        "postal",
        "post",
        "zip",
        "tracking",
        "currency",
        "discount",
        "promotion",
        "coupon",
        "voucher",
        "tax",
        "shipping",
        "total",
        "value",
        "phone",
        "address",
        "city",
    }
)
for _c in ("order_id", "return_id", "sku", "customer_id"):
    FORBIDDEN[_c] = FORBIDDEN.get(_c, frozenset()) | _NOT_AN_ID
for _c in ("order_date", "return_date"):
    FORBIDDEN[_c] = FORBIDDEN[_c] | {"shipping", "delivered", "birthday"}
# A header that only *contains* one of these generic words is a question, not an answer ("Discount
# Code" is not the SKU, "Order Type" not the order id): containment of them scores below APPLY_AT.
GENERIC = frozenset(
    {
        "code",
        "name",
        "type",
        "line",
        "number",
        "source",
        "store",
        "action",
        "level",
        "start",
        "range",
        "target",
        "change",
        "status",
        "order",
        "customer",
        "product",
        "item",
        "article",
        "reference",
        "document",
        "invoice",
        "variant",
        "title",
        "family",
        "department",
        "shop",
        "units",
        "pieces",
        "created",
        "purchase",
        "note",
        "refund",
        "return",
    }
)

DATE_COLS = frozenset({"order_date", "return_date", "start_date"})
NUMBER_COLS = frozenset({"quantity", "unit_price", "refund_amount", "order_refunded"})


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposed source column for a canonical column, how sure (0-1) and why (a sentence)."""

    canonical: str
    column: str
    confidence: float
    reason: str
    applied: bool = True  # False: only a question for the user ("did you mean ...?")

    @property
    def level(self) -> str:
        return "high" if self.confidence >= HIGH_AT else "medium" if self.confidence >= APPLY_AT else "low"


@functools.lru_cache(maxsize=64)
def _role_synonyms(role: str, names: tuple[str, ...]) -> tuple[tuple[str, tuple[tuple[frozenset[str], str], ...]], ...]:
    out = []
    for canon in names:
        words = ROLE_SYNONYMS.get(role, {}).get(canon) or SYNONYMS.get(canon) or (canon.replace("_", " "),)
        seen: dict[frozenset[str], str] = {}
        for w in words:
            c = frozenset(CONCEPTS.get(x, x) for x in header_words(w) if x not in STOPWORDS)
            if c and c not in seen:
                seen[c] = w
        out.append((canon, tuple(seen.items())))
    return tuple(out)


def _name_score(cols: frozenset[str], syns: tuple[tuple[frozenset[str], str], ...], canon: str) -> tuple[float, str]:
    """Best name score of one header for one canonical column, with the reason."""
    if not cols or (cols & FORBIDDEN.get(canon, frozenset())):
        return 0.0, ""
    best, why = 0.0, ""
    for rank, (syn, word) in enumerate(syns):
        if cols == syn:
            s = 0.99 - 0.002 * rank
            if s > best:
                best, why = s, f"header means '{word}'"
            break
    if best:
        if canon in WEAK and why.split("'")[1] in WEAK[canon]:
            best, why = (
                min(best, WEAK_CAP),
                f"{why} (check: an amount may be the line total, not the price of one unit)",
            )
        return best, why
    for rank, (syn, word) in enumerate(syns):
        if syn < cols:
            coverage = len(syn) / len(cols)
            s = 0.5 + 0.35 * coverage - 0.002 * rank
            if len(syn) == 1 and syn <= GENERIC:
                s = min(s, 0.5)
            if s > best:
                best, why = s, f"header contains '{word}'"
    joined = " ".join(sorted(cols))
    if len(joined) >= 6:
        for rank, (syn, word) in enumerate(syns):
            r = _ratio(joined, " ".join(sorted(syn)))
            if r >= 0.9:  # word-level typos are corrected before; this catches run-on spellings
                s = 0.45 + 0.35 * (r - 0.8) / 0.2 - 0.002 * rank
                if s > best:
                    best, why = s, f"header is spelled like '{word}' ({r:.0%} alike)"
    return best, why


def _sample_text(text: pd.Series) -> tuple[str, ...]:
    """The non-empty sample values as stripped text: the key the value checks below are memoised on
    (detection scores each column against several canonical columns, and guess_role and detect_layout
    each score the same sample: a column's values are parsed once, not once per candidate)."""
    t = text.dropna().astype("string").str.strip()
    return tuple(t[t != ""].tolist())


def _looks_like_dates(text: pd.Series) -> float:
    """Share of non-empty values that are dates written with separators (an Excel serial alone is a number)."""
    return _dates_share(_sample_text(text))


@functools.lru_cache(maxsize=256)
def _dates_share(values: tuple[str, ...]) -> float:
    if not values:
        return float("nan")
    t = pd.Series(values, dtype="string")
    written = t.str.contains(r"\d[-/.]\d|\d{4}-\d|[A-Za-z]{3}", regex=True).fillna(False).astype(bool)
    vals, bad, _ = parse_dates(t)
    return float((written & vals.notna() & ~bad).mean())


@functools.lru_cache(maxsize=256)
def _number_checks(values: tuple[str, ...]) -> tuple[float, float, bool] | None:
    """(share of values that are numbers, share of those that are whole, any negative); None when empty."""
    if not values:
        return None
    vals, bad, _ = parse_numbers(pd.Series(values, dtype="string"))
    vals = vals.where(~bad)
    v = vals.dropna()
    whole = float((v == np.round(v)).mean()) if len(v) else 1.0
    return float(vals.notna().mean()), whole, bool((v < 0).any())


def _value_factor(canon: str, text: pd.Series | None, role: str) -> tuple[float, str]:
    """1 when the values fit the canonical column, lower (with the reason) when they contradict it."""
    if text is None or text.dropna().empty:
        return 1.0, ""
    if canon in DATE_COLS:
        share = _looks_like_dates(text)
        if share != share:  # nan: all empty
            return 1.0, ""
        if share < 0.5:
            return 0.3, f"but only {share:.0%} of its values are dates"
        return min(1.0, 0.9 + 0.1 * share), "values are dates"
    if canon in NUMBER_COLS:
        checks = _number_checks(_sample_text(text))
        if checks is None:
            return 1.0, ""
        share, whole, negative = checks
        if share < 0.8:
            return 0.3, f"but only {share:.0%} of its values are numbers"
        if canon == "quantity":
            if whole < 0.9:
                return 0.4, "but its values are not whole numbers"
            if role == "transactions" and negative:
                return 1.0, "whole numbers, negative on returns"
            return 1.0, "values are whole numbers"
        return 1.0, "values are amounts"
    if canon in ("order_id", "return_id", "sku", "customer_id"):
        share = _looks_like_dates(text)
        if share == share and share > 0.5:
            return 0.3, "but its values are dates"
    return 1.0, ""


def _id_uniqueness(frame: pd.DataFrame, col: str) -> float:
    """Distinct values per row, times the share of rows filled: an order id is filled on every line and
    near-unique per order; a half-empty alternative id (merchant order id) or a repeated code is not."""
    t = frame[col].astype("string").str.strip()
    filled = t.notna() & (t != "")
    t = t[filled]
    return float(t.nunique() / len(t) * filled.mean()) if len(t) else 0.0


def suggest_columns(
    columns: Sequence[str], role: str, names: Sequence[str], frame: pd.DataFrame | None = None
) -> tuple[Suggestion, ...]:
    """Every canonical column of `names` with its best source column, confidence and reason.

    Applied suggestions (confidence >= APPLY_AT) are assigned greedily, best first, each source
    column at most once; then an exact header match whose values disagree, if nothing else fits; a
    canonical column whose best free candidate is below APPLY_AT gets an unapplied Suggestion that the
    Upload page shows as a question.

    >>> [s.column for s in suggest_columns(["InvoiceNo", "InvoiceDate", "UnitPrice"], "transactions",
    ...                                     ("order_id", "order_date", "unit_price"))]
    ['InvoiceNo', 'InvoiceDate', 'UnitPrice']
    """
    cols = [str(c) for c in list(columns)[:MAX_COLUMNS]]
    sample = None
    if frame is not None and len(frame):
        sample = frame.head(SAMPLE_ROWS)
    syn = _role_synonyms(role, tuple(names))
    order = {c: i for i, c in enumerate(names)}
    cand: list[tuple[float, int, str, str, str, float]] = []
    for col in cols:
        cs, fixes = concepts_and_fixes(col)
        if not cs:
            continue
        for canon, syns in syn:
            s, why = _name_score(cs, syns, canon)
            if s <= 0.3:
                continue
            name_s = s
            if fixes:  # a typo corrected: probably right, but shown as less sure
                s *= 0.75
                why = f"{why}, reading " + ", ".join(f"'{a}' as '{b}'" for a, b in fixes)
            if sample is not None and col in sample.columns:
                f, vwhy = _value_factor(canon, sample[col], role)
                s *= f
                if vwhy:
                    why = f"{why}; {vwhy}"
            cand.append((s, order[canon], canon, col, why, name_s))
    cand.sort(key=lambda t: (-t[0], t[1]))
    out: dict[str, Suggestion] = {}
    used: set[str] = set()
    for s, _, canon, col, why, _n in cand:
        if s < APPLY_AT or canon in out or col in used:
            continue
        out[canon] = Suggestion(canon, col, round(s, 3), why)
        used.add(col)
    # a header that plainly names the column is still used when its values disagree and nothing else
    # fits: validation then lists the unreadable values with examples, which says more than "missing"
    for s, _, canon, col, why, name_s in sorted(cand, key=lambda t: (-t[5], t[1])):
        if name_s >= HIGH_AT and canon not in out and col not in used:
            out[canon] = Suggestion(canon, col, round(s, 3), why)
            used.add(col)
    # two order-id-like columns scored alike (amazon-order-id, merchant-order-id): the one filled on every
    # line and most distinct per row wins; values only break near-ties, they never overrule a clear name
    if sample is not None and "order_id" in out and role in ("orders", "transactions"):
        alts = [
            c
            for s, _, canon, c, _, _n in cand
            if canon == "order_id"
            and c != out["order_id"].column
            and c not in used
            and abs(s - out["order_id"].confidence) < 0.05
        ]
        if alts:
            cur = out["order_id"]
            u = {c: _id_uniqueness(sample, c) for c in [cur.column, *alts] if c in sample.columns}
            if u:
                best = max(u, key=lambda c: u[c])
                if best != cur.column:
                    used.discard(cur.column)
                    used.add(best)
                    out["order_id"] = Suggestion(
                        "order_id",
                        best,
                        cur.confidence,
                        f"{cur.reason}; its values are the most order-like (near-unique)",
                    )
    for s, _, canon, col, why, _n in cand:
        if canon in out or col in used or s < 0.35:
            continue
        out[canon] = Suggestion(canon, col, round(s, 3), why, applied=False)
    return tuple(out[c] for c in names if c in out)


__all__ = [
    "Suggestion",
    "suggest_columns",
    "header_words",
    "concepts",
    "APPLY_AT",
    "HIGH_AT",
    "MAX_HEADER_CHARS",
    "MAX_COLUMNS",
]
