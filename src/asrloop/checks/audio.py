"""Audio checks: every clip decodes, at the expected rate and channels, as long as its
manifest says, neither silent nor clipped."""

from __future__ import annotations

from asrloop.checks.corpus import CorpusUnderTest
from asrloop.checks.report import Finding, findings_if


def check_decode(corpus: CorpusUnderTest) -> list[Finding]:
    bad = [f"{c.ref}: {c.audio.error}" for c in corpus.clips if c.audio.error]
    return findings_if("audio.decode", "error", "{n} clips are missing or do not decode", bad)


def check_format(corpus: CorpusUnderTest) -> list[Finding]:
    rate = corpus.rules.sample_rate
    bad = [
        f"{c.ref}: {c.audio.rate} Hz, {c.audio.channels} channels"
        for c in corpus.decoded()
        if (c.audio.rate, c.audio.channels) != (rate, 1)
    ]
    message = f"{{n}} clips are not {rate} Hz mono (`asrloop corpus import` converts audio)"
    return findings_if("audio.format", "error", message, bad)


def check_duration(corpus: CorpusUnderTest) -> list[Finding]:
    tolerance = corpus.settings.duration_tolerance
    bad = [
        f"{c.ref}: manifest {c.row.duration:.3f} s, audio {c.audio.seconds:.3f} s"
        for c in corpus.decoded()
        if abs(c.row.duration - c.audio.seconds) > tolerance
    ]
    return findings_if(
        "audio.duration",
        "error",
        f"{{n}} clips differ from their manifest duration by more than {tolerance} s",
        bad,
    )


def check_silent(corpus: CorpusUnderTest) -> list[Finding]:
    floor = corpus.settings.min_rms_dbfs
    bad = [
        f"{c.ref}: {c.audio.rms_dbfs:.1f} dBFS"
        for c in corpus.decoded()
        if c.audio.rms_dbfs < floor
    ]
    return findings_if(
        "audio.silent", "error", f"{{n}} clips are silent (RMS below {floor} dBFS)", bad
    )


def check_clipped(corpus: CorpusUnderTest) -> list[Finding]:
    limit = corpus.settings.max_clipped_share
    bad = [
        f"{c.ref}: {c.audio.clipped_share:.2%} of samples at full scale"
        for c in corpus.decoded()
        if c.audio.clipped_share > limit
    ]
    return findings_if(
        "audio.clipped",
        "error",
        f"{{n}} clips are clipped (over {limit:.1%} of samples at full scale)",
        bad,
    )
