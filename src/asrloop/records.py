"""Typed result files: one class per file that a step writes and another step reads.

Each record knows its file's shape (``to_dict`` / ``from_dict``), carries a schema name with a
version (``"schema": "asrloop.<kind>/1"``), is written atomically and read back with errors that
name the file and the missing field. Producers and consumers both go through these classes, so
a field renamed in one place is renamed everywhere.

| record | file | written by | read by |
|---|---|---|---|
| :class:`TrainingResult` | ``models/current/result.json`` | train | loop, gate, summary |
| :class:`EvaluationReport` | ``reports/eval/metrics.json`` | evaluate | loop summary |
| :class:`DecodeTuning` | ``reports/decode/tune.json`` | decode tune | people (``decode.*``) |
| :class:`PeerComparison` | ``reports/peer/comparison.json`` | bench peer | people |
| :class:`ServingRecord` | ``data/serving/<drop>.json`` | loop (pin) | transcribe |
| :class:`GateDecision` | ``reports/gate/v<N>.json`` | gate | loop summary |
| :class:`SpikeReport` | ``reports/monitor/<drop>/spikes.json`` | monitor | triage |
| :class:`LowConfidenceReport` | ``reports/monitor/<drop>/low_confidence.json`` | monitor | |
| :class:`TriageResult` | ``reports/triage/<drop>/triage.json`` | triage | |
| :class:`LoopSummary` | ``reports/loop/summary.json`` | loop | tests |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from asrloop.errors import DataError, MissingInputError
from asrloop.jsonio import read_json, write_json
from asrloop.strict import check_types


class RecordError(DataError):
    """A result file with the wrong schema or a missing field (names the file)."""


class JsonRecord:
    """Mixin: schema-checked JSON round trip for a dataclass with ``to_dict``/``from_dict``."""

    KIND: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def schema(cls) -> str:
        return f"asrloop.{cls.KIND}/{cls.VERSION}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(**data)  # type: ignore[call-arg]

    def write(self, path: str | Path) -> Path:
        return write_json(path, {"schema": self.schema(), **self.to_dict()})

    @classmethod
    def load(cls, path: str | Path) -> Self:
        path = Path(path)
        if not path.exists():
            raise MissingInputError(f"{path}: no {cls.KIND} record (the step that writes it ran?)")
        data = read_json(path)
        found = data.pop("schema", None) if isinstance(data, dict) else None
        if found != cls.schema():
            raise RecordError(f"{path}: schema {found!r}, expected {cls.schema()!r}")
        if not isinstance(data, dict):
            raise RecordError(f"{path}: not a JSON object")
        try:
            record = cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise RecordError(f"{path}: not a valid {cls.KIND} record ({error})") from error
        return check_types(record, str(path))

    @classmethod
    def load_if_exists(cls, path: str | Path) -> Self | None:
        return cls.load(path) if Path(path).exists() else None


# ---------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainingResult(JsonRecord):
    """What a training run produced: its MLflow run, best model folder and registered version."""

    KIND: ClassVar[str] = "training_result"

    run_id: str
    model_dir: str
    steps: int
    train_seconds: float
    best_dev_cer: float | None  # None: no dev evaluation ran
    model_version: str | None = None


# ---------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Interval:
    """An estimate and its bootstrap interval at ``confidence`` (0.95: the 95 % interval)."""

    estimate: float
    low: float
    high: float
    confidence: float

    @classmethod
    def maybe(cls, data: Mapping[str, Any] | None) -> Interval | None:
        return cls(**data) if data is not None else None

    def __str__(self) -> str:
        return f"{self.estimate:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


@dataclass(frozen=True)
class PairedTests:
    """NIST ``sc_stats``-style tests of two models on the same utterances (two-sided p)."""

    n: int
    changed: int  # utterances where the error counts differ
    mean_difference: float  # errors per utterance, B minus A
    sd_difference: float
    mapsswe_z: float
    mapsswe_p: float
    sign_p: float
    wilcoxon_p: float


@dataclass(frozen=True)
class ConfidenceMap:
    """A calibration of word confidence: raw knots and the share of words right at each
    (non-decreasing; linear between knots), fitted on ``words`` dev words."""

    raw: tuple[float, ...]
    calibrated: tuple[float, ...]
    words: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfidenceMap:
        return cls(tuple(data["raw"]), tuple(data["calibrated"]), data["words"])


@dataclass(frozen=True)
class CalibrationReport(JsonRecord):
    """A model folder's word-confidence calibration (``confidence_map.json``): the map, and how
    confidence did on the words it was fitted on, before and after."""

    KIND: ClassVar[str] = "confidence_calibration"

    fitted_on: str  # the set the map was fitted on (dev)
    clips: int
    words: int
    accuracy: float  # share of hypothesis words that are right
    ece_raw: float
    ece: float  # after calibration (in-sample: evaluation reports held-out numbers)
    auroc: float  # "this word is wrong", scored by low confidence
    map: ConfidenceMap

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationReport:
        return cls(**{**data, "map": ConfidenceMap.from_dict(data["map"])})


@dataclass(frozen=True)
class TermScores:
    """One term's occurrences: recall = tp / support, precision = tp / (tp + fp)."""

    recall: float
    precision: float
    tp: int
    fn: int
    fp: int
    support: int
    recall_interval: Interval | None = None  # bootstrap over utterances

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TermScores:
        return cls(**{**data, "recall_interval": Interval.maybe(data.get("recall_interval"))})


