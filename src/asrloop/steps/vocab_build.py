"""``asrloop vocab build``: the vocabulary folder (words, lexicon, LM, hot words) of the train
split of every corpus shard."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from asrloop.artifacts import NEW_WORDS
from asrloop.corpus.manifest import iter_corpus
from asrloop.errors import MissingInputError
from asrloop.steps.context import StepContext, step
from asrloop.text.vocabulary import build_vocabulary


def grown_new_words(corpus_root: Path) -> list[str]:
    """Words that ``asrloop grow`` found missing from the vocabulary (they become hot words)."""
    words: list[str] = []
    for path in sorted(Path(corpus_root).rglob(NEW_WORDS)):
        words += [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    return list(dict.fromkeys(words))


@step("vocab build")
def run(ctx: StepContext) -> dict:
    vocab, corpus = ctx.settings.vocab, ctx.layout.corpus
    texts = [row.text or "" for row in iter_corpus(corpus, ["train"])]
    if not texts:
        raise MissingInputError(f"no train rows under {corpus}: synthesize the corpus first")
    version = build_vocabulary(
        texts,
        ctx.layout.vocab,
        order=vocab.order,
        method=vocab.method,
        hotwords=[*vocab.hotwords, *grown_new_words(corpus)],
        hotword_boost=vocab.hotword_boost,
        extra_words=vocab.extra_words,
    )
    table = Table(title=f"vocabulary → {ctx.layout.vocab}", show_header=False)
    for key, value in version.items():
        table.add_row(key, str(value))
    Console().print(table)
    return version
