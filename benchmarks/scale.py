"""Drop transcription through Ray against the local path: speed ratio and identical transcripts.

    .venv/bin/python benchmarks/scale.py --project DIR [--clips 2000] [--actors 2] \
        [--work /tmp/asrloop-scale] [--address 127.0.0.1:6379]

``--project`` is a project with a registered champion (after ``make loop``). The scenario's
drop is synthesized with ``--clips`` clips into ``--work`` (once; the project is not changed),
then the champion transcribes it (lexicon + LM decoding and the greedy second path, as
``asrloop transcribe`` does): first locally, in this one process (``trainer.threads`` threads,
as the loop runs), then with ``executor=ray``: ``--actors`` single-core actors on a Ray started
here (or the cluster at ``--address``). Printed: the machine, clips and audio hours, wall
seconds of each path (Ray's start, and the actors' model loading, counted in), audio hours per
wall hour, the speed ratio, and whether every transcript is the same word for word, time and
confidence. A second Ray pass on the running Ray shows the cost without Ray's start. Then the
log-mel features of ``--clips`` training clips, computed without the cache here and on Ray.
Needs the scale extra (``make setup-scale``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from asrloop.artifacts import MANIFEST, Layout
from asrloop.config import compose
from asrloop.corpus.drop import Drop, synthesize_drop
from asrloop.corpus.manifest import read_manifest
from asrloop.execution import LOCAL
from asrloop.execution.ray_data import RayExecutor
from asrloop.inference.batch import transcribe_utterances
from asrloop.inference.loading import DecodingSetup, load_recognizer
from asrloop.machine import describe, machine_record
from asrloop.model.registry import Registry
from asrloop.settings import typed
from asrloop.settings.executor import ExecutorSettings
from asrloop.tracking import TrackingSettings


def synthesized_drop(project: Path, work: Path, clips: int):
    """The scenario's drop with ``clips`` clips, under ``work`` (made once)."""
    overrides = [
        f"paths.root={project}",
        f"paths.drops={work}/drops",
        f"paths.references={work}/references",
        f"scenario.drop.size={clips}",
        f"scenario.drop.name=scale-{clips}",
    ]
    settings = typed(compose(overrides))
    layout = Layout.from_paths(compose(overrides).paths)
    drop = Drop.of(settings.scenario.drop, layout)
    folder = work / "drops" / f"scale-{clips}"
    if not (folder / MANIFEST).exists():
        synthesize_drop(settings.corpus, settings.scenario, drop, layout)
    return settings, read_manifest(folder / MANIFEST, require_text=False, contained=True)


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--address", default=None, help="a running Ray cluster")
    parser.add_argument("--work", type=Path, default=Path("/tmp/asrloop-scale"))
    args = parser.parse_args()
    project, work = args.project.resolve(), args.work.resolve()
    settings, rows = synthesized_drop(project, work, args.clips)

    setup = DecodingSetup.resolve(
        settings.decode, settings.features, settings.paths.vocab, settings.trainer
    )
    setup = replace(setup, second_path=True)
    registry = Registry(TrackingSettings.resolve(settings.tracking, str(project)))
    recognizer, info = load_recognizer("registry:champion", setup, registry)
    batch = float(settings.evaluate.batch_seconds)
    print(f"machine: {describe(machine_record())}")
    hours = sum(r.duration for r in rows) / 3600
    print(f"drop: {len(rows)} clips, {hours:.2f} audio hours; model v{info.model_version}")

    (local, _), local_s = timed(
        lambda: transcribe_utterances(recognizer, rows, batch, "local", executor=LOCAL)
    )
    ray = RayExecutor(ExecutorSettings(kind="ray", address=args.address, actors=args.actors))
    (remote, _), ray_s = timed(
        lambda: transcribe_utterances(recognizer, rows, batch, "ray", executor=ray)
    )
    (again, _), warm_s = timed(
        lambda: transcribe_utterances(recognizer, rows, batch, "ray, running", executor=ray)
    )
    same = sum(a.transcription == b.transcription for a, b in zip(local, remote, strict=True))
    same_again = all(a.transcription == b.transcription for a, b in zip(local, again, strict=True))
    result = {
        "clips": len(rows),
        "audio_hours": round(hours, 3),
        "local_seconds": round(local_s, 1),
        "ray_seconds": round(ray_s, 1),
        "ray_running_seconds": round(warm_s, 1),
        "actors": args.actors,
        "speed_ratio": round(local_s / ray_s, 2),
        "speed_ratio_running": round(local_s / warm_s, 2),
        "identical_transcripts": same,
        "identical_on_second_pass": same_again,
    }
    print(
        f"local (1 process, {machine_record()['threads']} threads): {local_s:.1f} s "
        f"({hours * 3600 / local_s:.0f} audio-s/s)\n"
        f"ray ({args.actors} actors x 1 core), Ray's start included: {ray_s:.1f} s "
        f"({hours * 3600 / ray_s:.0f} audio-s/s), {local_s / ray_s:.2f}x local\n"
        f"ray on the running Ray: {warm_s:.1f} s, {local_s / warm_s:.2f}x local\n"
        f"identical transcripts: {same} of {len(local)}"
        f"{'' if same_again else ' (the second pass differed)'}"
    )
    result.update(features(settings, project, args))
    print(json.dumps(result))


def features(settings, project: Path, args) -> dict:
    """Log-mel features of ``--clips`` training clips (no cache): here, then on Ray."""
    from asrloop.corpus.manifest import iter_corpus
    from asrloop.model.checkpoint import load_checkpoint
    from asrloop.model.training_data import load_examples

    model, processor = load_checkpoint(project / "models" / "current" / "best")
    inputs = processor.inputs(model, settings.features)
    rows = list(iter_corpus(project / "data" / "corpus", ["train"]))[: args.clips]
    hours = sum(r.duration for r in rows) / 3600
    limit = float(settings.features.max_seconds)

    def load(executor, label):
        return load_examples(rows, processor.tokenizer, inputs, limit, label, None, executor)

    (local, _), local_s = timed(lambda: load(LOCAL, "features, local"))
    ray = RayExecutor(ExecutorSettings(kind="ray", address=args.address, actors=args.actors))
    (remote, _), ray_s = timed(lambda: load(ray, "features"))
    same = sum(
        a.id == b.id and bool((a.features == b.features).all())
        for a, b in zip(local, remote, strict=True)
    )
    print(
        f"features of {len(rows)} training clips ({hours:.2f} h): local {local_s:.1f} s "
        f"({hours * 3600 / local_s:.0f} audio-s/s), ray on the running Ray {ray_s:.1f} s, "
        f"{local_s / ray_s:.2f}x local; identical: {same} of {len(local)}"
    )
    return {
        "features_clips": len(rows),
        "features_local_seconds": round(local_s, 1),
        "features_ray_seconds": round(ray_s, 1),
        "features_identical": same,
    }


if __name__ == "__main__":
    main()
