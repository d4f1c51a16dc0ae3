"""A model folder with its own processor: any ``AutoModelForCTC`` checkpoint, loaded as saved.

A folder written by ``save_pretrained`` (the project's champion, or a checkpoint downloaded
elsewhere such as facebook/wav2vec2-base-960h) holds the model, its tokenizer files
(``vocab.json``, ``tokenizer_config.json``) and, for a raw-audio model, its feature extractor
(``preprocessor_config.json``). :func:`load_checkpoint` gives the model and its
:class:`Processor`; :func:`new_head` swaps the CTC head for the project's alphabet
(``model.new_head``) and :func:`grow_head` adds rows for new symbols, keeping trained ones.
The model's CTC blank (``config.pad_token_id`` for transformers models, ``config.blank_id`` for
the project's) must be the tokenizer's blank; a mismatch is refused, never trained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from asrloop.errors import ConfigError, MissingInputError
from asrloop.model.ctc_transformer import CtcTransformerForCTC  # registers the Auto classes
from asrloop.model.inputs import ModelInputs, is_fbank_model, model_inputs
from asrloop.settings.features import FeaturesSettings
from asrloop.text.tokenizer import CharTokenizer


@dataclass
class Processor:
    """A model's own processor: its tokenizer and, for a checkpoint that reads raw audio, its
    transformers feature extractor (None: the project's fbank features, ``conf/features``)."""

    tokenizer: CharTokenizer
    feature_extractor: Any | None = None

    def inputs(self, model, features: FeaturesSettings) -> ModelInputs:
        return model_inputs(model, self.feature_extractor, features)

    def save(self, folder: str | Path) -> None:
        """Write the tokenizer and feature-extractor files beside ``save_pretrained``'s."""
        self.tokenizer.save(folder)
        if self.feature_extractor is not None:
            self.feature_extractor.save_pretrained(str(folder))


def load_ctc_model(folder: str | Path, overrides: Mapping | None = None):
    """The model of a local checkpoint folder. ``overrides`` set config attributes the model's
    config has (e.g. ``ctc_loss_reduction``); others are ignored."""
    from transformers import AutoConfig, AutoModelForCTC

    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise MissingInputError(f"model.path: no checkpoint at {folder} (config.json missing)")
    config = AutoConfig.from_pretrained(str(folder))
    for key, value in (overrides or {}).items():
        if hasattr(config, key):
            setattr(config, key, value)
    return AutoModelForCTC.from_pretrained(str(folder), config=config)


def load_checkpoint(folder: str | Path, overrides: Mapping | None = None) -> tuple[Any, Processor]:
    """(model, processor) of a local checkpoint folder (see :func:`load_ctc_model`)."""
    from transformers import AutoFeatureExtractor

    folder = Path(folder)
    model = load_ctc_model(folder, overrides)
    if not (folder / "vocab.json").exists():
        raise MissingInputError(f"{folder}: no vocab.json: the checkpoint's tokenizer is missing")
    tokenizer = CharTokenizer.load(folder)
    check_blank(model, tokenizer, str(folder))
    extractor = None
    if not is_fbank_model(model):
        try:
            extractor = AutoFeatureExtractor.from_pretrained(str(folder))
        except OSError as error:
            raise MissingInputError(
                f"{folder}: {type(model).__name__} needs its feature extractor "
                f"(preprocessor_config.json): {error}"
            ) from error
    return model, Processor(tokenizer, extractor)


def blank_id(model) -> int:
    """The index the model's CTC loss treats as blank."""
    if is_fbank_model(model):
        return int(model.config.blank_id)
    return int(model.config.pad_token_id)


def check_blank(model, tokenizer: CharTokenizer, where: str) -> None:
    if not is_fbank_model(model) and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.blank_id  # a config that never named its blank
    if blank_id(model) != tokenizer.blank_id:
        raise ConfigError(
            f"{where}: the tokenizer's blank {tokenizer.blank!r} is index {tokenizer.blank_id}, "
            f"but the model's CTC blank is index {blank_id(model)}"
        )
    if model.lm_head.out_features < len(tokenizer):
        raise ConfigError(
            f"{where}: the CTC head has {model.lm_head.out_features} outputs for "
            f"{len(tokenizer)} tokenizer symbols"
        )


def _set_blank(model, index: int) -> None:
    if is_fbank_model(model):
        model.config.blank_id = index
    else:
        model.config.pad_token_id = index


def new_head(model, tokenizer: CharTokenizer) -> None:
    """A freshly initialised CTC head for ``tokenizer`` (the project's alphabet)."""
    old = model.lm_head
    head = nn.Linear(old.in_features, len(tokenizer)).to(old.weight.device)
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)
    model.lm_head = head
    model.config.vocab_size = len(tokenizer)
    _set_blank(model, tokenizer.blank_id)


def grow_head(model, size: int) -> None:
    """Add CTC outputs for new symbols at the end, keeping every trained row. The project's
    model's own method serves any transformers CTC model: it touches only ``lm_head`` and
    ``config.vocab_size``, which they all have."""
    CtcTransformerForCTC.resize_vocab(model, size)
