"""Word n-gram language models estimated in the project and stored as ARPA back-off files.

Two interpolated smoothings: modified Kneser-Ney (Chen & Goodman 1998, as KenLM's ``lmplz``
does it) and Witten-Bell. Both give each seen context ``h`` a discounted part ``alpha(h w)``
and a left-over mass ``gamma(h)`` shared out by the shorter context ``h'`` (``h`` minus its
first word)::

    p(w | h) = alpha(h w) + gamma(h) * p(w | h')

The unigram interpolates with the uniform distribution over the vocabulary (``<unk>`` and
``</s>`` included, ``<s>`` never predicted). Writing every seen n-gram with its interpolated
probability and ``gamma(h)`` as the back-off weight of ``h`` gives a proper back-off model:
the distribution of every context sums to one.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from asrloop.errors import DataError

SOS, EOS, UNK = "<s>", "</s>", "<unk>"
NO_PROB = -99.0  # ARPA's log10 "zero", used for <s> (never predicted)
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback, for too few counts
METHODS = ("kneser_ney", "witten_bell")

NGram = tuple[str, ...]


class ArpaError(DataError):
    """An ARPA file that cannot be read; the message names the file and line."""


@dataclass
class NGramModel:
    """A back-off n-gram model: log10 probabilities and back-off weights per order."""

    order: int
    probs: list[dict[NGram, float]]  # probs[n - 1]: n-gram -> log10 p(last | rest)
    backoffs: list[dict[NGram, float]] = field(default_factory=list)  # log10; absent = 0

    def __post_init__(self) -> None:
        while len(self.backoffs) < self.order:
            self.backoffs.append({})

    @cached_property
    def vocab(self) -> set[str]:
        return {ngram[0] for ngram in self.probs[0]}

    def logprob(self, word: str, context: Iterable[str] = ()) -> float:
        """log10 p(word | context) by ARPA back-off; unknown words read as ``<unk>``."""
        vocab = self.vocab
        word = word if word in vocab else UNK
        context = tuple(w if w in vocab else UNK for w in context)
        context = context[len(context) - self.order + 1 :] if self.order > 1 else ()
        penalty = 0.0
        while True:
            ngram = (*context, word)
            if ngram in self.probs[len(ngram) - 1]:
                return penalty + self.probs[len(ngram) - 1][ngram]
            if not context:
                return NO_PROB
            penalty += self.backoffs[len(context) - 1].get(context, 0.0)
            context = context[1:]

    def score(self, sentence: str) -> float:
        """log10 probability of a whole sentence, ``</s>`` included."""
        tokens = [SOS, *sentence.split(), EOS]
        return sum(self.logprob(tokens[i], tokens[:i]) for i in range(1, len(tokens)))

    def write_arpa(self, path: str | Path) -> Path:
        """Write the standard ARPA text format (sorted, so the file is byte-stable)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["\\data\\"]
        lines += [f"ngram {n}={len(self.probs[n - 1])}" for n in range(1, self.order + 1)]
        for n in range(1, self.order + 1):
            lines += ["", f"\\{n}-grams:"]
            for ngram in sorted(self.probs[n - 1]):
                lines.append(self._arpa_line(ngram))
        lines += ["", "\\end\\", ""]
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    def _arpa_line(self, ngram: NGram) -> str:
        line = f"{self.probs[len(ngram) - 1][ngram]:.6f}\t{' '.join(ngram)}"
        backoff = self.backoffs[len(ngram) - 1].get(ngram)
        return line if backoff is None else f"{line}\t{backoff:.6f}"


def estimate(
    sentences: Iterable[str],
    order: int = 3,
    method: str = "kneser_ney",
    boost: Mapping[str, float] | None = None,
    vocabulary: Iterable[str] = (),
) -> NGramModel:
    """Estimate an interpolated n-gram model from whitespace-tokenised sentences.

    ``boost`` maps hot words to a log10 bonus on their unigram (then renormalised);
    ``vocabulary`` lists extra words to include even with no count (they share the
    uniform mass with ``<unk>``).
    """
    if order < 1:
        raise ValueError(f"order must be at least 1, got {order}")
    if method not in METHODS:
        raise ValueError(f"unknown smoothing {method!r}; choose one of {METHODS}")
    boost = dict(boost or {})
    counts = count_ngrams(sentences, order)
    if method == "kneser_ney":
        counts = kn_adjusted_counts(counts)
        tables = [_kneser_ney_order(c) for c in counts]
    else:
        tables = [_witten_bell_order(c) for c in counts]
    alphas = [alpha for alpha, _ in tables]
    gammas = [gamma for _, gamma in tables]
    vocab = {w for (w,) in counts[0]} | set(vocabulary) | set(boost) | {EOS, UNK}
    vocab.discard(SOS)
    probs = _interpolate(alphas, gammas, sorted(vocab), boost)
    return _to_model(probs, gammas)


def count_ngrams(sentences: Iterable[str], order: int) -> list[Counter[NGram]]:
    """Raw counts of every n-gram (n <= order) ending at a predicted token."""
    counts: list[Counter[NGram]] = [Counter() for _ in range(order)]
    for sentence in sentences:
        tokens = [SOS, *sentence.split(), EOS]
        for end in range(1, len(tokens)):
            for n in range(1, min(order, end + 1) + 1):
                counts[n - 1][tuple(tokens[end - n + 1 : end + 1])] += 1
    return counts


def kn_adjusted_counts(counts: list[Counter[NGram]]) -> list[Counter[NGram]]:
    """Kneser-Ney counts: the highest order and n-grams starting with ``<s>`` keep their raw
    count; every other n-gram counts its distinct left extensions."""
    adjusted: list[Counter[NGram]] = [Counter() for _ in counts]
    adjusted[-1].update(counts[-1])
    for n in range(len(counts) - 1):
        for longer in counts[n + 1]:
            adjusted[n][longer[1:]] += 1
        for ngram, count in counts[n].items():
            if ngram[0] == SOS:
                adjusted[n][ngram] = count
    return adjusted


