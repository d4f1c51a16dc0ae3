"""Deterministic news-domain sentence generator driven by templates and word lists.

A template is text with ``{slot}`` fields. Slots come from config word lists, except the
built-ins ``{number}`` (a spelled-out number), ``{year}`` and ``{percent}``. Sentences are
normalised, kept only between ``min_words`` and ``max_words``, and never contain a forbidden
word (the scenario's emerging terms stay out of the base corpus).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence

from asrloop.corpus.numbers import spell_number, spell_year
from asrloop.errors import ConfigError
from asrloop.text.normalize import normalize_text

SLOT = re.compile(r"\{(\w+)\}")


class SentenceGenerator:
    def __init__(
        self,
        templates: Sequence[str],
        slots: Mapping[str, Sequence[str]],
        min_words: int = 5,
        max_words: int = 15,
        forbidden_words: Iterable[str] = (),
    ):
        self.templates = list(templates)
        self.slots = {name: list(values) for name, values in slots.items()}
        self.min_words, self.max_words = min_words, max_words
        self.forbidden = {normalize_text(w) for w in forbidden_words}
        self._check_templates()

    def _check_templates(self) -> None:
        builtins = {"number", "year", "percent"}
        for template in self.templates:
            for slot in SLOT.findall(template):
                if slot not in self.slots and slot not in builtins:
                    raise ValueError(f"template {template!r} uses unknown slot {{{slot}}}")

    def _fill(self, slot: str, rng: random.Random) -> str:
        if slot == "number":
            return spell_number(rng.choice([rng.randint(2, 20), rng.randint(20, 999)]))
        if slot == "year":
            return spell_year(rng.randint(1950, 2009))
        if slot == "percent":
            return spell_number(rng.randint(1, 99)) + " percent"
        return rng.choice(self.slots[slot])

    def sample(self, rng: random.Random) -> str | None:
        """One sentence, or None when the draw breaks the length or forbidden-word rules."""
        template = rng.choice(self.templates)
        text = normalize_text(SLOT.sub(lambda m: self._fill(m.group(1), rng), template))
        tokens = text.split()
        if not self.min_words <= len(tokens) <= self.max_words:
            return None
        padded = f" {text} "
        if any(f" {term} " in padded for term in self.forbidden):
            return None
        return text

    def generate(self, count: int, seed: int, exclude: Iterable[str] = ()) -> list[str]:
        """``count`` distinct sentences, none in ``exclude``; identical for the same seed."""
        rng = random.Random(seed)
        seen = set(exclude)
        out: list[str] = []
        attempts = 0
        while len(out) < count:
            attempts += 1
            if attempts > 200 * count + 1000:
                raise ConfigError(
                    f"only {len(out)} of {count} distinct sentences: add templates or words"
                )
            sentence = self.sample(rng)
            if sentence and sentence not in seen:
                seen.add(sentence)
                out.append(sentence)
        return out

    def vocabulary(self) -> set[str]:
        """Every word the generator can emit from its lists (numbers excluded)."""
        words: set[str] = set()
        for template in self.templates:
            words.update(normalize_text(SLOT.sub(" ", template)).split())
        for values in self.slots.values():
            for value in values:
                words.update(normalize_text(value).split())
        return words
