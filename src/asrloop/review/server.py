"""The review page's server (``asrloop review``): a drop's queue served on 127.0.0.1 (uvicorn).

    asrloop review                                  # conf/review: host, port, drop, reviewer
    asrloop review review.reviewer=ann review.port=8800

:class:`ReviewServer` runs the same app in a background thread (tests, scripts).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from asrloop.artifacts import Layout
from asrloop.errors import StepFailed
from asrloop.review.page import PageSettings, spike_phrases
from asrloop.review.store import ReviewStore
from asrloop.settings.review import ReviewSettings


@dataclass(frozen=True)
class ReviewPaths:
    """Where a drop's review inputs live."""

    queue: Path  # data/reviews/<drop>/
    spikes: Path  # reports/monitor/<drop>/spikes.json (optional)
    root: Path  # the project root: relative audio paths start here
    audio: Path  # data/drops/<drop>/: the only audio the page serves

    @classmethod
    def of(cls, drop: str, layout: Layout) -> ReviewPaths:
        return cls(
            layout.review_queue(drop), layout.spikes(drop), layout.root, layout.drop_dir(drop)
        )


def page_settings(review: ReviewSettings, spikes: Path) -> PageSettings:
    """``review`` as the page needs it, with the monitor's top phrases from ``spikes``."""
    return PageSettings(
        drop=review.drop,
        reviewer=review.reviewer,
        low_confidence=review.low_confidence,
        phrases=spike_phrases(spikes, review.phrases),
        decision_seconds=review.decision_seconds,
        budget_minutes=review.budget_minutes,
    )


def review_store(paths: ReviewPaths, alphabet: str) -> ReviewStore:
    """The drop's queue, its text checked against ``alphabet``, audio served from the drop."""
    return ReviewStore(paths.queue, alphabet, paths.root, (paths.audio,))


def page_access(review: ReviewSettings):
    """The page's access rules for ``review.host`` (a token is required off loopback)."""
    from asrloop.review.access import Access

    return Access.for_binding(review.host, review.allowed_hosts, review.token)


def build_app(settings: PageSettings, paths: ReviewPaths, alphabet: str, access=None):
    from asrloop.review.app import create_app

    return create_app(review_store(paths, alphabet), settings, access)


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
