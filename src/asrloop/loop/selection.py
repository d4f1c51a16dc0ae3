"""Which production clips a reviewer sees first: the review queue's ranking (``triage.selection``).

A strategy orders the review pool (the drop's clips outside its held-out part) and says why
each clip is there; the queue keeps the first ``size`` rows with their rank, so a reviewer
with a budget reviews the most useful clips first. Strategies (``STRATEGIES``):

- ``mixed`` (the default): a uniform sample (the unbiased error estimate), then clips with a
  flagged phrase (the monitor's top spikes, shared by weight), then the least confident;
- ``random``: the pool in a seeded random order (the baseline every other is measured against);
- ``least_confidence``: lowest mean word confidence first;
- ``margin``: lowest mean gap between the two best CTC posteriors on speech frames first;
- ``entropy``: highest mean CTC posterior entropy on speech frames first;
- ``disagreement``: most different served decode and greedy second path first;
- ``term_focused``: clips saying a flagged phrase, then clips with a near miss of one (a phrase
  spelled alike), then the least confident.

Flagged phrases share their rows by weight (:func:`flagged_round_robin`); with ``group_overlap``,
phrases said in the same clips (one misheard word's renderings and context words) share one
weight, so a word whose evidence is split over many light phrases is not crowded out.

An exploration step (``explore_every``) can give every n-th row to a uniformly random clip (the
``random`` strategy's own order): a ranking that keeps choosing one kind of clip (one way a
word is misheard) still shows the reviewer the rest of the drop at a known rate. A diversity
step (``diversity_k``) then keeps the first k rows from repeating a voice with the
same sentence pattern (hypotheses sharing most word pairs): a second clip of both tells a
reviewer little new.
"""

from __future__ import annotations

import difflib
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from asrloop.errors import DataError
from asrloop.inference.transcript import Transcript
from asrloop.loop.review_queue import RANDOM
from asrloop.progress import console
from asrloop.settings.triage import STRATEGIES, SelectionSettings, TriageSettings
from asrloop.text.normalize import words


@dataclass(frozen=True)
class Pick:
    """A clip of the review pool, and why the strategy put it where it is."""

    transcript: Transcript
    reason: str


Phrases = Mapping[str, float]  # the monitor's flagged phrases in rank order, with their weight
Strategy = Callable[[list[Transcript], Phrases, TriageSettings, random.Random], list[Pick]]


def contains(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == tuple(phrase) for i in range(len(tokens) - n + 1))


def span_confidence(transcript: Transcript, phrase: Sequence[str]) -> float:
    """The lowest word confidence where ``phrase`` is heard in the clip (1.0: not heard)."""
    spoken = transcript.transcription.words
    tokens = [w.word for w in spoken]
    n = len(phrase)
    spans = [
        min(w.confidence for w in spoken[i : i + n])
        for i in range(len(tokens) - n + 1)
        if tuple(tokens[i : i + n]) == tuple(phrase)
    ]
    return min(spans, default=1.0)


