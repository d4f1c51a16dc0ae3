"""Training data: manifest rows -> checked, featurised examples -> length-bucketed batches.

Bad rows never mis-train silently: each is reported by file, line and reason, skipped and
counted (the counts go to MLflow). Audio at another rate is resampled and counted. What an
example holds is the model's input for the clip (:mod:`asrloop.model.inputs`): log-mel features
for the project's model, the checkpoint feature extractor's output (raw audio) for others.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from asrloop.audio.io import SAMPLE_RATE, AudioError, decode_audio, read_audio, resample
from asrloop.corpus.manifest import Utterance
from asrloop.execution import LOCAL, Executor
from asrloop.model.feature_cache import FeatureCache, Featurized
from asrloop.model.inputs import ModelInputs
from asrloop.progress import console
from asrloop.text.tokenizer import CharTokenizer


@dataclass
class Example:
    """A training or dev clip, featurised: what the model sees and the labels it must emit."""

    id: str
    features: torch.Tensor  # the model's input: [frames, n_mels] log-mel, or [samples] audio
    labels: list[int]
    text: str
    voice: str
    duration: float
    grown: bool = False  # from a production drop (approved corrections)
    frames: int = 0  # length in 10 ms frames: what batches are budgeted in


@dataclass
class LoadReport:
    skipped: Counter = field(default_factory=Counter)
    resampled: int = 0
    messages: list[str] = field(default_factory=list)

    def skip(self, row: Utterance, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        self.messages.append(f"{row.where} ({row.audio_filepath}): {detail}")

    def print_skipped(self, limit: int = 20) -> None:
        for message in self.messages[:limit]:
            console.print(f"[yellow]skipped[/] {message}")
        if len(self.messages) > limit:
            console.print(f"[yellow]... and {len(self.messages) - limit} more skipped rows")

    def metrics(self, prefix: str) -> dict[str, float]:
        out = {f"{prefix}.skipped.{k}": float(v) for k, v in self.skipped.items()}
        out[f"{prefix}.resampled"] = float(self.resampled)
        return out


def load_examples(
    rows: list[Utterance],
    tokenizer: CharTokenizer,
    inputs: ModelInputs,
    max_seconds: float,
    description: str,
    cache: FeatureCache | None = None,
    executor: Executor = LOCAL,
) -> tuple[list[Example], LoadReport]:
    """Featurised examples of ``rows`` (bad rows reported, skipped and counted); features come
    from ``cache`` where a shard's are stored, and new ones are computed shard by shard by
    ``executor`` (here, or on Ray's actors) and stored there."""
    report = LoadReport()
    by_shard: dict[Path, list[Utterance]] = defaultdict(list)
    for row in rows:
        by_shard[row.audio_path.parent].append(row)
    usable = {id(row): usable_text(row, tokenizer, report) for row in rows}
    stored = {shard: cache.load(shard) if cache else {} for shard in by_shard}
    todo = {shard: _to_featurize(group, usable, stored[shard]) for shard, group in by_shard.items()}
    shards = [shard for shard in by_shard if todo[shard]]
    outcomes = executor.map(
        ShardFeaturizer(inputs), [todo[shard] for shard in shards], description, size=len
    )
    computed: dict[Path, dict[str, Featurized]] = defaultdict(dict)
    for shard, outcome in zip(shards, outcomes, strict=True):
        computed[shard] = outcome.features
        named = {row.id: row for row in todo[shard]}
        for row_id, reason, detail in outcome.failures:
            report.skip(named[row_id], reason, detail)
        if cache and outcome.features:
            cache.store(shard, {**stored[shard], **outcome.features})
    examples = []
    for shard, group in by_shard.items():
        for row in group:
            if usable[id(row)]:
                done = stored[shard].get(row.id) or computed[shard].get(row.id)
                example = example_of(row, done, tokenizer, max_seconds, inputs, report)
                if example is not None:
                    examples.append(example)
    report.print_skipped()
    return examples, report


def _to_featurize(
    rows: list[Utterance], usable: dict[int, bool], stored: dict[str, Featurized]
) -> list[Utterance]:
    """The shard's rows to featurise: usable, not stored, each clip once."""
    wanted = {row.id: row for row in rows if usable[id(row)] and row.id not in stored}
    return list(wanted.values())


@dataclass(frozen=True)
class ShardFeatures:
    features: dict[str, Featurized]
    failures: list[tuple[str, str, str]]  # (row id, reason, detail): missing or unreadable


@dataclass(frozen=True)
class ShardFeaturizer:
    """One shard's rows -> their features: the function every executor runs (``inputs``, the
    model's input adapter, travels pickled to a remote worker)."""

    inputs: ModelInputs

    def __call__(self, rows: list[Utterance]) -> ShardFeatures:
        features: dict[str, Featurized] = {}
        failures: list[tuple[str, str, str]] = []
        for row in rows:
            try:
                features[row.id] = _featurize(row, self.inputs)
            except _Unreadable as error:
                failures.append((row.id, error.reason, error.detail))
        return ShardFeatures(features, failures)


class _Unreadable(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _featurize(row: Utterance, extractor: ModelInputs) -> Featurized:
    """(features, seconds, resampled) of a row's audio; :class:`_Unreadable` when missing or
    unreadable."""
    path = row.audio_path
    if not Path(path).exists():
        raise _Unreadable("missing_file", f"audio file not found: {path}")
    try:
        audio, rate = read_audio(path, target_rate=None, segment=row.segment)
        resampled = rate != SAMPLE_RATE
        if resampled:
            audio, _ = read_audio(path, target_rate=SAMPLE_RATE, segment=row.segment)
    except AudioError as error:
        raise _Unreadable("unreadable", str(error)) from error
    return extractor(audio), len(audio) / SAMPLE_RATE, resampled


def featurize_bytes(data: bytes, label: str, extractor: ModelInputs) -> Featurized:
    """(features, seconds, resampled) of an audio file's bytes (a packed clip), exactly as
    :func:`_featurize` gives them for the file; raises :class:`AudioError`."""
    audio, rate = decode_audio(data, label, target_rate=None)
    resampled = rate != SAMPLE_RATE
    if resampled:
        audio = resample(audio, rate, SAMPLE_RATE)
    return extractor(audio), len(audio) / SAMPLE_RATE, resampled


def usable_text(row: Utterance, tokenizer: CharTokenizer, report: LoadReport) -> bool:
    text = row.text or ""
    if not text.strip():
        report.skip(row, "empty_text", "empty transcript")
        return False
    unknown = tokenizer.unknown_chars(text)
    if unknown:
        report.skip(row, "bad_symbols", f"symbols outside the alphabet {sorted(unknown)}")
        return False
    return True


def example_of(row: Utterance, featurized, tokenizer, max_seconds, inputs: ModelInputs, report):
    """The example for a row with usable text whose audio was featurised, or None (reported)."""
    text = row.text or ""
    if featurized is None:
        return None  # already reported
    features, seconds, resampled = featurized
    report.resampled += int(resampled)
    labels = tokenizer.encode(text)
    problem = length_problem(seconds, lambda: inputs.output_frames(features), labels, max_seconds)
    if problem is not None:
        report.skip(row, *problem)
        return None
    frames = inputs.frames(features)
    return Example(row.id, features, labels, text, row.voice, seconds, row.is_grown, frames)


def length_problem(
    seconds: float, output_frames: Callable[[], int], labels: list[int], max_seconds: float
) -> tuple[str, str] | None:
    """(reason, detail) when a clip of ``seconds`` cannot train (empty, over ``max_seconds``,
    fewer encoder frames than labels), else None; ``output_frames`` is asked last."""
    if seconds == 0:
        return "empty_audio", "no samples"
    if seconds > max_seconds:
        return "too_long", f"{seconds:.1f} s > features.max_seconds={max_seconds}"
    if output_frames() < len(labels):
        return "too_short", "fewer encoder frames than characters (CTC cannot fit)"
    return None


def bucket_batches(
    examples: list[Example], max_frames: int, rng: random.Random, min_size: int = 1
) -> list[list[int]]:
    """Indices grouped by similar length so that padded frames per batch stay under a budget.

    ``min_size``: every batch holds at least that many examples (one per DDP process), the
    budget giving way where needed; a short last batch joins the one before it."""
    order = sorted(range(len(examples)), key=lambda i: (examples[i].frames, i))
    batches, current, longest = [], [], 0
    for index in order:
        frames = examples[index].frames
        full = max(longest, frames) * (len(current) + 1) > max_frames
        if current and full and len(current) >= min_size:
            batches.append(current)
            current, longest = [], 0
        current.append(index)
        longest = max(longest, frames)
    if current and len(current) < min_size and batches:
        batches[-1] += current
    elif current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def collate(examples: list[Example], inputs: ModelInputs) -> dict[str, torch.Tensor]:
    """A padded training batch in the model's own input and label format."""
    batch, _ = inputs.batch([u.features for u in examples])
    return {**batch, **inputs.labels([u.labels for u in examples])}
