"""``asrloop check data``: dataset-level tests over a corpus version (data tested like code).

Every clip is decoded once (soundfile, in a small process pool) into :class:`AudioStats`; the
checks then work on manifest rows plus those stats:

- schema and audio: fields present, decodes, 16 kHz mono, duration as in the manifest, not
  silent, not clipped;
- duplicates: the same audio content twice; the same sentence and voice twice;
- leakage: a test or regression sentence or clip also in train; a held-out voice in train;
- scenario: emerging terms absent from the base corpus (grown shards may carry them); the frozen
  regression set unchanged (:func:`regression_hash`);
- labels: characters per second within bounds, text in the alphabet, no empty text;
- balance: rows and hours per voice and per split, warnings past configured ratios.

Errors block training and growth: :func:`run` exits 1 when there are any.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import soundfile as sf
from omegaconf import DictConfig, OmegaConf

from asrloop import tracking
from asrloop.checks.report import CheckReport, Finding, findings_if
from asrloop.corpus.manifest import REQUIRED_FIELDS, audio_path, shard_manifests
from asrloop.corpus.plan import SPLITS
from asrloop.progress import console
from asrloop.text.normalize import normalize_text

ROW_FIELDS = (*REQUIRED_FIELDS, "split", "voice")  # the checks need these
RECOMMENDED_FIELDS = ("id", "speaker", "source")
EVAL_SPLITS = ("test", "regression")  # sentences and clips that must never be trained on
GROWN_SOURCE_PREFIX = "drop/"  # grown shards come from production drops
REGRESSION_FILE = "regression.sha256"
FULL_SCALE = 32766  # int16 magnitude above which a sample counts as clipped


# ---------------------------------------------------------------- audio: decode each file once


@dataclass(frozen=True)
class AudioStats:
    """What the checks need from one file; ``error`` is set when it cannot be decoded."""

    rate: int = 0
    channels: int = 0
    frames: int = 0
    rms_dbfs: float = -math.inf
    clipped_share: float = 0.0
    digest: str = ""
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def audio_stats(path: str | Path) -> AudioStats:
    """Decode one file (as int16) and summarise it: format, level, clipping, content hash."""
    try:
        with sf.SoundFile(str(path)) as handle:
            rate, channels = handle.samplerate, handle.channels
            pcm = handle.read(dtype="int16", always_2d=True)
    except Exception as error:  # soundfile raises several types for missing or broken files
        return AudioStats(error=f"cannot decode ({error})")
    digest = hashlib.sha256(f"{rate}:{channels}:".encode() + pcm.tobytes()).hexdigest()
    if pcm.size == 0:
        return AudioStats(rate, channels, 0, digest=digest)
    samples = pcm.astype(np.float32).ravel()
    rms = math.sqrt(float(np.dot(samples, samples)) / samples.size) / 32768.0
    clipped = np.count_nonzero((pcm > FULL_SCALE) | (pcm < -FULL_SCALE)) / pcm.size
    return AudioStats(
        rate, channels, len(pcm), 20 * math.log10(max(rms, 1e-10)), float(clipped), digest
    )


def all_audio_stats(paths: Sequence[Path], workers: int = 2) -> list[AudioStats]:
    """:func:`audio_stats` for every path, in order, in ``workers`` processes."""
    names = [str(p) for p in paths]
    if workers <= 1 or len(names) < 64:
        return [audio_stats(n) for n in names]
    chunk = max(16, len(names) // (workers * 8))
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(audio_stats, names, chunksize=chunk))


# ---------------------------------------------------------------- rows: a lenient manifest reader


def row_ref(row: Mapping) -> str:
    """``<manifest relative to the corpus>:<line> <clip id>``: how findings name a row."""
    clip = f" {row['id']}" if row.get("id") else ""
    return f"{row['_where']}:{row['_line']}{clip}"


def _schema_problems(row: Mapping) -> tuple[list[str], list[str]]:
    """(errors, warnings) about one row's fields."""
    errors = [f"missing field '{name}'" for name in ROW_FIELDS if name not in row]
    warnings = [f"missing field '{name}'" for name in RECOMMENDED_FIELDS if name not in row]
    duration = row.get("duration", 1.0)
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        errors.append(f"duration {duration!r} is not a positive number")
    if "text" in row and not isinstance(row["text"], str):
        errors.append(f"text {row['text']!r} is not a string")
    if "split" in row and row["split"] not in SPLITS:
        errors.append(f"unknown split {row['split']!r}")
    return errors, warnings


