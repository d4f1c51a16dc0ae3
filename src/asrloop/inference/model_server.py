"""Run ``mlflow models serve`` on a registered version and talk to it over HTTP.

    with served_model("models:/asrloop-news-ctc@champion", tracking_uri, port=5001) as url:
        transcribe_over_http(url, [wav_bytes])   # -> [{"text", "confidence", "words"}]

The server resolves the alias once, at start (restart it after the champion moves). It runs in
this Python environment (``--env-manager local``); ``bin_dir`` picks another one, for example an
environment without asrloop installed, where the model's shipped source is what runs.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asrloop.errors import StepFailed


class ServerError(StepFailed):
    """The model server did not start, or answered a request with an error (message has it)."""


def request_body(
    clips: Sequence[bytes] = (), paths: Sequence[str] = (), params: Mapping[str, Any] = ()
) -> dict[str, Any]:
    """The JSON body of ``POST /invocations``: one row per clip, its audio bytes base64-encoded,
    or a file path the server can read (with empty audio: every row names both columns)."""
    records = [{"audio": base64.b64encode(c).decode("ascii"), "path": ""} for c in clips]
    records += [{"audio": "", "path": str(p)} for p in paths]
    body: dict[str, Any] = {"dataframe_records": records}
    if params:
        body["params"] = dict(params)
    return body


def transcribe_over_http(
    url: str,
    clips: Sequence[bytes] = (),
    paths: Sequence[str] = (),
    params: Mapping[str, Any] = (),
    timeout: float = 120.0,
) -> list[dict[str, Any]]:
    """Post clips to a served model; its predictions, in order."""
    data = json.dumps(request_body(clips, paths, params)).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())["predictions"]
    except urllib.error.HTTPError as error:
        raise ServerError(f"{url}: HTTP {error.code}: {_reason(error.read())}") from error


def _reason(body: bytes) -> str:
    """The server's message and, when it sent a stack trace, the exception it ends with."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")[:2000]
    trace = str(answer.get("stack_trace") or "").strip().splitlines()
    return str(answer.get("message", "")) + (f" ({trace[-1]})" if trace else "")


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"model server exited ({process.returncode}):\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise ServerError(f"model server not up after {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


@contextmanager
def served_model(
    model_uri: str,
    tracking_uri: str,
    port: int,
    log: Path,
    bin_dir: Path | None = None,
    env: Mapping[str, str] = (),
    timeout: float = 180.0,
    workers: int = 1,
) -> Iterator[str]:
    """``mlflow models serve -m model_uri`` on 127.0.0.1:port until the block ends; yields the
    base URL. ``bin_dir`` holds the ``python`` (and ``uvicorn``) to serve with; ``workers``
    server processes each load the model."""
    bin_dir = Path(bin_dir or Path(sys.executable).parent)
    full_env = {
        **os.environ,
        **dict(env),
        "MLFLOW_TRACKING_URI": tracking_uri,  # `models serve` has no tracking flag
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",  # it execs `uvicorn`
    }
    command = [
        str(bin_dir / "python"),
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log, timeout)
        yield url
    finally:
        stop(process)


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group (the CLI and its uvicorn child), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
