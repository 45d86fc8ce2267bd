"""Farside ETF flow page parsing: layout, units, accounting negatives, pending cells, partial days and
hostile pages."""

from __future__ import annotations

import math
from datetime import date

import pytest

from sources.errors import SourceError, SourceUnavailable
from sources.farside import parse_farside_html, parse_flow_value

# A page in Farside's layout: sponsor row, ticker row, Fee row, daily rows (oldest first), summary rows.
PAGE = """<html><body><table class="etf"><thead>
<tr><th></th><th>Blackrock</th><th>Fidelity</th><th>Grayscale</th><th></th></tr>
<tr><th></th><th>IBIT</th><th>FBTC</th><th>GBTC</th><th>Total</th></tr>
</thead><tbody>
<tr><td>Fee</td><td>0.25%</td><td>0.25%</td><td>1.50%</td><td></td></tr>
<tr><td><span class="tabletext">11 Jan 2024</span></td>
<td>111.7</td><td>227.0</td><td>(95.1)</td><td>243.6</td></tr>
<tr><td>12 Jan 2024</td><td>386.0</td><td>-</td><td>(484.1)</td><td>(98.1)</td></tr>
<tr><td>16 Jan 2024</td><td>1,234.5</td><td>0.0</td>
<td><span class="redFont">(1,020.2)</span></td><td>214.3</td></tr>
<tr><td>17 Jan 2024</td><td>50.0</td><td>-</td><td>-</td><td>-</td></tr>
<tr><td>Total</td><td>1,782.2</td><td>227.0</td><td>(1,599.4)</td><td>359.8</td></tr>
<tr><td>Average</td><td>445.6</td><td>75.7</td><td>(533.1)</td><td>119.9</td></tr>
<tr><td>Maximum</td><td>1,234.5</td><td>227.0</td><td>(95.1)</td><td>243.6</td></tr>
<tr><td>Minimum</td><td>50.0</td><td>0.0</td><td>(1,020.2)</td><td>(98.1)</td></tr>
</tbody></table></body></html>"""


def test_parses_layout_units_negatives_and_pending():
    flows = parse_farside_html(PAGE, "btc")
    frame = flows.frame
    assert list(frame.columns) == ["IBIT", "FBTC", "GBTC", "Total"]
    assert [d.date() for d in frame.index] == [date(2024, 1, 11), date(2024, 1, 12), date(2024, 1, 16),
                                               date(2024, 1, 17)]  # fmt: skip
    assert frame.loc["2024-01-11", "IBIT"] == pytest.approx(111.7e6)
    assert frame.loc["2024-01-11", "GBTC"] == pytest.approx(-95.1e6)
    assert frame.loc["2024-01-12", "Total"] == pytest.approx(-98.1e6)
    assert frame.loc["2024-01-16", "IBIT"] == pytest.approx(1_234.5e6)  # thousands comma
    assert frame.loc["2024-01-16", "GBTC"] == pytest.approx(-1_020.2e6)  # nested span, accounting negative
    assert frame.loc["2024-01-16", "FBTC"] == 0.0  # a real zero stays zero
    assert math.isnan(frame.loc["2024-01-12", "FBTC"])  # "-" = not reported, never zero
    # The newest day is partial: Total not yet published.
    assert flows.partial_last is True
    assert math.isnan(frame.loc["2024-01-17", "Total"])
    assert flows.as_of == date(2024, 1, 17)
    assert flows.last_complete == date(2024, 1, 16)
    assert len(frame) == 4  # Fee and summary rows skipped


def test_complete_last_day_is_not_partial_and_date_header_and_colspan():
    page = """<table><tr><th colspan="2">Sponsors</th><th>Fidelity</th><th></th></tr>
    <tr><th>Date</th><th>IBIT</th><th>FBTC</th><th>Total</th></tr>
    <tr><td>Seed</td><td>10.0</td><td>10.0</td><td>20.0</td></tr>
    <tr><td>02 Feb 2025</td><td>5.0</td><td>(1.0)</td><td>4.0</td></tr></table>"""
    flows = parse_farside_html(page, "btc")
    assert flows.partial_last is False
    assert flows.frame.loc["2025-02-02", "FBTC"] == pytest.approx(-1e6)


def test_columns_keyed_on_names_when_a_fund_appears_and_columns_move():
    before = """<table><tr><th></th><th>ETHA</th><th>ETHE</th><th>Total</th></tr>
    <tr><td>01 Jul 2025</td><td>10.0</td><td>(5.0)</td><td>5.0</td></tr></table>"""
    after = """<table><tr><th></th><th>ETHE</th><th>ETHB</th><th>ETHA</th><th>Total</th></tr>
    <tr><td>01 Jul 2025</td><td>(5.0)</td><td>-</td><td>10.0</td><td>5.0</td></tr>
    <tr><td>02 Jul 2025</td><td>(1.0)</td><td>3.0</td><td>2.0</td><td>4.0</td></tr></table>"""
    a = parse_farside_html(before, "eth").frame
    b = parse_farside_html(after, "eth").frame
    assert a.loc["2025-07-01", "ETHA"] == b.loc["2025-07-01", "ETHA"] == pytest.approx(10e6)
    assert "ETHB" not in a.columns and "ETHB" in b.columns
    assert math.isnan(b.loc["2025-07-01", "ETHB"])
    assert b.loc["2025-07-02", "ETHB"] == pytest.approx(3e6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,234.5", 1_234.5e6), ("(12.3)", -12.3e6), ("-12.3", -12.3e6), ("0.0", 0.0), (" 7 ", 7e6)],
)
def test_flow_values(text, expected):
    assert parse_flow_value(text, "/x/", "f") == pytest.approx(expected)


@pytest.mark.parametrize("text", ["-", "", "–"])
def test_pending_values_are_nan(text):
    assert math.isnan(parse_flow_value(text, "/x/", "f"))


def test_garbage_cell_names_date_and_fund():
    page = PAGE.replace("<td>227.0</td><td>(95.1)</td>", "<td>abc</td><td>(95.1)</td>", 1)
    with pytest.raises(SourceError) as err:
        parse_farside_html(page, "btc")
    assert err.value.provider == "farside"
    assert err.value.field == "2024-01-11 FBTC"
    assert "/bitcoin-etf-flow-all-data/" in str(err.value)


def test_duplicate_date_rejected():
    page = PAGE.replace("12 Jan 2024", "11 Jan 2024")
    with pytest.raises(SourceError, match="twice"):
        parse_farside_html(page, "btc")


def test_bot_wall_is_unavailable_and_missing_table_is_an_error():
    with pytest.raises(SourceUnavailable):
        parse_farside_html("<html><title>Just a moment...</title><body>cf-chl</body></html>", "btc")
    with pytest.raises(SourceError, match="no flow table"):
        parse_farside_html("<html><body><p>Hello</p></body></html>", "btc")
    with pytest.raises(SourceError, match="empty"):
        parse_farside_html("", "eth")


def test_header_without_total_rejected():
    page = "<table><tr><th></th><th>IBIT</th></tr><tr><td>01 Jul 2025</td><td>1.0</td></tr></table>"
    with pytest.raises(SourceError) as err:
        parse_farside_html(page, "btc")
    assert err.value.field == "header"
