"""Throughput of the served champion: requests/s and p50/p95 latency for 5-second clips, with 1
and 4 concurrent clients, against ``mlflow models serve`` (the same server a deployment runs).

    .venv/bin/python benchmarks/serve_throughput.py --root /tmp/asrloop-serve-bench
    .venv/bin/python benchmarks/serve_throughput.py --root . --requests 40 --workers 2

``--root`` is a project folder. Its champion (``models:/<registered model>@champion`` in its
tracking backend) is served; when it has none, a default-size model is trained briefly on the
tiny corpus there first (a few minutes), so the numbers are for the default architecture and
decoding (lexicon + LM), not for a good model. Each request carries one 5-second WAV clip
(test-split clips joined), sent as base64 in JSON.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ASRLOOP = str(Path(sys.executable).parent / "asrloop")
SECONDS = 5.0


def prepare(root: Path, overrides: list[str]) -> None:
    """Synthesize the tiny corpus, build the vocabulary, train and register (short budget)."""
    env = {**os.environ, "ASRLOOP_ROOT": str(root)}
    for step in (["corpus", "synth"], ["vocab", "build"], ["train"]):
        print("asrloop", *step, flush=True)
        subprocess.run(
            [ASRLOOP, *step, "experiment=tiny", *overrides],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def five_second_clips(corpus: Path, count: int) -> list[bytes]:
    """``count`` WAV clips of exactly 5 s, each joined from test-split utterances."""
    from asrloop.audio.io import SAMPLE_RATE, encode_wav, read_audio
    from asrloop.corpus.manifest import iter_corpus

    audio = np.concatenate([read_audio(r.audio_path)[0] for r in iter_corpus(corpus, ["test"])])
    size = int(SECONDS * SAMPLE_RATE)
    if len(audio) < size:
        raise SystemExit(f"{corpus}: under {SECONDS} s of test audio")
    starts = np.linspace(0, len(audio) - size, count).astype(int)
    return [encode_wav(audio[s : s + size]) for s in starts]


def measure(url: str, clips: list[bytes], clients: int, requests: int) -> dict[str, float]:
    from asrloop.inference.model_server import transcribe_over_http

    def one(i: int) -> float:
        start = time.perf_counter()
        transcribe_over_http(url, [clips[i % len(clips)]])
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = sorted(pool.map(one, range(requests)))
    wall = time.perf_counter() - start
    return {
        "clients": clients,
        "requests": requests,
        "req_per_s": requests / wall,
        "audio_s_per_s": requests * SECONDS / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="a project folder")
    parser.add_argument("--requests", type=int, default=40, help="requests per client level")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the preparation")
    args = parser.parse_args()
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    os.environ["ASRLOOP_ROOT"] = str(root)

    from asrloop.artifacts import ModelOutput
    from asrloop.config import compose
    from asrloop.inference.model_server import served_model, transcribe_over_http
    from asrloop.model.registry import Registry
    from asrloop.settings import typed
    from asrloop.tracking import TrackingSettings

    cfg = compose([f"paths.root={root}", *args.overrides])
    settings = TrackingSettings.resolve(typed(cfg).tracking, root)
    registry = Registry(settings)
    if registry.alias_version(settings.champion_alias) is None:
        if not ModelOutput(Path(cfg.train.output_dir)).result.exists():
            prepare(root, args.overrides)
        registry.set_alias(registry.resolve("1"), settings.champion_alias)
    version = registry.alias_version(settings.champion_alias)
    clips = five_second_clips(Path(cfg.paths.base_corpus), 8)
    uri = f"models:/{registry.name}@{settings.champion_alias}"
    log = root / "reports" / "bench" / "serve.log"
    print(f"serving {uri} (v{version}) with {args.workers} worker(s); cpu threads {os.cpu_count()}")
    with served_model(uri, settings.uri, args.port, log, workers=args.workers) as url:
        for clip in clips[:3]:  # warm-up: first requests load lazily
            transcribe_over_http(url, [clip])
        columns = ("clients", "requests", "req/s", "audio s/s", "p50 ms", "p95 ms")
        print(" ".join(f"{c:>{w}}" for c, w in zip(columns, (7, 8, 7, 9, 8, 8), strict=True)))
        for clients in args.clients:
            r = measure(url, clips, clients, args.requests)
            print(
                f"{r['clients']:>7} {r['requests']:>8} {r['req_per_s']:>7.2f} "
                f"{r['audio_s_per_s']:>9.1f} {r['p50_ms']:>8.0f} {r['p95_ms']:>8.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
