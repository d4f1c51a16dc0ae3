"""Label plausibility: no empty transcript, text in the alphabet, a speaking rate that fits
the clip (outside it, a transcript is probably on the wrong clip)."""

from __future__ import annotations

from asrloop.checks.corpus import CorpusUnderTest
from asrloop.checks.report import Finding, findings_if


def check_empty_text(corpus: CorpusUnderTest) -> list[Finding]:
    bad = [c.ref for c in corpus.clips if not c.row.has_text]
    return findings_if("labels.empty", "error", "{n} clips have an empty transcript", bad)


def check_alphabet(corpus: CorpusUnderTest) -> list[Finding]:
    allowed = set(corpus.rules.alphabet)
    bad = []
    for clip in corpus.clips:
        extra = sorted(set(clip.row.text or "") - allowed)
        if extra:
            bad.append(f"{clip.ref}: {''.join(extra)!r}")
    return findings_if(
        "labels.alphabet", "error", "{n} transcripts use symbols outside the alphabet", bad
    )


def check_chars_per_second(corpus: CorpusUnderTest) -> list[Finding]:
    low, high = corpus.settings.chars_per_second
    bad = []
    for clip in corpus.clips:
        text = clip.row.text or ""
        seconds = clip.audio.seconds if clip.audio.error is None else clip.row.duration
        if not text.strip() or seconds <= 0:
            continue
        rate = len(text) / seconds
        if not low <= rate <= high:
            bad.append(f"{clip.ref}: {rate:.1f} chars/s ({len(text)} chars in {seconds:.2f} s)")
    return findings_if(
        "labels.chars_per_second",
        "error",
        f"{{n}} transcripts are implausible for their clip (outside {low:g}-{high:g} "
        "chars/s: a transcript on the wrong clip?)",
        bad,
    )
