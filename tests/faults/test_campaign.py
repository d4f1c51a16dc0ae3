"""The fault campaign: every write that matters is killed for real (SIGKILL), then rerun.

A tiny project (``experiment=faults``) is built once, to two snapshots: after the loop's
iteration 0 (champion v1, a triaged drop) and after growth and retraining (v2 registered, not
yet gated). For each named fault point (``asrloop.faults``) the step that holds it runs on a
fresh copy of the right snapshot with the point armed, dies, and runs again unarmed; then the
invariants must hold: every corpus version restores to its rows, the champion has its gate
record, one registered version per training run, no partial or temp files, every JSON parses,
review decisions unchanged. Prints "N faults injected, N survived, 0 lost".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import pytest

from asrloop.artifacts import Layout
from asrloop.config import compose
from asrloop.corpus.manifest import iter_corpus, read_manifest
from asrloop.corpus.versioning import corpus_tags, restore_version
from asrloop.faults import FAULT_ENV, MARK_ENV
from asrloop.loop.review_queue import read_queue
from asrloop.pipeline import repro
from asrloop.review.label_studio import DECISION, TAG_KEY
from tests.helpers import asrloop_cli, init_project_repo

pytestmark = pytest.mark.faults

EXPERIMENT = "experiment=faults"
PARAMS = ["--params", "pipelines/params.yaml"]
LEFTOVERS = ("*.partial", "*.tmp", ".*.tmp", "*.old", "*.part")
MODEL = "asrloop-news-ctc"
DROP = "brexit-drop1"


def asrloop(root: Path, *args: str, fault: str | None = None, mark: Path | None = None):
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV], env[MARK_ENV] = fault, str(mark)
    return asrloop_cli(root, *args, env=env, check=False, timeout=600)


def ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


def project_layout(root: Path) -> Layout:
    """The default layout of the project at ``root`` (where restoring a version writes)."""
    return Layout.from_paths(compose([f"paths.root={root}"]).paths)


def restore(snapshot: Path, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(snapshot, work, symlinks=True)


@dataclass
class Snapshots:
    work: Path  # every project runs at this path (MLflow keeps absolute artifact paths)
    iteration0: Path
    grown: Path
    versions: dict[str, list[str]] = field(default_factory=dict)  # tag -> row ids


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> Snapshots:
    base = tmp_path_factory.mktemp("faults")
    work = init_project_repo(base / "project")
    ok(asrloop(work, "loop", EXPERIMENT, "loop.iterations=0"))
    shots = Snapshots(work, base / "iteration0", base / "grown")
    shutil.copytree(work, shots.iteration0, symlinks=True)
    ok(asrloop(work, "grow", *PARAMS))
    for tag in corpus_tags(work):
        restore_version(project_layout(work), tag)
        shots.versions[tag] = sorted(r.id for r in iter_corpus(work / "data/corpus"))
    restore_version(project_layout(work), "main")
    repro(work, ["train"])
    shutil.copytree(work, shots.grown, symlinks=True)
    return shots


# ---------------------------------------------------------------- invariants


def leftovers(root: Path) -> list[str]:
    found = []
    for folder in ("data", "models", "reports", "pipelines"):
        for pattern in LEFTOVERS:
            found += [str(p.relative_to(root)) for p in (root / folder).rglob(pattern)]
    return found


def unparsable_json(root: Path) -> list[str]:
    bad = []
    for folder in ("data", "models", "reports"):
        for path in (root / folder).rglob("*.json*"):
            if path.suffix not in (".json", ".jsonl") or ".dvc" in path.parts:
                continue
            try:
                lines = (
                    path.read_text().splitlines() if path.suffix == ".jsonl" else [path.read_text()]
                )
                for line in lines:
                    if line.strip():
                        json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                bad.append(f"{path.relative_to(root)}: {error}")
    return bad


def registry(root: Path):
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    return mlflow.MlflowClient()


def registry_problems(root: Path) -> list[str]:
    client = registry(root)
    versions = client.search_model_versions(f"name='{MODEL}'")
    per_run = Counter(v.run_id for v in versions)
    problems = [f"run {run} registered {n} versions" for run, n in per_run.items() if n > 1]
    champion = client.get_model_version_by_alias(MODEL, "champion").version
    record = root / "reports" / "gate" / f"v{champion}.json"
    if not record.exists():
        problems.append(f"champion v{champion} has no gate record")
    else:
        decision = json.loads(record.read_text())
        if not decision["promote"] or decision["state"] != "applied":
            state, promote = decision["state"], decision["promote"]
            problems.append(f"champion v{champion}: gate record {state}, promote {promote}")
    return problems


def import_problems(root: Path, source: Path, name: str) -> list[str]:
    """The drop imported as ``name`` holds every clip and reference of the user's folder (made
    from ``source``'s drop); a replaced drop is kept whole in one place."""

    def rows(project: Path, drop: str) -> tuple[int, int]:
        audio = project / f"data/drops/{drop}/manifest.jsonl"
        references = project / f"data/references/{drop}.jsonl"
        return (
            len(read_manifest(audio, require_text=False)) if audio.exists() else 0,
            len(read_manifest(references)) if references.exists() else 0,
        )

    problems = []
    if rows(root, name) != rows(source, DROP):
        problems.append(f"imported {name}: {rows(root, name)} rows, expected {rows(source, DROP)}")
    if name == DROP:  # a deliberate replacement: the old drop kept whole, once
        kept = sorted((root / "replaced").glob(f"{DROP}-*"))
        whole = [
            (k / DROP / "manifest.jsonl").exists() and (k / f"{DROP}.jsonl").exists() for k in kept
        ]
        if whole != [True]:
            problems.append(f"the replaced drop is kept in {len(kept)} places, whole: {whole}")
    return problems


