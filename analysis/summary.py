"""A printable one-page leadership summary (HTML, optionally PDF).

Headline figures (unit and order return rates over matured orders, returned value, share of returns
that guidance can prevent, refund vs exchange), the monthly trend (the caller's PNG, else an inline
SVG line and a small table), the top fix-list items with a one-line brief each, and the evaluated
interventions with their verdicts. Every piece of user text is escaped with html.escape.

PDF: rendered by WeasyPrint when importable, else by a headless Chromium/Chrome found on the machine
(``--headless --print-to-pdf``); :func:`pdf_available` says whether either exists and
:func:`leadership_summary` reports it in its metadata.
"""

from __future__ import annotations

import base64
import glob
import html
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis import reasons as R
from analysis.briefs import PRINT_CSS, _money, _pct, html_page, one_line
from analysis.prepare import DIMENSION_LABELS, Prepared

if TYPE_CHECKING:
    from analysis.engine import Analysis

SUMMARY_CSS = (
    PRINT_CSS
    + """
.kpis{display:flex;flex-wrap:wrap;gap:.6rem;margin:.5rem 0}.kpi{border:1px solid #ccc;border-radius:4px;
padding:.3rem .6rem;min-width:8rem}.kpi b{display:block;font-size:1.3em}.small{color:#666;font-size:.9em}
svg{display:block;margin:.4rem 0}@page{size:A4;margin:12mm}
"""
)


def _e(x: object) -> str:
    return html.escape("" if x is None or x is pd.NA else str(x), quote=True)


def headline_figures(prepared: Prepared) -> dict[str, Any]:
    """Headline numbers over matured orders, read from analysis.metrics.totals (one definition for every
    page and export): orders, units, returned_units, unit_return_rate, order_return_rate, returned_value,
    value_return_rate, refund_share / exchange_share (None when unknown), preventable_share (of returned
    units, None without reasons), outcome and, for order refunds, order_refund_rate / orders_refunded."""
    from analysis.metrics import totals

    t = totals(prepared)

    def known(v: object) -> object:
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    out: dict[str, Any] = {
        "orders": t["orders"],
        "units": t["units_sold"],
        "returned_units": t["units_returned"],
        "unit_return_rate": t["unit_return_rate"],
        "order_return_rate": t["order_return_rate"],
        "returned_value": t["returned_value"],
        "value_return_rate": t["value_return_rate"],
        "refund_share": known(t["refund_share"]),
        "exchange_share": known(t["exchange_share"]),
        "preventable_share": None,
        "outcome": t["outcome"],
        "order_refund_rate": t["order_refund_rate"],
        "orders_refunded": t["orders_refunded"],
    }
    mix = R.reason_mix(prepared)
    if not mix.message:
        out["preventable_share"] = mix.preventable_share
    return out


def monthly_trend(prepared: Prepared) -> pd.DataFrame:
    """Unit return rate by order month over matured lines: month, units, returned, rate."""
    L = prepared.mature_lines
    if L.empty:
        return pd.DataFrame(columns=["month", "units", "returned", "rate"])
    xcol, ncol = prepared.rate_columns()
    cut = prepared.cutoff_date
    if cut is not None and (cut + pd.Timedelta(days=1)).month == cut.month:
        L = L[L["month"] < cut.to_period("M").start_time]  # the month the cutoff falls in is only partly matured
    g = L.groupby("month", sort=True).agg(units=(ncol, "sum"), returned=(xcol, "sum")).reset_index()
    g["rate"] = g["returned"] / g["units"].where(g["units"] > 0)
    return g


def trend_svg(trend: pd.DataFrame, width: int = 560, height: int = 140) -> str:
    """A dependency-free inline SVG line of the monthly rate (empty string for < 2 months)."""
    t = trend.dropna(subset=["rate"])
    if len(t) < 2:
        return ""
    lo, hi = float(t["rate"].min()), float(t["rate"].max())
    span = (hi - lo) or max(hi, 0.01)
    pad = 24
    xs = [pad + i * (width - 2 * pad) / (len(t) - 1) for i in range(len(t))]
    ys = [height - pad - (float(r) - lo) / span * (height - 2 * pad) for r in t["rate"]]
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    first, last = t["month"].iloc[0], t["month"].iloc[-1]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Monthly unit return rate">'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{pts}"/>'
        f'<text x="{pad}" y="{height - 4}" font-size="10">{_e(pd.Timestamp(first).strftime("%b %Y"))}</text>'
        f'<text x="{width - pad}" y="{height - 4}" font-size="10" text-anchor="end">'
        f"{_e(pd.Timestamp(last).strftime('%b %Y'))}</text>"
        f'<text x="2" y="{pad - 8}" font-size="10">{_pct(hi)}</text>'
        f'<text x="2" y="{height - pad + 4}" font-size="10">{_pct(lo)}</text></svg>'
    )


