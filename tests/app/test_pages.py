"""Every page renders without exception on the demo data, on a minimal dataset and on one that lacks the
optional columns; the upload page is driven through its file uploader; filters change what pages show."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from data.demo import generate_frames, write_demo_files
from dashboard import session as S
from tests.app.conftest import PAGES, assert_clean, run_page, upload_spec


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


@pytest.fixture(scope="module")
def frames():
    return generate_frames(seed=5, n_orders=4000)


@pytest.fixture(scope="module")
def minimal(frames):
    orders, returns, _, _ = frames
    o = orders[["order_id", "order_date", "sku"]].assign(order_date=orders["order_date"].dt.strftime("%Y-%m-%d"))
    r = returns[["order_id", "sku"]]
    return upload_spec({"orders.csv": (_csv(o), "orders"), "returns.csv": (_csv(r), "returns")}, name="minimal")


@pytest.fixture(scope="module")
def no_optional(frames):
    orders, returns, _, _ = frames
    o = orders[["order_id", "order_date", "sku", "quantity", "collection", "size", "product_name", "customer_id"]]
    o = o.assign(order_date=orders["order_date"].dt.strftime("%d.%m.%Y"))
    r = returns[["order_id", "sku", "quantity", "return_date"]].assign(
        return_date=returns["return_date"].dt.strftime("%d.%m.%Y")
    )
    return upload_spec(
        {"orders.csv": (_csv(o), "orders"), "returns.csv": (_csv(r), "returns")}, name="no journey, reasons or prices"
    )


def _expected_sidebar(orders: pd.DataFrame) -> str:
    """What the sidebar says about the data, counted by hand from the order lines that went in."""
    d = pd.to_datetime(orders["order_date"])
    return (
        f"{len(orders):,} order lines · {orders['order_id'].nunique():,} orders  \n"
        f"{d.min():%d %b %Y} – {d.max():%d %b %Y}"
    )


def assert_shows_the_data(at, page: str, orders: pd.DataFrame) -> None:
    """Every page: its title, and the sidebar's line and order counts and date range of the loaded data."""
    assert at.title, f"{page}: no title rendered"
    captions = [c.value for c in at.sidebar.caption]
    want = _expected_sidebar(orders)
    assert any(c.startswith(want) for c in captions), f"{page}: sidebar says {captions}, expected {want!r}"


@pytest.fixture(scope="module")
def demo_orders():
    # the demo the app loads by default (DatasetSpec seed), regenerated here rather than read from the app
    return generate_frames(seed=S.DatasetSpec(kind="demo").seed)[0]


@pytest.mark.parametrize("page", PAGES)
def test_page_on_demo_data(page, demo_orders):
    at = run_page(page)
    assert_clean(at, page)
    assert_shows_the_data(at, page, demo_orders)


@pytest.mark.parametrize("page", PAGES)
def test_page_on_minimal_dataset(page, minimal, frames):
    spec, contents = minimal
    at = run_page(page, spec, contents)
    assert_clean(at, page)
    assert_shows_the_data(at, page, frames[0])


@pytest.mark.parametrize("page", PAGES)
def test_page_without_optional_columns(page, no_optional, frames):
    spec, contents = no_optional
    at = run_page(page, spec, contents)
    assert_clean(at, page)
    assert_shows_the_data(at, page, frames[0])
    if page == "views/journeys.py":
        infos = " ".join(i.value for i in at.info)
        assert "journey" in infos.lower() and "map" in infos.lower(), infos


def test_overview_says_what_the_data_holds():
    at = run_page("views/overview.py")
    labels = {m.label: m.value for m in at.metric}
    unit = next(k for k in labels if k.startswith("Unit return rate"))
    assert labels[unit].endswith("%") and "90 days" in unit
    summary = " ".join(m.value for m in at.markdown)
    assert "Returns are" in summary


