"""The review page in real Chromium: listen, correct and decide by keyboard; conflicts refused."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from asrloop.loop.review_queue import read_queue
from asrloop.review.app import create_app
from asrloop.review.page import PageSettings
from asrloop.review.server import ReviewServer
from asrloop.review.store import ReviewStore
from tests.review_data import ALPHABET, make_queue

pytestmark = pytest.mark.browser
TIMEOUT = 10_000  # ms


@pytest.fixture
def site(tmp_path):
    """(page URL, queue folder): a four-clip queue served on 127.0.0.1."""
    folder = tmp_path / "data" / "reviews" / "drop"
    make_queue(folder, tmp_path / "audio")
    store = ReviewStore(folder, ALPHABET, tmp_path)
    settings = PageSettings("drop", reviewer="", low_confidence=0.6, phrases=())
    with ReviewServer(create_app(store, settings)) as server:
        yield server.url + "/", folder


def open_page(chromium, url: str, reviewer: str):
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.fill("#reviewer", reviewer)
    page.locator("article.row").first.click(position={"x": 5, "y": 5})
    return page


def row(page, n: int):
    return page.locator("article.row").nth(n - 1)


def wait_status(page, n: int, status: str) -> None:
    row(page, n).locator(f".status:text-is('{status}')").wait_for()


def correct_and_approve(page, text: str) -> None:
    """Edit the current row's text (replacing it) and approve it with Enter."""
    page.keyboard.press("e")
    page.keyboard.press("Control+a")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def csv_rows(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "queue.csv").open(newline="") as handle:
        return {data["id"]: data for data in csv.DictReader(handle)}


def test_listen_correct_and_decide_with_the_keyboard(chromium, site):
    url, folder = site
    page = open_page(chromium, url, "")
    # no name yet: the decision is refused on the page, the queue is untouched
    page.keyboard.press("a")
    assert "Enter your name" in row(page, 1).locator(".error").inner_text()
    page.fill("#reviewer", "ann")
    row(page, 1).click(position={"x": 5, "y": 5})

    # 1: play the clip, correct the text, approve with Enter
    page.keyboard.press("p")
    page.wait_for_function(
        "() => { const a = document.querySelector('article.row audio');"
        " return a.duration > 0.5 && a.currentTime > 0; }"
    )
    duration = row(page, 1).locator("audio").evaluate("a => a.duration")
    correct_and_approve(page, "The Brexit deal was signed!")
    wait_status(page, 1, "approved")
    # 2: reject; 3: approve the hypothesis as it is
    page.keyboard.press("r")
    wait_status(page, 2, "rejected")
    page.keyboard.press("a")
    wait_status(page, 3, "approved")
    # 4: text the model's alphabet cannot hold is refused, with the normaliser's reason
    page.keyboard.press("e")
    page.keyboard.type(" Привет")
    page.keyboard.press("Enter")
    error = row(page, 4).locator(".error")
    error.wait_for()
    assert "cannot write" in error.inner_text()
    page.keyboard.press("Escape")
    line = page.locator("#progress").inner_text()
    assert line.startswith("3 of 4 decided") and line.endswith("review minutes")

    page.reload()
    statuses = page.locator("article.row .status").all_inner_texts()
    assert [s.lower() for s in statuses] == ["approved", "rejected", "approved", "pending"]
    assert row(page, 1).locator(".ref").input_value() == "the brexit deal was signed"
    assert "by ann" in row(page, 1).locator(".by").inner_text()

    queue = {item.id: item for item in read_queue(folder)}
    first = queue["drop-00001"]
    assert (first.status, first.reference, first.reviewer, first.revision) == (
        "approved",
        "the brexit deal was signed",
        "ann",
        1,
    )
    assert queue["drop-00002"].status == "rejected"
    assert queue["drop-00003"].reference == "the council met on monday"
    assert queue["drop-00004"].status == "pending"
    assert queue["drop-00004"].reference == "farmers fear bread sit"
    assert csv_rows(folder)["drop-00001"]["reference"] == "the brexit deal was signed"
    assert 1.0 < duration < 5.0


def test_filters_narrow_the_rows(chromium, site):
    url, _ = site
    page = open_page(chromium, url, "ann")
    page.select_option("select[name=reason]", "flagged")
    page.wait_for_url("**reason=flagged**")
    assert page.locator("article.row .id").all_inner_texts() == ["drop-00001", "drop-00004"]
    assert page.locator("article.row").first.locator("mark").all_inner_texts() == ["bread", "sit"]
    assert page.locator("article.row").first.locator(".w.low").count() == 2
    page.goto(url + "?voice=en%2Bklatt4&reason=random")
    assert page.locator("article.row .id").all_inner_texts() == ["drop-00002", "drop-00004"]


def test_a_conflicting_save_is_refused(chromium, site):
    url, folder = site
    ann = open_page(chromium, url, "ann")
    bob = open_page(chromium, url, "bob")  # both loaded the queue before anyone saved
    correct_and_approve(ann, "the brexit deal was signed")
    wait_status(ann, 1, "approved")

    correct_and_approve(bob, "the bread sit deal was signed")
    error = row(bob, 1).locator(".error")
    error.wait_for()
    assert "changed after you loaded it" in error.inner_text()
    assert "by ann" in error.inner_text()
    item = read_queue(folder)[0]
    assert (item.reference, item.reviewer, item.revision) == (
        "the brexit deal was signed",
        "ann",
        1,
    )

    # bob reloads the row, sees ann's decision, and may now overrule it knowingly
    bob.keyboard.press("Escape")
    row(bob, 1).locator(".reload").click()
    wait_status(bob, 1, "approved")
    assert row(bob, 1).locator(".ref").input_value() == "the brexit deal was signed"
    row(bob, 1).click(position={"x": 5, "y": 5})
    bob.keyboard.press("r")
    wait_status(bob, 1, "rejected")
    item = read_queue(folder)[0]
    assert (item.status, item.reviewer, item.revision) == ("rejected", "bob", 2)