@dataclass(frozen=True)
class GroupScores:
    wer: float
    clips: int
    words: int
    cer: float = 0.0
    wer_interval: Interval | None = None  # bootstrap over the group's utterances

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupScores:
        return cls(**{**data, "wer_interval": Interval.maybe(data.get("wer_interval"))})


@dataclass(frozen=True)
class SetScores:
    """Scores of one evaluation set (a split, or held-out drop audio)."""

    n: int
    wer: float
    cer: float
    per_voice: dict[str, GroupScores]
    terms: dict[str, TermScores]
    audio_seconds: float = 0.0
    compute_seconds: float = 0.0
    rtf: float = 0.0
    skipped: int = 0
    word_ece: float | None = None  # expected calibration error of word confidence
    word_auroc: float | None = None  # AUROC of "this word is wrong" by low confidence
    wer_interval: Interval | None = None
    slices: dict[str, GroupScores] = field(default_factory=dict)  # "accent=en-gb", "noise=clean"
    # B-WER / U-WER: errors on the words of the biasing list (every term so far) and off it
    b_wer: float | None = None
    u_wer: float | None = None
    b_words: int = 0
    b_wer_interval: Interval | None = None
    u_wer_interval: Interval | None = None
    # term-free clips (no term said) with a term written in them, and how many there were
    false_alarm_clips: int = 0
    term_free_clips: int = 0

    @property
    def false_alarm_rate(self) -> float | None:
        """Share of term-free clips in which a term was written."""
        return self.false_alarm_clips / self.term_free_clips if self.term_free_clips else None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SetScores:
        def groups(key: str) -> dict[str, GroupScores]:
            return {k: GroupScores.from_dict(v) for k, v in data.get(key, {}).items()}

        return cls(
            **{
                **data,
                "per_voice": groups("per_voice"),
                "slices": groups("slices"),
                "terms": {k: TermScores.from_dict(v) for k, v in data["terms"].items()},
                "wer_interval": Interval.maybe(data.get("wer_interval")),
                "b_wer_interval": Interval.maybe(data.get("b_wer_interval")),
                "u_wer_interval": Interval.maybe(data.get("u_wer_interval")),
            }
        )

    def term_recall(self) -> dict[str, float]:
        """Recall of each term that occurs in the set."""
        return {t: s.recall for t, s in self.terms.items() if s.support}


