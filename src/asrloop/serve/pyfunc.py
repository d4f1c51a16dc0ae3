"""The registered model's MLflow pyfunc: ``predict(list of audio paths) -> list of texts``."""

from __future__ import annotations

import mlflow.pyfunc


class Transcriber(mlflow.pyfunc.PythonModel):
    """Greedy or lexicon decoding with the artifacts logged beside the model."""

    def load_context(self, context):
        from asrloop.serve.recognizer import Recognizer

        vocab = context.artifacts.get("vocab_dir")
        decode = {"type": "greedy"}
        if vocab:  # the project's defaults at registration time (conf/decode/lexicon_lm.yaml)
            decode = {
                "type": "lexicon",
                "beam_size": 50,
                "beam_threshold": 25,
                "lm_weight": 1.6,
                "word_score": 0.0,
                "unk_score": float("-inf"),
                "sil_score": 0.0,
                "nbest": 1,
            }
        features = {
            "sample_rate": 16000,
            "n_mels": 80,
            "win_ms": 25,
            "hop_ms": 10,
            "max_file_seconds": 1800.0,
        }
        self.recognizer = Recognizer.from_dirs(
            context.artifacts["model_dir"], vocab, decode, features, max_seconds=20.0
        )

    def predict(self, context, model_input: list[str], params=None) -> list[str]:
        return [self.recognizer.transcribe_file(path).text for path in model_input]
