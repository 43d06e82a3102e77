"""Report rendering: the HTML and Markdown carry the same content, escaped for each format."""

from __future__ import annotations

import base64
import re

import altair as alt
import pandas as pd

from cxroi.report.document import Bullets, Chart, Paragraph, Report, Section, Table
from cxroi.report.render import to_html, to_markdown, write_report


def _report() -> Report:
    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(x="x:Q", y="y:Q")
    return Report("Title <A&B>", "sub", [
        Section("one", "First", [Paragraph("a < b & c"), Bullets(["x|y", "<script>"]),
                                 Table(pd.DataFrame({"k": ["p|q"], "v": [None]}), "Cap")]),
        Section("two", "Second", [Chart("c-1", chart, "caption")]),
    ])


def test_html_escapes_text_and_inlines_charts_as_images():
    html = to_html(_report(), {"c-1": "<svg xmlns='http://www.w3.org/2000/svg'></svg>"})
    assert "<title>Title &lt;A&amp;B&gt;</title>" in html
    assert "<p>a &lt; b &amp; c</p>" in html and "<li>&lt;script&gt;</li>" in html
    assert "<script" not in html
    (data,) = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert base64.b64decode(data).decode() == "<svg xmlns='http://www.w3.org/2000/svg'></svg>"
    assert '<a href="#one">First</a>' in html and '<section id="two">' in html


def test_markdown_escapes_table_pipes_and_links_chart_files():
    md = to_markdown(_report())
    assert "| p\\|q |  |" in md  # a pipe inside a cell must not split it; None renders empty
    assert "- x|y" in md and "- &lt;script&gt;" in md and "<script" not in md
    assert md.startswith("# Title &lt;A&B&gt;")
    assert "![caption](charts/c-1.svg)" in md


def test_write_report_writes_every_file(tmp_path):
    paths = write_report(_report(), tmp_path / "out")
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")
    assert paths["markdown"].read_text().startswith("# Title &lt;A&B&gt;")
    assert (tmp_path / "out" / "charts" / "c-1.svg").read_text().lstrip().startswith("<svg")
