"""``asrloop loop`` (``make loop``): the whole learning loop, stage by stage, with a summary.

Iteration 0: corpus v1, data checks, vocabulary, model v1 (champion), the drop transcribed,
monitored and triaged. Then per iteration k: grow (corpus v(k+1)), retrain through ``dvc repro``
(the data changed, the params did not), gate, and, if more iterations follow, the next drop.
Finally the champion transcribes the drop's held-out part. Every step reads one params.yaml.

The loop is the step that runs the other steps, so it alone passes the root config on: to
``pipelines/params.yaml`` for the DVC stages, and to the ``run`` of grow and gate.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from omegaconf import DictConfig

from asrloop import tracking
from asrloop.cli import STEP_LOG_ENV
from asrloop.config import drops_so_far, with_drop_index
from asrloop.corpus.versioning import commit_version, git, metric_files
from asrloop.jsonio import write_jsonl
from asrloop.loop.gate import crown_first_decision, gate_version, record_path
from asrloop.loop.summary import IterationRecord, ReportPaths, print_summary, write_summary
from asrloop.model.registry import Registry
from asrloop.pipeline import repro, write_params
from asrloop.progress import console
from asrloop.records import GateDecision, TrainingResult
from asrloop.scoring import score
from asrloop.serve.batch import PredictionCache, transcribe_utterances
from asrloop.serve.loading import DecodingSetup, load_recognizer
from asrloop.serve.transcribe import pin_serving_model
from asrloop.tracking import TrackingSettings

RETRAIN_STAGES = ("check_data", "vocab", "train", "evaluate")
DROP_STAGES = ("drop", "transcribe", "monitor", "triage")
STAGE_OF_COMMAND = {  # pipelines/dvc.yaml stage names of the CLI commands they run
    "corpus build": "corpus",  # synth or import, as corpus.source says
    "corpus synth": "corpus",
    "corpus import": "corpus",
    "drop build": "drop",  # synth or import, as scenario.drop.source says
    "drop synth": "drop",
    "drop import": "drop",
    "check data": "check_data",
    "vocab build": "vocab",
    "train": "train",
    "evaluate": "evaluate",
    "transcribe": "transcribe",
    "monitor": "monitor",
    "triage": "triage",
}


class LoopRunner:
    def __init__(self, cfg: DictConfig):
        self.base = cfg
        self.root = Path(cfg.paths.root)
        self.tracking = TrackingSettings.from_config(cfg.tracking, cfg.paths.root)
        self.registry = Registry(self.tracking)
        self.alias = self.tracking.champion_alias
        self.records: list[IterationRecord] = []
        self.started = time.perf_counter()

    def cfg_for_drop(self, index: int) -> DictConfig:
        return with_drop_index(self.base, index)

    def stages(self, cfg: DictConfig, names, record: IterationRecord) -> None:
        """Run pipeline stages in one ``dvc repro`` (one DVC start for the group); each stage
        that runs records its own wall time, DVC's share is booked as ``dvc``."""
        write_params(cfg)
        log = Path(cfg.paths.reports) / "loop" / "steps.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        console.rule(f"[bold]iteration {record.iteration}: {', '.join(names)}")
        start = time.perf_counter()
        env = {tracking.ITERATION_ENV: str(record.iteration), STEP_LOG_ENV: str(log)}
        repro(self.root, list(names), env=env)
        ran = 0.0
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            stage = STAGE_OF_COMMAND.get(entry["command"], entry["command"])
            record.step_seconds[stage] = entry["seconds"]
            ran += entry["seconds"]
        dvc_share = round(time.perf_counter() - start - ran, 2)
        record.step_seconds["dvc"] = round(record.step_seconds.get("dvc", 0.0) + dvc_share, 2)

    def commit(self, message: str) -> str | None:
        if not self.base.loop.commit:
            return None
        return commit_version(self.root, message, push=bool(self.base.loop.push))

    def report_paths(self) -> ReportPaths:
        return ReportPaths(
            Path(self.base.train.output_dir),
            Path(self.base.paths.vocab),
            Path(self.base.paths.reports),
        )

    def serve_drop(self, cfg: DictConfig) -> None:
        """Pin the champion of the moment as the drop's server (once)."""
        record = Path(cfg.transcribe.serving_record)
        pin_serving_model(record, self.registry, str(cfg.transcribe.model))

    def iteration_zero(self, cfg: DictConfig) -> IterationRecord:
        record = IterationRecord(iteration=0)
        self.stages(cfg, ("corpus",), record)
        record.corpus_version = self.commit("corpus: base corpus") or "uncommitted"
        self.stages(cfg, ("drop", "check_data", "vocab", "train", "evaluate"), record)
        version = self.trained_version()
        champion = self.registry.alias_version(self.alias)
        gate_record = record_path(Path(cfg.paths.reports), version)
        if champion is None or GateDecision.load_if_exists(gate_record) is not None:
            decision = gate_version(
                version, self.registry, gate_record, lambda: crown_first_decision(version)
            )
            record.promoted, record.gate_reason = decision.promote, decision.reason
        else:
            record.promoted = champion == version
            record.gate_reason = "already champion" if record.promoted else "not promoted"
        record.fill_from_reports(self.report_paths(), version)
        self.serve_drop(cfg)
        self.stages(cfg, DROP_STAGES[1:], record)  # the champion serves the drop
        return record

    def trained_version(self) -> str:
        result = TrainingResult.load(Path(self.base.train.output_dir) / "result.json")
        return str(result.model_version)

    def iteration(self, k: int) -> IterationRecord:
        from asrloop.loop import gate, grow

        cfg = self.cfg_for_drop(k)
        record = IterationRecord(iteration=k)
        start = time.perf_counter()
        grown = grow.run(cfg)
        record.step_seconds["grow"] = round(time.perf_counter() - start, 2)
        record.corpus_version = grown.tag or "uncommitted"
        record.new_words = grown.new_words
        self.stages(cfg, RETRAIN_STAGES, record)
        version = self.trained_version()
        start = time.perf_counter()
        decision = gate.run(cfg)  # a recorded decision is completed or returned, not retaken
        record.promoted, record.gate_reason = decision.promote, decision.reason
        record.step_seconds["gate"] = round(time.perf_counter() - start, 2)
        record.fill_from_reports(self.report_paths(), version)
        if k < int(self.base.loop.iterations):
            following = self.cfg_for_drop(k + 1)
            self.stages(following, DROP_STAGES[:1], record)
            self.serve_drop(following)
            self.stages(following, DROP_STAGES[1:], record)
        self.commit_lock(f"pipeline: lock after iteration {k}")
        return record

    def commit_lock(self, message: str) -> None:
        if self.base.loop.commit:
            files = ["pipelines/dvc.lock", *metric_files(self.root)]
            git(self.root, "add", "--", *files)
            if git(self.root, "diff", "--cached", "--name-only", "--", *files):
                git(self.root, "commit", "--quiet", "-m", message, "--", *files)

    def final_transcription(self, cfg: DictConfig) -> dict:
        champion = self.registry.alias_version(self.alias)
        setup = DecodingSetup.from_config(cfg.decode, cfg.features, cfg.paths.vocab, cfg.trainer)
        recognizer, _ = load_recognizer(f"registry:{champion}", setup, self.registry)
        predictions, stats = transcribe_utterances(
            recognizer,
            [clip for drop in drops_so_far(cfg) for clip in drop.clips("holdout")],
            float(cfg.evaluate.batch_seconds),
            f"champion v{champion} on held-out drop",
            PredictionCache(Path(cfg.paths.cache) / "predictions"),
        )
        out = Path(cfg.paths.reports) / "loop" / "final_transcripts.jsonl"
        write_jsonl(out, (p.to_dict() for p in predictions))
        result = score(predictions, list(cfg.scenario.terms))
        return {
            "champion_version": champion,
            "heldout_wer": result.wer,
            "term_recall": {t: s.recall for t, s in result.terms.items()},
            "rtf": stats.rtf,
            "transcripts": str(out),
        }

    def run(self) -> dict:
        mlflow = tracking.setup(self.tracking)
        with mlflow.start_run(
            run_name="loop", tags={**tracking.git_tags(self.root), "step": "loop"}
        ) as parent:
            os.environ[tracking.LOOP_RUN_ENV] = parent.info.run_id
            cfg0 = self.cfg_for_drop(1)
            self.records.append(self.iteration_zero(cfg0))
            self.commit_lock("pipeline: lock after iteration 0")
            for k in range(1, int(self.base.loop.iterations) + 1):
                self.records.append(self.iteration(k))
            final = self.final_transcription(self.cfg_for_drop(int(self.base.loop.iterations)))
            summary = write_summary(
                Path(self.base.loop.summary),
                str(self.base.scenario.name),
                list(self.base.scenario.terms),
                self.records,
                final,
                time.perf_counter() - self.started,
                parent.info.run_id,
            )
            mlflow.log_dict(summary, "summary.json")
            mlflow.log_metric("total_seconds", summary["total_seconds"])
        print_summary(summary)
        return summary


def run(cfg: DictConfig) -> dict:
    from asrloop.lock import project_lock

    with project_lock(Path(cfg.paths.root)):
        return LoopRunner(cfg).run()