def _fix_rows(analysis: Analysis, top: int) -> list[Mapping]:
    fl = getattr(analysis, "fix_list", None)
    if fl is None or len(fl) == 0:
        return []
    return fl.head(top).to_dict("records")


def leadership_summary_html(
    analysis: Analysis,
    prepared: Prepared,
    interventions: list[dict] | None = None,
    trend_png: bytes | None = None,
    *,
    top: int = 5,
    title: str = "Returns: leadership summary",
) -> str:
    """Printable one-page HTML summary; all user text escaped (see module docstring)."""
    if top < 0:
        raise ValueError(f"top must be non-negative (got {top}).")
    h = headline_figures(prepared)
    parts: list[str] = [f"<h1>{_e(title)}</h1>"]
    period = ""
    if len(prepared.mature_orders):
        d = prepared.mature_orders["order_date"]
        period = f"Orders {d.min():%d %b %Y} to {d.max():%d %b %Y}, matured for the {prepared.window_days}-day return window."
    parts.append(f'<p class="small">{_e(period)}</p>')
    if h["outcome"] == "order_refund":
        kpis = [
            ("Order refund rate", _pct(h["order_refund_rate"])),
            ("Orders refunded", f"{h['orders_refunded']:,}"),
            ("Refunded value", _money(h["returned_value"])),
            ("Orders", f"{h['orders']:,}"),
            ("Unit return rate", "not in the data"),
        ]
    else:
        kpis = [
            ("Unit return rate", _pct(h["unit_return_rate"])),
            ("Orders with a return", _pct(h["order_return_rate"])),
            ("Returned value", _money(h["returned_value"])),
            ("Orders", f"{h['orders']:,}"),
        ]
    if h["preventable_share"] is not None:
        kpis.append(("Preventable by guidance", _pct(h["preventable_share"], 0)))
    if h["refund_share"] is not None:
        kpis.append(("Refunded / exchanged", f"{_pct(h['refund_share'], 0)} / {_pct(h['exchange_share'], 0)}"))
    parts.append(
        '<div class="kpis">' + "".join(f'<div class="kpi">{_e(k)}<b>{_e(v)}</b></div>' for k, v in kpis) + "</div>"
    )
    if h["preventable_share"] is None:
        parts.append(f'<p class="small">{_e(R.missing_message(prepared, "reason"))}</p>')

    # trend
    parts.append("<h2>Trend</h2>")
    tr = monthly_trend(prepared)
    if trend_png:
        b64 = base64.b64encode(trend_png).decode("ascii")
        parts.append(f'<img alt="Monthly return rate" style="max-width:100%" src="data:image/png;base64,{b64}">')
    else:
        parts.append(trend_svg(tr))
    if len(tr):
        last = tr.tail(6)
        heads = ("Orders", "Refund rate") if prepared.outcome == "order_refund" else ("Units", "Return rate")
        parts.append(
            f"<tr><th>Month</th><th>{heads[0]}</th><th>{heads[1]}</th></tr>".join(("<table>", ""))
            + "".join(
                f"<tr><td>{_e(pd.Timestamp(m).strftime('%b %Y'))}</td><td>{u:,.0f}</td><td>{_pct(r)}</td></tr>"
                for m, u, r in zip(last["month"], last["units"], last["rate"])
            )
            + "</table>"
        )

    # fix list
    parts.append("<h2>Where to act first</h2>")
    rows = _fix_rows(analysis, top)
    if rows:
        parts.append("<ol>")
        for row in rows:
            dim = DIMENSION_LABELS.get(str(row.get("dimension", "")), str(row.get("dimension", "")))
            label = row.get("label") or row.get("segment")
            cost = row.get("excess_cost")
            cost_txt = f" Excess cost about {_money(cost)}." if cost is not None and _money(cost) != "n/a" else ""
            action = row.get("suggested_action")
            act = f" {_e(action)}" if isinstance(action, str) and action.strip() else ""
            parts.append(
                f'<li><b>{_e(label)}</b> <span class="small">({_e(dim)})</span>: '
                f"{_e(one_line(row, prepared))}{_e(cost_txt)}{act}</li>"
            )
        parts.append("</ol>")
    else:  # what an empty list means, as the Overview says it
        from analysis.metrics import no_returns_words, returns_not_loaded
        from analysis.overview import empty_list_sentence

        t = analysis.totals
        empty = no_returns_words(t) if returns_not_loaded(t) else empty_list_sentence(t, analysis.segments)
        parts.append(f"<p>{_e(empty)}</p>")

    # interventions
    parts.append("<h2>Did our changes work?</h2>")
    if interventions:
        parts.append("<table><tr><th>Change</th><th>Where</th><th>Since</th><th>Verdict</th></tr>")
        for iv in interventions:
            what = iv.get("description") or iv.get("label") or "Change"
            where = " ".join(str(v) for v in (iv.get("dimension"), iv.get("segment")) if v not in (None, ""))
            since = iv.get("start_date")
            since_txt = pd.Timestamp(since).strftime("%d %b %Y") if since is not None and not pd.isna(since) else ""
            verdict = iv.get("verdict_label") or iv.get("verdict") or "n/a"
            detail = iv.get("summary") or iv.get("message") or ""
            parts.append(
                f"<tr><td>{_e(what)}</td><td>{_e(where)}</td><td>{_e(since_txt)}</td>"
                f"<td><b>{_e(verdict)}</b>{'<br><span class=small>' + _e(detail) + '</span>' if detail else ''}"
                "</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No guidance changes were logged. Add them on the interventions page to evaluate them.</p>")
    return html_page(title, "\n".join(parts), css=SUMMARY_CSS)


