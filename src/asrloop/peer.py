"""``asrloop bench peer``: an independent recognizer on the same audio, side by side.

pocketsphinx (CMU; its PyPI wheel ships an en-US acoustic model, a 134k-word dictionary and a
general LM) against the project's model, on the test split and the held-out drop audio: WER,
each emerging term's recall, real-time factor. pocketsphinx runs twice: as shipped, and with
the emerging terms added to its dictionary (pronunciations from ``scenario.pronunciations``),
so the comparison is fair on vocabulary.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from asrloop import tracking
from asrloop.audio.io import read_audio
from asrloop.config import config_snapshot
from asrloop.corpus.drop import Drop
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.jsonio import write_json
from asrloop.model.registry import Registry
from asrloop.progress import console, progress_bar
from asrloop.records import SetScores
from asrloop.scoring import score
from asrloop.serve.batch import BatchStats, Prediction, transcribe_utterances
from asrloop.serve.loading import DecodingSetup, load_recognizer
from asrloop.serve.types import Transcription, WordTiming


def pocketsphinx_decoder(pronunciations: dict[str, str] | None = None):
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000, loglevel="FATAL")
    for word, phones in (pronunciations or {}).items():
        decoder.add_word(word, phones, True)
    return decoder


def pocketsphinx_transcribe(
    decoder, rows: list[Utterance], label: str
) -> tuple[list[Prediction], BatchStats]:
    predictions, audio_seconds, compute = [], 0.0, 0.0
    with progress_bar(label, len(rows)) as advance:
        for row in rows:
            audio, _ = read_audio(row.audio_path, segment=row.segment)
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
            start = time.perf_counter()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
            compute += time.perf_counter() - start
            audio_seconds += len(audio) / 16000
            text = hyp.hypstr.lower() if hyp else ""
            heard = Transcription(tuple(WordTiming(w, 0.0, 0.0, 1.0) for w in text.split()))
            predictions.append(Prediction(row, heard))
            advance()
    return predictions, BatchStats(audio_seconds, compute, 0)


def _brief(result: SetScores) -> dict:
    return {"wer": result.wer, "n": result.n, "recall": result.term_recall(), "rtf": result.rtf}


def compare(
    recognizer,
    label: str,
    sets: dict[str, list[Utterance]],
    terms: list[str],
    pronunciations: dict[str, str],
    batch_seconds: float,
) -> dict:
    systems = {
        "pocketsphinx": pocketsphinx_decoder(),
        "pocketsphinx+terms": pocketsphinx_decoder(pronunciations),
    }
    results: dict[str, dict] = {}
    for set_name, rows in sets.items():
        if not rows:
            continue
        ours, stats = transcribe_utterances(
            recognizer, rows, batch_seconds, f"asrloop on {set_name}"
        )
        results.setdefault(label, {})[set_name] = _brief(score(ours, terms, stats))
        for name, decoder in systems.items():
            predictions, peer_stats = pocketsphinx_transcribe(
                decoder, rows, f"{name} on {set_name}"
            )
            results.setdefault(name, {})[set_name] = _brief(score(predictions, terms, peer_stats))
    return results


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
    limit = int(cfg.peer.max_clips)
    sets = {
        "test": list(iter_corpus(cfg.paths.base_corpus, ["test"]))[:limit],
        "drop_holdout": Drop.from_config(cfg.scenario.drop, cfg.paths).clips("holdout")[:limit],
    }
    settings = tracking.TrackingSettings.from_config(cfg.tracking, cfg.paths.root)
    setup = DecodingSetup.from_config(cfg.decode, cfg.features, cfg.paths.vocab)
    recognizer, info = load_recognizer(str(cfg.evaluate.model), setup, Registry(settings))
    results = compare(
        recognizer,
        f"asrloop ({info.model_version or 'local'})",
        sets,
        list(cfg.scenario.terms),
        dict(cfg.scenario.pronunciations or {}),
        float(cfg.evaluate.batch_seconds),
    )
    print_comparison(results)
    out = write_json(Path(cfg.paths.reports) / "peer" / "comparison.json", results)
    with tracking.step_run(settings, "bench_peer", config_snapshot(cfg)):
        tracking.setup(settings).log_artifact(str(out), "peer")
    return results
