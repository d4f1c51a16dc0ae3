"""A context graph for biasing a beam search towards phrases (terms, names, multi-word terms).

Aho-Corasick over words (the lexicon decoder emits whole words): each phrase is a path from the
root; every word that extends a partial match earns ``bonus``; a partial match that fails gives
its bonus back (the score of the step is the new match's bonus minus the old one's, following
failure links to the longest suffix that is still a prefix of some phrase); a completed phrase
keeps its bonus. The same design as icefall/sherpa's ``ContextGraph`` (k2-fsa/icefall#1038),
at word level. Pure Python, no decoder: :mod:`asrloop.decode` drives it.

A state is ``(node, banked)``: ``banked`` is the depth of the phrase completed last on the
current path; its words' bonus can no longer be taken back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

ROOT = 0


@dataclass
class _Node:
    depth: int
    children: dict[str, int] = field(default_factory=dict)
    fail: int = ROOT
    end: bool = False


State = tuple[int, int]  # (node, banked depth)
START: State = (ROOT, 0)


class ContextGraph:
    """Phrases (each a sequence of words) and the bonus a matched word earns."""

    def __init__(self, phrases: Iterable[Sequence[str]], bonus: float):
        self.bonus = float(bonus)
        self.nodes = [_Node(0)]
        self.phrases = 0
        for phrase in phrases:
            words = [w for w in phrase if w]
            if words:
                self._insert(words)
                self.phrases += 1
        self._link()

    def _insert(self, words: Sequence[str]) -> None:
        node = ROOT
        for word in words:
            child = self.nodes[node].children.get(word)
            if child is None:
                child = len(self.nodes)
                self.nodes.append(_Node(self.nodes[node].depth + 1))
                self.nodes[node].children[word] = child
            node = child
        self.nodes[node].end = True

    def _link(self) -> None:
        """Failure links, breadth first: the longest proper suffix that is a prefix too."""
        queue = deque(self.nodes[ROOT].children.values())
        while queue:
            node = queue.popleft()
            for word, child in self.nodes[node].children.items():
                fail = self.nodes[node].fail
                while fail != ROOT and word not in self.nodes[fail].children:
                    fail = self.nodes[fail].fail
                target = self.nodes[fail].children.get(word, ROOT)
                self.nodes[child].fail = target if target != child else ROOT
                queue.append(child)

    def first_words(self) -> frozenset[str]:
        """The words that can start a match (from the start state, every other word scores 0)."""
        return frozenset(self.nodes[ROOT].children)

    def pending(self, state: State) -> float:
        """Bonus given for the open partial match (it is taken back if the match fails)."""
        node, banked = state
        return (self.nodes[node].depth - banked) * self.bonus

    def step(self, state: State, word: str) -> tuple[float, State]:
        """The score of emitting ``word`` in ``state``, and the next state."""
        node, banked = state
        child = self.nodes[node].children.get(word)
        if child is not None:  # the match goes on: one more word's bonus
            next_state = (child, banked)
        else:  # the match fails: fall back to the longest suffix still a prefix
            fallback = self.nodes[node].fail
            while fallback != ROOT and word not in self.nodes[fallback].children:
                fallback = self.nodes[fallback].fail
            next_state = (self.nodes[fallback].children.get(word, ROOT), 0)
        score = self.pending(next_state) - self.pending(state)
        target = next_state[0]
        if self.nodes[target].end:  # a whole phrase: its bonus is kept
            next_state = (
                (target, self.nodes[target].depth) if self.nodes[target].children else START
            )
        return score, next_state

    def finish(self, state: State) -> float:
        """At the end of the utterance an open partial match gives its bonus back."""
        return -self.pending(state)
