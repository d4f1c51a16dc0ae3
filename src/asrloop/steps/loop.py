"""``asrloop loop`` (``make loop``): the whole learning loop, stage by stage, with a summary.

Iteration 0: corpus v1, data checks, vocabulary, model v1 (crowned champion by the gate), the
drop transcribed, monitored and triaged. Then per iteration k: grow (corpus v(k+1)), retrain
through ``dvc repro`` (the data changed, the params did not), grow until learned (a term short
of ``grow.target_recall`` on its validation clips gets targeted data and another fine-tune, at
most ``grow.max_rounds`` times), evaluate and gate, and, if more iterations follow, the next
drop. Finally the champion transcribes the drops' held-out part. Every stage
reads one params.yaml; the loop is the step that runs the other steps.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from functools import partial

from omegaconf import DictConfig

from asrloop import tracking
from asrloop.artifacts import MACHINE_ARTIFACT, TRIAGE_RESULT, Layout
from asrloop.config import with_drop_index
from asrloop.corpus.manifest import Utterance
from asrloop.corpus.versioning import commit_version, git, metric_files, track_shards
from asrloop.inference.batch import transcribe_utterances
from asrloop.inference.transcribe import pin_serving_model
from asrloop.jsonio import write_jsonl
from asrloop.loop.grow_rounds import shortfalls, term_sentences, validation_clips, write_round
from asrloop.loop.lookalike_probe import LookalikeProbe
from asrloop.loop.summary import fill_from_reports, print_summary, write_summary
from asrloop.machine import calibrated_record, load_average, usable_cores
from asrloop.pipeline import repro, write_params
from asrloop.progress import console
from asrloop.records import (
    GateDecision,
    IterationRecord,
    LoopSummary,
    TrainingResult,
    TriageResult,
)
from asrloop.scoring import score
from asrloop.stages import declared_stages, stage_of_command
from asrloop.steps import grow
from asrloop.steps.context import STEP_LOG_ENV, step
from asrloop.steps.inference import InferenceContext

TRAIN_STAGES = ("check_data", "vocab", "train")
GATE_STAGES = ("evaluate", "gate")
RETRAIN_STAGES = (*TRAIN_STAGES, *GATE_STAGES)
DROP_STAGES = ("drop", "transcribe", "monitor", "triage")


class LoopRunner:
    def __init__(self, ctx: InferenceContext):
        self.ctx = ctx
        self.base = ctx.cfg
        self.settings = ctx.settings
        self.layout = ctx.layout
        self.registry = ctx.registry
        self.alias = ctx.tracking.champion_alias
        stages = declared_stages(self.layout, ctx.model_output.folder)
        self.stage_of = stage_of_command(stages)
        self.records: list[IterationRecord] = []
        self.started = time.perf_counter()
        self.load_at_start = load_average()  # what else runs: before the loop adds its own

    def cfg_for_drop(self, index: int) -> DictConfig:
        return with_drop_index(self.base, index)

    def stages(self, cfg: DictConfig, names, record: IterationRecord) -> None:
        """Run pipeline stages in one ``dvc repro`` (one DVC start for the group); each stage
        that runs records its own wall time, DVC's share is booked as ``dvc``."""
        write_params(cfg)
        log = self.layout.step_log()
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        console.rule(f"[bold]iteration {record.iteration}: {', '.join(names)}")
        start = time.perf_counter()
        env = {tracking.ITERATION_ENV: str(record.iteration), STEP_LOG_ENV: str(log)}
        repro(self.layout.root, list(names), env=env)
        ran = 0.0
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            stage = self.stage_of.get(entry["command"], entry["command"])
            seconds = record.step_seconds.get(stage, 0.0) + entry["seconds"]  # rounds add up
            record.step_seconds[stage] = round(seconds, 2)
            ran += entry["seconds"]
        dvc_share = round(time.perf_counter() - start - ran, 2)
        record.step_seconds["dvc"] = round(record.step_seconds.get("dvc", 0.0) + dvc_share, 2)

    def commit(self, message: str) -> str | None:
        if not self.settings.loop.commit:
            return None
        return commit_version(self.layout, message, push=self.settings.loop.push)

    def serve_drop(self, drop: str) -> None:
        """Pin the champion of the moment as the drop's server (once)."""
        record = self.layout.serving_record(drop)
        pin_serving_model(record, self.registry, str(self.settings.transcribe.model))

    def trained_version(self) -> str:
        return str(TrainingResult.load(self.ctx.model_output.result).model_version)

    def gate_outcome(self, record: IterationRecord, version: str) -> None:
        """What the gate stage decided for ``version`` (its record), or, where it had nothing
        to decide, whether the version is the champion."""
        decision = GateDecision.load_if_exists(self.layout.gate_record(version))
        if decision is not None:
            record.promoted, record.gate_reason = decision.promote, decision.reason
            return
        record.promoted = self.registry.alias_version(self.alias) == version
        record.gate_reason = "already champion" if record.promoted else "not promoted"

    def finish_iteration(self, record: IterationRecord) -> None:
        version = self.trained_version()
        self.gate_outcome(record, version)
        fill_from_reports(record, self.layout, self.ctx.model_output, version)

    def iteration_zero(self, cfg: DictConfig) -> IterationRecord:
        record = IterationRecord(iteration=0)
        self.stages(cfg, ("corpus",), record)
        record.corpus_version = self.commit("corpus: base corpus") or "uncommitted"
        self.stages(cfg, ("drop", *RETRAIN_STAGES), record)
        self.finish_iteration(record)
        self.serve_drop(str(cfg.scenario.drop.name))
        self.stages(cfg, DROP_STAGES[1:], record)  # the champion serves the drop
        return record

    def iteration(self, k: int) -> IterationRecord:
        cfg = self.cfg_for_drop(k)
        record = IterationRecord(iteration=k)
        start = time.perf_counter()
        grown = grow.run(cfg)
        record.step_seconds["grow"] = round(time.perf_counter() - start, 2)
        record.corpus_version = grown.tag or "uncommitted"
        record.new_words = grown.new_words
        record.review = review_of(self.layout, str(cfg.scenario.drop.name))
        champion = self.registry.alias_version(self.alias)  # before this iteration's gate
        ctx = InferenceContext(cfg, self.ctx.name)
        clips = validation_clips(self.layout.grown_corpus, ctx.drops_so_far())
        rounds = bool(clips) and self.settings.grow.max_rounds > 0
        # with rounds possible the gate waits for them; without, one `dvc repro` as before
        self.stages(cfg, TRAIN_STAGES if rounds else RETRAIN_STAGES, record)
        self.grow_until_learned(ctx, clips, record)
        if rounds:
            self.stages(cfg, GATE_STAGES, record)
        self.measure_vocabulary_update(cfg, champion, record)
        self.finish_iteration(record)
        if k < self.settings.loop.iterations:
            following = self.cfg_for_drop(k + 1)
            self.stages(following, DROP_STAGES[:1], record)
            self.serve_drop(str(following.scenario.drop.name))
            self.stages(following, DROP_STAGES[1:], record)
        self.commit_lock(f"pipeline: lock after iteration {k}")
        return record

    def commit_lock(self, message: str) -> None:
        if self.settings.loop.commit:
            root = self.layout.root
            files = [str(self.layout.dvc_lock().relative_to(root)), *metric_files(self.layout)]
            git(root, "add", "--", *files)
            if git(root, "diff", "--cached", "--name-only", "--", *files):
                git(root, "commit", "--quiet", "-m", message, "--", *files)

    def decode(self, ctx: InferenceContext, version: str, clips: list, label: str) -> list:
        """``version`` of the registry, decoding ``clips`` with the project's vocabulary."""
        with self.registry.checkout(version) as checked:
            recognizer = ctx.decoding().build(checked.model_dir, self.layout.vocab)
            predictions, _ = transcribe_utterances(
                recognizer,
                clips,
                float(self.settings.evaluate.batch_seconds),
                label,
                ctx.prediction_cache(),
            )
        return predictions

    def grow_until_learned(
        self, ctx: InferenceContext, clips: list[Utterance], record: IterationRecord
    ) -> None:
        """After the fine-tune: each term's recall on its validation ``clips``; while a term
        is short of ``grow.target_recall``, targeted data (a round shard, a new corpus version)
        and another fine-tune, at most ``grow.max_rounds`` times and while
        ``grow.budget_minutes`` lasts. The recall after each fine-tune and what each round
        added are recorded; the retraining is booked under its stages, the rest as ``grow
        rounds``."""
        if not clips:
            return
        settings, cfg = self.settings.grow, ctx.cfg
        drops = ctx.drops_so_far()
        start, retraining = time.perf_counter(), 0.0
        drop = str(cfg.scenario.drop.name)
        probe = self.lookalike_probe(ctx)
        for number in range(1, int(settings.max_rounds) + 2):
            version = self.trained_version()
            predictions = self.decode(ctx, version, clips, f"v{version} on validation clips")
            recall, short = shortfalls(
                predictions,
                ctx.terms(),
                float(settings.target_recall),
                int(settings.min_validation_clips),
            )
            record.validation_recall.append(recall)
            alarms: dict = {}
            if probe is not None:
                alarms = probe.false_alarms(partial(self.decode, ctx, version))
                counts = {t: sum(alarms.get(t, {}).values()) for t in probe.terms}
                record.probe_false_alarms.append(counts)
            spent = time.perf_counter() - start  # the retraining included
            if not (short or alarms) or number > settings.max_rounds:
                break
            if spent > settings.budget_minutes * 60:
                break
            sentences = term_sentences(self.layout.grown_corpus, drops, [s.term for s in short])
            written = write_round(
                self.layout.grown_corpus,
                drop,
                number,
                short,
                sentences,
                settings.round,
                settings.synthesize,
                probe.round_rows(alarms, f"{drop}-round{number}") if alarms else (),
            )
            if written is None:
                break
            shard, count = written
            record.grow_rounds.append(
                {
                    "round": number,
                    "clips": count,
                    "short": [s.to_dict() for s in short],
                    "false_alarms": {t: dict(c) for t, c in alarms.items()},
                }
            )
            terms = ", ".join(
                [f"{s.term} {s.recall:.2f}" for s in short]
                + [
                    f"{t} written for {', '.join(w or '(nothing)' for w in c)}"
                    for t, c in alarms.items()
                ]
            )
            if self.settings.loop.commit:
                track_shards(self.layout.root, [shard])
                record.corpus_version = (
                    self.commit(
                        f"corpus: round {number} for {drop} ({count} targeted clips; {terms})"
                    )
                    or record.corpus_version
                )
            console.print(f"round {number}: {count} targeted clips for {terms}")
            retrain_start = time.perf_counter()
            self.stages(cfg, TRAIN_STAGES, record)
            retraining += time.perf_counter() - retrain_start
        spent = time.perf_counter() - start - retraining
        record.step_seconds["grow rounds"] = round(spent, 2)

    def lookalike_probe(self, ctx: InferenceContext) -> LookalikeProbe | None:
        """``grow.probe`` for the terms the drop's approved clips say (None when off)."""
        said = term_sentences(self.layout.grown_corpus, [ctx.drop], ctx.terms())
        terms = [term for term, sentences in said.items() if sentences]
        language = str(self.settings.corpus.language)
        drop = str(ctx.cfg.scenario.drop.name)
        return LookalikeProbe.prepare(self.layout, self.settings.grow, terms, language, drop)

    def measure_vocabulary_update(
        self, cfg: DictConfig, champion: str, record: IterationRecord
    ) -> None:
        """Recall at vocabulary update: the champion of before the retraining, unchanged,
        decoding the held-out drops with the new vocabulary (and ``decode.bias``): how much of
        a word is learned in seconds, without training. Measured after the retrain stages (the
        numbers are the same; the pipeline keeps its one ``dvc repro`` per iteration)."""
        start = time.perf_counter()
        ctx = InferenceContext(cfg, self.ctx.name)
        held = [clip for drop in ctx.drops_so_far() for clip in drop.clips("holdout")]
        label = f"champion v{champion} with the new vocabulary"
        result = score(self.decode(ctx, champion, held, label), ctx.terms())
        record.recall_at_update = {t: s.recall for t, s in result.terms.items() if s.support}
        record.b_wer_at_update = result.b_wer if result.b_words else None
        record.step_seconds["vocabulary update"] = round(time.perf_counter() - start, 2)

    def final_transcription(self, cfg: DictConfig) -> dict:
        champion = self.registry.alias_version(self.alias)
        ctx = InferenceContext(cfg, self.ctx.name)
        recognizer, _ = ctx.recognizer(f"registry:{champion}")
        predictions, stats = transcribe_utterances(
            recognizer,
            [clip for drop in ctx.drops_so_far() for clip in drop.clips("holdout")],
            float(self.settings.evaluate.batch_seconds),
            f"champion v{champion} on held-out drop",
            ctx.prediction_cache(),
        )
        out = self.layout.final_transcripts()
        write_jsonl(out, (p.to_dict() for p in predictions))
        result = score(predictions, ctx.terms())
        target = float(self.settings.gate.target_recall)
        recall = {t: s.recall for t, s in result.terms.items() if s.support}
        return {
            "champion_version": champion,
            "heldout_wer": result.wer,
            "heldout_b_wer": result.b_wer if result.b_words else None,
            "heldout_u_wer": result.u_wer,
            "term_recall": recall,
            "term_status": {
                t: "learned" if r >= target else "not learned" for t, r in recall.items()
            },
            "rtf": stats.rtf,
            "transcripts": str(out),
        }

    def run(self) -> LoopSummary:
        mlflow = tracking.setup(self.ctx.tracking)
        root = self.layout.root
        with mlflow.start_run(
            run_name="loop", tags={**tracking.git_tags(root), "step": "loop"}
        ) as parent:
            os.environ[tracking.LOOP_RUN_ENV] = parent.info.run_id
            self.records.append(self.iteration_zero(self.cfg_for_drop(1)))
            self.commit_lock("pipeline: lock after iteration 0")
            iterations = self.settings.loop.iterations
            for k in range(1, iterations + 1):
                self.records.append(self.iteration(k))
            final = self.final_transcription(self.cfg_for_drop(iterations))
            machine = {**calibrated_record(usable_cores()), "load_at_start": self.load_at_start}
            summary = write_summary(
                self.layout.loop_summary(),
                self.settings.scenario.name,
                list(self.settings.scenario.terms),
                self.records,
                final,
                time.perf_counter() - self.started,
                parent.info.run_id,
                machine,
            )
            mlflow.log_artifact(str(self.layout.loop_summary()))
            mlflow.log_dict(machine, MACHINE_ARTIFACT)
            mlflow.log_metric("total_seconds", summary.total_seconds)
        print_summary(summary)
        return summary


def review_of(layout: Layout, drop: str) -> dict:
    """What reviewing the drop's queue cost (triage's record; empty before it was measured)."""
    triage = TriageResult.load_if_exists(layout.triage_dir(drop) / TRIAGE_RESULT)
    return asdict(triage.effort) if triage and triage.effort else {}


@step("loop", lock=True, context=InferenceContext)
def run(ctx: InferenceContext) -> LoopSummary:
    return LoopRunner(ctx).run()