@dataclass(frozen=True)
class ModelInfo:
    """Which model produced a result: a folder or ``registry:<ref>``, and the versions behind it."""

    model: str
    model_version: str | None = None
    vocab_version: str | None = None


@dataclass(frozen=True)
class EvaluationReport(JsonRecord):
    KIND: ClassVar[str] = "evaluation"

    model: ModelInfo
    results: dict[str, SetScores]
    calibration: CalibrationReport | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationReport:
        calibration = data.get("calibration")
        return cls(
            ModelInfo(**data["model"]),
            {k: SetScores.from_dict(v) for k, v in data["results"].items()},
            CalibrationReport.from_dict(calibration) if calibration else None,
        )


# ---------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class TuningPoint:
    """One point of the decoding grid and its dev WER."""

    lm_weight: float
    word_score: float
    wer: float


@dataclass(frozen=True)
class DecodeTuning(JsonRecord):
    """The LM weight / word score grid on dev, its best point and the model it decoded (the
    model's fields stay at the top level, as the file always had them)."""

    KIND: ClassVar[str] = "decode_tuning"

    best: TuningPoint
    grid: tuple[TuningPoint, ...]
    model: ModelInfo

    def to_dict(self) -> dict[str, Any]:
        grid = [asdict(point) for point in self.grid]
        return {"best": asdict(self.best), "grid": grid, **asdict(self.model)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecodeTuning:
        return cls(
            TuningPoint(**data["best"]),
            tuple(TuningPoint(**point) for point in data["grid"]),
            ModelInfo(data["model"], data.get("model_version"), data.get("vocab_version")),
        )


# ---------------------------------------------------------------------------- peer


@dataclass(frozen=True)
class PeerScores:
    """One system on one set: WER, clips, each term's recall, real-time factor."""

    wer: float
    n: int
    recall: dict[str, float]
    rtf: float


@dataclass(frozen=True)
class PeerComparison(JsonRecord):
    """``bench peer``: each system's scores per set (system -> set -> scores)."""

    KIND: ClassVar[str] = "peer_comparison"

    systems: dict[str, dict[str, PeerScores]]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PeerComparison:
        return cls(
            {
                system: {name: PeerScores(**scores) for name, scores in sets.items()}
                for system, sets in data["systems"].items()
            }
        )


# ---------------------------------------------------------------------------- serving


@dataclass(frozen=True)
class ServingRecord(JsonRecord):
    """Which registered version served a drop (written once; history does not move)."""

    KIND: ClassVar[str] = "serving"

    model: str  # registered model name
    version: str


# ---------------------------------------------------------------------------- gate


@dataclass(frozen=True)
class Candidate:
    """A model version's numbers on the gate's evidence.

    ``terms``: each term's recall on held-out drop audio and precision over the held-out audio
    and the regression set (where a term written but not said is a false alarm)."""

    version: str
    regression_wer: float
    regression_clips: int
    heldout_wer: float
    heldout_clips: int
    terms: dict[str, TermScores]
    heldout_b_wer: float | None = None  # on the words of every term so far
    heldout_u_wer: float | None = None  # on every other word
    false_alarm_clips: int = 0  # term-free clips (held-out and regression) with a term written
    term_free_clips: int = 0

    @property
    def term_recall(self) -> dict[str, float]:
        return {t: s.recall for t, s in self.terms.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candidate:
        terms = {t: TermScores.from_dict(s) for t, s in data["terms"].items()}
        return cls(**{**data, "terms": terms})


CLAUSE_OUTCOMES = ("pass", "fail", "undecided")


@dataclass(frozen=True)
class Clause:
    """One rule of the gate, as applied: its name, whether it held, and the numbers.

    A clause on a measured difference carries its interval and limit; ``undecided`` means the
    interval straddles the limit, and ``more_clips`` how many more would decide it."""

    name: str
    passed: bool
    detail: str
    outcome: str = ""  # pass | fail | undecided ("" for a clause without an interval)
    interval: Interval | None = None
    limit: float | None = None
    more_clips: int | None = None
    tests: PairedTests | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Clause:
        if data.get("outcome", "") not in ("", *CLAUSE_OUTCOMES):
            raise ValueError(f"field 'outcome': {data.get('outcome')!r} not in {CLAUSE_OUTCOMES}")
        tests = data.get("tests")
        return cls(
            **{
                **data,
                "interval": Interval.maybe(data.get("interval")),
                "tests": PairedTests(**tests) if tests is not None else None,
            }
        )


@dataclass(frozen=True)
class SliceComparison:
    """The challenger's WER minus the champion's on one slice of the regression set."""

    name: str  # e.g. "accent=en-gb-scotland"
    clips: int
    difference: Interval
    blocks: bool  # enough clips and significantly worse than the slice margin

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SliceComparison:
        return cls(**{**data, "difference": Interval(**data["difference"])})


@dataclass(frozen=True)
class PowerStatement:
    """What the regression set can decide, from the per-clip error differences measured."""

    clips: int
    words_per_clip: float
    sd_difference: float  # per-clip errors, challenger minus champion
    margin: float
    confidence: float
    power: float
    clips_needed: int  # to detect a change of ``margin`` with ``power``


TERM_STATES = ("learned", "improving", "not learned")


@dataclass(frozen=True)
class TermStatus:
    """Where one term stands after a fine-tune: ``learned`` (held-out recall at or above the
    target), ``improving`` (below it, but significantly better than the champion) or ``not
    learned``; ``reason`` says why in numbers."""

    status: str
    recall: float
    target: float
    reason: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TermStatus:
        if data.get("status") not in TERM_STATES:
            raise ValueError(f"field 'status': {data.get('status')!r} not in {TERM_STATES}")
        return cls(**data)


GATE_STATES = ("decided", "applied")


@dataclass(frozen=True)
class GateDecision(JsonRecord):
    """The gate's verdict on one challenger, written before any alias moves (``decided``) and
    marked ``applied`` once the registry holds it: a rerun completes a half-done gate."""

    KIND: ClassVar[str] = "gate_decision"

    promote: bool
    reason: str
    challenger: Candidate
    champion: Candidate | None
    baseline: Candidate | None  # the first champion: the total regression budget's reference
    clauses: tuple[Clause, ...] = ()
    model_checks: dict[str, Any] = field(default_factory=dict)
    state: str = "decided"
    slices: tuple[SliceComparison, ...] = ()
    power: PowerStatement | None = None
    term_status: dict[str, TermStatus] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clauses"] = [asdict(c) for c in self.clauses]
        data["slices"] = [asdict(c) for c in self.slices]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateDecision:
        if data.get("state") not in GATE_STATES:
            raise ValueError(f"field 'state': {data.get('state')!r} not in {GATE_STATES}")

        def candidate(value):
            return Candidate.from_dict(value) if value else None

        return cls(
            data["promote"],
            data["reason"],
            Candidate.from_dict(data["challenger"]),
            candidate(data.get("champion")),
            candidate(data.get("baseline")),
            tuple(Clause.from_dict(c) for c in data.get("clauses", [])),
            data.get("model_checks") or {},
            data["state"],
            tuple(SliceComparison.from_dict(c) for c in data.get("slices", [])),
            PowerStatement(**data["power"]) if data.get("power") else None,
            {t: TermStatus.from_dict(v) for t, v in (data.get("term_status") or {}).items()},
        )

    @property
    def failed(self) -> list[Clause]:
        return [c for c in self.clauses if not c.passed]


# ---------------------------------------------------------------------------- monitor


@dataclass(frozen=True)
class Spike:
    """A production n-gram with its counts and spike score."""

    ngram: str
    n: int
    prod_count: int
    train_count: int
    expected: float
    score: float

    def to_dict(self) -> dict:
        return {**asdict(self), "expected": round(self.expected, 3), "score": round(self.score, 4)}


@dataclass(frozen=True)
class Disagreement:
    """A phrase the lexicon + LM path writes where the greedy path heard something else."""

    phrase: str
    heard: str
    count: int
    occurrences: int
    rate: float


@dataclass(frozen=True)
class SpikeReport(JsonRecord):
    """The monitor's findings for one drop, best first: phrases that spike against the training
    text, and phrases the two decoding paths disagree on."""

    KIND: ClassVar[str] = "spikes"

    drop: str
    spikes: tuple[Spike, ...]
    disagreements: tuple[Disagreement, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "drop": self.drop,
            "spikes": [s.to_dict() for s in self.spikes],
            "disagreements": [asdict(d) for d in self.disagreements],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpikeReport:
        return cls(
            str(data["drop"]),
            tuple(Spike(**s) for s in data["spikes"]),
            tuple(Disagreement(**d) for d in data.get("disagreements", [])),
        )

    def phrases(self, top: int) -> list[str]:
        """The flagged phrases: top spikes and top disagreements, interleaved, no repeats."""
        return list(self.flagged(top))

    def flagged(self, top: int) -> dict[str, float]:
        """The flagged phrases (in :meth:`phrases` order) with their weight: the production
        occurrences a phrase's evidence explains, i.e. a spike's count beyond the training rate
        or how often the two paths disagreed on it (the larger when it is both). A new word's
        mishearing explains many; a sentence pattern of the drop, a few."""
        from itertools import chain, zip_longest

        spikes = [(s.ngram, s.prod_count - s.expected) for s in self.spikes[:top]]
        disagreed = [(d.phrase, float(d.count)) for d in self.disagreements[:top]]
        weights: dict[str, float] = {}
        for pair in chain.from_iterable(zip_longest(spikes, disagreed)):
            if pair is not None:
                phrase, weight = pair
                weights[phrase] = round(max(weights.get(phrase, 0.0), weight), 3)
        return weights


@dataclass(frozen=True)
class LowConfidenceSpan:
    """A run of consecutive words below the confidence threshold in one clip."""

    id: str
    text: str
    start: float
    end: float
    confidence: float  # mean over the span's words
    n_words: int


@dataclass(frozen=True)
class LowConfidenceReport(JsonRecord):
    """The monitor's runs of low-confidence words in a drop's transcripts, least confident
    first (what a reviewer listens to when no phrase spikes)."""

    KIND: ClassVar[str] = "low_confidence"

    spans: tuple[LowConfidenceSpan, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"spans": [asdict(s) for s in self.spans]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LowConfidenceReport:
        return cls(tuple(LowConfidenceSpan(**s) for s in data["spans"]))


# ---------------------------------------------------------------------------- triage


@dataclass(frozen=True)
class TriageOverall:
    """The approved review rows at a glance (``aligned_error_rate``: splits/merges as one)."""

    clips: int
    wer: float
    cer: float
    aligned_error_rate: float


@dataclass(frozen=True)
class SampledWer:
    """WER of the approved random-sample rows with a bootstrap 95% interval (None: no rows)."""

    wer: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class ReviewEffort:
    """What reviewing a queue cost: decided rows, each costing its audio plus a decision time
    (``triage.reviewer.decision_seconds``), and the strategy that ordered them."""

    strategy: str
    decided: int
    minutes: float
    decision_seconds: float
    pending: int


@dataclass(frozen=True)
class TriageResult(JsonRecord):
    """The error analysis of a drop's approved review rows: queue counts, the overall numbers,
    confusions, insertions and deletions (``{word, count, examples}`` rows from the alignment),
    out-of-vocabulary words, WER per voice, each emerging term's scores with example clips."""

    KIND: ClassVar[str] = "triage"

    queue: dict[str, int]  # rows by status
    overall: TriageOverall
    confusions: list[dict[str, Any]]  # {ref, hyp, op, count, examples}
    insertions: list[dict[str, Any]]
    deletions: list[dict[str, Any]]
    alignment: dict[str, Any]  # the alignment's counts
    oov: list[dict[str, Any]]  # {word, count, examples}
    per_voice: dict[str, GroupScores]
    per_term: dict[str, dict[str, Any]]  # TermScores fields + examples
    sampled_wer: SampledWer
    effort: ReviewEffort | None = None  # None in records written before it was measured

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TriageResult:
        effort = data.get("effort")
        return cls(
            **{
                **data,
                "overall": TriageOverall(**data["overall"]),
                "per_voice": {k: GroupScores.from_dict(v) for k, v in data["per_voice"].items()},
                "sampled_wer": SampledWer(**data["sampled_wer"]),
                "effort": ReviewEffort(**effort) if effort else None,
            }
        )


# ---------------------------------------------------------------------------- loop summary


@dataclass
class IterationRecord:
    """One loop iteration's numbers (filled stage by stage, hence not frozen)."""

    iteration: int
    corpus_version: str = ""
    vocab_version: str = ""
    model_version: str = ""
    run_id: str = ""
    test_wer: float | None = None
    test_cer: float | None = None
    neural_test_wer: float | None = None  # the test_neural split (a voice family never trained on)
    real_speech_wer: float | None = None  # recordings of people (evaluate.real_speech)
    word_confidence: dict[str, float] = field(default_factory=dict)  # test: ece, auroc
    regression_wer: float | None = None
    heldout_drop_wer: float | None = None
    term_recall: dict[str, float] = field(default_factory=dict)
    term_precision: dict[str, float] = field(default_factory=dict)  # held-out drops + regression
    promoted: bool = False
    gate_reason: str = ""
    new_words: list[str] = field(default_factory=list)
    data_checks: dict = field(default_factory=dict)
    model_checks: dict = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)
    wer_intervals: dict[str, list[float]] = field(default_factory=dict)  # set: [low, high]
    recall_intervals: dict[str, list[float]] = field(default_factory=dict)  # term: [low, high]
    # clause name: {outcome, estimate, low, high, limit} for the gate's clauses on intervals
    gate_clauses: dict[str, dict[str, Any]] = field(default_factory=dict)
    heldout_b_wer: float | None = None  # held-out drops: errors on the terms' words
    heldout_u_wer: float | None = None  # held-out drops: errors on every other word
    false_alarm_rate: float | None = None  # term-free clips (held-out + regression) with a term
    # per term: learned | improving | not learned (gate.target_recall), with the reason
    term_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the champion, unchanged, with the new vocabulary (and biasing), before any retraining
    recall_at_update: dict[str, float] = field(default_factory=dict)
    b_wer_at_update: float | None = None
    # per term on the validation clips (approved, kept out of training): after the fine-tune,
    # then after each growth round
    validation_recall: list[dict[str, float]] = field(default_factory=list)
    # per term, false alarms on the look-alike probe (grow.probe): after the fine-tune, then
    # after each growth round
    probe_false_alarms: list[dict[str, int]] = field(default_factory=list)
    # each growth round: {round, clips, short: [{term, recall, support, deficit, confusions}]}
    grow_rounds: list[dict[str, Any]] = field(default_factory=list)
    # the review that fed this iteration's grow: {strategy, decided, minutes, ...} (ReviewEffort)
    review: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoopSummary(JsonRecord):
    """The loop's before/after numbers: every iteration, and the final champion on the held-out
    drop audio (``final``: champion_version, heldout_wer, heldout_b_wer, heldout_u_wer,
    term_recall, term_status, rtf, transcripts)."""

    KIND: ClassVar[str] = "loop_summary"

    scenario: str
    terms: list[str]
    loop_run_id: str
    iterations: tuple[IterationRecord, ...]
    final: dict[str, Any]
    total_seconds: float
    # what the times were measured on: asrloop.machine's record and calibration, measured at
    # the end, and the load average before the loop started (what else was running)
    machine: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "iterations": [asdict(r) for r in self.iterations]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoopSummary:
        iterations = tuple(IterationRecord(**r) for r in data["iterations"])
        return cls(**{**data, "iterations": iterations})
