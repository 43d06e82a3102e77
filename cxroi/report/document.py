"""The report as plain data — sections of paragraphs, bullet lists, tables and charts — so the
HTML and the Markdown renderings are built from one content and cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import pandas as pd


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    """A table shown as is; ``frame`` values are already rounded/formatted for reading."""

    frame: pd.DataFrame = field(repr=False)
    caption: str = ""


@dataclass(frozen=True)
class Chart:
    """An Altair chart; ``name`` is unique in the report and names its image file."""

    name: str
    chart: alt.TopLevelMixin = field(repr=False)
    caption: str = ""


Block = Paragraph | Bullets | Table | Chart


@dataclass(frozen=True)
class Section:
    """A titled section; ``anchor`` is its id in the HTML page and its link target."""

    anchor: str
    title: str
    blocks: list[Block]


@dataclass(frozen=True)
class Report:
    """A whole model report: title, one-line subtitle, sections in reading order, and the
    warnings its Warnings section lists (for the command line to echo)."""

    title: str
    subtitle: str
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)

    def section(self, anchor: str) -> Section:
        return next(s for s in self.sections if s.anchor == anchor)

    @property
    def charts(self) -> list[Chart]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]
