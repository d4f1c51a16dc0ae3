"""The saved model folder: ``save_pretrained`` output plus everything transformers needs alone.

Besides ``config.json`` and the weights, the folder holds the modeling code (``auto_map``), the
feature extractor (``preprocessor_config.json`` + its code) and the CTC tokenizer files
(asrloop's ``vocab.json`` read by ``Wav2Vec2CTCTokenizer``). So both of these work without asrloop:

    AutoModelForCTC.from_pretrained(folder, trust_remote_code=True)
    pipeline("automatic-speech-recognition", model=folder, trust_remote_code=True)  # greedy
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asrloop.audio.feature_extraction_asrloop import AsrloopFbankFeatureExtractor
from asrloop.text.tokenizer import BLANK, WORD_DELIMITER, CharTokenizer

TOKENIZER_CONFIG = {
    "tokenizer_class": "Wav2Vec2CTCTokenizer",
    "pad_token": BLANK,  # the CTC blank: the pipeline's decode drops it
    "word_delimiter_token": WORD_DELIMITER,
    "unk_token": "<unk>",
    "bos_token": None,
    "eos_token": None,
}

AsrloopFbankFeatureExtractor.register_for_auto_class()  # preprocessor_config.json's auto_map


def feature_extractor(features: Mapping[str, Any]) -> AsrloopFbankFeatureExtractor:
    """The transformers feature extractor for ``conf/features`` settings."""
    return AsrloopFbankFeatureExtractor(
        feature_size=int(features["n_mels"]),
        sampling_rate=int(features["sample_rate"]),
        win_ms=float(features["win_ms"]),
        hop_ms=float(features["hop_ms"]),
    )


def save_model_folder(
    model, tokenizer: CharTokenizer, folder: str | Path, features: Mapping[str, Any]
) -> Path:
    """Write the complete folder (training writes a temporary one and moves it into place)."""
    folder = Path(folder)
    extractor = feature_extractor(features)
    # samples per output frame: word timestamps and chunking in the transformers pipeline
    model.config.inputs_to_logits_ratio = int(
        extractor.sampling_rate * extractor.hop_ms / 1000
    ) * int(getattr(model.config, "subsampling", 4))
    model.save_pretrained(folder)
    tokenizer.save(folder)
    extractor.save_pretrained(folder)
    (folder / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=1) + "\n")
    return folder
