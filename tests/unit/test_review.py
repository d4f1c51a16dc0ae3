"""The review store, the page's helpers and its HTTP API (a real server on 127.0.0.1)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from asrloop.cli import as_overrides
from asrloop.errors import DataError
from asrloop.loop.review_queue import ReviewItem, merge_queue, read_queue, write_queue
from asrloop.review.access import Access
from asrloop.review.app import create_app
from asrloop.review.page import (
    PageSettings,
    filter_options,
    marked_words,
    matches,
    page_rows,
    progress,
    reason_kinds,
)
from asrloop.review.server import ReviewServer
from asrloop.review.store import Decision, ReviewStore, StaleRowError
from asrloop.text.normalize import NormalizationError
from tests.review_data import ALPHABET, make_queue


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture
def queue(tmp_path, clips) -> Path:
    folder = tmp_path / "queue"
    make_queue(folder, clips)
    return folder


def store(folder: Path, audio: Path | None = None) -> ReviewStore:
    return ReviewStore(folder, ALPHABET, folder, (audio,) if audio else ())


def test_old_queue_files_still_read(tmp_path):
    """A queue written before rows had revisions, tags or word confidences."""
    old = {"id": "c1", "status": "approved", "reason": "random", "hypothesis": "a b",
           "reference": "a b", "voice": "v", "confidence": 0.5, "audio_filepath": "c1.wav",
           "reviewer": ""}  # fmt: skip
    (tmp_path / "queue.jsonl").write_text(json.dumps(old) + "\n")
    item = read_queue(tmp_path)[0]
    assert (item.revision, item.reviewed_at, item.word_confidences) == (0, "", [])
    write_queue(tmp_path, [item])
    assert read_queue(tmp_path) == [item]
    with pytest.raises(DataError, match="field 'revision'"):
        ReviewItem.from_dict({**old, "revision": "x"}, "q.csv:2")


def test_decisions_are_normalised_counted_and_kept_by_retriage(queue):
    first = store(queue).item("drop-00001")
    saved = store(queue).decide(
        Decision(first.id, "approved", "The Brexit-deal was signed!", "ann", first.tag)
    )
    assert (saved.reference, saved.revision, saved.reviewer) == (
        "the brexit deal was signed",
        1,
        "ann",
    )
    assert saved.tag != first.tag and saved.reviewed_at
    assert read_queue(queue)[0] == saved
    # a repeated save of the same decision is accepted, whatever tag it names
    assert (
        store(queue).decide(
            Decision(first.id, "approved", "the brexit deal was signed", "ann", first.tag)
        )
        == saved
    )
    # re-triage keeps the decision
    selections = [item.replace(reference=item.hypothesis) for item in read_queue(queue)]
    assert merge_queue(read_queue(queue), selections)[0] == saved


def test_stale_and_invalid_saves_change_nothing(queue):
    before = (queue / "queue.jsonl").read_bytes()
    first = store(queue).item("drop-00001")
    with pytest.raises(NormalizationError, match="cannot write"):
        store(queue).decide(Decision(first.id, "approved", "Привет", "ann", first.tag))
    with pytest.raises(DataError, match="no reviewer name"):
        store(queue).decide(Decision(first.id, "approved", "ok", " ", first.tag))
    with pytest.raises(DataError, match="status 'maybe'"):
        store(queue).decide(Decision(first.id, "maybe", "ok", "ann", first.tag))
    assert (queue / "queue.jsonl").read_bytes() == before
    store(queue).decide(Decision(first.id, "rejected", "", "ann", first.tag))
    after = (queue / "queue.jsonl").read_bytes()
    with pytest.raises(StaleRowError, match="now rejected by ann, revision 1"):
        store(queue).decide(Decision(first.id, "approved", "the deal", "bob", first.tag))
    assert (queue / "queue.jsonl").read_bytes() == after
    # an edit of the CSV by hand is a change too
    second = store(queue).item("drop-00002")
    edit_csv(queue, "drop-00002", status="approved", reference="brexit talks resumed")
    with pytest.raises(StaleRowError, match="now approved by nobody"):
        store(queue).decide(Decision(second.id, "rejected", "", "bob", second.tag))


def edit_csv(folder: Path, clip: str, **changes: str) -> None:
    """A person edits one row of the CSV in a spreadsheet (so it is newer than the JSONL)."""
    import csv
    import os

    with (folder / "queue.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for fields in rows:
        if fields["id"] == clip:
            fields.update(changes)
    with (folder / "queue.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    later = (folder / "queue.jsonl").stat().st_mtime_ns + 1_000_000_000
    os.utime(folder / "queue.csv", ns=(later, later))


def test_marks_filters_and_progress(queue):
    items = read_queue(queue)
    words = marked_words(items[1], ["talks resumed"], threshold=0.6)
    assert [w.text for w in words if w.low] == ["break", "it"]
    assert [w.text for w in words if w.flagged] == ["talks", "resumed"]
    flagged = marked_words(items[0], [], threshold=0.6)
    assert [w.text for w in flagged if w.flagged] == ["bread", "sit"]
    assert reason_kinds(items[3]) == ["flagged", "random"]
    assert [i.id for i in items if matches(i, {"reason": "random", "voice": "en+klatt4"})] == [
        "drop-00002",
        "drop-00004",
    ]
    assert [i.id for i in items if matches(i, {"phrase": "bread sit", "status": ""})] == [
        "drop-00001",
        "drop-00004",
    ]
    assert filter_options(items)["reason"] == ["flagged", "least confident", "random"]
    assert progress(items) == {
        "total": 4,
        "decided": 0,
        "approved": 0,
        "rejected": 0,
        "pending": 4,
        "minutes": 0.0,
        "budget_minutes": None,
        "budget_reached": False,
    }


def test_the_page_lists_rows_by_rank_and_holds_pending_rows_back_at_the_budget():
    items = [
        ReviewItem("c1", reason="random", rank=3, duration=20.0),
        ReviewItem("c2", reason="high entropy (1.20 nats)", rank=1, duration=10.0),
        ReviewItem("c3", reason="random", rank=2, duration=30.0, status="approved"),
        ReviewItem("c4", reason="random", duration=5.0),
    ]
    open_ended = PageSettings("drop", "ann", 0.6, (), decision_seconds=10.0)
    assert [i.id for i in page_rows(items, open_ended)] == ["c2", "c3", "c1", "c4"]
    assert progress(items, open_ended)["minutes"] == round(40 / 60, 1)
    budget = PageSettings("drop", "ann", 0.6, (), decision_seconds=10.0, budget_minutes=0.5)
    shown = progress(items, budget)
    assert shown["budget_reached"] and shown["pending"] == 3
    assert [i.id for i in page_rows(items, budget)] == ["c3"]  # the pending rows wait
    bigger = PageSettings("drop", "ann", 0.6, (), decision_seconds=10.0, budget_minutes=5.0)
    assert len(page_rows(items, bigger)) == 4 and not progress(items, bigger)["budget_reached"]


def test_review_command_words_become_overrides():
    assert as_overrides("review import", ["/tmp/my export.json", "review.drop=d"]) == [
        "review.import.file='/tmp/my export.json'",
        "review.drop=d",
    ]
    assert as_overrides("review export", ["--format=label-studio", "--output", "o.json"]) == [
        "review.export.format='label-studio'",
        "review.export.output='o.json'",
    ]
    assert as_overrides("review import", ["--params", "p.yaml", "f.json"])[:2] == [
        "--params",
        "p.yaml",
    ]


def call(url: str, body: dict | None = None, csrf: str = "") -> tuple[int, dict | bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json", "x-csrf-token": csrf}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw) if raw[:1] == b"{" else raw


def test_the_http_api(queue, clips):
    settings = PageSettings("drop", "ann", 0.6, ("deal was",))
    access = Access.for_binding("127.0.0.1")
    with ReviewServer(create_app(store(queue, clips), settings, access)) as server:
        status, page = call(server.url + "/?reason=flagged")
        html = page.decode()
        assert status == 200 and html.count('<article class="row') == 2
        assert '<mark class="w low"' in html and 'value="ann"' in html
        status, audio = call(server.url + "/audio/drop-00001")
        assert status == 200 and audio[:4] == b"RIFF"
        # only queue rows' audio is served
        assert call(server.url + "/audio/..%2F..%2Fetc%2Fpasswd")[0] == 404
        assert call(server.url + "/audio/nope")[0] == 404
        tag = call(server.url + "/api/rows/drop-00002")[1]["tag"]
        save = {"status": "approved", "reference": "Brexit talks", "reviewer": "ann", "seen": tag}
        assert call(server.url + "/api/rows/drop-00002", save)[0] == 403  # no CSRF token
        status, saved = call(server.url + "/api/rows/drop-00002", save, access.csrf)
        assert status == 200 and saved["row"]["reference"] == "brexit talks"
        assert saved["progress"]["approved"] == 1
        other = {**save, "reference": "other"}
        status, stale = call(server.url + "/api/rows/drop-00002", other, access.csrf)
        assert status == 409 and "changed after you loaded it" in stale["error"]
        status, refused = call(
            server.url + "/api/rows/drop-00003",
            {
                **save,
                "reference": "Ωmega",
                "seen": call(server.url + "/api/rows/drop-00003")[1]["tag"],
            },
            access.csrf,
        )
        assert status == 422 and "cannot write" in refused["error"]
    assert read_queue(queue)[1].reference == "brexit talks"
