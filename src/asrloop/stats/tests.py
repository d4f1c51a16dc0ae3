"""The matched-pairs tests of NIST SCTK's ``sc_stats``, on per-utterance error counts.

A second opinion beside the bootstrap interval: the matched-pairs sentence-segment word error
test (MAPSSWE, here with sentences as segments: a z-test on the mean per-utterance difference),
the sign test (which model has fewer errors, utterance by utterance) and the Wilcoxon
signed-rank test. Two-sided p-values; a p-value below 0.05 says the two models differ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from asrloop.records import PairedTests


def matched_pairs(errors_a: Sequence[float], errors_b: Sequence[float]) -> PairedTests:
    """Tests of "B makes as many errors as A" on the same utterances."""
    a = np.asarray(errors_a, dtype=np.float64)
    b = np.asarray(errors_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{len(a)} utterances against {len(b)}")
    diff = b - a
    n = len(diff)
    changed = diff[diff != 0]
    mean = float(diff.mean()) if n else 0.0
    sd = float(diff.std(ddof=1)) if n > 1 else 0.0
    if sd > 0:
        z = mean / (sd / np.sqrt(n))
        mapsswe = float(2 * stats.norm.sf(abs(z)))
    else:
        z, mapsswe = 0.0, 1.0 if mean == 0 else 0.0
    if len(changed):
        sign = float(stats.binomtest(int((changed > 0).sum()), len(changed), 0.5).pvalue)
        wilcoxon = float(stats.wilcoxon(changed).pvalue)
    else:
        sign = wilcoxon = 1.0
    return PairedTests(
        n=n,
        changed=len(changed),
        mean_difference=mean,
        sd_difference=sd,
        mapsswe_z=float(z),
        mapsswe_p=mapsswe,
        sign_p=sign,
        wilcoxon_p=wilcoxon,
    )
