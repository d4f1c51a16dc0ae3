"""Context biasing compiled into the n-gram LM, so the native KenLM scores it.

The context graph (:mod:`asrloop.text.context_graph`) gives each word that extends a phrase a
bonus and takes it back when the partial match fails; as a flashlight LM written in Python it is
called back for every LM query. Compiled, the net effect on a finished hypothesis is the same: a
phrase of ``n`` words said in full earns ``n`` bonuses, a partial match earns none. So every
n-gram entry that ends with the whole phrase (the phrase itself, and the longer contexts that
end with it) gets ``n * bonus`` added to its log10 probability, the phrase's own entry written
in where the model backed off to it. Unlike the graph, the search sees the bonus only once the
phrase is complete (no partial credit on the way), and the distributions are no longer
normalised (as with the graph).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from asrloop.text.arpa import NO_PROB, NGramModel


def bias_model(model: NGramModel, phrases: Iterable[Sequence[str]], bonus: float) -> NGramModel:
    """A copy of ``model`` with ``bonus`` (log10) per word compiled onto each phrase's last word
    in the phrase's context; a phrase longer than the model's order is conditioned on its last
    ``order - 1`` words. Words outside the model are left out (the model reads them as
    ``<unk>``)."""
    probs = [dict(table) for table in model.probs]
    backoffs = [dict(table) for table in model.backoffs]
    vocab = model.vocab
    known = [p for p in dict.fromkeys(tuple(p) for p in phrases if p) if set(p) <= vocab]
    lasts = {phrase[-1] for phrase in known}
    ending: dict[str, list[tuple[str, ...]]] = defaultdict(list)  # last word -> its n-grams
    for table in probs:
        for ngram in table:
            if ngram[-1] in lasts:
                ending[ngram[-1]].append(ngram)
    for phrase in known:
        key = phrase[-model.order :]
        if key not in probs[len(key) - 1]:
            probs[len(key) - 1][key] = model.logprob(key[-1], key[:-1])
            ending[key[-1]].append(key)
            if len(key) < model.order:
                backoffs[len(key) - 1].setdefault(key, 0.0)  # an explicit "no back-off"
        added = len(phrase) * bonus
        for ngram in ending[key[-1]]:
            if len(ngram) >= len(key) and ngram[-len(key) :] == key:
                probs[len(ngram) - 1][ngram] += added
    return NGramModel(model.order, probs, backoffs)


def without_positive_scores(model: NGramModel) -> tuple[NGramModel, float]:
    """KenLM refuses log10 probabilities above 0, which large bonuses make: the model with
    ``shift`` subtracted from every entry (``<s>``'s "never" kept), and the shift. Every word a
    hypothesis writes pays it once, so a decoder adding ``lm_weight * shift`` to its word score
    ranks hypotheses exactly as with the unshifted model (the end of sentence is scored once for
    every hypothesis)."""
    highest = max((v for table in model.probs for v in table.values()), default=0.0)
    shift = max(0.0, highest) + (1e-3 if highest >= 0 else 0.0)
    if shift == 0.0:
        return model, 0.0
    probs = [
        {g: v if v <= NO_PROB else v - shift for g, v in table.items()} for table in model.probs
    ]
    return NGramModel(model.order, probs, [dict(t) for t in model.backoffs]), shift
