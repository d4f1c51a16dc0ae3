"""Reports: one description, Markdown and a standalone HTML file with plots and clips embedded."""

from __future__ import annotations

from asrloop.report_render import (
    Clip,
    ClipIds,
    Report,
    Section,
    bar_chart,
    to_markdown,
    write_report,
)
from tests.review_data import make_queue


def test_html_embeds_plots_and_clips_and_markdown_lists_them(tmp_path):
    item = make_queue(tmp_path / "queue", tmp_path / "audio")[0]
    bar_chart(["a", "b"], [1.0, 2.0], "t", "count", tmp_path / "plot.png")
    report = Report(
        "R",
        [Section("Confusions", ["ref", "examples"], [["brexit", ClipIds([item.id, "gone"])]])],
        ["plot.png"],
        [Clip(item.id, tmp_path / "audio" / f"{item.id}.wav", "the brexit deal", item.hypothesis)],
    )
    markdown, html = (path.read_text() for path in write_report(report, tmp_path))
    assert f"data-clip='{item.id}'" in html and "data-clip='gone'" not in html
    assert html.count("data:audio/ogg;base64,") == 1 and "data:image/png;base64," in html
    assert f"<audio id='audio-{item.id}'" in html and "<script>" in html
    assert f"| brexit | {item.id}, gone |" in markdown
    assert f"| {item.id} |  | the brexit deal | {item.hypothesis} |" in to_markdown(report)
    plain = Report("R", [Section("S", ["a"], [[1.5]])])
    assert "<script>" not in write_report(plain, tmp_path / "plain")[1].read_text()