def test_collection_filter_changes_overview():
    at = run_page("views/overview.py")
    before = {m.label: m.value for m in at.metric}["Returned value"]
    at.multiselect(key=S.F_COLLECTIONS).set_value(["Linen Shirts"]).run()
    assert_clean(at, "overview filtered")
    after = {m.label: m.value for m in at.metric}["Returned value"]
    assert before != after


def _upload(at, files):
    at.file_uploader(key=S.U_FILES).set_value(files).run()
    assert_clean(at, "upload (mapped)")
    at.button(key="up_load").click().run()
    assert_clean(at, "upload (loaded)")
    return at


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    return write_demo_files(tmp_path_factory.mktemp("demo"), seed=3, n_orders=1500)


def test_upload_shopify_csv(demo_files):
    at = run_page("views/upload.py")
    p = demo_files["orders_shopify_csv"]
    at = _upload(at, [(p.name, p.read_bytes(), "text/csv")])
    text = " ".join(m.value for m in at.markdown)
    assert "Shopify" in text
    assert any("Loaded" in s.value for s in at.success)
    spec = at.session_state[S.DATASET_SPEC]
    assert spec.kind == "upload" and spec.files[0].role == "orders"


def test_upload_orders_xlsx_and_fba_returns(demo_files):
    at = run_page("views/upload.py")
    o, r = demo_files["orders_xlsx"], demo_files["returns_fba_tsv"]
    at = _upload(at, [(o.name, o.read_bytes(), "application/octet-stream"), (r.name, r.read_bytes(), "text/plain")])
    text = " ".join(m.value for m in at.markdown)
    assert "Amazon" in text or "FBA" in text
    assert any("Loaded" in s.value for s in at.success)
    roles = sorted(f.role for f in at.session_state[S.DATASET_SPEC].files)
    assert roles == ["orders", "returns"]


def test_upload_signed_transactions_xlsx(tmp_path):
    # a small ERP export: invoices and a credit note (prefix C) that returns one unit of an earlier purchase
    rows = [
        (
            "536365",
            "85123A",
            "WHITE HANGING HEART T-LIGHT HOLDER",
            6,
            "2010-12-01 08:26",
            2.55,
            "17850",
            "United Kingdom",
        ),
        ("536365", "71053", "WHITE METAL LANTERN", 6, "2010-12-01 08:26", 3.39, "17850", "United Kingdom"),
        ("536366", "22633", "HAND WARMER UNION JACK", 6, "2010-12-02 08:28", 1.85, "17851", "France"),
        (
            "C536379",
            "85123A",
            "WHITE HANGING HEART T-LIGHT HOLDER",
            -1,
            "2010-12-09 09:41",
            2.55,
            "17850",
            "United Kingdom",
        ),
        ("536380", "POST", "POSTAGE", 1, "2010-12-09 09:41", 18.0, "17851", "France"),
    ]
    df = pd.DataFrame(
        rows,
        columns=["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"],
    )
    buf = io.BytesIO()
    df.to_excel(buf, index=False, engine="xlsxwriter")
    at = run_page("views/upload.py")
    at = _upload(at, [("erp.xlsx", buf.getvalue(), "application/octet-stream")])
    assert any("Loaded" in s.value for s in at.success)
    assert at.session_state[S.DATASET_SPEC].files[0].role == "transactions"
    # the validation report reconciles: 5 rows read, the postage line reported as not merchandise
    frames = [d.value for d in at.dataframe]
    files_table = next(f for f in frames if "Rows read" in f.columns)
    assert int(files_table["Rows read"].iloc[0]) == 5
    assert int(files_table["Loaded"].iloc[0]) + int(files_table["Set apart or rejected"].iloc[0]) == 5


def test_leadership_summary_download():
    at = run_page("views/overview.py")
    at.button(key="ov_summary").click().run()
    assert_clean(at, "overview summary")
    labels = [b.label for b in at.get("download_button")]
    assert "Summary (printable HTML)" in labels