def _parse(line: str, manifest: Path, where: str, number: int) -> dict | str:
    """One manifest line as a row (with bookkeeping fields), or why it is not one."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        return f"{where}:{number}: not valid JSON ({error})"
    if not isinstance(row, dict):
        return f"{where}:{number}: not a JSON object"
    row.update(_manifest=str(manifest), _where=where, _line=number)
    return row


def read_rows(corpus_root: str | Path) -> tuple[list[dict], list[Finding]]:
    """Every manifest row below ``corpus_root`` plus schema findings (bad JSON, bad fields).

    Rows that cannot be used (bad JSON, missing required fields) are left out of later checks.
    """
    root = Path(corpus_root)
    rows, errors, warnings = [], [], []
    for manifest in shard_manifests(root):
        where = manifest.relative_to(root).as_posix()
        for number, line in enumerate(manifest.read_text("utf-8").splitlines(), start=1):
            row = _parse(line, manifest, where, number) if line.strip() else None
            if isinstance(row, str):
                errors.append(row)
            elif row is not None:
                bad, missing = _schema_problems(row)
                errors += [f"{row_ref(row)}: {problem}" for problem in bad]
                warnings += [f"{row_ref(row)}: {problem}" for problem in missing]
                rows += [] if bad else [row]
    message = "{n} malformed manifest rows (left out of the other checks)"
    findings = findings_if("schema", "error", message, errors)
    findings += findings_if("schema", "warning", "{n} rows miss a recommended field", warnings)
    return rows, findings


# ---------------------------------------------------------------- the corpus under test


@dataclass
class Corpus:
    """Rows (each with its ``_audio`` stats) and the settings the checks read."""

    root: Path
    rows: list[dict]
    settings: dict
    alphabet: str
    train_voices: list[str]
    heldout_voices: list[str]
    terms: list[str]
    summary: dict = field(default_factory=dict)

    def decoded(self) -> list[dict]:
        return [r for r in self.rows if r["_audio"].error is None]

    def split(self, *names: str) -> list[dict]:
        return [r for r in self.rows if r["split"] in names]


# ---------------------------------------------------------------- schema and audio


def check_decode(corpus: Corpus) -> list[Finding]:
    bad = [f"{row_ref(r)}: {r['_audio'].error}" for r in corpus.rows if r["_audio"].error]
    return findings_if("audio.decode", "error", "{n} clips are missing or do not decode", bad)


def check_format(corpus: Corpus) -> list[Finding]:
    rate = int(corpus.settings.get("sample_rate", 16000))
    bad = [
        f"{row_ref(r)}: {r['_audio'].rate} Hz, {r['_audio'].channels} channels"
        for r in corpus.decoded()
        if (r["_audio"].rate, r["_audio"].channels) != (rate, 1)
    ]
    return findings_if("audio.format", "error", f"{{n}} clips are not {rate} Hz mono", bad)


def check_duration(corpus: Corpus) -> list[Finding]:
    tolerance = float(corpus.settings["duration_tolerance"])
    bad = [
        f"{row_ref(r)}: manifest {r['duration']:.3f} s, audio {r['_audio'].seconds:.3f} s"
        for r in corpus.decoded()
        if abs(r["duration"] - r["_audio"].seconds) > tolerance
    ]
    return findings_if(
        "audio.duration",
        "error",
        f"{{n}} clips differ from their manifest duration by more than {tolerance} s",
        bad,
    )


def check_silent(corpus: Corpus) -> list[Finding]:
    floor = float(corpus.settings["min_rms_dbfs"])
    bad = [
        f"{row_ref(r)}: {r['_audio'].rms_dbfs:.1f} dBFS"
        for r in corpus.decoded()
        if r["_audio"].rms_dbfs < floor
    ]
    return findings_if(
        "audio.silent", "error", f"{{n}} clips are silent (RMS below {floor} dBFS)", bad
    )


def check_clipped(corpus: Corpus) -> list[Finding]:
    limit = float(corpus.settings["max_clipped_share"])
    bad = [
        f"{row_ref(r)}: {r['_audio'].clipped_share:.2%} of samples at full scale"
        for r in corpus.decoded()
        if r["_audio"].clipped_share > limit
    ]
    return findings_if(
        "audio.clipped",
        "error",
        f"{{n}} clips are clipped (over {limit:.1%} of samples at full scale)",
        bad,
    )


# ---------------------------------------------------------------- duplicates and leakage


def _groups(rows: Iterable[dict], key: Callable[[dict], object]) -> list[list[dict]]:
    """Groups of rows sharing a key, only those with at least two rows."""
    groups: dict[object, list[dict]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return [group for group in groups.values() if len(group) > 1]


def _group_rows(groups: list[list[dict]]) -> list[str]:
    """Each duplicated row, naming the first row of its group."""
    return [f"{row_ref(r)}: same as {row_ref(g[0])}" for g in groups for r in g[1:]]


def check_duplicate_audio(corpus: Corpus) -> list[Finding]:
    groups = _groups(corpus.decoded(), lambda r: r["_audio"].digest)
    return findings_if(
        "duplicates.audio", "error", "{n} clips repeat another clip's audio", _group_rows(groups)
    )


def check_duplicate_sentence_voice(corpus: Corpus) -> list[Finding]:
    groups = _groups(corpus.rows, lambda r: (normalize_text(r["text"]), r["voice"]))
    return findings_if(
        "duplicates.sentence_voice",
        "warning",
        "{n} clips repeat another clip's sentence with the same voice",
        _group_rows(groups),
    )


def _leaks(corpus: Corpus, key: Callable[[dict], str]) -> list[str]:
    """Test and regression rows whose key (never empty) a train row shares, naming both."""
    train: dict[str, dict] = {}
    for row in corpus.split("train"):
        train.setdefault(key(row), row)
    train.pop("", None)
    return [
        f"{row_ref(train[key(r)])}: {r['split']} row {row_ref(r)}"
        for r in corpus.split(*EVAL_SPLITS)
        if key(r) in train
    ]


def check_sentence_leakage(corpus: Corpus) -> list[Finding]:
    leaks = _leaks(corpus, lambda r: normalize_text(r["text"]))
    return findings_if(
        "leakage.sentence", "error", "{n} test or regression sentences are also in train", leaks
    )


def check_clip_leakage(corpus: Corpus) -> list[Finding]:
    leaks = _leaks(corpus, lambda r: r["_audio"].digest)
    return findings_if(
        "leakage.clip", "error", "{n} test or regression clips are also in train", leaks
    )


def check_voice_leakage(corpus: Corpus) -> list[Finding]:
    heldout = set(corpus.heldout_voices)
    bad = [f"{row_ref(r)}: {r['voice']}" for r in corpus.split("train") if r["voice"] in heldout]
    return findings_if("leakage.voice", "error", "{n} train clips use a held-out voice", bad)


# ---------------------------------------------------------------- the scenario


def is_grown(row: Mapping) -> bool:
    return str(row.get("source", "")).startswith(GROWN_SOURCE_PREFIX)


def check_terms_absent(corpus: Corpus) -> list[Finding]:
    terms = [t for t in (normalize_text(t) for t in corpus.terms) if t]
    bad = []
    for row in corpus.rows:
        text = f" {normalize_text(row['text'])} "
        found = [t for t in terms if f" {t} " in text]
        if found and not is_grown(row):
            bad.append(f"{row_ref(row)}: says {', '.join(found)}")
    return findings_if(
        "scenario.terms", "error", "{n} base-corpus clips already say an emerging term", bad
    )


def _row_digest(text: str, audio_digest: str) -> str:
    return hashlib.sha256(json.dumps([text, audio_digest]).encode()).hexdigest()


def _regression_digests(rows: Iterable[dict]) -> dict[str, str]:
    """Clip id (or manifest line) -> digest of its text and audio content."""
    return {
        str(r.get("id") or row_ref(r)): _row_digest(r["text"], r["_audio"].digest)
        for r in rows
        if r["split"] == "regression"
    }


def _total(digests: Mapping[str, str]) -> str:
    """Order-free hash of the set: renaming shards or reordering rows changes nothing."""
    return hashlib.sha256("\n".join(sorted(digests.values())).encode()).hexdigest()


def regression_hash(corpus_root: str | Path) -> str:
    """SHA-256 over the regression rows' text and audio content (order and layout free)."""
    rows, _ = read_rows(corpus_root)
    rows = [r for r in rows if r["split"] == "regression"]
    for row in rows:
        row["_audio"] = audio_stats(audio_path(row))
    return _total(_regression_digests(rows))


