"""The saved model folder: ``save_pretrained`` output plus everything transformers needs alone.

Besides ``config.json`` and the weights, the folder holds the model's processor: the CTC
tokenizer files (``vocab.json`` + ``tokenizer_config.json``, read by ``Wav2Vec2CTCTokenizer``,
whatever the blank) and the feature extractor. A checkpoint's own feature extractor (raw audio)
is written as it came; the project's fbank model gets its modeling code (``auto_map``) and a
transformers feature extractor for its log-mel features (``preprocessor_config.json`` + code).
So both of these work without asrloop:

    AutoModelForCTC.from_pretrained(folder, trust_remote_code=True)
    pipeline("automatic-speech-recognition", model=folder, trust_remote_code=True)  # greedy
"""

from __future__ import annotations

from pathlib import Path

from asrloop.audio.feature_extraction_asrloop import AsrloopFbankFeatureExtractor
from asrloop.model.checkpoint import Processor
from asrloop.model.inputs import is_fbank_model
from asrloop.settings.features import FeaturesSettings

AsrloopFbankFeatureExtractor.register_for_auto_class()  # preprocessor_config.json's auto_map


def feature_extractor(features: FeaturesSettings) -> AsrloopFbankFeatureExtractor:
    """The transformers feature extractor for ``conf/features`` settings."""
    return AsrloopFbankFeatureExtractor(
        feature_size=int(features.n_mels),
        sampling_rate=int(features.sample_rate),
        win_ms=float(features.win_ms),
        hop_ms=float(features.hop_ms),
    )


def save_model_folder(
    model, processor: Processor, folder: str | Path, features: FeaturesSettings
) -> Path:
    """Write the complete folder (training writes a temporary one and moves it into place)."""
    folder = Path(folder)
    extractor = feature_extractor(features) if is_fbank_model(model) else None
    if extractor is not None:
        # samples per output frame: word timestamps and chunking in the transformers pipeline
        model.config.inputs_to_logits_ratio = int(
            extractor.sampling_rate * extractor.hop_ms / 1000
        ) * int(model.config.subsampling)
    model.save_pretrained(folder)
    processor.save(folder)  # tokenizer files; a checkpoint's own feature extractor
    if extractor is not None:
        extractor.save_pretrained(folder)
    return folder
