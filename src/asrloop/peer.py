"""A peer baseline (``asrloop bench peer``): an independent recognizer on the same audio.

pocketsphinx (CMU; its PyPI wheel ships an en-US acoustic model, a 134k-word dictionary and a
general LM) against the project's model, on the test split and the held-out drop audio: WER,
each emerging term's recall, real-time factor. pocketsphinx runs twice: as shipped, and with
the emerging terms added to its dictionary (pronunciations from ``scenario.pronunciations``),
so the comparison is fair on vocabulary. The table is ``reports/peer/comparison.json``
(:class:`asrloop.records.PeerComparison`).
"""

from __future__ import annotations

import time

import numpy as np

from asrloop.audio.io import read_audio
from asrloop.corpus.manifest import Utterance
from asrloop.inference.batch import BatchStats, Prediction, transcribe_utterances
from asrloop.inference.types import Transcription, WordTiming
from asrloop.progress import console, progress_bar
from asrloop.records import PeerComparison, PeerScores, SetScores
from asrloop.scoring import score


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


def _brief(result: SetScores) -> PeerScores:
    return PeerScores(result.wer, result.n, result.term_recall(), result.rtf)


def compare(
    recognizer,
    label: str,
    sets: dict[str, list[Utterance]],
    terms: list[str],
    pronunciations: dict[str, str],
    batch_seconds: float,
) -> PeerComparison:
    systems = {
        "pocketsphinx": pocketsphinx_decoder(),
        "pocketsphinx+terms": pocketsphinx_decoder(pronunciations),
    }
    results: dict[str, dict[str, PeerScores]] = {}
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
    return PeerComparison(results)


def print_comparison(comparison: PeerComparison) -> None:
    from rich.table import Table

    table = Table(title="independent baseline on the same audio")
    for column in ("system", "set", "clips", "WER", "term recall", "RTF"):
        table.add_column(column)
    for system, sets in comparison.systems.items():
        for set_name, r in sets.items():
            recall = ", ".join(f"{t} {v:.2f}" for t, v in r.recall.items()) or "-"
            table.add_row(system, set_name, str(r.n), f"{r.wer:.3f}", recall, f"{r.rtf:.3f}")
    console.print(table)