def _read_record(path: Path) -> tuple[str, dict[str, str]]:
    """(total, per-clip digests) from a ``regression.sha256`` file (sha256sum style)."""
    lines = [line.split(maxsplit=1) for line in path.read_text().splitlines() if line.strip()]
    return lines[0][0], {name: digest for digest, name in lines[1:]}


def _write_record(path: Path, digests: Mapping[str, str]) -> None:
    lines = [f"{_total(digests)}  *regression-set*"]
    lines += [f"{digests[name]}  {name}" for name in sorted(digests)]
    path.write_text("\n".join(lines) + "\n")


def _regression_reference(corpus: Corpus, digests: Mapping[str, str]):
    """(expected hash, known per-clip digests, its source), or None when recorded just now."""
    configured = corpus.settings.get("regression_hash")
    if configured:
        return str(configured), {}, "checks.data.regression_hash"
    record = corpus.root.parent / REGRESSION_FILE
    if record.exists():
        return (*_read_record(record), str(record))
    _write_record(record, digests)
    corpus.summary["regression_hash_recorded"] = str(record)
    return None


def check_regression_frozen(corpus: Corpus) -> list[Finding]:
    """The regression set's hash against the configured one or the one first recorded."""
    digests = _regression_digests(corpus.rows)
    current = corpus.summary["regression_hash"] = _total(digests)
    if not digests:
        return [Finding("scenario.regression_hash", "warning", "no regression rows", [])]
    reference = _regression_reference(corpus, digests)
    if reference is None or reference[0] == current:
        return []
    expected, known, source = reference
    changed = {name for name, _ in set(digests.items()) ^ set(known.items())}
    rows = sorted(changed or {r["_where"] for r in corpus.split("regression")})
    message = (
        f"the frozen regression set changed: hash {current[:12]} differs from {expected[:12]} "
        f"({source})"
    )
    return [Finding("scenario.regression_hash", "error", message, rows)]