def decided(root: Path) -> dict[str, tuple]:
    queue = read_queue(root / "data" / "reviews" / DROP)
    return {i.id: (i.status, i.reference) for i in queue if i.decided}


def version_problems(shots: Snapshots, root: Path) -> list[str]:
    """Every corpus version restores to the rows it was made with."""
    problems = []
    tags = corpus_tags(root)
    if tags != sorted(shots.versions)[: len(tags)]:
        problems.append(f"tags {tags}, expected a prefix of {sorted(shots.versions)}")
    for tag in tags:
        restore_version(project_layout(root), tag)
        rows = sorted(r.id for r in iter_corpus(root / "data/corpus"))
        if rows != shots.versions[tag]:
            problems.append(f"{tag} restores {len(rows)} rows, recorded {len(shots.versions[tag])}")
    restore_version(project_layout(root), "main")
    return problems


# ---------------------------------------------------------------- the points


@dataclass(frozen=True)
class Point:
    name: str  # ASRLOOP_FAULT (name or name@N)
    snapshot: str  # iteration0 | grown
    command: tuple[str, ...]
    prepare: Callable[[Path], None] | None = None
    versions: bool = False  # the step makes data versions: restore every tag afterwards
    rejects: bool = False  # the step is a reviewer rejecting every row (decisions change)
    imports: str | None = None  # the drop the step imports (from the drop's own audio)


def drop_shard(root: Path) -> None:
    shutil.rmtree(root / "data/corpus/base/train-001")


def drop_references(root: Path) -> None:
    (root / f"data/references/{DROP}.jsonl").unlink()


def fresh_training(root: Path) -> None:
    shutil.rmtree(root / "models/current")


def unserved(root: Path) -> None:
    (root / f"data/serving/{DROP}.json").unlink()


INCOMING = "incoming"  # a folder of "production audio" for `drop import`, beside data/
IMPORTED = "brexit-import"


def incoming_audio(root: Path) -> None:
    """The drop's audio and references as a user's folder (WAVs + metadata.csv)."""
    folder = root / INCOMING
    folder.mkdir()
    lines = ["file_name,transcription"]
    for row in read_manifest(root / f"data/references/{DROP}.jsonl"):
        shutil.copy(row.audio_path, folder / Path(row.audio_filepath).name)
        lines.append(f"{Path(row.audio_filepath).name},{row.text}")
    (folder / "metadata.csv").write_text("\n".join(lines) + "\n")


EXPORT = "label-studio-export.json"


def reviewer_flips(root: Path) -> None:
    """A Label Studio export that rejects every row (as a reviewer would, row by row)."""
    tasks = [
        {
            "id": number,
            "data": {"clip_id": item.id, TAG_KEY: item.tag},
            "annotations": [
                {
                    "id": number,
                    "completed_by": 7,
                    "result": [{"from_name": DECISION, "value": {"choices": ["rejected"]}}],
                }
            ],
        }
        for number, item in enumerate(read_queue(root / "data" / "reviews" / DROP), start=1)
    ]
    (root / EXPORT).write_text(json.dumps(tasks))


STEP = {
    "synth": ("corpus", "synth", *PARAMS),
    "drop": ("drop", "synth", *PARAMS),
    "vocab": ("vocab", "build", *PARAMS),
    "train": ("train", *PARAMS),
    "evaluate": ("evaluate", *PARAMS),
    "transcribe": ("transcribe", *PARAMS),
    "triage": ("triage", *PARAMS),
    "grow": ("grow", *PARAMS),
    "gate": ("gate", *PARAMS),
    "review import": ("review", "import", EXPORT, *PARAMS),
    "drop import": (
        "drop", "import", *PARAMS, f"scenario.drop.name={IMPORTED}",
        f"scenario.drop.import_from={INCOMING}",
    ),
    "drop replace": (
        "drop", "import", *PARAMS, f"scenario.drop.import_from={INCOMING}",
        "scenario.drop.replace=true",
    ),
}  # fmt: skip