def kn_discounts(count_of_counts: Mapping[int, int]) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from the counts of counts of one order.

    ``Y = n1 / (n1 + 2 n2)``, ``Dk = k - (k + 1) Y n(k+1) / nk``. When a count of counts is
    zero or a discount falls outside ``(0, k]`` (tiny corpora), the whole order uses
    :data:`FALLBACK_DISCOUNTS`, as KenLM's ``--discount_fallback`` does.
    """
    n = [count_of_counts.get(k, 0) for k in range(1, 5)]
    if min(n[:3]) == 0:
        return FALLBACK_DISCOUNTS
    y = n[0] / (n[0] + 2 * n[1])
    d1, d2, d3 = (k - (k + 1) * y * n[k] / n[k - 1] for k in (1, 2, 3))
    if 0 < d1 <= 1 and 0 < d2 <= 2 and 0 < d3 <= 3:
        return d1, d2, d3
    return FALLBACK_DISCOUNTS


def _by_context(counts: Counter[NGram]) -> dict[NGram, dict[str, int]]:
    grouped: dict[NGram, dict[str, int]] = defaultdict(dict)
    for ngram, count in counts.items():
        grouped[ngram[:-1]][ngram[-1]] = count
    return grouped


def _kneser_ney_order(counts: Counter[NGram]) -> tuple[dict, dict]:
    discounts = kn_discounts(Counter(counts.values()))

    def discount(count: int) -> float:
        return discounts[min(count, 3) - 1]

    alpha, gamma = {}, {}
    for context, followers in _by_context(counts).items():
        total = sum(followers.values())
        for word, count in followers.items():
            alpha[(*context, word)] = (count - discount(count)) / total
        gamma[context] = sum(discount(c) for c in followers.values()) / total
    return alpha, gamma


def _witten_bell_order(counts: Counter[NGram]) -> tuple[dict, dict]:
    alpha, gamma = {}, {}
    for context, followers in _by_context(counts).items():
        denominator = sum(followers.values()) + len(followers)
        for word, count in followers.items():
            alpha[(*context, word)] = count / denominator
        gamma[context] = len(followers) / denominator
    return alpha, gamma


def _interpolate(
    alphas: list[dict], gammas: list[dict], vocab: list[str], boost: Mapping[str, float]
) -> list[dict[NGram, float]]:
    """Interpolated probabilities (linear) of every seen n-gram, lowest order first."""
    uniform = gammas[0].get((), 1.0) / len(vocab)
    unigram = {(w,): alphas[0].get((w,), 0.0) + uniform for w in vocab}
    probs = [_boost_unigram(unigram, boost)]
    for n in range(1, len(alphas)):
        probs.append(
            {
                ngram: alpha + gammas[n][ngram[:-1]] * _backoff_prob(probs, gammas, ngram[1:])
                for ngram, alpha in alphas[n].items()
            }
        )
    return probs


def _backoff_prob(probs: list[dict], gammas: list[dict], ngram: NGram) -> float:
    """Interpolated p(last | rest) of a possibly unseen n-gram, by backing off."""
    weight = 1.0
    while ngram not in probs[len(ngram) - 1]:
        weight *= gammas[len(ngram) - 1].get(ngram[:-1], 1.0)
        ngram = ngram[1:]
    return weight * probs[len(ngram) - 1][ngram]


def _boost_unigram(unigram: dict[NGram, float], boost: Mapping[str, float]) -> dict:
    """Multiply hot words' unigram by ``10 ** bonus`` and renormalise."""
    if not boost:
        return unigram
    boosted = {ngram: p * 10.0 ** boost.get(ngram[0], 0.0) for ngram, p in unigram.items()}
    total = sum(boosted.values())
    return {ngram: p / total for ngram, p in boosted.items()}


def _log10(p: float) -> float:
    return math.log10(p) if p > 0 else NO_PROB


def _to_model(probs: list[dict], gammas: list[dict]) -> NGramModel:
    order = len(probs)
    log_probs = [{ngram: _log10(p) for ngram, p in table.items()} for table in probs]
    log_probs[0][(SOS,)] = NO_PROB
    backoffs: list[dict[NGram, float]] = [{} for _ in range(order)]
    for n in range(1, order):
        for context, gamma in gammas[n].items():
            backoffs[n - 1][context] = _log10(gamma)
    return NGramModel(order, log_probs, backoffs)


def read_arpa(path: str | Path) -> NGramModel:
    """Read an ARPA file written by :meth:`NGramModel.write_arpa` (or any standard tool)."""
    path = Path(path)
    probs: list[dict[NGram, float]] = []
    backoffs: list[dict[NGram, float]] = []
    n = 0
    for line_number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("ngram ") or line in {"\\data\\", "\\end\\"}:
            continue
        if line.startswith("\\") and line.endswith("-grams:"):
            n = int(line[1:].split("-")[0])
            while len(probs) < n:
                probs.append({})
                backoffs.append({})
            continue
        fields = line.split()
        if n == 0 or len(fields) not in (n + 1, n + 2):
            raise ArpaError(f"{path}:{line_number}: malformed line {raw!r}")
        ngram = tuple(fields[1 : n + 1])
        probs[n - 1][ngram] = float(fields[0])
        if len(fields) == n + 2:
            backoffs[n - 1][ngram] = float(fields[-1])
    if not probs:
        raise ArpaError(f"{path}: no n-gram sections")
    return NGramModel(len(probs), probs, backoffs)