def flagged_round_robin(
    pool: list[Transcript], phrases: Phrases, taken: set[str], quota: int, overlap: float = 0.0
) -> list[Pick]:
    """Up to ``quota`` clips containing the phrases, shared among them by weight.

    Each next clip goes to the phrase with the highest ``weight / (2 * taken + 1)`` (Sainte-
    Lague's divisors: shares proportional to weight, every phrase soon served; equal weights
    give a round-robin in phrase order). A clip belongs to the heaviest phrase it contains;
    within a phrase, its own clips come first (a clip that also says a heavier phrase is that
    phrase's evidence: two new terms misheard as one known word share a phrase), then the clip where
    the model is least sure of the phrase's words: where a heard phrase is a known word the model
    wrote for a new one, it is rarely sure. With ``overlap`` > 0, phrases whose clips overlap that
    much (:func:`phrase_groups`) take one share together, the heaviest one's, split among them
    by the same rule."""
    tokens = {t.id: words(t.text) for t in pool}
    hits = {
        phrase: [t for t in pool if contains(tokens[t.id], phrase.split())] for phrase in phrases
    }
    owner: dict[str, str] = {}
    for phrase in sorted(phrases, key=lambda p: -phrases[p]):  # stable: ties keep phrase order
        for clip in hits[phrase]:
            owner.setdefault(clip.id, phrase)
    queues = {}
    for phrase, weight in phrases.items():
        spelled = phrase.split()
        ordered = sorted(
            hits[phrase],
            key=lambda t: (owner[t.id] != phrase, span_confidence(t, spelled), t.id),
        )
        queues[phrase] = _PhraseQueue(phrase, max(weight, 1e-9), deque(ordered))
    clips = {phrase: {t.id for t in found} for phrase, found in hits.items()}
    groups = [
        _GroupQueue([queues[phrase] for phrase in group]) for group in phrase_groups(clips, overlap)
    ]
    picked: list[Pick] = []
    while len(picked) < quota:
        live = [group for group in groups if group.drop_taken(taken)]
        if not live:
            break
        group = max(live, key=_GroupQueue.priority)  # the first of equals: phrase order
        queue = group.next_phrase()
        clip = queue.hits.popleft()
        queue.served += 1
        taken.add(clip.id)
        picked.append(Pick(clip, f"flagged: {queue.phrase}"))
    return picked


def phrase_groups(clips: Mapping[str, set[str]], overlap: float) -> list[list[str]]:
    """The flagged phrases (``clips``: the clips saying each, in phrase order) joined
    (transitively) where the clips saying them overlap by at least ``overlap`` of the smaller
    phrase's clips: the renderings and the context words of one misheard word, which should not
    each claim a share of the queue. Groups in the order of their first phrase, each in phrase
    order; ``overlap`` 0: every phrase its own group."""
    order = list(clips)
    group = {phrase: n for n, phrase in enumerate(order)}
    if overlap > 0:
        for i, a in enumerate(order):
            for b in order[i + 1 :]:
                smaller = min(len(clips[a]), len(clips[b]))
                if smaller and len(clips[a] & clips[b]) >= overlap * smaller:
                    joined, into = max(group[a], group[b]), min(group[a], group[b])
                    group = {p: into if g == joined else g for p, g in group.items()}
    members: dict[int, list[str]] = {}
    for phrase in order:
        members.setdefault(group[phrase], []).append(phrase)
    return [members[g] for g in sorted(members)]


@dataclass
class _PhraseQueue:
    phrase: str
    weight: float
    hits: deque[Transcript]
    served: int = 0

    def priority(self) -> float:
        return self.weight / (2 * self.served + 1)

    def drop_taken(self, taken: set[str]) -> bool:
        """Skip clips another phrase took; whether any clip is left."""
        while self.hits and self.hits[0].id in taken:
            self.hits.popleft()
        return bool(self.hits)


@dataclass
class _GroupQueue:
    """Phrases that take one share of the queue: the heaviest one's weight (one phrase alone:
    its own queue, unchanged)."""

    members: list[_PhraseQueue]

    def priority(self) -> float:
        served = sum(queue.served for queue in self.members)
        return max(queue.weight for queue in self.members) / (2 * served + 1)

    def drop_taken(self, taken: set[str]) -> bool:
        return any([queue.drop_taken(taken) for queue in self.members])  # every member skips

    def next_phrase(self) -> _PhraseQueue:
        """The member whose turn it is (Sainte-Lague within the group); call after drop_taken."""
        return max((queue for queue in self.members if queue.hits), key=_PhraseQueue.priority)


def least_confident(pool: list[Transcript], taken: set[str] = frozenset()) -> list[Pick]:
    rest = sorted((t for t in pool if t.id not in taken), key=lambda t: (t.confidence, t.id))
    return [Pick(t, f"least confident ({t.confidence:.2f})") for t in rest]


def mixed(pool, phrases, settings: TriageSettings, rng) -> list[Pick]:
    chosen = [Pick(t, RANDOM) for t in rng.sample(pool, min(settings.random, len(pool)))]
    taken = {pick.transcript.id for pick in chosen}
    chosen += flagged_round_robin(
        pool, phrases, taken, settings.flagged, settings.selection.group_overlap
    )
    return chosen + least_confident(pool, taken)[: settings.least_confident]


