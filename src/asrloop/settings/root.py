"""The root schema: one field per config group, plus the root keys of ``conf/config.yaml``.

``experiment``, ``hparams_search`` and ``launcher`` are overlays (``# @package _global_``): they
set keys of these groups (and Hydra's own ``hydra`` node, which is set aside before validation),
never a group of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.checks import ChecksSettings
from asrloop.settings.corpus import CorpusSettings, CorpusTextSettings, ImporterSettings
from asrloop.settings.decode import DecodeSettings, decode_schema
from asrloop.settings.evaluate import EvaluateSettings
from asrloop.settings.executor import ExecutorSettings
from asrloop.settings.export import ExportSettings
from asrloop.settings.features import FeaturesSettings
from asrloop.settings.gate import GateSettings
from asrloop.settings.grow import GrowSettings
from asrloop.settings.loop import LoopSettings
from asrloop.settings.model import ModelSettings, model_schema
from asrloop.settings.paths import PathsSettings
from asrloop.settings.peer import PeerSettings
from asrloop.settings.review import ReviewSettings
from asrloop.settings.scaffold import ScaffoldSettings
from asrloop.settings.scenario import ScenarioSettings
from asrloop.settings.team import TeamSettings
from asrloop.settings.tracking import TrackingSettings
from asrloop.settings.train import TrainSettings
from asrloop.settings.train_data import TrainDataSettings
from asrloop.settings.trainer import TrainerSettings
from asrloop.settings.transcribe import TranscribeSettings
from asrloop.settings.triage import TriageSettings
from asrloop.settings.vocab import VocabSettings


@dataclass
class Settings:
    """The whole config every step composes (``conf/config.yaml``)."""

    seed: int = MISSING
    version: str | None = None  # `asrloop corpus restore +version=corpus-v1`
    paths: PathsSettings = field(default_factory=PathsSettings)
    corpus: CorpusSettings = field(default_factory=CorpusSettings)
    scenario: ScenarioSettings = field(default_factory=ScenarioSettings)
    features: FeaturesSettings = field(default_factory=FeaturesSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    trainer: TrainerSettings = field(default_factory=TrainerSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    train_data: TrainDataSettings = field(default_factory=TrainDataSettings)
    vocab: VocabSettings = field(default_factory=VocabSettings)
    decode: DecodeSettings = field(default_factory=DecodeSettings)
    evaluate: EvaluateSettings = field(default_factory=EvaluateSettings)
    transcribe: TranscribeSettings = field(default_factory=TranscribeSettings)
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    triage: TriageSettings = field(default_factory=TriageSettings)
    grow: GrowSettings = field(default_factory=GrowSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    gate: GateSettings = field(default_factory=GateSettings)
    checks: ChecksSettings = field(default_factory=ChecksSettings)
    peer: PeerSettings = field(default_factory=PeerSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    team: TeamSettings = field(default_factory=TeamSettings)
    loop: LoopSettings = field(default_factory=LoopSettings)
    scaffold: ScaffoldSettings = field(default_factory=ScaffoldSettings)


# Every config group (a folder of conf/) and its schema; the model and decode groups have one
# schema per kind of option (see ``model_schema``, ``decode_schema``): these are their bases.
GROUPS: dict[str, type] = {
    "paths": PathsSettings,
    "corpus": CorpusSettings,
    "corpus/text": CorpusTextSettings,
    "corpus/importer": ImporterSettings,
    "scenario": ScenarioSettings,
    "features": FeaturesSettings,
    "model": ModelSettings,
    "trainer": TrainerSettings,
    "train": TrainSettings,
    "train_data": TrainDataSettings,
    "vocab": VocabSettings,
    "decode": DecodeSettings,
    "evaluate": EvaluateSettings,
    "transcribe": TranscribeSettings,
    "executor": ExecutorSettings,
    "triage": TriageSettings,
    "grow": GrowSettings,
    "review": ReviewSettings,
    "gate": GateSettings,
    "checks": ChecksSettings,
    "peer": PeerSettings,
    "export": ExportSettings,
    "tracking": TrackingSettings,
    "team": TeamSettings,
    "loop": LoopSettings,
    "scaffold": ScaffoldSettings,
}


def root_schema(config: Mapping) -> Settings:
    """A ``Settings`` whose model and decode sections have the schema of the options that
    ``config`` chose (told apart by their keys, as the code does)."""
    return Settings(
        model=model_schema(config.get("model"))(),
        decode=decode_schema(config.get("decode"))(),
    )
