"""Reports as Markdown and HTML from one description: titled sections of tables, plots, clips.

The monitor and triage steps describe their reports as :class:`Section` lists; this module is
the only place that knows the two output formats and how plots are drawn.

The HTML file stands alone: plots and example clips (:class:`Clip`, Ogg Vorbis) are embedded as
``data:`` URIs, because MLflow shows an HTML artifact from a blob URL where links to files
beside it cannot resolve. A table cell of :class:`ClipIds` gets a play button per clip; the
clips themselves are listed once, with players, in an "Example clips" section.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from asrloop.jsonio import atomic_write_text

STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}"
    "button.play{border:1px solid #99a;border-radius:3px;background:#eef;cursor:pointer;"
    "padding:0 .35em;margin-right:.2em}.ex{white-space:nowrap;margin-right:.6em}"
    "audio{height:2em;width:18em}"
)
# one player at a time: a play button plays (or pauses) the clip's player in "Example clips"
SCRIPT = (
    "document.addEventListener('click',e=>{const b=e.target.closest('button.play');if(!b)return;"
    "const a=document.getElementById('audio-'+b.dataset.clip);if(!a)return;"
    "document.querySelectorAll('audio').forEach(o=>{if(o!==a)o.pause()});"
    "if(a.paused){a.currentTime=0;a.play()}else{a.pause()}});"
)


@dataclass(frozen=True)
class Section:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    note: str = ""  # a sentence shown above the table


@dataclass(frozen=True)
class ClipIds:
    """A table cell listing example clips by id (play buttons in HTML)."""

    ids: Sequence[str]


@dataclass(frozen=True)
class Clip:
    """An example clip a reader can hear: its audio file and what was said and heard."""

    id: str
    audio: Path
    reference: str = ""
    hypothesis: str = ""
    voice: str = ""


@dataclass(frozen=True)
class Report:
    title: str
    sections: Sequence[Section]
    images: Sequence[str] = field(default_factory=tuple)  # file names beside the report
    clips: Sequence[Clip] = field(default_factory=tuple)  # example clips, embedded in HTML


def cell(value: object) -> str:
    if isinstance(value, ClipIds):
        return ", ".join(value.ids)
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
    if report.clips:
        lines += [
            "## Example clips",
            "",
            "| clip | voice | reference | hypothesis |",
            "|---|---|---|---|",
        ]
        lines += [f"| {c.id} | {c.voice} | {c.reference} | {c.hypothesis} |" for c in report.clips]
        lines.append("")
    lines += [f"![{image}]({image})" for image in report.images]
    return "\n".join(lines) + "\n"


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _html_cell(value: object, playable: set[str]) -> str:
    if not isinstance(value, ClipIds):
        return escape(cell(value))
    parts = []
    for clip in value.ids:
        if clip in playable:
            button = (
                f"<button type='button' class='play' data-clip='{escape(clip)}' "
                f"title='play {escape(clip)}'>&#9654;</button>"
            )
            parts.append(
                f"<span class='ex'>{button}<a href='#clip-{escape(clip)}'>{escape(clip)}</a></span>"
            )
        else:
            parts.append(f"<span class='ex'>{escape(clip)}</span>")
    return " ".join(parts)


def _clips_html(clips: Sequence[Clip]) -> list[str]:
    from asrloop.audio.io import compressed_audio

    if not clips:
        return []
    parts = [
        "<h2>Example clips</h2>",
        "<table><tr><th>clip</th><th>voice</th><th>listen</th><th>reference</th>"
        "<th>hypothesis</th></tr>",
    ]
    for clip in clips:
        name, source = escape(clip.id), data_uri(compressed_audio(clip.audio), "audio/ogg")
        player = f"<audio id='audio-{name}' controls preload='metadata' src='{source}'></audio>"
        cells = [name, escape(clip.voice), player, escape(clip.reference), escape(clip.hypothesis)]
        parts.append(f"<tr id='clip-{name}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    return parts


def to_html(report: Report, folder: Path | None = None) -> str:
    """The report as one HTML file; the images (read from ``folder``) and clips are embedded."""
    playable = {clip.id for clip in report.clips}
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(report.title)}</title>",
        f"<style>{STYLE}</style></head><body>",
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
            "<tr>" + "".join(f"<td>{_html_cell(c, playable)}</td>" for c in row) + "</tr>"
            for row in section.rows
        ]
        parts.append("</table>")
    for image in report.images:
        source = image
        if folder is not None and (folder / image).exists():
            source = data_uri((folder / image).read_bytes(), "image/png")
        parts.append(f"<p><img src='{escape(source)}' alt='{escape(image)}'></p>")
    parts += _clips_html(report.clips)
    if playable:
        parts.append(f"<script>{SCRIPT}</script>")
    return "\n".join([*parts, "</body></html>"]) + "\n"


def write_report(report: Report, folder: Path, stem: str = "report") -> list[Path]:
    """``<stem>.md`` and ``<stem>.html`` in ``folder``; returns both paths."""
    markdown = atomic_write_text(folder / f"{stem}.md", to_markdown(report))
    html = atomic_write_text(folder / f"{stem}.html", to_html(report, folder))
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