def test_sessions_do_not_share_uploads(demo_files):
    # session A uploads and loads its own file; a second browser session still sees only the demo data
    a = run_page("views/upload.py")
    p = demo_files["orders_shopify_csv"]
    a = _upload(a, [(p.name, p.read_bytes(), "text/csv")])
    assert a.session_state[S.DATASET_SPEC].kind == "upload"
    b = run_page("views/overview.py")
    assert b.session_state[S.DATASET_SPEC].kind == "demo"
    assert S.UPLOAD_BYTES not in b.session_state or not b.session_state[S.UPLOAD_BYTES]
    caption = " ".join(c.value for c in b.caption)
    assert p.name not in caption


def test_rate_basis_switches_collections_to_orders():
    at = run_page("views/collections.py")
    units = at.dataframe[0].value.set_index("Segment")["return_rate"]
    at.radio(key=S.F_BASIS).set_value("Orders").run()
    assert_clean(at, "collections by orders")
    orders = at.dataframe[0].value.set_index("Segment")
    seg = at.session_state[S.DATASET_SPEC]
    # independent: share of orders containing Linen Shirts with a Linen Shirts return (matured orders)
    from dashboard import cache
    from analysis.prepare import prepare

    p = prepare(cache.dataset_for(seg))
    lines = p.lines[p.lines["mature"] & (p.lines["collection"] == "Linen Shirts")]
    per_order = lines.groupby("order_id")["returned_units"].sum()
    assert orders.loc["Linen Shirts", "return_rate"] == pytest.approx((per_order > 0).mean())
    assert orders.loc["Linen Shirts", "return_rate"] != pytest.approx(units.loc["Linen Shirts"])


def test_segment_names_are_escaped_in_charts(frames):
    # a collection named with HTML must reach plotly as text, not markup (plotly renders some tags)
    orders, returns, _, _ = frames
    evil = "<a href='https://example.invalid'>Click</a>"
    o = orders[["order_id", "order_date", "sku", "quantity", "collection"]].assign(
        order_date=orders["order_date"].dt.strftime("%Y-%m-%d"),
        collection=orders["collection"].where(orders["collection"] != "Linen Shirts", evil),
    )
    spec, contents = upload_spec(
        {"orders.csv": (_csv(o), "orders"), "returns.csv": (_csv(returns[["order_id", "sku", "quantity"]]), "returns")}
    )
    at = run_page("views/collections.py", spec, contents)
    assert_clean(at, "collections with an HTML-named collection")
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "&lt;a href=" in specs and "<a href=" not in specs


def _simpson_upload():
    """Two collections with a planted Simpson reversal, with exact (not random) return counts.

    Within each channel Tiles return LESS than Vases (marketplace 35% vs 45%, web 3% vs 7%), but 90% of Tiles
    sell on the marketplace, where everything returns more, and 90% of Vases on the web: overall Tiles return
    more (0.9*0.35 + 0.1*0.03 = 31.8% vs 0.1*0.45 + 0.9*0.07 = 10.8%). Each is the other's comparison group, so
    both verdicts flip once channel is allowed for. One unit per order (a single intent: nothing to stratify).
    """
    cells = [
        ("Tiles", "marketplace", 2700, 0.35),
        ("Tiles", "web", 300, 0.03),
        ("Vases", "marketplace", 300, 0.45),
        ("Vases", "web", 2700, 0.07),
    ]
    orders, returns, i = [], [], 0
    for coll, channel, n, rate in cells:
        for j in range(n):
            i += 1
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=i % 300)
            orders.append((f"o{i}", day.strftime("%Y-%m-%d"), f"{coll[:2].upper()}-1", 1, coll, channel))
            if j < round(n * rate):
                returns.append((f"o{i}", f"{coll[:2].upper()}-1", 1, (day + pd.Timedelta(days=8)).strftime("%Y-%m-%d")))
    o = pd.DataFrame(orders, columns=["order_id", "order_date", "sku", "quantity", "collection", "channel"])
    r = pd.DataFrame(returns, columns=["order_id", "sku", "quantity", "return_date"])
    return upload_spec({"orders.csv": (_csv(o), "orders"), "returns.csv": (_csv(r), "returns")}, name="simpson")


