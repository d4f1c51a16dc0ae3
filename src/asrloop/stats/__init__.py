"""Statistics for "B is better than A" on the same audio: paired bootstrap intervals, the
matched-pairs tests and the sample sizes a decision needs (pure numpy/scipy, no I/O)."""
