"""``asrloop bench peer``: an independent recognizer on the same audio, side by side.

pocketsphinx (CMU; its PyPI wheel ships an en-US acoustic model, a 134k-word dictionary and a
general LM) against the project's model, on the test split and the held-out drop audio: WER,
each emerging term's recall, real-time factor. pocketsphinx runs twice: as shipped, and with
the emerging terms added to its dictionary (pronunciations from ``scenario.pronunciations``),
so the comparison is fair on vocabulary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from asrloop import tracking
from asrloop.audio.io import read_audio
from asrloop.corpus.drop import drop_rows
from asrloop.corpus.manifest import audio_path, iter_corpus
from asrloop.evaluate import load_recognizer, score, transcribe_rows
from asrloop.progress import console, progress_bar


def pocketsphinx_decoder(pronunciations: dict[str, str] | None = None):
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000, loglevel="FATAL")
    for word, phones in (pronunciations or {}).items():
        decoder.add_word(word, phones, True)
    return decoder


def pocketsphinx_transcribe(decoder, rows: list[dict], label: str) -> tuple[list[dict], float]:
    predictions, audio_seconds, compute = [], 0.0, 0.0
    with progress_bar(label, len(rows)) as advance:
        for row in rows:
            audio, _ = read_audio(audio_path(row))
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
            start = time.perf_counter()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
            compute += time.perf_counter() - start
            audio_seconds += len(audio) / 16000
            predictions.append({**row, "pred_text": hyp.hypstr.lower() if hyp else ""})
            advance()
    return predictions, compute / max(audio_seconds, 1e-9)


def compare(cfg: DictConfig) -> dict:
    terms = list(cfg.scenario.terms)
    limit = int(cfg.get("peer", {}).get("max_clips", 200))
    sets = {
        "test": list(iter_corpus(cfg.paths.base_corpus, ["test"]))[:limit],
        "drop_holdout": drop_rows(cfg, "holdout")[:limit],
    }
    pronunciations = dict(cfg.scenario.get("pronunciations") or {})
    recognizer, info = load_recognizer(cfg)
    systems = {
        "pocketsphinx": pocketsphinx_decoder(),
        "pocketsphinx+terms": pocketsphinx_decoder(pronunciations),
    }
    results: dict[str, dict] = {}
    for set_name, rows in sets.items():
        if not rows:
            continue
        ours, stats = transcribe_rows(
            recognizer, rows, cfg.evaluate.batch_seconds, f"asrloop on {set_name}"
        )
        results.setdefault(f"asrloop ({info.get('model_version', 'local')})", {})[set_name] = {
            **_brief(score(ours, terms)),
            "rtf": stats["rtf"],
        }
        for name, decoder in systems.items():
            predictions, rtf = pocketsphinx_transcribe(decoder, rows, f"{name} on {set_name}")
            results.setdefault(name, {})[set_name] = {
                **_brief(score(predictions, terms)),
                "rtf": rtf,
            }
    return results


def _brief(result: dict) -> dict:
    return {
        "wer": result["wer"],
        "n": result["n"],
        "recall": {t: s["recall"] for t, s in result["terms"].items() if s["support"]},
    }


def print_comparison(results: dict) -> None:
    from rich.table import Table

    table = Table(title="independent baseline on the same audio")
    for column in ("system", "set", "clips", "WER", "term recall", "RTF"):
        table.add_column(column)
    for system, sets in results.items():
        for set_name, r in sets.items():
            recall = ", ".join(f"{t} {v:.2f}" for t, v in r["recall"].items()) or "-"
            table.add_row(
                system, set_name, str(r["n"]), f"{r['wer']:.3f}", recall, f"{r['rtf']:.3f}"
            )
    console.print(table)


def run(cfg: DictConfig) -> dict:
    results = compare(cfg)
    print_comparison(results)
    out = Path(cfg.paths.reports) / "peer" / "comparison.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    with tracking.step_run(cfg, "bench_peer"):
        tracking.setup(cfg).log_artifact(str(out), "peer")
    return results
