"""The speech gate on speech and on non-speech: how often each is let through to the decoder.

    .venv/bin/python benchmarks/speech_gate.py [--corpus data/corpus/base] [--clips 300]

Speech: corpus clips (synthesized by the project) clean, with white noise at 12, 5 and 0 dB SNR,
and 30 dB quieter. Non-speech: silence, dither, white noise, brown noise, a 440 Hz tone, mains
hum with harmonics, a melody, chords, noise bursts and clicks. Prints, per kind, the clips
decoded and the range of the gate's measurements (``features.speech_gate`` as configured).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from asrloop.audio.activity import speech_check
from asrloop.audio.io import SAMPLE_RATE, read_audio
from asrloop.config import compose
from asrloop.settings import typed


def speech_variants(files: list[Path], rng) -> dict[str, list[np.ndarray]]:
    kinds: dict[str, list[np.ndarray]] = {
        "clean": [], "snr 12 dB": [], "snr 5 dB": [], "snr 0 dB": [], "30 dB quieter": []
    }  # fmt: skip
    for file in files:
        audio = read_audio(file)[0]
        power = float(np.mean(audio**2))
        noise = rng.standard_normal(len(audio)).astype(np.float32)
        kinds["clean"].append(audio)
        for snr in (12, 5, 0):
            kinds[f"snr {snr} dB"].append(audio + noise * np.sqrt(power / 10 ** (snr / 10)))
        kinds["30 dB quieter"].append(audio * 0.0316)
    return kinds


def non_speech(rng) -> dict[str, np.ndarray]:
    t = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
    notes = [262, 294, 330, 349, 392, 440, 494, 523]
    melody, chords = np.zeros_like(t), np.zeros_like(t)
    for i in range(40):
        start, f = int(i * 0.25 * SAMPLE_RATE), notes[rng.integers(len(notes))]
        tt = np.arange(int(0.22 * SAMPLE_RATE)) / SAMPLE_RATE
        melody[start : start + len(tt)] += np.exp(-6 * tt) * sum(
            0.3 / k * np.sin(2 * np.pi * f * k * tt) for k in (1, 2, 3)
        )
    for i in range(20):
        start = int(i * 0.5 * SAMPLE_RATE)
        tt = np.arange(int(0.45 * SAMPLE_RATE)) / SAMPLE_RATE
        chord = rng.choice(notes, 3, replace=False)
        chords[start : start + len(tt)] += np.exp(-3 * tt) * sum(
            0.2 * np.sin(2 * np.pi * f * tt) for f in chord
        )
    brown = np.cumsum(rng.standard_normal(len(t)))
    brown -= np.convolve(brown, np.ones(200) / 200, "same")
    bursts = np.concatenate(
        [rng.standard_normal(4000) * (0.3 if i % 2 else 0.001) for i in range(40)]
    )
    return {
        "silence (10 min)": np.zeros(600 * SAMPLE_RATE),
        "dither (-80 dBFS)": rng.standard_normal(len(t)) * 1e-4,
        "white noise (-20 dBFS)": rng.standard_normal(len(t)) * 0.1,
        "brown noise": brown / np.abs(brown).max() * 0.3,
        "tone 440 Hz": 0.3 * np.sin(2 * np.pi * 440 * t),
        "hum 50 Hz + harmonics": 0.2 * sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 6)),
        "melody": melody,
        "chords": chords,
        "noise bursts": bursts,
        "clicks": np.where(rng.random(len(t)) < 0.001, 0.9, 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus/base"))
    parser.add_argument("--clips", type=int, default=300)
    args = parser.parse_args()
    gate = typed(compose([])).features.speech_gate
    rng = np.random.default_rng(0)
    files = sorted(args.corpus.rglob("*.wav"))
    if not files:
        raise SystemExit(f"{args.corpus}: no WAV files (run `make loop` or `asrloop corpus synth`)")
    files = random.Random(0).sample(files, min(args.clips, len(files)))
    print(f"{'speech':<24} {'decoded':>9} {'active s (min)':>15} {'peak share':>16}")
    for kind, clips in speech_variants(files, rng).items():
        checks = [speech_check(a, SAMPLE_RATE, gate) for a in clips]
        shares = [c.peak_share for c in checks]
        print(
            f"{kind:<24} {sum(c.speech for c in checks):>4}/{len(checks):<4} "
            f"{min(c.active_seconds for c in checks):>15.2f} "
            f"{min(shares):>7.2f}-{max(shares):<7.2f}"
        )
    print(f"\n{'non-speech':<24} {'decoded':>9} {'active s':>15} {'peak share':>16}")
    for kind, audio in non_speech(rng).items():
        check = speech_check(np.asarray(audio, dtype=np.float32), SAMPLE_RATE, gate)
        print(
            f"{kind:<24} {int(check.speech):>4}/1    {check.active_seconds:>15.2f} "
            f"{check.peak_share:>16.2f}"
        )


if __name__ == "__main__":
    main()
