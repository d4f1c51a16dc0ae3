"""The project layout: the one owner of every file path a step reads or writes.

Folders come from ``conf/paths`` (``Layout.from_paths``); the names inside them are the constants
below. Steps ask the layout for a path (``layout.gate_record(version)``) instead of joining strings,
record classes take their file from it, and ``pipelines/dvc.yaml`` is generated from it
(``asrloop.pipeline_spec``), so a renamed file is renamed for its writer, its readers and the
pipeline at once. This module imports nothing from asrloop: every layer may use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# -------------------------------------------------------------------- names inside folders
MANIFEST = "manifest.jsonl"  # a shard's or a drop's rows (corpus/manifest.py reads it)
SHARD_RECORD = "asrloop-shards.json"  # which folders asrloop wrote (corpus/ownership.py)
IMPORT_REPORT = "import_report.json"  # what a corpus import took and skipped
IMPORT_EXCLUDED = "excluded.jsonl"  # rows an import left out, with the reason
CORPUS_CONFIG = "config.yaml"  # the resolved config that made a corpus
NEW_WORDS = "new_words.txt"  # the words a grown shard brought
MACHINE_ARTIFACT = "machine.json"  # the loop's MLflow run: asrloop.machine's record
VALIDATION = "validation.jsonl"  # a grown shard's clips kept out of training: id, reference
PLAN_DIGEST = "plan.sha256"  # a finished shard: the digest of the plan it was written from

# a packed corpus (``Layout.packed_corpus()``, corpus/packed.py): tar shards with manifests
PACKED_INDEX = "index.json"  # the shards in order: split, clips, seconds, tar digest
PACKED_MANIFEST_SUFFIX = ".jsonl"  # <shard>.jsonl beside <shard>.tar
PACKED_ROW_SUFFIX = ".json"  # a clip's row inside the tar, beside its <key>.wav

# the vocabulary folder (``paths.vocab``): text/vocabulary.py writes it
WORDS = "words.txt"
LEXICON = "lexicon.txt"
LM = "lm.arpa"
BIASED_LM = "biased.arpa"  # a decoder's private copy of lm.arpa with bias compiled in
HOTWORDS = "hotwords.txt"
LM_TEXT = "lm_text.txt"
VOCAB_VERSION = "version.json"

# a training output folder (``train.output_dir``)
CHECKPOINT = "checkpoint.pt"  # the resumable state, next to the folder's config
TRAINING_RESULT = "result.json"
MODEL_CONFIG = "config.yaml"  # the training config that describes the folder's weights
BEST = "best"  # the best model so far, as a loadable model folder
CONFIDENCE_MAP = "confidence_map.json"  # a model folder's word-confidence calibration (on dev)
WEIGHT_AVERAGE = "weight_average.json"  # a fine-tuned folder averaged with its start model

# stored features (``Layout.feature_cache()``): ``<shard>-<key>.pt`` (model/feature_cache.py)
FEATURES_SUFFIX = ".pt"

# cached decodings (``Layout.prediction_cache()``): ``<key>.json`` (inference/batch.py)
PREDICTIONS_SUFFIX = ".json"

# artifacts logged to MLflow runs (paths inside a run, not on disk)
SKIPPED_ROWS_ARTIFACT = "skipped_rows.txt"  # the training rows a run skipped, and why
MODEL_CHECKS_ARTIFACT = "checks/model.json"  # a version's model-check report, on its train run
TOP_SPIKES_ARTIFACT = "monitor/top_spikes.json"  # the monitor's top spikes, as a table
CONFUSIONS_ARTIFACT = "triage/confusions.json"  # triage's confusion pairs, as a table
RUN_CONFIG_ARTIFACT = "config.yaml"  # every step run's resolved config, secrets masked


def scenario_file(conf_dir: Path, name: str) -> Path:
    """A scenario's config file (``conf/scenario/<name>.yaml``)."""
    return conf_dir / "scenario" / f"{name}.yaml"


