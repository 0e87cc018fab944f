"""Column mapping: which source column feeds which canonical column, per role, plus reading settings.

The mapping step is the only place raw headers become canonical names (STYLE.md habit 3).
suggest_mapping() proposes a mapping from header synonyms in English, German, French, Spanish,
Dutch and Italian; a user-edited Mapping (from the mapping editor or a saved JSON file) overrides it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from data.errors import InputError, Problem
from data.schema import TABLES

ROLES = ("orders", "returns", "catalog", "transactions", "interventions")
DATE_FORMATS = ("auto", "dmy", "mdy", "ymd")
DECIMALS = ("auto", ".", ",")


def default_settings() -> dict:
    return {"credit_note_prefix": "C", "non_merchandise_skus": [], "date_format": "auto", "decimal": "auto"}


@dataclass
class Mapping:
    """tables: role -> {canonical column: source column}; settings: reading options; reason_overrides:
    raw reason -> taxonomy category (carried for data.reasons)."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    settings: dict = field(default_factory=default_settings)
    reason_overrides: dict[str, str] = field(default_factory=dict)

    def setting(self, key: str):
        return self.settings.get(key, default_settings()[key])

    def to_json(self) -> str:
        doc = {role: dict(self.tables.get(role, {})) for role in ROLES}
        doc["settings"] = {**default_settings(), **self.settings}
        doc["reason_overrides"] = dict(self.reason_overrides)
        return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> Mapping:
        """Parse a mapping JSON file; every problem (bad JSON, unknown role/column/setting) is reported at once."""
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            msg = f"The mapping file is not valid JSON ({exc})."
            raise InputError("Mapping file is not valid JSON", msg,
                             [Problem("mapping JSON", "Mapping file is not valid JSON", msg,
                                      "Download the mapping again from the mapping editor, or fix the JSON syntax.")]
                             ) from exc
        if not isinstance(doc, dict):
            msg = "The mapping file must hold one JSON object with keys orders, returns, catalog, transactions, interventions, settings."
            raise InputError("Mapping file has the wrong shape", msg,
                             [Problem("mapping JSON", "Mapping file has the wrong shape", msg, "Start from a downloaded mapping.")])
        problems: list[Problem] = []
        tables: dict[str, dict[str, str]] = {}
        for key, value in doc.items():
            if key in ("settings", "reason_overrides"):
                continue
            if key not in ROLES:
                problems.append(Problem("mapping JSON", "Unknown table in mapping", f"'{key}' is not a table.",
                                        f"Use one of: {', '.join(ROLES)}."))
                continue
            if not isinstance(value, dict):
                problems.append(Problem("mapping JSON", "Table mapping must be an object", f"'{key}' is not an object.",
                                        'Write it as {"canonical": "source column"}.'))
                continue
            names = TABLES[key].names
            for canon, source in value.items():
                if canon not in names:
                    problems.append(Problem("mapping JSON", "Unknown canonical column",
                                            f"'{canon}' is not a column of {key}.", f"Use one of: {', '.join(names)}.",
                                            column=canon))
                elif source is not None and not isinstance(source, str):
                    problems.append(Problem("mapping JSON", "Source column must be text",
                                            f"{key}.{canon} is {source!r}.", "Write the header text of the source column.",
                                            column=canon))
            tables[key] = {c: s for c, s in value.items() if c in names and (s is None or isinstance(s, str))}
        settings = default_settings()
        raw_settings = doc.get("settings", {}) or {}
        if not isinstance(raw_settings, dict):
            raw_settings = {}
            problems.append(Problem("mapping JSON", "Settings must be an object", "settings is not an object.",
                                    "See the settings block of a downloaded mapping."))
        for k, v in raw_settings.items():
            if k not in settings:
                problems.append(Problem("mapping JSON", "Unknown setting", f"'{k}' is not a setting.",
                                        f"Use one of: {', '.join(settings)}."))
            elif k == "date_format" and v not in DATE_FORMATS:
                problems.append(Problem("mapping JSON", "Unknown date format", f"date_format is {v!r}.",
                                        f"Use one of: {', '.join(DATE_FORMATS)}."))
            elif k == "decimal" and v not in DECIMALS:
                problems.append(Problem("mapping JSON", "Unknown decimal mark", f"decimal is {v!r}.",
                                        f"Use one of: {', '.join(DECIMALS)}."))
            elif k == "non_merchandise_skus" and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                problems.append(Problem("mapping JSON", "non_merchandise_skus must be a list of codes",
                                        f"non_merchandise_skus is {v!r}.", 'Write e.g. ["POST", "GIFTWRAP"].'))
            else:
                settings[k] = v
        overrides = doc.get("reason_overrides", {}) or {}
        if not isinstance(overrides, dict):
            problems.append(Problem("mapping JSON", "reason_overrides must be an object", "reason_overrides is not an object.",
                                    'Write it as {"raw reason": "category"}.'))
            overrides = {}
        if problems:
            raise InputError("Mapping file has problems", f"{len(problems)} problem(s) in the mapping file.", problems)
        return cls(tables=tables, settings=settings, reason_overrides={str(k): str(v) for k, v in overrides.items()})


