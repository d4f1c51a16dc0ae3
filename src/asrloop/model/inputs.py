"""How audio becomes a model's input: the project's log-mel features or a checkpoint's own
feature extractor.

:func:`model_inputs` picks by the model, never by a config flag: the project's fbank model
(``input_features`` + ``feature_lengths``) gets :class:`FbankInputs` with ``conf/features``;
any other transformers CTC model (Wav2Vec2, HuBERT, WavLM, Data2VecAudio: raw audio as
``input_values``) gets :class:`CheckpointInputs`, which runs the checkpoint's feature extractor
(its normalisation, padding value and attention-mask convention) and reads output lengths from
the model. Both turn one clip into one tensor (kept with a training example), a list of those
into a padded batch with the model's output lengths, and labels into the model's label format.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from asrloop.audio.features import FbankExtractor, gain_augment, spec_augment
from asrloop.audio.io import SAMPLE_RATE
from asrloop.errors import ConfigError
from asrloop.settings.features import FeaturesSettings
from asrloop.settings.train import SpecAugmentSettings

FRAME_SECONDS = 0.01  # the unit of train.max_batch_frames: 100 frames = 1 s of audio
IGNORED_LABEL = -100  # transformers' CTC heads skip label positions padded with it


class ModelInputs(Protocol):
    cacheable: bool  # inputs worth storing on disk (asrloop.model.feature_cache)
    frame_seconds: float  # seconds per output (logit) frame

    def __call__(self, audio: np.ndarray) -> torch.Tensor: ...
    def frames(self, clip: torch.Tensor) -> int: ...
    def output_frames(self, clip: torch.Tensor) -> int: ...
    def planned_frames(self, samples: int) -> tuple[int, int]: ...
    def batch(self, clips: list[torch.Tensor]) -> tuple[dict[str, torch.Tensor], torch.Tensor]: ...
    def labels(self, labels: list[list[int]]) -> dict[str, torch.Tensor]: ...
    def augment(self, inputs: dict, settings: SpecAugmentSettings, generator) -> None: ...
    def prepare(self, model, examples: list) -> None: ...


class FbankInputs:
    """Log-mel features (``conf/features``) for the project's model; SpecAugment applies."""

    cacheable = True

    def __init__(self, extractor: FbankExtractor, model):
        self.extractor, self.model = extractor, model
        self.subsampling = int(model.config.subsampling)
        self.frame_seconds = extractor.hop / SAMPLE_RATE * self.subsampling

    def __call__(self, audio: np.ndarray) -> torch.Tensor:
        return self.extractor(audio)

    def frames(self, clip: torch.Tensor) -> int:
        return int(clip.shape[0])

    def output_frames(self, clip: torch.Tensor) -> int:
        return int(clip.shape[0]) // self.subsampling

    def planned_frames(self, samples: int) -> tuple[int, int]:
        """(:meth:`frames`, :meth:`output_frames`) of a clip of ``samples``, without its audio."""
        frames = self.extractor.num_frames(samples)
        return frames, frames // self.subsampling

    def batch(self, clips: list[torch.Tensor]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Padded features and frame counts (at least 1: an empty clip gives 0 output frames)."""
        lengths = torch.tensor([c.shape[0] for c in clips])
        features = torch.zeros(len(clips), max(1, int(lengths.max())), self.extractor.mel.n_mels)
        for i, clip in enumerate(clips):
            features[i, : clip.shape[0]] = clip
        out = self.model.output_lengths(lengths).clamp(min=0)
        out[lengths == 0] = 0
        return {"input_features": features, "feature_lengths": lengths.clamp(min=1)}, out

    def labels(self, labels: list[list[int]]) -> dict[str, torch.Tensor]:
        return {
            "labels": torch.tensor([t for x in labels for t in x]),
            "label_lengths": torch.tensor([len(x) for x in labels]),
        }

    def augment(self, inputs: dict, sa: SpecAugmentSettings, generator) -> None:
        gain_augment(inputs["input_features"], inputs["feature_lengths"], sa.gain_db, generator)
        spec_augment(
            inputs["input_features"],
            inputs["feature_lengths"],
            sa.freq_masks,
            sa.freq_width,
            sa.time_masks,
            sa.time_width,
            generator,
        )

    def prepare(self, model, examples: list) -> None:
        """A fresh model normalises with the training set's per-bin mean and std."""
        if model.config.feature_mean is not None:
            return
        mean, std = feature_stats(examples)
        model.config.feature_mean, model.config.feature_std = mean, std
        model.feature_mean.copy_(torch.tensor(mean))
        model.feature_std.copy_(torch.tensor(std))


def feature_stats(examples: list) -> tuple[list[float], list[float]]:
    """Per-bin mean and std over the log-mel frames of training examples (anything with
    ``features``), stored in the model config."""
    frames = torch.cat([u.features for u in examples[:2000]])
    return frames.mean(0).tolist(), frames.std(0).clamp(min=1e-3).tolist()


class CheckpointInputs:
    """A transformers checkpoint's own feature extractor (raw audio for wav2vec2-style models);
    masking in time is the model's own SpecAugment (``mask_time_prob`` in its config)."""

    cacheable = False

    def __init__(self, feature_extractor, model):
        self.fe, self.model = feature_extractor, model
        self.key = feature_extractor.model_input_names[0]
        if self.key != model.main_input_name:
            raise ConfigError(
                f"the feature extractor gives {self.key!r} but {type(model).__name__} reads "
                f"{model.main_input_name!r}"
            )
        if int(feature_extractor.sampling_rate) != SAMPLE_RATE:
            raise ConfigError(
                f"the checkpoint's feature extractor expects {feature_extractor.sampling_rate} Hz; "
                f"asrloop's audio is {SAMPLE_RATE} Hz"
            )
        ratio = getattr(model.config, "inputs_to_logits_ratio", None)
        self.ratio = int(ratio) if ratio else None
        self.frame_seconds = (self.ratio or 1) / SAMPLE_RATE
        self.min_samples = self._receptive_field()
        self.empty = self._featurize(np.zeros(self.min_samples, np.float32))[:0]

    def _featurize(self, audio: np.ndarray) -> torch.Tensor:
        out = self.fe(audio, sampling_rate=SAMPLE_RATE, return_tensors="np")
        return torch.from_numpy(np.asarray(out[self.key][0], dtype=np.float32))

    def __call__(self, audio: np.ndarray) -> torch.Tensor:
        return self._featurize(audio) if len(audio) else self.empty.clone()

    def frames(self, clip: torch.Tensor) -> int:
        """Length in 10 ms frames (samples for raw audio, frames for features)."""
        if clip.ndim == 1:
            return int(clip.shape[0]) // int(SAMPLE_RATE * FRAME_SECONDS) + 1
        return int(clip.shape[0])

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        if hasattr(self.model, "_get_feat_extract_output_lengths"):
            out = self.model._get_feat_extract_output_lengths(lengths)
        elif self.ratio:
            out = torch.div(lengths, self.ratio, rounding_mode="floor")
        else:
            raise ConfigError(
                f"{type(self.model).__name__}: cannot tell its output lengths (no "
                "_get_feat_extract_output_lengths, no config.inputs_to_logits_ratio)"
            )
        return torch.as_tensor(out).long().clamp(min=0)

    def output_frames(self, clip: torch.Tensor) -> int:
        return int(self.output_lengths(torch.tensor([clip.shape[0]]))[0])

    def planned_frames(self, samples: int) -> tuple[int, int]:
        """(:meth:`frames`, :meth:`output_frames`) of a clip of ``samples``: the extractor run
        on silence of that length (its output's shape depends on the length only)."""
        clip = self(np.zeros(samples, dtype=np.float32))
        return self.frames(clip), self.output_frames(clip)

    def _receptive_field(self) -> int:
        """The fewest input samples (or frames) that give one output frame."""
        size = 1
        while int(self.output_lengths(torch.tensor([size]))[0]) < 1 and size < SAMPLE_RATE:
            size *= 2
        low = size // 2
        while low + 1 < size:
            middle = (low + size) // 2
            if int(self.output_lengths(torch.tensor([middle]))[0]) >= 1:
                size = middle
            else:
                low = middle
        return size

    def batch(self, clips: list[torch.Tensor]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Padded as the feature extractor pads (at least one output frame long); the attention
        mask goes to the model only where the checkpoint wants one."""
        lengths = torch.tensor([c.shape[0] for c in clips])
        padded = self.fe.pad(
            {self.key: [c.numpy() for c in clips]},
            padding="longest",
            return_attention_mask=True,
            return_tensors="pt",
        )
        values, mask = padded[self.key].float(), padded["attention_mask"].long()
        if values.shape[1] < self.min_samples:
            extra = self.min_samples - values.shape[1]
            fill = torch.full((values.shape[0], extra, *values.shape[2:]), self.fe.padding_value)
            values = torch.cat([values, fill], dim=1)
            mask = torch.cat([mask, torch.zeros(mask.shape[0], extra, dtype=mask.dtype)], dim=1)
        inputs = {self.key: values}
        if self.fe.return_attention_mask:
            inputs["attention_mask"] = mask
        out = self.output_lengths(lengths)
        out[lengths == 0] = 0
        return inputs, out

    def labels(self, labels: list[list[int]]) -> dict[str, torch.Tensor]:
        padded = torch.full((len(labels), max(len(x) for x in labels)), IGNORED_LABEL)
        for i, x in enumerate(labels):
            padded[i, : len(x)] = torch.tensor(x)
        return {"labels": padded}

    def augment(self, inputs: dict, sa: SpecAugmentSettings, generator) -> None:
        return None

    def prepare(self, model, examples: list) -> None:
        return None


def is_fbank_model(model) -> bool:
    """The project's own model (log-mel features in, ``feature_lengths``)."""
    from asrloop.model.ctc_transformer import CtcTransformerConfig

    return model.config.model_type == CtcTransformerConfig.model_type


def model_inputs(model, feature_extractor: Any | None, features: FeaturesSettings) -> ModelInputs:
    """The input adapter for ``model``: fbank from ``features`` for the project's model,
    ``feature_extractor`` (the checkpoint's own) for any other."""
    if is_fbank_model(model):
        return FbankInputs(FbankExtractor.of(features), model)
    if feature_extractor is None:
        raise ConfigError(
            f"{type(model).__name__} reads {model.main_input_name!r}: it needs its checkpoint's "
            "feature extractor (preprocessor_config.json), or model.feature_extractor in config"
        )
    return CheckpointInputs(feature_extractor, model)
