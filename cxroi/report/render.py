"""Render a :class:`~cxroi.report.document.Report` to a self-contained HTML page and to Markdown.

Charts are rendered offline to SVG with vl-convert: the HTML page embeds them as data URIs
(no script, no network needed to view it, and each chart's internal ids stay private to it);
the Markdown links the same SVG files written under ``charts/``.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from cxroi.fileio import atomic_write_text
from cxroi.report.document import Block, Bullets, Chart, Paragraph, Report, Table

CHART_DIR = "charts"
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2rem auto;
padding:0 1rem;color:#1f2933;line-height:1.45}
h1{margin-bottom:.2rem}.subtitle{color:#52606d;margin-top:0}
nav ul{columns:2;padding-left:1.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem}
th,td{border:1px solid #cbd2d9;padding:.25rem .55rem;text-align:right}
th{background:#f0f4f8}td:first-child,th:first-child{text-align:left}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
figure{margin:1rem 0}figcaption{color:#52606d;font-size:.9rem}
.warnings li{color:#8a4b00}
"""


def chart_svg(chart: Chart) -> str:
    """The chart as an SVG document (offline rendering, no network)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.chart.to_json())


def _cell(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in table.frame.itertuples(index=False)
    )
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_block(block: Block, svgs: dict[str, str], css_class: str = "") -> str:
    if isinstance(block, Paragraph):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{html.escape(item)}</li>" for item in block.items)
        return f'<ul class="{css_class}">{items}</ul>'
    if isinstance(block, Table):
        return _html_table(block)
    caption = f"<figcaption>{html.escape(block.caption)}</figcaption>" if block.caption else ""
    data = base64.b64encode(svgs[block.name].encode("utf-8")).decode("ascii")
    alt_text = html.escape(block.caption or block.name, quote=True)
    return (f'<figure id="chart-{block.name}"><img alt="{alt_text}" '
            f'src="data:image/svg+xml;base64,{data}">{caption}</figure>')


def to_html(report: Report, svgs: dict[str, str]) -> str:
    """A self-contained HTML page; ``svgs`` maps chart name → SVG text."""
    nav = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in report.sections)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(report.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>", f'<p class="subtitle">{html.escape(report.subtitle)}</p>',
        f"<nav><ul>{nav}</ul></nav>",
    ]
    for section in report.sections:
        parts.append(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>')
        parts.extend(_html_block(b, svgs, section.anchor) for b in section.blocks)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _md_text(text: str) -> str:
    """Text safe in Markdown: angle brackets escaped, so names from user data (segments,
    initiatives) cannot become raw HTML in a Markdown viewer."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _md_escape(text: str) -> str:
    """A table cell: also no pipe or line break that would split it."""
    return _md_text(text).replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> str:
    columns = [str(c) for c in table.frame.columns]
    lines = [f"**{_md_text(table.caption)}**", ""] if table.caption else []
    lines.append("| " + " | ".join(_md_escape(c) for c in columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(_md_escape(_cell(v)) for v in row) + " |"
              for row in table.frame.itertuples(index=False)]
    return "\n".join(lines)


def _md_block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return _md_text(block.text)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_md_text(item)}" for item in block.items)
    if isinstance(block, Table):
        return _md_table(block)
    caption = _md_text(block.caption)
    image = f"![{caption or block.name}]({CHART_DIR}/{block.name}.svg)"
    return f"{image}\n\n*{caption}*" if caption else image


def to_markdown(report: Report) -> str:
    """The same content as Markdown; charts are images under ``charts/``."""
    parts = [f"# {_md_text(report.title)}", "", f"*{_md_text(report.subtitle)}*", ""]
    for section in report.sections:
        parts += [f"## {_md_text(section.title)}", ""]
        for block in section.blocks:
            parts += [_md_block(block), ""]
    return "\n".join(parts)


def write_report(report: Report, out: str | Path) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and ``charts/<name>.svg`` into ``out`` (created);
    each file is written atomically. Returns the paths by kind."""
    out = Path(out)
    svgs = {chart.name: chart_svg(chart) for chart in report.charts}
    for name, svg in svgs.items():
        atomic_write_text(out / CHART_DIR / f"{name}.svg", svg)
    html_path, md_path = out / "report.html", out / "report.md"
    atomic_write_text(html_path, to_html(report, svgs))
    atomic_write_text(md_path, to_markdown(report))
    return {"html": html_path, "markdown": md_path, "charts": out / CHART_DIR}
