"""``asrloop review``: serve the review page of a drop's queue on 127.0.0.1 (uvicorn).

    asrloop review                                  # conf/review: host, port, drop, reviewer
    asrloop review review.reviewer=ann review.port=8800

:class:`ReviewServer` runs the same app in a background thread (tests, scripts).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from asrloop.errors import StepFailed
from asrloop.review.page import PageSettings, spike_phrases
from asrloop.review.store import ReviewStore


@dataclass(frozen=True)
class ReviewPaths:
    """Where a drop's review inputs live."""

    queue: Path  # data/reviews/<drop>/
    spikes: Path  # reports/monitor/<drop>/spikes.json (optional)
    root: Path  # the project root: relative audio paths start here

    @classmethod
    def from_config(cls, drop: str, paths_cfg: DictConfig) -> ReviewPaths:
        return cls(
            queue=Path(paths_cfg.reviews) / drop,
            spikes=Path(paths_cfg.reports) / "monitor" / drop / "spikes.json",
            root=Path(paths_cfg.root),
        )


def page_settings(review_cfg: DictConfig, spikes: Path) -> PageSettings:
    return PageSettings(
        drop=str(review_cfg.drop),
        reviewer=str(review_cfg.reviewer),
        low_confidence=float(review_cfg.low_confidence),
        phrases=spike_phrases(spikes, int(review_cfg.phrases)),
    )


def build_app(review_cfg: DictConfig, paths: ReviewPaths, alphabet: str):
    from asrloop.review.app import create_app

    store = ReviewStore(paths.queue, alphabet, paths.root)
    return create_app(store, page_settings(review_cfg, paths.spikes))


class ReviewServer:
    """The app served by uvicorn in a daemon thread on ``host`` (a free port when ``port`` is 0);
    a context manager that stops the server on exit."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.host, self.port = self.socket.getsockname()
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> ReviewServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise StepFailed(f"the review server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


def run(cfg: DictConfig) -> None:
    """Serve the review page until interrupted (Ctrl+C)."""
    import uvicorn

    from asrloop.progress import console

    paths = ReviewPaths.from_config(str(cfg.review.drop), cfg.paths)
    app = build_app(cfg.review, paths, str(cfg.corpus.alphabet))
    url = f"http://{cfg.review.host}:{cfg.review.port}/"
    console.print(f"review page for [bold]{cfg.review.drop}[/]: {url}  (queue {paths.queue})")
    uvicorn.run(app, host=str(cfg.review.host), port=int(cfg.review.port), log_level="warning")
