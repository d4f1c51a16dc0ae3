"""The gate's evidence as paired intervals: the challenger against another model, clip by clip.

Both models transcribed the same clips, so the interval of their difference comes from a paired
bootstrap over those clips (:mod:`asrloop.stats.bootstrap`): WER on the regression set and on
held-out drop audio, each term's recall on held-out audio, and WER per slice of the regression
set. The matched-pairs tests (:mod:`asrloop.stats.tests`) and the clips a decision needs
(:mod:`asrloop.stats.power`) come with them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from asrloop.corpus.slices import slices_of
from asrloop.inference.batch import Prediction
from asrloop.metrics import term_hits, utterance_errors
from asrloop.records import Interval, PairedTests, PowerStatement, SliceComparison
from asrloop.settings.gate import GateSettings
from asrloop.stats.bootstrap import paired_difference
from asrloop.stats.power import clips_needed
from asrloop.stats.tests import matched_pairs


@dataclass(frozen=True)
class Comparison:
    """Intervals of the challenger minus another model (``version``) on the same clips."""

    version: str
    regression: Interval  # WER difference on the regression set
    heldout: Interval  # WER difference on held-out drop audio
    regression_clips: int
    heldout_clips: int
    recall: dict[str, Interval] = field(default_factory=dict)  # per term, held-out audio
    tests: PairedTests | None = None  # matched pairs on the regression set


def _same_clips(a: Sequence[Prediction], b: Sequence[Prediction]) -> None:
    if [p.utterance.id for p in a] != [p.utterance.id for p in b]:
        raise ValueError("a paired comparison needs both models' predictions on the same clips")


def _errors(predictions: Sequence[Prediction]) -> tuple[list[int], list[int]]:
    return utterance_errors([p.reference for p in predictions], [p.hypothesis for p in predictions])


def wer_difference(
    ours: Sequence[Prediction], theirs: Sequence[Prediction], rules: GateSettings
) -> tuple[Interval, PairedTests]:
    """Our WER minus theirs on the same clips, with the matched-pairs tests."""
    _same_clips(ours, theirs)
    errors, words = _errors(ours)
    other, _ = _errors(theirs)
    interval = paired_difference(other, errors, words, rules.confidence, rules.resamples)
    return interval, matched_pairs(other, errors)


def recall_difference(
    ours: Sequence[Prediction], theirs: Sequence[Prediction], term: str, rules: GateSettings
) -> Interval:
    """Our recall of ``term`` minus theirs, on the clips that say it."""
    refs = [p.reference for p in ours]
    hits, said, _ = term_hits(refs, [p.hypothesis for p in ours], term)
    other, _, _ = term_hits(refs, [p.hypothesis for p in theirs], term)
    keep = [i for i, n in enumerate(said) if n]
    return paired_difference(
        [other[i] for i in keep],
        [hits[i] for i in keep],
        [said[i] for i in keep],
        rules.confidence,
        rules.resamples,
    )


def compare(
    version: str,
    ours: tuple[Sequence[Prediction], Sequence[Prediction]],
    theirs: tuple[Sequence[Prediction], Sequence[Prediction]],
    terms: Sequence[str],
    rules: GateSettings,
) -> Comparison:
    """The challenger's ``(regression, held-out)`` predictions against another model's."""
    regression, tests = wer_difference(ours[0], theirs[0], rules)
    heldout, _ = wer_difference(ours[1], theirs[1], rules)
    recall = {t: recall_difference(ours[1], theirs[1], t, rules) for t in terms}
    return Comparison(version, regression, heldout, len(ours[0]), len(ours[1]), recall, tests)


def slice_comparisons(
    ours: Sequence[Prediction], theirs: Sequence[Prediction], rules: GateSettings
) -> tuple[SliceComparison, ...]:
    """WER difference per slice of the regression set. A slice blocks when it has
    ``slices.min_clips`` clips and its interval lies above ``slices.margin``; the confidence is
    Bonferroni-corrected for the number of such slices (many slices: one may look bad by chance)."""
    _same_clips(ours, theirs)
    errors, words = _errors(ours)
    other, _ = _errors(theirs)
    members: dict[str, list[int]] = defaultdict(list)
    for i, prediction in enumerate(ours):
        for name in slices_of(prediction.utterance):
            members[name].append(i)
    judged = [n for n, rows in members.items() if len(rows) >= rules.slices.min_clips]
    confidence = 1 - (1 - rules.confidence) / max(len(judged), 1)
    out = []
    for name in sorted(members):
        rows = members[name]
        interval = paired_difference(
            [other[i] for i in rows],
            [errors[i] for i in rows],
            [words[i] for i in rows],
            confidence if name in judged else rules.confidence,
            rules.resamples,
        )
        blocks = name in judged and interval.low > rules.slices.margin
        out.append(SliceComparison(name, len(rows), interval, blocks))
    return tuple(out)


def power_statement(
    ours: Sequence[Prediction], theirs: Sequence[Prediction], rules: GateSettings
) -> PowerStatement | None:
    """What this regression set can decide, from the per-clip differences just measured."""
    if len(ours) < 2 or rules.max_regression_wer_delta <= 0:
        return None
    errors, words = _errors(ours)
    other, _ = _errors(theirs)
    sd = float(np.std(np.subtract(errors, other), ddof=1))
    per_clip = float(np.mean(words))
    needed = clips_needed(
        max(sd, 1e-9), per_clip, rules.max_regression_wer_delta, rules.confidence, rules.power
    )
    return PowerStatement(
        clips=len(ours),
        words_per_clip=per_clip,
        sd_difference=sd,
        margin=rules.max_regression_wer_delta,
        confidence=rules.confidence,
        power=rules.power,
        clips_needed=needed,
    )