def random_order(pool, phrases, settings, rng) -> list[Pick]:
    return [Pick(t, RANDOM) for t in rng.sample(pool, len(pool))]


def by_confidence(pool, phrases, settings, rng) -> list[Pick]:
    return least_confident(pool)


def _scored(pool: list[Transcript], name: str) -> list[tuple[float, Transcript]]:
    missing = [t.id for t in pool if getattr(t.transcription, name) is None]
    if missing:
        raise DataError(
            f"transcript of clip {missing[0]} (and {len(missing) - 1} more) has no field "
            f"'{name}': transcribe the drop again with this version (`asrloop transcribe`) "
            "or pick another triage.selection.strategy"
        )
    return [(float(getattr(t.transcription, name)), t) for t in pool]


def by_margin(pool, phrases, settings, rng) -> list[Pick]:
    ranked = sorted(_scored(pool, "margin"), key=lambda pair: (pair[0], pair[1].id))
    return [Pick(t, f"low margin ({score:.2f})") for score, t in ranked]


def by_entropy(pool, phrases, settings, rng) -> list[Pick]:
    ranked = sorted(_scored(pool, "entropy"), key=lambda pair: (-pair[0], pair[1].id))
    return [Pick(t, f"high entropy ({score:.2f} nats)") for score, t in ranked]


def disagreement_share(transcript: Transcript) -> float:
    """How differently the served decode and the second path read a clip: one minus the share
    of words they agree on (0: the same words, 1: none in common)."""
    served, second = words(transcript.text), words(transcript.transcription.greedy or "")
    if not served and not second:
        return 0.0
    return round(1.0 - difflib.SequenceMatcher(None, served, second, autojunk=False).ratio(), 4)


def by_disagreement(pool, phrases, settings, rng) -> list[Pick]:
    if pool and all(t.transcription.greedy is None for t in pool):
        raise DataError(
            "the drop's transcripts have no second decoding path (field 'greedy_text'): set "
            "transcribe.second_path=true and transcribe again, or pick another "
            "triage.selection.strategy"
        )
    ranked = sorted(pool, key=lambda t: (-disagreement_share(t), t.confidence, t.id))
    return [
        Pick(
            t,
            f"disagreement ({disagreement_share(t):.2f}): second path heard "
            f"'{_short(t.transcription.greedy or '')}'",
        )
        for t in ranked
    ]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def near_miss(tokens: Sequence[str], phrases: Sequence[str], similarity: float) -> str | None:
    """The first phrase of ``phrases`` that a word sequence of ``tokens`` spells alike (at
    least ``similarity``, not equal), as ``"heard ~ phrase"``; None when none does."""
    for phrase in phrases:
        n = len(phrase.split())
        for size in {max(n - 1, 1), n, n + 1}:
            for i in range(len(tokens) - size + 1):
                heard = " ".join(tokens[i : i + size])
                if heard != phrase and _alike(heard, phrase) >= similarity:
                    return f"{heard} ~ {phrase}"
    return None


def _alike(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def term_focused(pool, phrases, settings: TriageSettings, rng) -> list[Pick]:
    taken: set[str] = set()
    chosen = flagged_round_robin(pool, phrases, taken, len(pool), settings.selection.group_overlap)
    similarity = settings.selection.near_miss_similarity
    for transcript in sorted(pool, key=lambda t: (t.confidence, t.id)):
        if transcript.id in taken:
            continue
        miss = near_miss(words(transcript.text), phrases, similarity)
        if miss is not None:
            taken.add(transcript.id)
            chosen.append(Pick(transcript, f"near miss: {miss}"))
    return chosen + least_confident(pool, taken)


RANKINGS: dict[str, Strategy] = {
    "mixed": mixed,
    "random": random_order,
    "least_confidence": by_confidence,
    "margin": by_margin,
    "entropy": by_entropy,
    "disagreement": by_disagreement,
    "term_focused": term_focused,
}
assert tuple(RANKINGS) == STRATEGIES, "conf's strategy names and the rankings disagree"
UNRANKED = ("mixed", "random")  # already hold a random share: no exploration rows
RANDOM_EXPLORE = f"{RANDOM} (exploration)"


def word_pairs(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + 2]) for i in range(len(tokens) - 1)} or {tuple(tokens)}


