"""The scale suite's Ray cluster: two nodes on 127.0.0.1, started once, stopped at the end."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from asrloop.tracking import environment_kept
from tests.helpers import free_port

NODE = str(Path(__file__).with_name("ray_node.py"))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """The address of a two-node Ray cluster on 127.0.0.1 (a head node and a worker node,
    1 CPU each), token authentication on; stopped after the suite."""
    temp = tmp_path_factory.mktemp("ray")
    token = temp / "auth_token"
    token.write_text(secrets.token_hex(32))
    env = {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(token),
    }
    port = free_port()
    address = f"127.0.0.1:{port}"

    def node(*args: str) -> None:
        started = subprocess.run(
            [sys.executable, NODE, "start", "--node-ip-address=127.0.0.1", "--num-cpus=1", *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        if started.returncode != 0:
            pytest.fail(f"ray start {' '.join(args)} failed:\n{started.stderr[-3000:]}")

    with environment_kept(*env):
        os.environ.update(env)
        try:
            node("--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}")
            node(f"--address={address}")
            yield address
        finally:
            import ray

            ray.shutdown()  # this process's connection first, then the nodes
            subprocess.run(
                [str(Path(sys.executable).parent / "ray"), "stop", "--force"],
                capture_output=True,
                timeout=120,
            )
