"""Terminal output helpers shared by the CLI commands (rich tables)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from cxroi.data.schema import Finding
from cxroi.manifest import Caveat
from cxroi.sim import plausibility


def _console(stderr: bool = False) -> Console:
    """A console that does not squeeze tables into 80 columns when output is piped or logged."""
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else 160
    return Console(stderr=stderr, highlight=False, width=width)


console = _console()
err_console = _console(stderr=True)


def print_findings(findings: Sequence[Finding], title: str = "") -> None:
    """Print validation findings as a table (errors red, warnings yellow) with a count line."""
    if not findings:
        return
    table = Table(title=f"Problems in {title}" if title else None, show_lines=False)
    for header in ("severity", "row", "column", "problem"):
        table.add_column(header)
    for f in findings:
        style = "red" if f.severity == "error" else "yellow"
        table.add_row(f.severity, "" if f.row is None else str(f.row), f.column or "", f.problem, style=style)
    console.print(table)
    errors = sum(f.severity == "error" for f in findings)
    console.print(f"{errors} error(s), {len(findings) - errors} warning(s)")


def print_caveats(caveats: Sequence[Caveat]) -> None:
    """The model's caveats that concern a result, each with the segments and effects it concerns,
    printed next to the figures they qualify."""
    if not caveats:
        console.print("Caveats: none recorded by the model for these segments and effects.")
        return
    console.print(f"[yellow bold]Caveats ({len(caveats)})[/yellow bold] — read the figures above with these in mind:")
    for caveat in caveats:
        scope = f"segments: {', '.join(caveat.segments) or 'all'}; effects: {', '.join(caveat.effects) or 'all'}"
        console.print(f"[yellow]•[/yellow] {caveat.text} ({scope})")


def print_plausibility(findings: Sequence[plausibility.Finding]) -> None:
    """The plausibility review of a result, next to its figures: each flag (an implausible
    figure: check the inputs before using it) and each item to review (a figure resting on a prior)."""
    console.print(plausibility.headline(tuple(findings)))
    for finding in findings:
        style, label = ("red bold", "FLAG") if finding.severity == "flag" else ("yellow", "review")
        console.print(f"[{style}]{label}[/{style}] {finding.text}")


def print_table(rows: Sequence[dict], title: str | None = None, columns: Sequence[str] | None = None) -> None:
    """Print a list of dicts as a table."""
    columns = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title)
    for column in columns:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)
