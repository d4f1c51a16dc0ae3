"""Reports as Markdown and HTML from one description: titled sections of tables, plus plots.

The monitor and triage steps describe their reports as :class:`Section` lists; this module is
the only place that knows the two output formats and how plots are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from asrloop.jsonio import atomic_write_text


@dataclass(frozen=True)
class Section:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    note: str = ""  # a sentence shown above the table


@dataclass(frozen=True)
class Report:
    title: str
    sections: Sequence[Section]
    images: Sequence[str] = field(default_factory=tuple)  # file names beside the report


def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def to_markdown(report: Report) -> str:
    lines = [f"# {report.title}", ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        if section.note:
            lines += [section.note, ""]
        header = section.header
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in section.rows]
        lines.append("")
    lines += [f"![{image}]({image})" for image in report.images]
    return "\n".join(lines) + "\n"


def to_html(report: Report) -> str:
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(report.title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
    ]
    for section in report.sections:
        parts.append(f"<h2>{escape(section.title)}</h2>")
        if section.note:
            parts.append(f"<p>{escape(section.note)}</p>")
        parts.append(
            "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in section.header) + "</tr>"
        )
        parts += [
            "<tr>" + "".join(f"<td>{escape(cell(c))}</td>" for c in row) + "</tr>"
            for row in section.rows
        ]
        parts.append("</table>")
    parts += [f"<p><img src='{escape(i)}' alt='{escape(i)}'></p>" for i in report.images]
    return "\n".join([*parts, "</body></html>"]) + "\n"


def write_report(report: Report, folder: Path, stem: str = "report") -> list[Path]:
    """``<stem>.md`` and ``<stem>.html`` in ``folder``; returns both paths."""
    markdown = atomic_write_text(folder / f"{stem}.md", to_markdown(report))
    html = atomic_write_text(folder / f"{stem}.html", to_html(report))
    return [markdown, html]


def bar_chart(
    labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, path: Path
) -> Path:
    """A horizontal bar chart (first label on top) saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    labels, values = list(labels), list(values)
    fig, ax = plt.subplots(figsize=(8, 0.4 * max(len(labels), 3) + 1.2))
    ax.barh(labels[::-1], values[::-1], color="#4c72b0")
    ax.set_title(title if labels else f"{title} (none)")
    ax.set_xlabel(xlabel)
    if xlabel == "count":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
