"""Scenario checks: the emerging terms are absent from the base corpus (grown shards may carry
them), and the frozen regression set has not changed (:func:`regression_hash`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from asrloop.checks.corpus import Clip, CorpusUnderTest, audio_stats
from asrloop.checks.report import Finding, findings_if
from asrloop.corpus.manifest import scan_manifests
from asrloop.text.normalize import normalize_text

REGRESSION_FILE = "regression.sha256"


def says_term(words: list[str], term: list[str], inflections: tuple[str, ...]) -> bool:
    """Whether ``words`` contain ``term``, its last word possibly inflected ("term's")."""
    n = len(term)
    for i in range(len(words) - n + 1):
        if words[i : i + n - 1] != term[:-1]:
            continue
        last, want = words[i + n - 1], term[-1]
        if last == want or any(last == want + ending for ending in inflections):
            return True
    return False


def check_terms_absent(corpus: CorpusUnderTest) -> list[Finding]:
    """No base-corpus clip says an emerging term, plain or inflected (``checks.data.
    term_inflections``): the loop must learn the terms from production, not from the start."""
    terms = [t.split() for t in (normalize_text(t) for t in corpus.rules.terms) if t]
    endings = tuple(corpus.settings.term_inflections)
    bad = []
    for clip in corpus.clips:
        words = normalize_text(clip.row.text or "").split()
        found = [" ".join(t) for t in terms if says_term(words, t, endings)]
        if found and not clip.row.is_grown:
            bad.append(f"{clip.ref}: says {', '.join(found)}")
    return findings_if(
        "scenario.terms", "error", "{n} base-corpus clips already say an emerging term", bad
    )


def _row_digest(text: str, audio_digest: str) -> str:
    return hashlib.sha256(json.dumps([text, audio_digest]).encode()).hexdigest()


def _regression_digests(clips: Iterable[Clip]) -> dict[str, str]:
    """Clip id -> digest of its text and audio content."""
    return {
        c.row.id: _row_digest(c.row.text or "", c.audio.digest)
        for c in clips
        if c.row.split == "regression"
    }


def _total(digests: Mapping[str, str]) -> str:
    """Order-free hash of the set: renaming shards or reordering rows changes nothing."""
    return hashlib.sha256("\n".join(sorted(digests.values())).encode()).hexdigest()


def regression_hash(corpus_root: str | Path) -> str:
    """SHA-256 over the regression rows' text and audio content (order and layout free)."""
    rows = [r for r in scan_manifests(corpus_root).rows if r.split == "regression"]
    return _total(
        _regression_digests(Clip(r, audio_stats(r.audio_path, r.segment), r.id) for r in rows)
    )


def _read_record(path: Path) -> tuple[str, dict[str, str]]:
    """(total, per-clip digests) from a ``regression.sha256`` file (sha256sum style)."""
    lines = [line.split(maxsplit=1) for line in path.read_text().splitlines() if line.strip()]
    return lines[0][0], {name: digest for digest, name in lines[1:]}


def _write_record(path: Path, digests: Mapping[str, str]) -> None:
    lines = [f"{_total(digests)}  *regression-set*"]
    lines += [f"{digests[name]}  {name}" for name in sorted(digests)]
    path.write_text("\n".join(lines) + "\n")


def _regression_reference(corpus: CorpusUnderTest, digests: Mapping[str, str]):
    """(expected hash, known per-clip digests, its source), or None when recorded just now."""
    configured = corpus.settings.regression_hash
    if configured:
        return str(configured), {}, "checks.data.regression_hash"
    record = corpus.root.parent / REGRESSION_FILE
    if record.exists():
        return (*_read_record(record), str(record))
    _write_record(record, digests)
    corpus.summary["regression_hash_recorded"] = str(record)
    return None


def check_regression_frozen(corpus: CorpusUnderTest) -> list[Finding]:
    """The regression set's hash against the configured one or the one first recorded."""
    digests = _regression_digests(corpus.clips)
    current = corpus.summary["regression_hash"] = _total(digests)
    if not digests:
        return [Finding("scenario.regression_hash", "warning", "no regression rows", [])]
    reference = _regression_reference(corpus, digests)
    if reference is None or reference[0] == current:
        return []
    expected, known, source = reference
    changed = {name for name, _ in set(digests.items()) ^ set(known.items())}
    where = {c.ref.split(":")[0] for c in corpus.split("regression")}
    rows = sorted(changed or where)
    message = (
        f"the frozen regression set changed: hash {current[:12]} differs from {expected[:12]} "
        f"({source})"
    )
    return [Finding("scenario.regression_hash", "error", message, rows)]