def checks_artifact(suite: str) -> str:
    """A check suite's report on the step run that made it."""
    return f"checks/{suite}.json"


# a review queue folder (``paths.reviews``/<drop>)
QUEUE_JSONL = "queue.jsonl"
QUEUE_CSV = "queue.csv"

# a drop's monitor and triage reports (``paths.reports``/monitor|triage/<drop>)
SPIKES = "spikes.json"
LOW_CONFIDENCE = "low_confidence.json"
TRIAGE_RESULT = "triage.json"

# the pipeline
PIPELINE_DIR = "pipelines"
DVC_YAML = "dvc.yaml"
DVC_LOCK = "dvc.lock"
PARAMS = "params.yaml"
PROJECT_LOCK = ".asrloop.lock"


@dataclass(frozen=True)
class Layout:
    """Where everything lives in one project (``conf/paths``: folders resolved at the root)."""

    root: Path
    data: Path
    corpus: Path
    base_corpus: Path
    grown_corpus: Path
    drops: Path
    references: Path
    vocab: Path
    reviews: Path
    serving: Path
    cache: Path
    models: Path
    reports: Path
    replaced: Path  # drops replaced on purpose, kept whole (corpus/served.py)

    @classmethod
    def from_paths(cls, paths: Mapping[str, Any] | Any) -> Layout:
        """The layout of ``conf/paths`` (a config node or any object with those attributes)."""
        get = paths.get if isinstance(paths, Mapping) else lambda key: getattr(paths, key, None)
        found = {name: get(name) for name in cls.__dataclass_fields__}
        if found["replaced"] is None:  # a params snapshot older than the key
            found["replaced"] = Path(str(found["root"])) / "replaced"
        return cls(**{name: Path(str(value)) for name, value in found.items()})

    # ------------------------------------------------------------------ data
    def drop_dir(self, drop: str) -> Path:
        return self.drops / drop

    def drop_references(self, drop: str) -> Path:
        return self.references / f"{drop}.jsonl"

    def serving_record(self, drop: str) -> Path:
        """Which model version served ``drop`` (written once, before the drop is transcribed)."""
        return self.serving / f"{drop}.json"

    def review_queue(self, drop: str) -> Path:
        return self.reviews / drop

    def grown_shard(self, name: str) -> Path:
        return self.grown_corpus / name

    def packed_corpus(self) -> Path:
        """The corpus as tar shards to stream (``asrloop corpus pack``; corpus/packed.py)."""
        return self.data / "packed"

    def corpus_config(self) -> Path:
        """The resolved config that made the base corpus (versioned with it)."""
        return self.base_corpus / CORPUS_CONFIG

    def import_report(self) -> Path:
        """What ``corpus import`` took and skipped (versioned with the base corpus)."""
        return self.base_corpus / IMPORT_REPORT

    def vocab_file(self, name: str) -> Path:
        return self.vocab / name

    def prediction_cache(self) -> Path:
        return self.cache / "predictions"

    def feature_cache(self) -> Path:
        return self.cache / "features"

    def lookalike_probe(self, drop: str) -> Path:
        """Fresh renditions of base sentences saying look-alikes of the drop's new words, decoded
        after each fine-tune to find false alarms (never training data; asrloop.loop.lookalikes)."""
        return self.cache / "probes" / drop

    def real_speech_cache(self) -> Path:
        """The real-speech smoke set's folders, imported (``evaluate.real_speech``)."""
        return self.cache / "real_speech"

    # ------------------------------------------------------------------ models
    def model_dir(self, name: str = "current") -> Path:
        return self.models / name

    # ------------------------------------------------------------------ reports
    def checks_report(self, kind: str) -> Path:
        """``data``, ``model`` or ``labels``."""
        return self.reports / "checks" / f"{kind}.json"

    def eval_dir(self) -> Path:
        return self.reports / "eval"

    def predictions(self, name: str) -> Path:
        """An evaluated set's predictions (``pred_text`` and word confidences per clip)."""
        return self.eval_dir() / f"{name}.predictions.jsonl"

    def eval_report(self) -> Path:
        return self.eval_dir() / "metrics.json"

    def metrics_dir(self) -> Path:
        """DVC metrics and plots, committed with each data version."""
        return self.reports / "metrics"

    def metric_files(self) -> list[Path]:
        """The DVC metrics and plots written so far (committed beside each data version)."""
        return sorted(self.metrics_dir().glob("*.json"))

    def eval_metrics(self) -> Path:
        return self.metrics_dir() / "eval.json"

    def dev_curve(self) -> Path:
        return self.metrics_dir() / "dev_curve.json"

    def transcripts_dir(self, drop: str) -> Path:
        return self.reports / "transcripts" / drop

    def transcripts(self, drop: str) -> Path:
        return self.transcripts_dir(drop) / "transcripts.jsonl"

    def monitor_dir(self, drop: str) -> Path:
        return self.reports / "monitor" / drop

    def spikes(self, drop: str) -> Path:
        return self.monitor_dir(drop) / SPIKES

    def low_confidence(self, drop: str) -> Path:
        return self.monitor_dir(drop) / LOW_CONFIDENCE

    def triage_dir(self, drop: str) -> Path:
        return self.reports / "triage" / drop

    def triage_result(self, drop: str) -> Path:
        return self.triage_dir(drop) / TRIAGE_RESULT

    def gate_dir(self) -> Path:
        return self.reports / "gate"

    def gate_record(self, version: str) -> Path:
        return self.gate_dir() / f"v{version}.json"

    def decode_tuning(self) -> Path:
        return self.reports / "decode" / "tune.json"

    def peer_comparison(self) -> Path:
        return self.reports / "peer" / "comparison.json"

    def loop_dir(self) -> Path:
        return self.reports / "loop"

    def loop_summary(self) -> Path:
        return self.loop_dir() / "summary.json"

    def step_log(self) -> Path:
        """Each stage the loop runs appends its wall time here."""
        return self.loop_dir() / "steps.jsonl"

    def final_transcripts(self) -> Path:
        return self.loop_dir() / "final_transcripts.jsonl"

    def review_export(self, drop: str) -> Path:
        return self.reports / "review" / drop / "label-studio-tasks.json"

    # ------------------------------------------------------------------ pipeline
    def pipeline_dir(self) -> Path:
        return self.root / PIPELINE_DIR

    def params_file(self) -> Path:
        return self.pipeline_dir() / PARAMS

    def dvc_yaml(self) -> Path:
        return self.pipeline_dir() / DVC_YAML

    def dvc_lock(self) -> Path:
        return self.pipeline_dir() / DVC_LOCK

    def project_lock(self) -> Path:
        return self.root / PROJECT_LOCK


@dataclass(frozen=True)
class ModelOutput:
    """A training output folder: the resumable checkpoint, its config, the result, ``best/``."""

    folder: Path

    @property
    def checkpoint(self) -> Path:
        return self.folder / CHECKPOINT

    @property
    def result(self) -> Path:
        return self.folder / TRAINING_RESULT

    @property
    def config(self) -> Path:
        return self.folder / MODEL_CONFIG

    @property
    def best(self) -> Path:
        return self.folder / BEST


def vocab_version(vocab_dir: Path | None) -> str | None:
    """The version a vocabulary folder says it is (None when there is no such folder yet)."""
    if vocab_dir is None or not (Path(vocab_dir) / VOCAB_VERSION).exists():
        return None
    return json.loads((Path(vocab_dir) / VOCAB_VERSION).read_text())["vocab_version"]


def has_lexicon(vocab_dir: Path | None) -> bool:
    """A vocabulary folder a lexicon decoder can use."""
    return vocab_dir is not None and (Path(vocab_dir) / LEXICON).exists()
