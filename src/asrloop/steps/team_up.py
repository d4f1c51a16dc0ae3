"""``asrloop team up``: start the team stack (PostgreSQL, S3, MLflow server) on this machine."""

from __future__ import annotations

from asrloop.progress import console
from asrloop.steps.context import StepContext, step
from asrloop.team import ENV_FILE, TeamStack


@step("team up")
def run(ctx: StepContext) -> dict[str, str]:
    stack = TeamStack.of(ctx.settings.team, ctx.layout.root)
    stack.up()
    console.print(
        f"team stack up: MLflow {stack.tracking_uri} (PostgreSQL + s3://{stack.bucket}/mlflow), "
        f"DVC remote {stack.dvc_url}\n"
        f"  source {stack.dir / ENV_FILE}   # tracking URI and S3 credentials for this shell\n"
        "  then any step with tracking=server, e.g. make loop ARGS='tracking=server'"
    )
    return {"tracking_uri": stack.tracking_uri}