# ---------------------------------------------------------------- label plausibility


def check_empty_text(corpus: Corpus) -> list[Finding]:
    bad = [row_ref(r) for r in corpus.rows if not r["text"].strip()]
    return findings_if("labels.empty", "error", "{n} clips have an empty transcript", bad)


def check_alphabet(corpus: Corpus) -> list[Finding]:
    allowed = set(corpus.alphabet)
    bad = []
    for row in corpus.rows:
        extra = sorted(set(row["text"]) - allowed)
        if extra:
            bad.append(f"{row_ref(row)}: {''.join(extra)!r}")
    return findings_if(
        "labels.alphabet", "error", "{n} transcripts use symbols outside the alphabet", bad
    )


def check_chars_per_second(corpus: Corpus) -> list[Finding]:
    low, high = (float(v) for v in corpus.settings["chars_per_second"])
    bad = []
    for row in corpus.rows:
        stats = row["_audio"]
        seconds = stats.seconds if stats.error is None else row["duration"]
        if not row["text"].strip() or seconds <= 0:
            continue
        rate = len(row["text"]) / seconds
        if not low <= rate <= high:
            bad.append(
                f"{row_ref(row)}: {rate:.1f} chars/s ({len(row['text'])} chars in {seconds:.2f} s)"
            )
    return findings_if(
        "labels.chars_per_second",
        "error",
        f"{{n}} transcripts are implausible for their clip (outside {low:g}-{high:g} "
        "chars/s: a transcript on the wrong clip?)",
        bad,
    )


# ---------------------------------------------------------------- balance


def _tally(rows: Iterable[dict], key: str) -> dict[str, dict]:
    counts: dict[str, dict] = defaultdict(lambda: {"rows": 0, "hours": 0.0})
    for row in rows:
        entry = counts[str(row[key])]
        entry["rows"] += 1
        entry["hours"] += row["duration"] / 3600
    return {
        name: {"rows": c["rows"], "hours": round(c["hours"], 4)}
        for name, c in sorted(counts.items())
    }


def check_split_balance(corpus: Corpus) -> list[Finding]:
    splits = _tally(corpus.rows, "split")
    corpus.summary["splits"] = splits
    minimum = dict(corpus.settings.get("min_split_rows") or {})
    bad = [
        f"{name}: {splits.get(name, {}).get('rows', 0)} rows (minimum {least})"
        for name, least in minimum.items()
        if splits.get(name, {}).get("rows", 0) < least
    ]
    return findings_if(
        "balance.split", "warning", "{n} splits have fewer rows than configured", bad
    )


