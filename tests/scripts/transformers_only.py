"""Run in a fresh process: transcribe WAV files with transformers alone (asrloop not importable).

    python transformers_only.py MODEL_DIR OUT_JSON WAV [WAV ...]

Writes {"model_class", "single": [texts], "batched": [texts], "words": [[word chunks]],
"logits": [[...]]} for the test to compare with asrloop's own decoding.
"""

import importlib.util
import json
import sys

sys.path = [p for p in sys.path if not p.rstrip("/").endswith("/src")]  # the editable install
assert importlib.util.find_spec("asrloop") is None, "asrloop must not be importable here"

import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from transformers import AutoFeatureExtractor, AutoModelForCTC, pipeline  # noqa: E402

model_dir, out_path, *wavs = sys.argv[1:]
waves = [sf.read(w, dtype="float32")[0] for w in wavs]
model = AutoModelForCTC.from_pretrained(model_dir, trust_remote_code=True).eval()
extractor = AutoFeatureExtractor.from_pretrained(model_dir, trust_remote_code=True)
inputs = extractor(waves[0], sampling_rate=16000, return_tensors="pt")
with torch.no_grad():
    logits = model(**inputs).logits[0]
asr = pipeline("automatic-speech-recognition", model=model_dir, trust_remote_code=True)
result = {
    "model_class": f"{type(model).__module__}.{type(model).__name__}",
    "single": [asr(w)["text"] for w in waves],
    "batched": [r["text"] for r in asr(waves, batch_size=len(waves))],
    "words": [asr(w, return_timestamps="word")["chunks"] for w in waves],
    "logits": logits.tolist(),
}
with open(out_path, "w") as f:
    json.dump(result, f)
assert "asrloop" not in sys.modules
