"""Retake the README's MLflow screenshots from a real Chromium, after a loop (`make screenshots`).

    make loop && make screenshots     # docs/mlflow-compare.png, docs/mlflow-registry.png
    ASRLOOP_ROOT=/path/to/project .venv/bin/python scripts/screenshots.py --out /tmp/shots

Starts the MLflow UI on the project's backend (``mlflow.db`` + ``mlartifacts/``, the job runner
off), then photographs (a) the model-training view of the experiment with the last two
training runs' dev CER curves in one chart, and (b) the registered model's page with its
versions, the champion alias and the gate's tags. The assistant panel is closed first.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from chromium import ensure_chromium, launch

PROJECT = Path(__file__).resolve().parents[1]
METRIC = "dev_cer"
VIEWPORT = {"width": 1500, "height": 1000}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_ui(root: Path, port: int) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "mlflow"), "ui", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{root}/mlflow.db",
        "--default-artifact-root", str(root / "mlartifacts"),
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"mlflow ui exited: {server.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return server
        except OSError:
            time.sleep(1)
    server.terminate()
    raise SystemExit("mlflow ui did not answer in 3 minutes")


def loop_facts(root: Path):
    """(experiment id, the last two training runs, registered model name) from the project."""
    import mlflow

    from asrloop.config import compose

    tracking = compose([f"paths.root={root}"]).tracking
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(str(tracking.experiment))
    if experiment is None:
        raise SystemExit(f"no experiment {tracking.experiment!r} in {root}/mlflow.db")
    runs = client.search_runs(
        [experiment.experiment_id],
        "tags.step = 'train' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=2,
    )
    if len(runs) < 2:
        raise SystemExit("fewer than two finished training runs: run `make loop` first")
    return experiment.experiment_id, runs[::-1], str(tracking.registered_model)


def close_assistant(page) -> None:
    """Close the assistant panel (it opens on its own, a moment after the page)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    close = page.locator("[data-component-id='mlflow.assistant.chat_panel.close']").first
    try:
        close.wait_for(timeout=10_000)
    except PlaywrightTimeout:
        return  # closed already (the browser remembers) or gone from this MLflow version
    close.click()
    close.wait_for(state="detached")


def compare_runs(page, base: str, experiment: str, runs, out: Path) -> Path:
    """The experiment's chart view: the two training runs (their parent loop runs expanded and
    hidden from the chart), one large dev CER chart."""
    ids = ", ".join(f"'{run.info.run_id}'" for run in runs)
    query = {
        "workflowType": "machine_learning",
        "compareRunsMode": "CHART",
        "searchFilter": f"attributes.run_id IN ({ids})",
    }
    page.goto(f"{base}/#/experiments/{experiment}/runs?{urllib.parse.urlencode(query)}")
    search = page.get_by_placeholder("Search metric charts")
    search.wait_for()
    close_assistant(page)
    expanders = page.locator("[data-component-id$='runnamecellrenderer.tsx_46']")
    for index in range(expanders.count()):  # parent rows: show their children, hide themselves
        parent = page.locator("[role=row]").filter(has=expanders.nth(index)).first
        expanders.nth(index).click()
        parent.locator("input.is-visibility-toggle-checkbox").locator("..").click()
    search.fill(METRIC)
    card = page.locator("[data-testid=experiment-view-compare-runs-card]").first
    card.wait_for()
    handle = card.locator("xpath=..").locator("[data-testid=draggable-card-resize-handle]")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + 4, box["y"] + 4)
    page.mouse.down()
    page.mouse.move(box["x"] + 1200, box["y"] + 250, steps=15)  # the grid's full width
    page.mouse.up()
    page.wait_for_timeout(3000)  # the chart redraws
    path = out / "mlflow-compare.png"
    page.screenshot(path=str(path))
    return path


def registry(page, base: str, model: str, out: Path) -> Path:
    """The registered model's page: versions, aliases (champion) and tags (the gate's)."""
    page.goto(f"{base}/#/models/{urllib.parse.quote(model)}?workflowType=machine_learning")
    page.get_by_text("champion").first.wait_for()
    close_assistant(page)
    page.wait_for_timeout(2000)
    path = out / "mlflow-registry.png"
    page.screenshot(path=str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT / "docs")
    args = parser.parse_args()
    root = Path(os.environ.get("ASRLOOP_ROOT", ".")).resolve()
    if not (root / "mlflow.db").exists():
        raise SystemExit(f"{root}/mlflow.db does not exist: run `make loop` first")
    executable, why = ensure_chromium()
    if executable is None:
        raise SystemExit(f"chromium cannot be installed: {why}")
    experiment, runs, model = loop_facts(root)
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_ui(root, port)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = launch(playwright, executable)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            base = f"http://127.0.0.1:{port}"
            shots = [compare_runs(page, base, experiment, runs, args.out)]
            shots.append(registry(page, base, model, args.out))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    for shot in shots:
        print(f"wrote {shot}")


if __name__ == "__main__":
    main()