def check_voice_balance(corpus: Corpus) -> list[Finding]:
    corpus.summary["voices"] = _tally(corpus.rows, "voice")
    train = _tally(corpus.split("train"), "voice")
    corpus.summary["train_voices"] = train
    ratio = float(corpus.settings["max_voice_ratio"])
    bad = [f"{voice}: no train rows" for voice in corpus.train_voices if voice not in train]
    for unit in ("rows", "hours"):
        values = {voice: c[unit] for voice, c in train.items()}
        if len(values) > 1 and min(values.values()) > 0:
            most, least = max(values, key=values.get), min(values, key=values.get)
            if values[most] / values[least] > ratio:
                bad.append(
                    f"{unit}: {most} has {values[most] / values[least]:.1f}x "
                    f"{least} ({values[most]:g} against {values[least]:g})"
                )
    return findings_if(
        "balance.voice", "warning", f"train voices are unbalanced (more than {ratio:g}x apart)", bad
    )


CHECKS: dict[str, Callable[[Corpus], list[Finding]]] = {
    "audio.decode": check_decode,
    "audio.format": check_format,
    "audio.duration": check_duration,
    "audio.silent": check_silent,
    "audio.clipped": check_clipped,
    "duplicates.audio": check_duplicate_audio,
    "duplicates.sentence_voice": check_duplicate_sentence_voice,
    "leakage.sentence": check_sentence_leakage,
    "leakage.clip": check_clip_leakage,
    "leakage.voice": check_voice_leakage,
    "scenario.terms": check_terms_absent,
    "scenario.regression_hash": check_regression_frozen,
    "labels.empty": check_empty_text,
    "labels.alphabet": check_alphabet,
    "labels.chars_per_second": check_chars_per_second,
    "balance.split": check_split_balance,
    "balance.voice": check_voice_balance,
}


# ---------------------------------------------------------------- entry points


def load_corpus(corpus_root: str | Path, cfg: DictConfig) -> tuple[Corpus, list[Finding]]:
    """Read every manifest and decode every clip once."""
    settings = OmegaConf.to_container(cfg.checks.data, resolve=True)
    settings.setdefault("sample_rate", int(cfg.features.sample_rate))
    rows, findings = read_rows(corpus_root)
    stats = all_audio_stats([audio_path(r) for r in rows], int(settings.get("workers", 1)))
    for row, stat in zip(rows, stats, strict=True):
        row["_audio"] = stat
    corpus = Corpus(
        Path(corpus_root),
        rows,
        settings,
        str(cfg.corpus.alphabet),
        list(cfg.corpus.voices.train),
        list(cfg.corpus.voices.heldout),
        list(cfg.scenario.terms),
    )
    return corpus, findings


def check_corpus(
    corpus_root: str | Path, cfg: DictConfig, only: Sequence[str] | None = None
) -> CheckReport:
    """Run the data checks (all, or those whose name starts with one of ``only``)."""
    start = time.perf_counter()
    report = CheckReport("data")
    if not Path(corpus_root).is_dir():
        report.add("schema", [Finding("schema", "error", f"no corpus at {corpus_root}", [])])
        return report
    corpus, schema = load_corpus(corpus_root, cfg)
    report.add("schema", schema)
    if not corpus.rows:
        report.add("schema", [Finding("schema", "error", f"no rows below {corpus_root}", [])])
    for name, check in CHECKS.items():
        if only is None or name.startswith(tuple(only)):
            report.add(name, check(corpus))
    hours = sum(r["duration"] for r in corpus.rows) / 3600
    report.summary = {
        "corpus": str(corpus_root),
        "rows": len(corpus.rows),
        "hours": round(hours, 4),
        **corpus.summary,
    }
    report.seconds = time.perf_counter() - start
    return report


def balance_table(summary: Mapping):
    """Rows and hours per split and per voice, as a rich table."""
    from rich.table import Table

    table = Table(title=f"corpus: {summary.get('rows', 0)} rows, {summary.get('hours', 0):.2f} h")
    for column in ("split / voice", "rows", "hours"):
        table.add_column(column, justify="left" if column.startswith("split") else "right")
    for group in ("splits", "voices"):
        for name, counts in summary.get(group, {}).items():
            table.add_row(name, str(counts["rows"]), f"{counts['hours']:.3f}")
        table.add_section()
    return table


def run(cfg: DictConfig) -> CheckReport:
    """``asrloop check data``: check ``paths.corpus``, print, write JSON, log; exit 1 on errors."""
    report = check_corpus(cfg.paths.corpus, cfg)
    console.print(balance_table(report.summary))
    report.print(console)
    path = report.write(Path(cfg.paths.reports) / "checks" / "data.json")
    with tracking.step_run(cfg, "check_data"):
        report.log_mlflow(tracking.setup(cfg))
    if not report.passed:
        raise SystemExit(
            f"data checks failed ({', '.join(report.failed_checks())}): "
            f"see {path}; errors block training and growth"
        )
    return report