def normalize_header(h: str) -> str:
    """Lower-case, accents kept, punctuation/underscores/dashes as single spaces."""
    return re.sub(r"[^0-9a-zà-ÿß]+", " ", str(h).lower()).strip()


# canonical -> synonyms (normalised). Order matters: earlier synonyms win over later ones.
_COMMON: dict[str, tuple[str, ...]] = {
    "order_id": ("order id", "order number", "order no", "order", "order name", "name", "order ref", "invoice",
                 "invoice no", "invoice number", "amazon order id", "bestellnummer", "bestellung", "auftragsnummer",
                 "rechnungsnummer", "commande", "numéro de commande", "n commande", "pedido", "número de pedido",
                 "numero de pedido", "n pedido", "bestelnummer", "bestelling", "ordernummer", "numero ordine", "ordine",
                 "document", "document no", "document number"),
    "sku": ("sku", "lineitem sku", "variant sku", "stockcode", "stock code", "item code", "product code", "article",
            "article number", "item number", "item id", "product id", "seller sku", "msku", "artikelnummer", "artikel",
            "référence", "reference", "ref", "code article", "referencia", "código", "codigo", "artikelcode",
            "codice articolo", "codice", "ean", "upc"),
    "quantity": ("quantity", "qty", "lineitem quantity", "units", "quantity returned", "returned quantity", "menge",
                 "anzahl", "stückzahl", "quantité", "qté", "cantidad", "aantal", "quantità", "qta", "pieces", "pcs"),
    "unit_price": ("unit price", "price", "lineitem price", "item price", "sale price", "selling price", "preis",
                   "einzelpreis", "stückpreis", "prix", "prix unitaire", "precio", "precio unitario", "prijs",
                   "stukprijs", "prezzo", "prezzo unitario"),
    "product_name": ("product name", "product", "lineitem name", "item name", "title", "product title", "description",
                     "item description", "produktname", "bezeichnung", "artikelbezeichnung", "beschreibung", "produit",
                     "désignation", "nom du produit", "libellé", "producto", "descripción", "descripcion", "nombre",
                     "productnaam", "omschrijving", "prodotto", "descrizione", "product description"),
    "collection": ("collection", "product collection", "kollektion", "colección", "coleccion", "collectie", "collezione",
                   "line", "range", "product line", "family", "product family"),
    "category": ("category", "product category", "product type", "type", "department", "kategorie", "warengruppe",
                 "catégorie", "categorie", "categoría", "categoria", "rayon"),
    "size": ("size", "variant", "variant title", "größe", "grösse", "groesse", "taille", "talla", "maat", "taglia",
             "option1 value"),
    "customer_id": ("customer id", "customer", "customer number", "customer no", "client id", "email", "customer email",
                    "kundennummer", "kunde", "kunden id", "client", "numéro client", "cliente", "id cliente",
                    "klantnummer", "klant", "codice cliente"),
    "channel": ("channel", "sales channel", "source", "source name", "country", "marketplace", "store", "kanal",
                "vertriebskanal", "canal", "canal de venta", "kanaal", "canale", "land", "pays", "país", "pais", "paese"),
    "journey": ("journey", "campaign", "utm campaign", "landing page", "landing site", "referring site", "referrer",
                "kampagne", "campagne", "campaña", "campagna"),
    "intent": ("intent", "customer intent"),
    "return_id": ("return id", "return number", "rma", "rma number", "return no", "credit note", "license plate number",
                  "retourennummer", "retoure", "numéro de retour", "número de devolución", "retournummer", "numero reso"),
    "reason": ("reason", "return reason", "reason code", "grund", "rücksendegrund", "retourengrund", "motif",
               "motif de retour", "raison", "motivo", "motivo de devolución", "reden", "retourreden", "motivo reso",
               "causale"),
    "comment": ("comment", "comments", "customer comments", "customer comment", "note", "notes", "kommentar",
                "bemerkung", "commentaire", "comentario", "opmerking", "commento", "nota"),
    "resolution": ("resolution", "outcome", "return type", "refund type", "disposition", "action", "erstattungsart",
                   "lösung", "résolution", "type de remboursement", "resolución", "resolucion", "afhandeling",
                   "risoluzione", "esito"),
    "refund_amount": ("refund amount", "refunded amount", "refund", "amount refunded", "credit amount",
                      "erstattungsbetrag", "erstattung", "montant remboursé", "remboursement", "importe reembolsado",
                      "reembolso", "terugbetaald bedrag", "importo rimborsato", "rimborso"),
    "exchange_sku": ("exchange sku", "exchange item", "replacement sku", "exchanged for", "umtausch sku",
                     "article d échange", "sku de cambio", "ruil sku", "sku cambio"),
    "dimension": ("dimension", "segment type", "level"),
    "segment": ("segment", "target", "affected segment", "collection name"),
    "start_date": ("start date", "start", "launch date", "live date", "go live", "date", "effective date", "startdatum",
                   "date de début", "fecha de inicio", "data inizio"),
    "description": ("description", "change", "what changed", "intervention", "beschreibung", "descripción", "descrizione"),
}
_ORDER_DATE = ("order date", "date", "created at", "invoicedate", "invoice date", "purchase date", "order created",
               "ordered at", "document date", "transaction date", "bestelldatum", "datum", "rechnungsdatum",
               "date de commande", "date", "fecha", "fecha de pedido", "besteldatum", "data ordine", "data")