def same_pattern(a: str, b: str, similarity: float) -> bool:
    """Whether two hypotheses share a sentence pattern: this share of their word pairs."""
    left, right = word_pairs(a), word_pairs(b)
    return len(left & right) / max(len(left | right), 1) >= similarity


def diversify(picks: list[Pick], settings: SelectionSettings) -> list[Pick]:
    """The first ``diversity_k`` picks without two of one voice and sentence pattern; a pick
    that would repeat one moves just past them, order otherwise kept."""
    if settings.diversity_k <= 0:
        return picks
    similarity = settings.pattern_similarity
    head: list[Pick] = []
    deferred: list[Pick] = []
    rest = list(picks)
    while rest and len(head) < settings.diversity_k:
        pick = rest.pop(0)
        if any(
            other.transcript.voice == pick.transcript.voice
            and same_pattern(other.transcript.text, pick.transcript.text, similarity)
            for other in head
        ):
            deferred.append(pick)
        else:
            head.append(pick)
    return head + deferred + rest


def explore(picks: list[Pick], every: int, order: list[Transcript]) -> list[Pick]:
    """``picks`` with every ``every``-th row taken from ``order`` (a random order of the pool)
    instead; no clip twice, the strategy's order otherwise kept (once ``picks`` runs out, the
    rest of ``order`` follows). ``every`` 0: ``picks``; 1: ``order`` alone. The diversity step
    runs after it and may move rows."""
    if every <= 0:
        return picks
    ranked, sampled = deque(picks), deque(Pick(t, RANDOM_EXPLORE) for t in order)
    taken: set[str] = set()
    out: list[Pick] = []
    while ranked or sampled:
        wanted = sampled if (len(out) + 1) % every == 0 else ranked
        source = wanted if wanted else (ranked or sampled)
        pick = source.popleft()
        if pick.transcript.id not in taken:
            taken.add(pick.transcript.id)
            out.append(pick)
    return out


def triage_rng(settings: TriageSettings) -> random.Random:
    """The ranking's random source: the same seed, the same draws (``random``'s order)."""
    return random.Random(f"{settings.seed}-triage")


def rank_pool(
    pool: list[Transcript], phrases: Phrases | Sequence[str], settings: TriageSettings
) -> list[Pick]:
    """The queue's rows in review order: the strategy's ranking, diversified, cut to size.

    ``pool`` holds only review clips (no held-out clip); ``phrases`` the flagged phrases in
    rank order, weighted (a plain sequence: equal weights). The same inputs and
    ``settings.seed`` give the same list."""
    pool = sorted(pool, key=lambda t: t.id)
    if not isinstance(phrases, Mapping):
        phrases = dict.fromkeys(phrases, 1.0)
    selection = settings.selection
    if selection.strategy not in RANKINGS:
        raise DataError(
            f"triage.selection.strategy {selection.strategy!r} is not one of {', '.join(RANKINGS)}"
        )
    if not 0.0 <= selection.group_overlap <= 1.0:
        raise DataError(
            f"triage.selection.group_overlap {selection.group_overlap} is not a share of clips "
            "(0 to 1; 0: off)"
        )
    picks = RANKINGS[selection.strategy](pool, phrases, settings, triage_rng(settings))
    if selection.explore_every > 0 and selection.strategy in UNRANKED:
        console.print(
            f"[yellow]note[/] triage.selection.explore_every={selection.explore_every} is ignored: "
            f"{selection.strategy!r} already holds a random share (ranked strategies only)"
        )
    elif selection.explore_every > 0:
        order = random_order(pool, phrases, settings, triage_rng(settings))  # random's own
        picks = explore(picks, selection.explore_every, [pick.transcript for pick in order])
    picks = diversify(picks, selection)
    if selection.strategy == "mixed":
        return picks  # its quotas are its size
    size = selection.size
    if size is None:
        size = settings.flagged + settings.least_confident + settings.random
    return picks[:size]
