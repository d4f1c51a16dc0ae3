"""The triage report you can hear: in Chromium from disk, and from MLflow's artifact view."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from asrloop.config import compose
from asrloop.loop.review_queue import write_queue
from asrloop.loop.triage import analyze_queue
from asrloop.settings import typed
from tests.review_data import CLIPS, make_queue

pytestmark = pytest.mark.browser
KNOWN = "the deal was signed talks resumed in brussels council met on monday farmers fear"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> list[Path]:
    """A triage report of the four review clips, approved with what was said."""
    root = tmp_path_factory.mktemp("triage")
    items = make_queue(root / "queue", root / "audio")
    said = {clip[0]: clip[2] for clip in CLIPS}
    write_queue(root / "queue", [i.replace(status="approved", reference=said[i.id]) for i in items])
    settings = typed(compose()).triage
    _, files = analyze_queue(
        root / "queue", root / "report", set(KNOWN.split()), settings, "Triage", ["brexit"]
    )
    return files


def check_players(frame) -> None:
    """Every plot shows; a play button beside an example plays its clip."""
    assert frame.evaluate("Array.from(document.images).map(i => i.naturalWidth > 0)") == [True] * 3
    buttons = frame.locator("button.play")
    assert buttons.count() >= 6  # term, confusion, OOV examples
    buttons.first.click()
    frame.wait_for_function(
        "() => Array.from(document.querySelectorAll('audio'))"
        ".some(a => !a.paused && a.currentTime > 0 && a.duration > 0.5)"
    )


def test_the_report_plays_its_examples_from_disk(chromium, report):
    html = next(path for path in report if path.name == "report.html")
    text = html.read_text()
    assert text.count("data:image/png;base64,") == 3  # plots embedded, no links to files
    assert text.count("data:audio/ogg;base64,") == 3  # the clips the tables name, once each
    page = chromium.new_page()
    page.goto(html.as_uri())
    assert page.locator("h2", has_text="Emerging terms").count() == 1
    check_players(page)
    page.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_report_plays_in_mlflow(chromium, report, tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("triage", artifact_location=str(tmp_path / "artifacts"))
    with mlflow.start_run(experiment_id=experiment) as run:
        for path in report:
            mlflow.log_artifact(str(path), "triage")
    port = free_port()
    server = subprocess.Popen(
        [Path(sys.executable).parent / "mlflow", "ui", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", uri],
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "mlflow ui failed"
                time.sleep(1)
        page = chromium.new_page()
        page.set_default_timeout(60_000)
        page.goto(
            f"http://127.0.0.1:{port}/#/experiments/{experiment}/runs/{run.info.run_id}"
            "/artifacts/triage/report.html"
        )
        frame = page.locator("iframe.mlflow-html-iframe").element_handle().content_frame()
        frame.locator("h1", has_text="Triage").wait_for()
        check_players(frame)
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