def test_collections_page_shows_the_mix_check():
    spec, contents = _simpson_upload()
    at = run_page("views/collections.py", spec, contents)
    assert_clean(at, "collections with a planted Simpson reversal")
    labels = [e.label for e in at.expander]
    want = "Mix check: 2 collections look different once how they are bought is allowed for"
    assert want in labels, labels
    listed = " ".join(m.value for m in at.markdown if m.value.startswith("- ")).replace("\\", "")
    assert "Tiles" in listed and "Vases" in listed, listed
    assert "Mantel-Haenszel" not in listed  # plain words in the list; the statistics under "How this was decided"


def test_sample_exports_zip_holds_every_layout():
    import zipfile

    at = run_page("views/upload.py")
    assert_clean(at, "upload (empty)")
    labels = [b.label for b in at.get("download_button")]
    assert any(lab.startswith("Download sample exports") for lab in labels), labels
    # the zip itself: the function the page calls, opened independently with zipfile
    from dashboard.downloads import sample_exports_zip

    names = set(zipfile.ZipFile(io.BytesIO(sample_exports_zip())).namelist())
    assert {
        "orders.xlsx",
        "returns.csv",
        "shopify_orders_export.csv",
        "fba_customer_returns.tsv",
        "shopify_store/orders_export_1.csv",
        "shopify_store/orders_export_2.csv",
    } <= names


def test_orders_without_returns_say_so(demo_files):
    p = demo_files["orders_shopify_csv"]
    spec, contents = upload_spec({p.name: (p.read_bytes(), "orders")})
    at = run_page("views/overview.py", spec, contents)
    assert not at.exception
    text = " ".join(c.value for c in at.caption)
    assert "customer refunds" in text and "orders export records refunds per order" in text
    # the headline counts refunded orders; segments compare refunded units (Prepared.rate_columns)
    assert "orders with a refund / orders" in text and "refunded units / units sold" in text
    # no orders basis to choose: which items came back is attributed, not known
    assert at.radio(key=S.F_BASIS).disabled
    # the order-level refunds are the outcome, and what cannot be known says so instead of 0%
    labels = {m.label.split(",")[0]: m.value for m in at.metric}
    assert labels["Order refund rate"].endswith("%") and labels["Order refund rate"] != "0.0%"
    assert labels["Unit return rate"] == "Unknown"
    assert any("Not in your data" in c.value for c in at.caption)


def test_filters_and_basis_survive_a_page_change():
    at = run_page("views/overview.py")
    at.multiselect(key=S.F_COLLECTIONS).set_value(["Linen Shirts", "Smart Lighting"]).run()
    at.radio(key=S.F_BASIS).set_value("Orders").run()
    at.switch_page("views/collections.py").run()
    assert_clean(at, "collections after a page change")
    assert at.title[0].value == "Collections"
    assert at.multiselect(key=S.F_COLLECTIONS).value == ["Linen Shirts", "Smart Lighting"]
    assert at.radio(key=S.F_BASIS).value == "Orders"
    shown = set(at.dataframe[0].value["Segment"])
    assert shown == {"Linen Shirts", "Smart Lighting"}


def test_fix_list_marks_segments_with_a_logged_change():
    at = run_page("views/fixlist.py")
    assert_clean(at, "fix list")
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    # the demo's interventions file logs the Hiking Jackets fit video from 2026-04-01; judged on the orders
    # since then it no longer returns clearly more, so it is taken off the list and says why
    assert "Hiking Jackets" not in set(at.dataframe[0].value["Segment"])
    assert "Since 01 Apr 2026 (Fit guide video and size advice on product pages), Hiking Jackets returns" in text
    assert "Linen Shirts" in set(at.dataframe[0].value["Segment"])