POINTS = [
    Point("synth.before_manifest", "iteration0", STEP["synth"], drop_shard),
    Point("synth.before_swap", "iteration0", STEP["synth"], drop_shard),
    Point("drop.before_references", "iteration0", STEP["drop"], drop_references),
    Point("vocab.before_swap", "iteration0", STEP["vocab"]),
    Point("swap.between_renames", "iteration0", STEP["vocab"]),
    Point("train.checkpoint@2", "iteration0", STEP["train"], fresh_training),
    Point("swap.between_renames@1", "grown", STEP["train"], fresh_training),
    Point("train.before_register", "iteration0", STEP["train"], fresh_training),
    Point("registry.after_log_model", "iteration0", STEP["train"], fresh_training),
    Point("train.before_result", "iteration0", STEP["train"], fresh_training),
    Point("evaluate.before_metrics", "iteration0", STEP["evaluate"]),
    Point("serving.before_record", "iteration0", STEP["transcribe"], unserved),
    Point("transcribe.before_write", "iteration0", STEP["transcribe"]),
    Point("triage.before_queue", "iteration0", STEP["triage"]),
    Point("grow.before_manifest", "iteration0", STEP["grow"], versions=True),
    Point("grow.before_swap", "iteration0", STEP["grow"], versions=True),
    Point("versioning.after_dvc_add", "iteration0", STEP["grow"], versions=True),
    Point("versioning.after_push", "iteration0", STEP["grow"], versions=True),
    Point("versioning.before_commit", "iteration0", STEP["grow"], versions=True),
    Point("versioning.before_tag", "iteration0", STEP["grow"], versions=True),
    Point("gate.before_record", "grown", STEP["gate"]),
    Point("gate.after_record", "grown", STEP["gate"]),
    Point("gate.before_alias", "grown", STEP["gate"]),
    Point("gate.after_alias", "grown", STEP["gate"]),
    Point("queue.between_files", "iteration0", STEP["triage"]),
    Point("review.before_save", "iteration0", STEP["review import"], reviewer_flips, rejects=True),
    Point("queue.between_files", "iteration0", STEP["review import"], reviewer_flips, rejects=True),
    Point(
        "import.before_swap", "iteration0", STEP["drop import"], incoming_audio, imports=IMPORTED
    ),
    Point(
        "drop_import.before_references",
        "iteration0",
        STEP["drop import"],
        incoming_audio,
        imports=IMPORTED,
    ),
    Point("drop.between_moves", "iteration0", STEP["drop replace"], incoming_audio, imports=DROP),
]


def test_every_fault_point_is_survived(snapshots, tmp_path, capsys):
    assert len(POINTS) >= 30
    chosen = os.environ.get(
        "FAULT_POINTS"
    )  # e.g. FAULT_POINTS=gate.after_record,drop.between_moves
    points = [p for p in POINTS if not chosen or p.name in chosen.split(",")]
    survived, lost, report = 0, [], []
    for point in points:
        start = time.perf_counter()
        source = getattr(snapshots, point.snapshot)
        restore(source, snapshots.work)
        root = snapshots.work
        before = decided(root)
        if point.prepare:
            point.prepare(root)
        mark = tmp_path / f"{point.name}.mark"
        killed = asrloop(root, *point.command, fault=point.name, mark=mark)
        assert mark.exists(), f"{point.name} was never reached: {killed.stderr[-3000:]}"
        assert killed.returncode != 0, f"{point.name}: the step survived its own death"
        rerun = asrloop(root, *point.command)
        problems = [] if rerun.returncode == 0 else [f"rerun failed: {rerun.stderr[-1500:]}"]
        problems += [f"left behind: {p}" for p in leftovers(root)]
        problems += unparsable_json(root)
        problems += registry_problems(root)
        after = decided(root)
        if point.rejects:  # every decision saved once, none lost or half written
            problems += [
                f"{c}: {after.get(c)} after the import"
                for c in before
                if after.get(c, ("",))[0] != "rejected"
            ]
        else:
            problems += [
                f"review decision of {c} changed" for c in before if before[c] != after.get(c)
            ]
        if point.imports:
            problems += import_problems(root, source, point.imports)
        if point.versions:
            problems += version_problems(snapshots, root)
        if point.prepare is drop_shard:
            restored = root / "data/corpus/base/train-001/manifest.jsonl"
            original = source / "data/corpus/base/train-001/manifest.jsonl"
            if restored.read_bytes() != original.read_bytes():
                problems.append("the re-synthesized shard differs from the original")
        seconds = time.perf_counter() - start
        report.append(f"{point.name:<28} {'ok' if not problems else 'LOST'} ({seconds:.0f} s)")
        with capsys.disabled():
            print(report[-1], *problems, sep="\n    ", flush=True)
        if problems:
            lost.append(f"{point.name}: {problems}")
        else:
            survived += 1
    with capsys.disabled():
        print("\n" + "\n".join(report))
        print(f"{len(points)} faults injected, {survived} survived, {len(lost)} lost")
    assert not lost, "\n".join(lost)
