"""Tiny corpora in every format asrloop imports, made from audio the project synthesizes.

Each writer lays out a real corpus of that format under a folder: FLAC, MP3, 48 kHz, 22.05 kHz,
stereo, segments of longer files (offsets), upper-case transcripts with digits and punctuation.
The ids, speakers and sentences are shared, so a test can say what each import should yield.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from asrloop.audio.augment import normalize_peak
from asrloop.audio.io import SAMPLE_RATE, resample
from asrloop.corpus.synthesis import VoiceSpec, synthesize
from asrloop.text.normalize import normalize_text

# Raw transcripts as corpora write them: case, digits, ordinals, punctuation, accents.
SENTENCES = [
    "THE COUNCIL MET ON THE 3RD OF MAY, AND 42 MEMBERS VOTED.",
    "Prices rose by 5% in 2019; nobody was surprised.",
    "She bought 12 apples, 7 pears and a melon.",
    "\u201cWe're ready,\u201d said the café owner at 9:30.",
    "Trains to the north were delayed by 25 minutes.",
    "THE 21ST CENTURY BEGAN WITH A COLD WINTER!",
    "He paid $40 for two tickets to the concert.",
    "Rain is expected across the west on Friday.",
    "A NEW BRIDGE OPENED AFTER 6 YEARS OF WORK.",
    "The team scored 3 goals in the second half.",
    "Doctors warned about the flu in 1998 and again later.",
    "Schools will close early on the 14th of June.",
    "THE MUSEUM WELCOMED 1,500 VISITORS LAST WEEK.",
    "Farmers sold their wheat at a better price.",
    "Two ministers resigned over the housing plan.",
    "The river flooded 8 villages in the valley.",
    "OUR REPORTER SPOKE TO 30 WORKERS AT THE PLANT.",
    "The library will open a new wing in April.",
    "Storms cut power to 10,000 homes overnight.",
    "A local choir sang for the 50th anniversary.",
    "THE MAYOR'S OFFICE PROMISED CLEANER STREETS.",
    "Fishing boats returned early because of the wind.",
    "The airport added 4 flights to the summer timetable.",
    "Students protested against higher fees on Tuesday.",
]
VOICES = ["en-us+klatt2", "en+klatt4", "en-gb-x-rp+klatt2", "en-029+klatt3"]


@dataclass(frozen=True)
class Spoken:
    index: int
    text: str  # raw transcript
    voice: int  # index into VOICES: the speaker
    audio: np.ndarray  # 16 kHz mono float32

    @property
    def normalized(self) -> str:
        return normalize_text(self.text)


def speak(count: int = len(SENTENCES)) -> list[Spoken]:
    """Each sentence spoken by one of four voices in turn (16 kHz mono)."""
    out = []
    for i, text in enumerate(SENTENCES[:count]):
        voice = i % len(VOICES)
        audio = synthesize(normalize_text(text), VoiceSpec(VOICES[voice], 170, 50), seed=i)
        out.append(Spoken(i, text, voice, normalize_peak(audio, 0.7)))
    return out


def at_rate(audio: np.ndarray, rate: int) -> np.ndarray:
    return resample(audio, SAMPLE_RATE, rate)


def stereo(audio: np.ndarray) -> np.ndarray:
    return np.stack([audio, 0.8 * audio], axis=1)


def joined(clips: list[Spoken], gap: float = 0.3) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """One long recording of ``clips`` with silence between; (audio, [(start, end)...])."""
    silence = np.zeros(int(gap * SAMPLE_RATE), dtype=np.float32)
    parts, spans, at = [silence], [], len(silence) / SAMPLE_RATE
    for clip in clips:
        parts += [clip.audio, silence]
        spans.append((at, at + len(clip.audio) / SAMPLE_RATE))
        at += (len(clip.audio) + len(silence)) / SAMPLE_RATE
    return np.concatenate(parts), spans


def librispeech(root: Path, spoken: list[Spoken]) -> Path:
    """``LibriSpeech/<part>/<spk>/<chap>/`` with 16 kHz FLAC and upper-case ``.trans.txt``."""
    corpus = root / "LibriSpeech"
    parts = {0: "train-clean-100", 1: "train-clean-100", 2: "dev-clean", 3: "test-clean"}
    for voice, part in parts.items():
        speaker, chapter = str(100 + voice), "7"
        folder = corpus / part / speaker / chapter
        folder.mkdir(parents=True)
        lines = []
        for clip in (c for c in spoken if c.voice == voice):
            utt = f"{speaker}-{chapter}-{clip.index:04d}"
            sf.write(folder / f"{utt}.flac", clip.audio, SAMPLE_RATE, format="FLAC")
            lines.append(f"{utt} {clip.text.upper()}")
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return corpus


def commonvoice(root: Path, spoken: list[Spoken]) -> Path:
    """``en/{train,dev,test}.tsv`` and 48 kHz MP3 clips; the client id is the speaker."""
    lang = root / "cv-corpus-20.0" / "en"
    (lang / "clips").mkdir(parents=True)
    header = ["client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accent"]
    split_of = {0: "train", 1: "train", 2: "dev", 3: "test"}
    rows: dict[str, list[list[str]]] = {"train": [], "dev": [], "test": []}
    for clip in spoken:
        name = f"common_voice_en_{clip.index:05d}.mp3"
        sf.write(lang / "clips" / name, at_rate(clip.audio, 48_000), 48_000, format="MP3")
        client = f"client{clip.voice:02d}"
        rows[split_of[clip.voice]].append([client, name, clip.text, "2", "0", "", "", ""])
    for split, lines in rows.items():
        with (lang / f"{split}.tsv").open("w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
            writer.writerows([header, *lines])
    (lang / "validated.tsv").write_text("\t".join(header) + "\n")  # not a split: not read
    return lang


def ljspeech(root: Path, spoken: list[Spoken]) -> Path:
    """``metadata.csv`` (id|raw|normalized) and ``wavs/`` at 22.05 kHz; one speaker."""
    corpus = root / "LJSpeech-1.1"
    (corpus / "wavs").mkdir(parents=True)
    lines = []
    for clip in spoken:
        utt = f"LJ001-{clip.index:04d}"
        sf.write(corpus / "wavs" / f"{utt}.wav", at_rate(clip.audio, 22_050), 22_050)
        lines.append(f"{utt}|{clip.text}|{clip.text}")
    (corpus / "metadata.csv").write_text("\n".join(lines) + "\n")
    return corpus


def kaldi(root: Path, spoken: list[Spoken]) -> Path:
    """``data/{train,test}/``: one stereo 16 kHz WAV per speaker, ``segments`` into it (the last
    with end -1), ``text``, ``utt2spk``; paths relative to the recipe folder, as Kaldi writes."""
    recipe = root / "recipe"
    (recipe / "wav").mkdir(parents=True)
    for split, voices in (("train", (0, 1)), ("test", (2, 3))):
        folder = recipe / "data" / split
        folder.mkdir(parents=True)
        wav, segments, text, utt2spk = [], [], [], []
        for voice in voices:
            clips = [c for c in spoken if c.voice == voice]
            audio, spans = joined(clips)
            rec = f"rec{voice}"
            sf.write(recipe / "wav" / f"{rec}.wav", stereo(audio), SAMPLE_RATE)
            wav.append(f"{rec} wav/{rec}.wav")
            for k, (clip, (start, end)) in enumerate(zip(clips, spans, strict=True)):
                utt = f"spk{voice}-{rec}-{k:03d}"
                last = k == len(clips) - 1
                segments.append(f"{utt} {rec} {start} {-1 if last else end}")
                text.append(f"{utt} {clip.text}")
                utt2spk.append(f"{utt} spk{voice}")
        for name, lines in (
            ("wav.scp", wav),
            ("segments", segments),
            ("text", text),
            ("utt2spk", utt2spk),
        ):
            (folder / name).write_text("\n".join(sorted(lines)) + "\n")
    return recipe / "data"


def nemo(root: Path, spoken: list[Spoken]) -> Path:
    """One manifest: segments (``offset``, ``duration``) of 44.1 kHz FLAC files, relative paths."""
    folder = root / "nemo"
    (folder / "audio").mkdir(parents=True)
    lines = []
    for voice in range(len(VOICES)):
        clips = [c for c in spoken if c.voice == voice]
        audio, spans = joined(clips)
        name = f"audio/long{voice}.flac"
        sf.write(folder / name, at_rate(audio, 44_100), 44_100, format="FLAC")
        for clip, (start, end) in zip(clips, spans, strict=True):
            lines.append(
                json.dumps(
                    {
                        "audio_filepath": name,
                        "offset": start,
                        "duration": round(end - start, 4),
                        "text": clip.text,
                        "speaker": f"s{voice}",
                    }
                )
            )
    (folder / "manifest.json").write_text("\n".join(lines) + "\n")
    return folder / "manifest.json"


def audiofolder(root: Path, spoken: list[Spoken]) -> Path:
    """``train/`` and ``test/`` with ``metadata.csv``: stereo 48 kHz FLAC and mono MP3."""
    folder = root / "audiofolder"
    for split, voices in (("train", (0, 1, 2)), ("test", (3,))):
        (folder / split).mkdir(parents=True)
        with (folder / split / "metadata.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file_name", "transcription", "speaker_id"])
            for clip in (c for c in spoken if c.voice in voices):
                if clip.index % 2:
                    name = f"clip{clip.index:03d}.flac"
                    sf.write(folder / split / name, stereo(at_rate(clip.audio, 48_000)), 48_000)
                else:
                    name = f"clip{clip.index:03d}.mp3"
                    sf.write(folder / split / name, clip.audio, SAMPLE_RATE, format="MP3")
                writer.writerow([name, clip.text, f"v{clip.voice}"])
    return folder


def lhotse_manifests(root: Path, spoken: list[Spoken], cuts: bool = False) -> Path:
    """``recordings`` + ``supervisions`` (or one CutSet): segments of 16 kHz WAV recordings."""
    from lhotse import CutSet, Recording, RecordingSet, SupervisionSegment, SupervisionSet

    folder = root / "lhotse"
    (folder / "audio").mkdir(parents=True)
    recordings, supervisions = [], []
    for voice in range(len(VOICES)):
        clips = [c for c in spoken if c.voice == voice]
        audio, spans = joined(clips)
        path = folder / "audio" / f"rec{voice}.wav"
        sf.write(path, audio, SAMPLE_RATE)
        recordings.append(Recording.from_file(path, recording_id=f"rec{voice}"))
        for k, (clip, (start, end)) in enumerate(zip(clips, spans, strict=True)):
            supervisions.append(
                SupervisionSegment(
                    f"rec{voice}-{k}",
                    f"rec{voice}",
                    start,
                    round(end - start, 4),
                    text=clip.text,
                    speaker=f"spk{voice}",
                    language="English",
                )
            )
    recording_set = RecordingSet.from_recordings(recordings)
    supervision_set = SupervisionSet.from_segments(supervisions)
    if cuts:
        path = folder / "corpus_cuts.jsonl.gz"
        CutSet.from_manifests(recordings=recording_set, supervisions=supervision_set).to_file(path)
        return path
    recording_set.to_file(folder / "corpus_recordings.jsonl.gz")
    supervision_set.to_file(folder / "corpus_supervisions.jsonl.gz")
    return folder


WRITERS = {
    "librispeech": librispeech,
    "commonvoice": commonvoice,
    "ljspeech": ljspeech,
    "kaldi": kaldi,
    "nemo": nemo,
    "audiofolder": audiofolder,
    "lhotse": lhotse_manifests,
}


# -- a synthesized corpus and drop, written out as a user would have them --------------------

PARTS = {"train": "train-clean-100", "dev": "dev-clean", "test": "test-clean"}


def export_librispeech(corpus: Path, out: Path) -> Path:
    """The rows of a synthesized corpus as ``LibriSpeech/<part>/<spk>/<chap>/`` FLAC with upper-case
    transcripts; each voice is a numbered speaker. LibriSpeech has no regression set (the import
    carves one from test), so the regression rows, spoken by training voices, stay out."""
    from asrloop.corpus.manifest import iter_corpus

    speakers: dict[str, str] = {}
    transcripts: dict[Path, list[str]] = {}
    for row in iter_corpus(corpus, PARTS):
        speaker = speakers.setdefault(row.voice, str(1000 + len(speakers)))
        part = PARTS[row.split]
        folder = out / "LibriSpeech" / part / speaker / "1"
        folder.mkdir(parents=True, exist_ok=True)
        utt = f"{speaker}-1-{len(transcripts.setdefault(folder, [])):04d}"
        audio, rate = sf.read(row.audio_path, dtype="float32")
        sf.write(folder / f"{utt}.flac", audio, rate, format="FLAC")
        transcripts[folder].append(f"{utt} {(row.text or '').upper()}")
    for folder, lines in transcripts.items():
        (folder / f"{folder.parent.name}-1.trans.txt").write_text("\n".join(lines) + "\n")
    return out / "LibriSpeech"


def export_drop(manifest: Path, references: Path, out: Path) -> Path:
    """A synthesized drop as production audio: 48 kHz MP3 and stereo FLAC files, no text in
    them, the true text in ``metadata.csv`` (upper case)."""
    from asrloop.corpus.manifest import read_manifest

    out.mkdir(parents=True)
    texts = {r.id: r.text for r in read_manifest(references)}
    with (out / "metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_name", "transcription"])
        for k, row in enumerate(read_manifest(manifest, require_text=False)):
            audio, _ = sf.read(row.audio_path, dtype="float32")
            if k % 2:
                name = f"{row.id}.flac"
                sf.write(out / name, stereo(audio), SAMPLE_RATE, format="FLAC")
            else:
                name = f"{row.id}.mp3"
                sf.write(out / name, at_rate(audio, 48_000), 48_000, format="MP3")
            writer.writerow([name, texts[row.id].upper()])
    return out
