"""Dataset-level tests over a corpus version (data tested like code; ``asrloop check data``).

Every clip is decoded once (:mod:`asrloop.checks.corpus`); the checks, grouped by concern, then
work on the rows plus those stats:

- schema (:mod:`asrloop.corpus.manifest`): fields present and well typed;
- audio (:mod:`~asrloop.checks.audio`): decodes, 16 kHz mono, duration as in the manifest, not
  silent, not clipped;
- duplicates and leakage (:mod:`~asrloop.checks.leakage`): the same audio twice, the same
  sentence and voice twice, a test or regression sentence or clip also in train, a held-out
  voice in train;
- scenario (:mod:`~asrloop.checks.scenario`): emerging terms absent from the base corpus, the
  frozen regression set unchanged;
- labels (:mod:`~asrloop.checks.labels`): characters per second within bounds, text in the
  alphabet, no empty text;
- balance (:mod:`~asrloop.checks.balance`): rows and hours per voice and per split.

Errors block training and growth: :meth:`CheckReport.raise_if_failed` raises
:class:`asrloop.errors.ChecksFailed` (``asrloop check data``, ``asrloop.steps.check_data``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from asrloop.checks import audio, balance, labels, leakage, scenario
from asrloop.checks.corpus import Clip, CorpusRules, CorpusUnderTest, all_audio_stats
from asrloop.checks.report import CheckReport, Finding, findings_if
from asrloop.corpus.manifest import scan_manifests

ROW_FIELDS = ("split",)  # beyond the manifest contract, the checks need this (speaker: a warning)

CHECKS: dict[str, Callable[[CorpusUnderTest], list[Finding]]] = {
    "audio.decode": audio.check_decode,
    "audio.format": audio.check_format,
    "audio.duration": audio.check_duration,
    "audio.silent": audio.check_silent,
    "audio.clipped": audio.check_clipped,
    "duplicates.audio": leakage.check_duplicate_audio,
    "duplicates.sentence_voice": leakage.check_duplicate_sentence_voice,
    "leakage.sentence": leakage.check_sentence_leakage,
    "leakage.dev_sentence": leakage.check_dev_leakage,
    "leakage.clip": leakage.check_clip_leakage,
    "leakage.voice": leakage.check_voice_leakage,
    "leakage.test_voice": leakage.check_test_voices,
    "scenario.terms": scenario.check_terms_absent,
    "scenario.regression_hash": scenario.check_regression_frozen,
    "labels.empty": labels.check_empty_text,
    "labels.alphabet": labels.check_alphabet,
    "labels.chars_per_second": labels.check_chars_per_second,
    "balance.split": balance.check_split_balance,
    "balance.voice": balance.check_voice_balance,
}


def load_corpus(corpus_root: Path, rules: CorpusRules) -> tuple[CorpusUnderTest, list[Finding]]:
    """Read every manifest (schema findings for bad rows) and decode every clip once."""
    scan = scan_manifests(corpus_root, required=ROW_FIELDS)
    message = "{n} malformed manifest rows (left out of the other checks)"
    findings = findings_if("schema", "error", message, scan.errors)
    findings += findings_if("schema", "warning", "{n} rows miss a recommended field", scan.warnings)
    stats = all_audio_stats(scan.rows, rules.settings.workers)
    clips = [
        Clip(row, stat, row.where_in(corpus_root))
        for row, stat in zip(scan.rows, stats, strict=True)
    ]
    return CorpusUnderTest(Path(corpus_root), clips, rules), findings


def check_corpus(
    corpus_root: str | Path, rules: CorpusRules, only: Sequence[str] | None = None
) -> CheckReport:
    """Run the data checks (all, or those whose name starts with one of ``only``)."""
    start = time.perf_counter()
    report = CheckReport("data")
    if not Path(corpus_root).is_dir():
        report.add("schema", [Finding("schema", "error", f"no corpus at {corpus_root}", [])])
        return report
    corpus, schema = load_corpus(Path(corpus_root), rules)
    report.add("schema", schema)
    if not corpus.clips:
        report.add("schema", [Finding("schema", "error", f"no rows below {corpus_root}", [])])
    for name, check in CHECKS.items():
        if only is None or name.startswith(tuple(only)):
            report.add(name, check(corpus))
    hours = sum(c.row.duration for c in corpus.clips) / 3600
    report.summary = {
        "corpus": str(corpus_root),
        "rows": len(corpus.clips),
        "hours": round(hours, 4),
        **corpus.summary,
    }
    report.seconds = time.perf_counter() - start
    return report
