"""Growing the corpus (``asrloop grow``): approved corrections become a new shard and version.

The shard ``data/corpus/grown/<drop>/`` holds the approved clips' audio with the corrected text
and provenance (drop, clip, triage decision); ``new_words.txt`` lists reference words the
vocabulary lacked (they become hot words; the lexicon and LM pick them up from the text).
``validation.jsonl`` names the approved clips kept out of training (``grow.validation_share`` of
each term's): the loop measures each term's recall on them after a fine-tune
(:mod:`asrloop.loop.grow_rounds`).
Held-out clips and rejected or pending rows never enter the corpus. Data checks must pass
before the version is committed. Idempotent, and safe to interrupt: the shard is written
beside its final place and renamed, and earlier tags never move.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from asrloop.artifacts import MANIFEST, NEW_WORDS, VALIDATION, WORDS, Layout
from asrloop.audio.io import SAMPLE_RATE, read_audio, write_audio
from asrloop.checks.corpus import CorpusRules
from asrloop.checks.data import check_corpus
from asrloop.checks.labels_model import suspect_labels
from asrloop.corpus import ownership
from asrloop.corpus.drop import Drop
from asrloop.corpus.manifest import (
    EVAL_SPLITS,
    GROWN_SOURCE_PREFIX,
    Utterance,
    iter_corpus,
    read_manifest,
    write_manifest,
)
from asrloop.corpus.plan import plan_renditions
from asrloop.corpus.shards import render_shards
from asrloop.corpus.versioning import commit_version, track_shards
from asrloop.errors import ChecksFailed
from asrloop.faults import fault_point
from asrloop.fsutil import recover_dir, replace_dir
from asrloop.inference.batch import transcribe_utterances
from asrloop.inference.recognizer import Recognizer
from asrloop.jsonio import write_jsonl
from asrloop.loop.lookalikes import (
    CONTRAST_SHARD_SUFFIX,
    espeak_phonemizer,
    find_contrast,
    plan_in_other_voices,
)
from asrloop.loop.pseudo_labels import is_pseudo_label
from asrloop.loop.review_queue import ReviewItem, read_queue
from asrloop.metrics import times_said
from asrloop.progress import console, progress_bar
from asrloop.settings.grow import ContrastSettings, GrowSynthesisSettings
from asrloop.text.normalize import NormalizationError, normalize_text, normalize_transcript

DIGEST_FILE = "content.sha256"
PSEUDO_SHARD_SUFFIX = "-pseudo"  # data/corpus/grown/<drop>-pseudo: pseudo-labelled rows


@dataclass(frozen=True)
class GrowResult:
    drop: str
    approved: int
    new_words: list[str]
    shard: str
    changed: bool
    tag: str | None
    pseudo_labelled: int = 0  # rows of the pseudo-label shard (grow.pseudo_label)


def approved_items(
    queue_folder: Path, drop: Drop, alphabet: str, language: str
) -> list[ReviewItem]:
    """Approved rows of the review queue (whichever of its JSONL and CSV was edited last), their
    references normalized (``corpus.language``); a reference the alphabet cannot hold is
    reported and left out."""
    items = read_queue(queue_folder) if queue_folder.exists() else []
    approved = [item for item in items if item.approved]
    return normalized(approved, drop, alphabet, language, str(queue_folder))


def normalized(
    items: Sequence[ReviewItem], drop: Drop, alphabet: str, language: str, where: str
) -> list[ReviewItem]:
    """``items`` with normalized references; held-out clips and references the alphabet
    cannot hold are reported and left out."""
    keep = []
    for item in items:
        if drop.is_holdout(item.id):
            console.print(f"[yellow]ignored[/] {item.id}: held-out clips never enter the corpus")
            continue
        try:
            reference = normalize_transcript(item.reference, alphabet, language)
        except NormalizationError as error:
            console.print(f"[yellow]ignored[/] {where} clip {item.id}: {error}")
            continue
        keep.append(item.replace(reference=reference))
    return keep


def without_eval_sentences(items: list[ReviewItem], eval_texts: set[str]) -> list[ReviewItem]:
    """Approved rows whose text is a test or regression sentence would leak it into training."""
    keep = []
    for item in items:
        if normalize_text(item.reference) in eval_texts:
            console.print(f"[yellow]ignored[/] {item.id}: its text is an evaluation sentence")
        else:
            keep.append(item)
    return keep


def validation_split(
    items: list[ReviewItem], terms: Sequence[str], share: float, key: str
) -> tuple[list[ReviewItem], list[ReviewItem]]:
    """``(train, validation)``: of each term's approved clips, ``share`` of them (rounded down)
    kept out of training, picked by a hash of ``key`` and the clip id (a rerun picks the same)."""
    chosen: set[str] = set()
    for term in terms:
        said = [item for item in items if times_said(item.reference, term)]
        ranked = sorted(said, key=lambda i: hashlib.sha256(f"{key}-{i.id}".encode()).hexdigest())
        chosen |= {item.id for item in ranked[: int(len(said) * share)]}
    return (
        [item for item in items if item.id not in chosen],
        [item for item in items if item.id in chosen],
    )


def known_words(vocab_dir: Path) -> set[str]:
    words_file = vocab_dir / WORDS
    if not words_file.exists():
        return set()
    return {line.split("\t")[0] for line in words_file.read_text().splitlines() if line}


def shard_rows(
    items: list[ReviewItem], drop: Drop, clips: dict[str, Utterance], kind: str = "grown"
) -> list[tuple[Utterance, Utterance]]:
    """Each grown row (duration still to measure) with the drop clip whose audio it copies;
    ``kind`` names the rows (``grown``, or ``pseudo`` for pseudo-labelled ones)."""
    rows = []
    for item in items:
        clip = clips.get(item.id)
        if clip is None:
            console.print(f"[yellow]ignored[/] {item.id}: no such clip in drop {drop.name}")
            continue
        voice = clip.voice or item.voice
        row = Utterance(
            id=f"{drop.name}-{kind}-{item.id}",
            audio_filepath=f"{item.id}.wav",
            duration=clip.duration,
            text=item.reference,
            speaker=voice,
            voice=voice,
            split="train",
            source=f"{GROWN_SOURCE_PREFIX}{drop.name}",
            extra={
                "provenance": {
                    "drop": drop.name,
                    "clip": item.id,
                    "status": item.status,
                    "reason": item.reason,
                    **({"pseudo_label": True} if is_pseudo_label(item) else {}),
                }
            },
        )
        rows.append((row, clip))
    return rows


def content_digest(rows: list[Utterance], validation: list[ReviewItem] = ()) -> str:
    keys = sorted((r.id, r.text) for r in rows)
    held = sorted((i.id, i.reference) for i in validation)
    return hashlib.sha256(repr((keys, held) if held else keys).encode()).hexdigest()


def write_shard(
    folder: Path,
    rows: list[tuple[Utterance, Utterance]],
    new_words: list[str],
    validation: list[ReviewItem] = (),
) -> bool:
    """Write the shard (and its validation list) unless an identical one exists; returns True
    when something changed."""
    recover_dir(folder)
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)  # what an interrupted run left
    ownership.claim_folder(folder, "grow", "Move that folder out of the grown corpus.")
    digest_file = folder / DIGEST_FILE
    digest = content_digest([row for row, _ in rows], validation)
    if digest_file.exists() and digest_file.read_text().strip() == digest:
        return False
    tmp.mkdir(parents=True)
    written = []
    for row, source in rows:
        audio, _ = read_audio(source.audio_path, segment=source.segment)
        write_audio(tmp / row.audio_filepath, audio)
        written.append(row.replace(duration=round(len(audio) / SAMPLE_RATE, 4)))
    fault_point("grow.before_manifest")
    write_manifest(tmp / MANIFEST, written)
    (tmp / NEW_WORDS).write_text("".join(f"{w}\n" for w in new_words))
    write_jsonl(tmp / VALIDATION, ({"id": i.id, "reference": i.reference} for i in validation))
    (tmp / DIGEST_FILE).write_text(digest + "\n")
    fault_point("grow.before_swap")
    replace_dir(tmp, folder)
    return True


@dataclass(frozen=True)
class GrowJob:
    """Everything ``asrloop grow`` reads, unpacked from the config by the grow step."""

    drop: Drop
    queue: Path  # the drop's review queue folder
    corpus_dir: Path
    base_corpus: Path
    grown_dir: Path
    vocab_dir: Path
    rules: CorpusRules
    synthesize: GrowSynthesisSettings  # grow.synthesize
    suspects: Callable[[list[Utterance]], list[tuple[str, str]]] | None = None
    terms: Sequence[str] = ()  # the terms so far: each keeps validation clips
    validation_share: float = 0.0  # grow.validation_share
    pseudo: Sequence[ReviewItem] = ()  # pseudo-labelled rows (grow.pseudo_label), kept apart
    contrast: ContrastSettings | None = None  # grow.contrast (None: no look-alike contrast)


def grow_corpus(job: GrowJob) -> tuple[GrowResult, list[Path]]:
    """Write the grown shard of the job's drop, and synthesized renditions of its new-word
    sentences; returns the result and the shard folders to version (none when nothing was
    approved). Rows the label check (``job.suspects``: ``(clip id, why)`` pairs) names stay out
    and are reported; the data checks must pass first."""
    drop = job.drop
    eval_texts = {r.text or "" for r in iter_corpus(job.base_corpus, EVAL_SPLITS)}
    items = approved_items(job.queue, drop, job.rules.alphabet, job.rules.language)
    items = without_eval_sentences(items, eval_texts)
    rules = job.rules
    pseudo = normalized(job.pseudo, drop, rules.alphabet, rules.language, "pseudo-label")
    pseudo = without_eval_sentences(pseudo, eval_texts)
    clips = {r.id: r for r in read_manifest(drop.manifest, require_text=False, contained=True)}
    if job.suspects is not None and (items or pseudo):
        checked = [*items, *pseudo]
        flagged = dict(
            job.suspects([clips[i.id].replace(text=i.reference) for i in checked if i.id in clips])
        )
        for clip, why in flagged.items():
            console.print(f"[yellow]left out (label check)[/] {job.queue} clip {clip}: {why}")
        items = [item for item in items if item.id not in flagged]
        pseudo = [item for item in pseudo if item.id not in flagged]
    items, validation = validation_split(items, job.terms, job.validation_share, drop.name)
    rows = shard_rows(items, drop, clips)
    pseudo_rows = shard_rows(pseudo, drop, clips, kind="pseudo")
    vocabulary = known_words(job.vocab_dir)
    new_words = (
        sorted({w for row, _ in rows for w in (row.text or "").split()} - vocabulary)
        if vocabulary
        else []
    )
    folder = job.grown_dir / drop.name
    if not rows and not pseudo_rows:
        console.print("nothing approved: the corpus stays as it is")
        return GrowResult(drop.name, 0, new_words, str(folder), False, None), []
    changed, shards = False, []
    if rows:
        changed = write_shard(folder, rows, new_words, validation)
        shards.append(folder)
        console.print(
            f"grown shard {folder.name}: {len(rows)} clips ({len(validation)} more kept for "
            f"validation), new words: {new_words or 'none'}"
        )
    if pseudo_rows:
        pseudo_folder = job.grown_dir / f"{drop.name}{PSEUDO_SHARD_SUFFIX}"
        changed = write_shard(pseudo_folder, pseudo_rows, []) or changed
        shards.append(pseudo_folder)
        console.print(f"pseudo-labelled shard {pseudo_folder.name}: {len(pseudo_rows)} clips")
    shards += synthesize_new_word_sentences(job, items, set(new_words))
    said = [t for t in job.terms if any(times_said(i.reference, t) for i in items)]
    shards += synthesize_lookalike_contrast(job, said)
    report = check_corpus(job.corpus_dir, job.rules)
    if report.errors:
        raise ChecksFailed(f"data checks failed: the grown corpus is not committed ({folder})")
    result = GrowResult(drop.name, len(rows), new_words, str(folder), changed, None)
    return replace(result, pseudo_labelled=len(pseudo_rows)), shards


def synthesize_new_word_sentences(
    job: GrowJob, items: list[ReviewItem], new_words: set[str]
) -> list[Path]:
    """``grow.synthesize.copies`` renditions, by other training voices, of every approved
    sentence that says a new word: more ways to hear the word than a few dozen clips give."""
    settings = job.synthesize
    sentences = [
        (item.id, item.reference) for item in items if new_words & set(item.reference.split())
    ]
    if settings.copies <= 0 or not sentences:
        return []
    name = f"{job.drop.name}-tts"
    plan = plan_renditions(
        name, sentences, settings.copies, settings, f"{GROWN_SOURCE_PREFIX}{job.drop.name}"
    )
    with progress_bar(f"synthesizing {len(plan.clips)} renditions", len(plan.clips)) as advance:
        render_shards([plan], job.grown_dir, settings.workers, on_progress=advance)
    console.print(f"synthesized shard {name}: {len(plan.clips)} renditions of new-word sentences")
    return [job.grown_dir / name]


def synthesize_lookalike_contrast(job: GrowJob, terms: Sequence[str]) -> list[Path]:
    """``grow.contrast``: base training sentences that say words sounding like a word of the
    ``terms`` (those the drop's approved clips say) that the base corpus never says, rendered
    anew by other training voices (:mod:`asrloop.loop.lookalikes`)."""
    settings = job.contrast
    if settings is None or settings.clips <= 0 or not terms:
        return []
    rows = list(iter_corpus(job.base_corpus, ["train"]))
    phonemize = espeak_phonemizer(job.synthesize.voices, job.rules.language)
    name = f"{job.drop.name}{CONTRAST_SHARD_SUFFIX}"
    chosen = find_contrast(terms, rows, phonemize, settings, name)
    if not chosen:
        return []
    source = f"{GROWN_SOURCE_PREFIX}{job.drop.name}"
    plan = plan_in_other_voices(name, source, [row for row, _ in chosen], job.synthesize)
    with progress_bar(f"synthesizing {len(plan.clips)} look-alike clips", len(plan.clips)) as tick:
        render_shards([plan], job.grown_dir, job.synthesize.workers, on_progress=tick)
    said = sorted({f"{found.word} ({found.sounds_like})" for _, found in chosen})
    console.print(f"contrast shard {name}: {len(plan.clips)} clips saying {', '.join(said)}")
    return [job.grown_dir / name]


def label_suspects(
    load: Callable[[], Recognizer], max_cer: float, max_share: float, batch_seconds: float
) -> Callable[[list[Utterance]], list[tuple[str, str]]]:
    """The label check: ``load`` gives the champion's (greedy) recognizer, loaded only when
    there are rows to check; rows it hears too differently are ``(clip id, why)``."""

    def suspects(rows: list[Utterance]) -> list[tuple[str, str]]:
        predictions, _ = transcribe_utterances(load(), rows, batch_seconds, "label check")
        return suspect_labels(predictions, max_cer, max_share)

    return suspects


def commit_grown(layout: Layout, result: GrowResult, shards: list[Path], push: bool) -> GrowResult:
    """Track the grown shards with DVC and commit (and tag) the new corpus version."""
    track_shards(layout.root, shards)
    tag = commit_version(
        layout,
        f"corpus: grow from {result.drop} ({result.approved} clips, "
        f"new words: {', '.join(result.new_words) or 'none'})",
        push=push,
    )
    return replace(result, tag=tag)
