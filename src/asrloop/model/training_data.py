"""Training data: manifest rows -> checked, featurised examples -> length-bucketed batches.

Bad rows never mis-train silently: each is reported by file, line and reason, skipped and
counted (the counts go to MLflow). Audio at another rate is resampled and counted. What an
example holds is the model's input for the clip (:mod:`asrloop.model.inputs`): log-mel features
for the project's model, the checkpoint feature extractor's output (raw audio) for others.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from asrloop.audio.io import SAMPLE_RATE, AudioError, read_audio
from asrloop.corpus.manifest import Utterance
from asrloop.model.feature_cache import FeatureCache, Featurized
from asrloop.model.inputs import ModelInputs
from asrloop.progress import console, progress_bar
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
) -> tuple[list[Example], LoadReport]:
    """Featurised examples of ``rows`` (bad rows reported, skipped and counted); features come
    from ``cache`` where a shard's are stored, and new ones are stored there."""
    report = LoadReport()
    examples = []
    by_shard: dict[Path, list[Utterance]] = defaultdict(list)
    for row in rows:
        by_shard[row.audio_path.parent].append(row)
    with progress_bar(description, len(rows)) as advance:
        for shard, shard_rows in by_shard.items():
            stored = cache.load(shard) if cache else {}
            computed: dict[str, Featurized] = {}
            for row in shard_rows:
                advance()
                if not _usable_text(row, tokenizer, report):
                    continue
                if row.id not in stored and row.id not in computed:
                    featurized = _featurize(row, inputs, report)
                    if featurized is not None:
                        computed[row.id] = featurized
                done = stored.get(row.id) or computed.get(row.id)
                example = _example(row, done, tokenizer, max_seconds, inputs, report)
                if example is not None:
                    examples.append(example)
            if cache and computed:
                cache.store(shard, {**stored, **computed})
    for message in report.messages[:20]:
        console.print(f"[yellow]skipped[/] {message}")
    if len(report.messages) > 20:
        console.print(f"[yellow]... and {len(report.messages) - 20} more skipped rows")
    return examples, report


def _featurize(row: Utterance, extractor: ModelInputs, report: LoadReport):
    """(features, seconds, resampled) of a row's audio, or None (reported) when unreadable."""
    path = row.audio_path
    if not Path(path).exists():
        report.skip(row, "missing_file", f"audio file not found: {path}")
        return None
    try:
        audio, rate = read_audio(path, target_rate=None, segment=row.segment)
        resampled = rate != SAMPLE_RATE
        if resampled:
            audio, _ = read_audio(path, target_rate=SAMPLE_RATE, segment=row.segment)
    except AudioError as error:
        report.skip(row, "unreadable", str(error))
        return None
    return extractor(audio), len(audio) / SAMPLE_RATE, resampled


def _usable_text(row: Utterance, tokenizer: CharTokenizer, report: LoadReport) -> bool:
    text = row.text or ""
    if not text.strip():
        report.skip(row, "empty_text", "empty transcript")
        return False
    unknown = tokenizer.unknown_chars(text)
    if unknown:
        report.skip(row, "bad_symbols", f"symbols outside the alphabet {sorted(unknown)}")
        return False
    return True


def _example(row: Utterance, featurized, tokenizer, max_seconds, inputs: ModelInputs, report):
    """The example for a row with usable text whose audio was featurised, or None (reported)."""
    text = row.text or ""
    if featurized is None:
        return None  # already reported
    features, seconds, resampled = featurized
    report.resampled += int(resampled)
    if seconds == 0:
        report.skip(row, "empty_audio", "no samples")
        return None
    if seconds > max_seconds:
        report.skip(row, "too_long", f"{seconds:.1f} s > features.max_seconds={max_seconds}")
        return None
    labels = tokenizer.encode(text)
    if inputs.output_frames(features) < len(labels):
        report.skip(row, "too_short", "fewer encoder frames than characters (CTC cannot fit)")
        return None
    frames = inputs.frames(features)
    return Example(row.id, features, labels, text, row.voice, seconds, row.is_grown, frames)


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