_RETURN_DATE = ("return date", "returned at", "return created", "date returned", "received date", "return received",
                "refund date", "date", "rücksendedatum", "retourendatum", "datum", "date de retour", "fecha de devolución",
                "fecha", "retourdatum", "data reso", "data")


def _synonyms(role: str) -> dict[str, tuple[str, ...]]:
    syn = {c: _COMMON.get(c, (c.replace("_", " "),)) for c in TABLES[role].names}
    if "order_date" in syn:
        syn["order_date"] = _ORDER_DATE
    if "return_date" in syn:
        syn["return_date"] = _RETURN_DATE
    if role == "returns":
        syn["order_id"] = tuple(s for s in syn["order_id"] if s not in ("invoice", "document", "document no", "document number"))
        syn["quantity"] = ("quantity returned", "returned quantity", "return quantity", *syn["quantity"])
    if role == "interventions":
        syn["description"] = _COMMON["description"]
    return syn


def suggest_mapping(columns: Sequence[str], role: str) -> dict[str, str]:
    """Propose {canonical: source column} for a file of the given role from its headers.

    Exact (normalised) synonym matches are taken first, in synonym order, each source column used once;
    then a source header that contains a multi-word synonym (e.g. 'Customer ID (internal)').

    >>> suggest_mapping(["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID"], "transactions")["order_date"]
    'InvoiceDate'
    """
    if role not in TABLES:
        raise ValueError(f"role must be one of {', '.join(TABLES)}, not {role!r}.")
    norm = {c: normalize_header(c) for c in columns}
    syn = _synonyms(role)
    used: set[str] = set()
    out: dict[str, str] = {}
    # pass 1: exact matches, best synonym rank across canonicals first
    candidates = []
    for canon, words in syn.items():
        for rank, w in enumerate(words):
            for col, n in norm.items():
                if n == w:
                    candidates.append((rank, list(syn).index(canon), canon, col))
    for _, _, canon, col in sorted(candidates, key=lambda t: (t[0], t[1])):
        if canon not in out and col not in used:
            out[canon] = col
            used.add(col)
    # pass 2: containment of multi-word synonyms
    for canon, words in syn.items():
        if canon in out:
            continue
        for w in words:
            if " " not in w:
                continue
            hit = next((c for c, n in norm.items() if c not in used and re.search(rf"\b{re.escape(w)}\b", n)), None)
            if hit:
                out[canon] = hit
                used.add(hit)
                break
    return {c: out[c] for c in TABLES[role].names if c in out}