# ---------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------

_CHROME_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell")


def _weasyprint() -> Any:  # the weasyprint module, or None
    try:
        import weasyprint
    except Exception:  # not installed, or its system libraries are missing
        return None
    return weasyprint


def _chrome_path() -> str | None:
    for name in _CHROME_NAMES:
        p = shutil.which(name)
        if p:
            return p
    base = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    for pattern in ("chromium*/chrome-linux*/chrome", "chromium_headless_shell*/chrome-linux*/headless_shell"):
        hits = sorted(glob.glob(os.path.join(base, pattern)))
        if hits:
            return hits[-1]
    return None


def pdf_renderer() -> str | None:
    """'weasyprint', 'chromium' or None (what to_pdf would use)."""
    if _weasyprint() is not None:
        return "weasyprint"
    if _chrome_path():
        return "chromium"
    return None


def pdf_available() -> bool:
    """True when WeasyPrint or a headless Chromium/Chrome is present on this machine."""
    return pdf_renderer() is not None


def to_pdf(html_text: str, *, timeout: float = 60.0) -> bytes | None:
    """Render the HTML page to PDF bytes, or None when no renderer is available or rendering fails."""
    wp = _weasyprint()
    if wp is not None:
        try:
            return wp.HTML(string=html_text).write_pdf()
        except Exception:
            pass
    chrome = _chrome_path()
    if not chrome:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        src.write_text(html_text, encoding="utf-8")
        # no network, no profile of the user's: a throwaway profile and every background service off
        cmd = [
            chrome,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={dst}",
            src.as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        data = dst.read_bytes() if dst.exists() else b""
        return data if data.startswith(b"%PDF") else None


@dataclass(frozen=True, slots=True)
class SummaryDocument:
    """The summary as HTML, and as PDF when a renderer exists (pdf None, pdf_message saying why)."""

    html: str
    pdf: bytes | None
    pdf_available: bool
    pdf_message: str | None


def leadership_summary(
    analysis: Analysis,
    prepared: Prepared,
    interventions: list[dict] | None = None,
    trend_png: bytes | None = None,
    *,
    make_pdf: bool = True,
    top: int = 5,
) -> SummaryDocument:
    """HTML summary plus, when possible, its PDF; pdf_message explains a missing PDF."""
    page = leadership_summary_html(analysis, prepared, interventions, trend_png, top=top)
    if not make_pdf:
        return SummaryDocument(page, None, pdf_available(), "PDF not requested.")
    if not pdf_available():
        return SummaryDocument(
            page,
            None,
            False,
            "PDF is not available on this machine (install WeasyPrint or "
            "Chromium); print the HTML page to PDF from the browser instead.",
        )
    pdf = to_pdf(page)
    if pdf is None:
        return SummaryDocument(page, None, True, "The PDF renderer failed; print the HTML page from the browser.")
    return SummaryDocument(page, pdf, True, None)
