"""``asrloop grow``: approved corrections become a new corpus shard and a new data version.

The shard ``data/corpus/grown/<drop>/`` holds the approved clips' audio with the corrected text
and provenance (drop, clip, triage decision); ``new_words.txt`` lists reference words the
vocabulary lacked (they become hot words; the lexicon and LM pick them up from the text).
Held-out clips and rejected or pending rows never enter the corpus. Data checks must pass
before the version is committed. Idempotent, and safe to interrupt: the shard is written
beside its final place and renamed, and earlier tags never move.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from omegaconf import DictConfig

from asrloop.audio.io import read_audio, write_audio
from asrloop.corpus.manifest import MANIFEST_NAME, read_manifest, write_manifest
from asrloop.corpus.plan import is_holdout
from asrloop.corpus.versioning import commit_version, track_shards
from asrloop.loop.triage import read_queue
from asrloop.progress import console
from asrloop.text.normalize import normalize_text

NEW_WORDS = "new_words.txt"


def approved_rows(queue_folder: Path, holdout_share: float, seed: int) -> list[dict]:
    """Approved rows of the review queue (whichever of its JSONL and CSV was edited last)."""
    keep = []
    rows = read_queue(queue_folder) if queue_folder.exists() else []
    for row in rows:
        if row.get("status") != "approved":
            continue
        if is_holdout(row["id"], holdout_share, seed):
            console.print(f"[yellow]ignored[/] {row['id']}: held-out clips never enter the corpus")
            continue
        if not normalize_text(row.get("reference", "")):
            console.print(f"[yellow]ignored[/] {row['id']}: approved with an empty reference")
            continue
        keep.append(row)
    return keep


def without_eval_sentences(rows: list[dict], cfg: DictConfig) -> list[dict]:
    """Approved rows whose text is a test or regression sentence would leak it into training."""
    from asrloop.corpus.manifest import iter_corpus

    held = {r["text"] for r in iter_corpus(cfg.paths.base_corpus, ["test", "regression"])}
    keep = []
    for row in rows:
        if normalize_text(row["reference"]) in held:
            console.print(f"[yellow]ignored[/] {row['id']}: its text is an evaluation sentence")
        else:
            keep.append(row)
    return keep


def known_words(cfg: DictConfig) -> set[str]:
    words_file = Path(cfg.paths.vocab) / "words.txt"
    if not words_file.exists():
        return set()
    return {line.split("\t")[0] for line in words_file.read_text().splitlines() if line}


def shard_rows(rows: list[dict], drop: str, voices: dict[str, str]) -> list[dict]:
    return [
        {
            "id": f"{drop}-grown-{row['id']}",
            "audio_filepath": f"{row['id']}.wav",
            "text": normalize_text(row["reference"]),
            "voice": voices.get(row["id"], row.get("voice", "")),
            "speaker": voices.get(row["id"], row.get("voice", "")),
            "split": "train",
            "source": f"drop/{drop}",
            "provenance": {
                "drop": drop,
                "clip": row["id"],
                "status": row["status"],
                "reason": row.get("reason", ""),
            },
        }
        for row in rows
    ]


def content_digest(rows: list[dict]) -> str:
    keys = sorted((r["id"], r["text"]) for r in rows)
    return hashlib.sha256(repr(keys).encode()).hexdigest()


def write_shard(
    folder: Path, rows: list[dict], sources: dict[str, Path], new_words: list[str]
) -> bool:
    """Write the shard unless an identical one exists; returns True when something changed."""
    digest_file = folder / "content.sha256"
    digest = content_digest(rows)
    if digest_file.exists() and digest_file.read_text().strip() == digest:
        return False
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for row in rows:
        audio, _ = read_audio(sources[row["provenance"]["clip"]])
        write_audio(tmp / row["audio_filepath"], audio)
        row["duration"] = round(len(audio) / 16000, 4)
    write_manifest(tmp / MANIFEST_NAME, rows)
    (tmp / NEW_WORDS).write_text("".join(f"{w}\n" for w in new_words))
    (tmp / "content.sha256").write_text(digest + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return True


def grow(cfg: DictConfig) -> dict:
    drop = cfg.scenario.drop
    queue = Path(cfg.paths.reports) / "triage" / drop.name
    rows = without_eval_sentences(
        approved_rows(queue, float(drop.holdout_share), int(drop.seed)), cfg
    )
    drop_manifest = Path(cfg.paths.drops) / drop.name / MANIFEST_NAME
    drop_rows = {r["id"]: r for r in read_manifest(drop_manifest, require_text=False)}
    sources = {i: Path(r["_manifest"]).parent / r["audio_filepath"] for i, r in drop_rows.items()}
    voices = {i: r.get("voice", "") for i, r in drop_rows.items()}
    new = shard_rows(rows, drop.name, voices)
    vocabulary = known_words(cfg)
    words = sorted({w for r in new for w in r["text"].split()} - vocabulary) if vocabulary else []
    folder = Path(cfg.paths.grown_corpus) / drop.name
    result = {"drop": drop.name, "approved": len(new), "new_words": words, "shard": str(folder)}
    if not new:
        console.print("nothing approved: the corpus stays as it is")
        return {**result, "changed": False, "tag": None}
    changed = write_shard(folder, new, sources, words)
    console.print(f"grown shard {folder.name}: {len(new)} clips, new words: {words or 'none'}")
    from asrloop.checks.data import check_corpus

    report = check_corpus(Path(cfg.paths.corpus), cfg)
    if report.errors:
        raise SystemExit(f"data checks failed: the grown corpus is not committed ({folder})")
    tag = None
    if cfg.loop.commit:
        root = Path(cfg.paths.root)
        track_shards(root, [folder])
        tag = commit_version(
            root,
            f"corpus: grow from {drop.name} ({len(new)} clips, "
            f"new words: {', '.join(words) or 'none'})",
            push=bool(cfg.loop.push),
        )
    return {**result, "changed": changed, "tag": tag}


def run(cfg: DictConfig) -> None:
    console.print(grow(cfg))
