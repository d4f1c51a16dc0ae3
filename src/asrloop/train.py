"""Training (``asrloop train``): CTC on the corpus, tracked in MLflow, resumable, registered.

Checkpoints are written atomically every ``train.checkpoint_every`` steps to the output folder's
checkpoint (:class:`asrloop.artifacts.ModelOutput`); the same command resumes from there after
an interruption (when the config is unchanged). The best dev checkpoint is saved with
``save_pretrained`` and its processor (tokenizer, feature extractor) as ``best/``; the run's
outcome is the result file (:class:`asrloop.records.TrainingResult`).

The model starts from scratch, from a local checkpoint (``model=pretrained model.path=...``: any
``AutoModelForCTC`` with its own processor) or from the registry (``train.init_from``). Under
``torchrun`` it trains with DDP (:mod:`asrloop.distributed`): each process takes its share of
every global batch and only rank 0 logs, checkpoints and registers.

A grown corpus turns a run into a fine-tune (``train.finetune_when_grown``): the policy makes
new train settings that become the job's own before the :class:`Trainer` reads any of them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from asrloop import tracking
from asrloop.artifacts import SKIPPED_ROWS_ARTIFACT, VOCAB_VERSION, ModelOutput
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.corpus.packed import ShardStore
from asrloop.distributed import Distributed, NoTracking
from asrloop.errors import ConfigError, MissingInputError
from asrloop.execution import LOCAL, Executor
from asrloop.faults import fault_point
from asrloop.fsutil import recover_dir, replace_dir
from asrloop.hardware import Hardware
from asrloop.jsonio import atomic_write_text, write_json
from asrloop.metrics import cer, wer
from asrloop.model.averaging import average_weights, averaged_with, mark_averaged, snapshot
from asrloop.model.checkpoint import Processor, grow_head, load_checkpoint, new_head
from asrloop.model.epochs import EpochPlan, FolderEpoch
from asrloop.model.factory import architecture_mismatches, build_model, build_processor
from asrloop.model.feature_cache import FeatureCache
from asrloop.model.folder import save_model_folder
from asrloop.model.inputs import ModelInputs, is_fbank_model
from asrloop.model.registry import PyfuncModel, Registry
from asrloop.model.schedule import layerwise_groups
from asrloop.model.streamed_data import PackedCorpus, StreamedData, StreamSettings
from asrloop.model.training_data import (
    Example,
    LoadReport,
    bucket_batches,
    collate,
    load_examples,
)
from asrloop.progress import console
from asrloop.records import TrainingResult
from asrloop.settings.features import FeaturesSettings
from asrloop.settings.model import ModelSettings, PretrainedModelSettings
from asrloop.settings.train import TrainSettings
from asrloop.settings.train_data import TrainDataSettings
from asrloop.text.tokenizer import CharTokenizer
from asrloop.tracking import TrackingSettings

# train.* keys that change neither the weights nor the batch order: a run resumes across them
RESUME_INDEPENDENT = {
    "max_minutes",
    "max_steps",
    "register",
    "log_every",
    "checkpoint_every",
    "dev_curve",
}


# How a registered version is served: (vocabulary folder or None, an example clip or None) ->
# the pyfunc to register. The step builds it (the serving stack), so model/ never imports serve/.
ServingPackage = Callable[[Path | None, Path | None], PyfuncModel]


@dataclass(frozen=True)
class TrainingJob:
    """Everything a training run reads, unpacked from the root config by the ``train`` step."""

    train: TrainSettings
    model: ModelSettings
    features: FeaturesSettings
    corpus_dir: Path
    vocab_dir: Path
    alphabet: str
    hardware: Hardware
    feature_cache: Path  # stored features (Layout.feature_cache())
    dev_curve: Path  # dev CER/WER per evaluation, a DVC plot (Layout.dev_curve())
    tracking: TrackingSettings
    config: dict[str, Any]  # the resolved config: logged with the run, saved beside the model
    serving: ServingPackage  # what registering the best model logs with it
    distributed: Distributed = field(default_factory=Distributed)  # this rank (torchrun)
    find_unused_parameters: str | bool = "auto"  # trainer.ddp_find_unused_parameters
    executor: Executor = LOCAL  # where uncached features are computed (conf/executor)
    train_data: TrainDataSettings = field(default_factory=TrainDataSettings)
    packed: ShardStore | None = None  # train_data=stream: the packed corpus it streams
    refresh_packed: Callable[[], object] | None = None  # brings it up to date first (rank 0)

    @property
    def output(self) -> ModelOutput:
        return ModelOutput(Path(self.train.output_dir))


@dataclass
class TrainingState:
    """Where a run stands; saved in every checkpoint, so a resumed run continues here."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_cer: float = float("inf")
    run_id: str | None = None
    audio_seconds: float = 0.0
    train_seconds: float = 0.0  # across resumes: ``max_minutes`` is a budget for the whole run
    dev_curve: list[dict[str, float]] = field(default_factory=list)  # {step, dev_cer, dev_wer}


@dataclass
class TrainingData:
    """The prepared inputs of a run: model, its processor and input adapter, featurised train
    and dev sets."""

    model: Any
    processor: Processor
    inputs: ModelInputs
    init_version: str | None
    train: list[Example]  # every train clip in memory (folders; empty when streamed)
    dev: list[Example]
    rows: list[Utterance]
    reports: dict[str, LoadReport] = field(default_factory=dict)
    start_weights: dict | None = None  # the warm start's weights (train.average_with_start)
    stream: StreamedData | None = None  # train_data=stream: plans and streams the epochs

    @property
    def tokenizer(self) -> CharTokenizer:
        return self.processor.tokenizer


@dataclass
class Optimization:
    """Optimizer, scheduler and the step budget, plus the random state of batch order."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    total_steps: int
    rng: random.Random
    augment: torch.Generator  # SpecAugment's and the gain's draws, this process's
    scaler: torch.amp.GradScaler | None = None  # fp16 only


def config_digest(job: TrainingJob, rows: list[Utterance], packed: str | None = None) -> str:
    """What a resumable run must share: model/train/features settings (as the plain dicts the
    config held, so earlier checkpoints stay resumable), the training data (``packed``: the
    packed corpus's digest, and how it is streamed) and the number of processes (it sets the
    global batch)."""
    keep = {"model": asdict(job.model), "features": asdict(job.features)}
    if packed is not None:
        keep["packed"] = {"digest": packed, **asdict(job.train_data)}
    if job.distributed.enabled:
        keep["world_size"] = job.distributed.world_size
    keep["train"] = {k: v for k, v in asdict(job.train).items() if k not in RESUME_INDEPENDENT}
    keep["data"] = sorted((r.audio_filepath, str(r.manifest), r.text) for r in rows)
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def config_from_checkpoint(saved: dict, output: ModelOutput) -> None:
    """Make the folder's ``config.yaml`` the one its checkpoint embeds (a kill can fall between
    the checkpoint's write and the config's)."""
    text = saved.get("config")
    if isinstance(text, str) and (
        not output.config.exists() or output.config.read_text(encoding="utf-8") != text
    ):
        atomic_write_text(output.config, text)


def save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    fault_point("train.checkpoint")
    os.replace(tmp, path)


@torch.no_grad()
def greedy_transcripts(
    model, examples, tokenizer, inputs: ModelInputs, max_frames: int, device
) -> list[tuple[str, str]]:
    """(reference, greedy hypothesis) of each example."""
    model.eval()
    pairs = []
    for batch_ids in bucket_batches(examples, max_frames, random.Random(0)):
        batch = [examples[i] for i in batch_ids]
        features, lengths = inputs.batch([u.features for u in batch])
        logits = model(**{k: v.to(device) for k, v in features.items()}).logits.cpu()
        for u, row, n in zip(batch, logits.argmax(-1), lengths, strict=True):
            pairs.append((u.text, tokenizer.decode(tokenizer.ctc_collapse(row[: int(n)].tolist()))))
    model.train()
    return pairs


def greedy_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    refs, hyps = [r for r, _ in pairs], [h for _, h in pairs]
    return {"wer": wer(refs, hyps), "cer": cer(refs, hyps)}


def finetune_settings(
    train: TrainSettings, rows: list[Utterance], registry: Registry
) -> TrainSettings:
    """The train settings for a corpus: ``train`` itself, or, when the corpus has grown and no
    explicit init is set, a new object with ``train.finetune_when_grown`` merged in (a warm
    start from the champion). ``train`` is left as it is."""
    policy = train.finetune_when_grown
    grown = any(r.is_grown for r in rows)
    if train.init_from is not None or not grown or not policy or not policy.get("from"):
        return train
    if registry.alias_version(str(policy["from"])) is None:
        return train
    console.print(f"corpus has grown: fine-tuning from [bold]{policy['from']}[/]")
    settings = {k: v for k, v in policy.items() if k != "from"}
    return _merged(train, {"init_from": str(policy["from"]), **settings})


def _merged(train: TrainSettings, changes: dict[str, Any]) -> TrainSettings:
    """A new ``train`` with ``changes`` merged in as a config override merges: mappings key by
    key (``optimizer: {lr: ...}`` keeps the optimizer's other keys), values converted to the
    fields' types (``max_minutes: 2`` is 2.0), so the run's digest is that of the same
    settings written in the train config."""
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(train), changes))


class Trainer:
    def __init__(self, job: TrainingJob):
        self.dist = job.distributed
        self.output = job.output
        self.output.folder.mkdir(parents=True, exist_ok=True)
        if self.dist.is_main:  # the one process that writes there
            recover_dir(self.output.best)
        self.registry = Registry(job.tracking)
        self.hardware = job.hardware.apply()
        self.dist.start(self.hardware.device)
        if not self.dist.is_main:
            console.quiet = True  # one process reports
        if job.refresh_packed is not None:
            with self.dist.main_first():  # one process packs; the others read what it wrote
                if self.dist.is_main:
                    job.refresh_packed()
        self.packed = PackedCorpus(job.packed) if job.packed is not None else None
        if self.packed is not None:
            self.corpus_rows = self.packed.rows("train")
        else:
            self.corpus_rows = list(iter_corpus(job.corpus_dir, ["train"]))
        # one truth: the job's train settings are the ones this run uses
        self.job = replace(job, train=finetune_settings(job.train, self.corpus_rows, self.registry))
        torch.manual_seed(int(self.tc.seed))

    @cached_property
    def config_text(self) -> str:
        """The run's config (secrets masked) as ``config.yaml`` holds it: written only with the
        weights it describes (the checkpoint, which embeds it, or ``best/``)."""
        config = tracking.portable(self.job.config, self.job.tracking.root)
        return OmegaConf.to_yaml(OmegaConf.create(tracking.mask_secrets(config)))

    @property
    def tc(self) -> TrainSettings:
        """The run's train settings (``job.train``, the fine-tune policy applied)."""
        return self.job.train

    # -- data ---------------------------------------------------------------------------------
    def training_rows(self) -> list[Utterance]:
        """The corpus's train rows, grown rows ``train.grown_repeat`` times."""
        rows = self.corpus_rows
        grown = [r for r in rows if r.is_grown]
        return rows + grown * max(0, int(self.tc.grown_repeat) - 1)

    def prepare(self) -> TrainingData:
        rows = self.training_rows()
        if not rows:
            raise MissingInputError(
                f"no training rows under {self.job.corpus_dir}: run `asrloop corpus synth`"
            )
        model, processor, init_version = self.initial_model(rows)
        inputs = processor.inputs(model, self.job.features)
        averaging = init_version is not None and float(self.tc.average_with_start) > 0
        start = snapshot(model) if averaging else None
        if self.packed is not None:
            stream = self.streamed_data(processor.tokenizer, inputs)
            inputs.prepare(model, stream.examples("train", limit=2000))
            dev = stream.examples("dev")
            return TrainingData(
                model, processor, inputs, init_version, [], dev, rows, stream.reports, start, stream
            )
        dev_rows = list(iter_corpus(self.job.corpus_dir, ["dev"]))
        tokenizer = processor.tokenizer
        max_s = float(self.job.features.max_seconds)
        cache = None
        if inputs.cacheable:
            root = self.job.tracking.root
            cache = FeatureCache(self.job.feature_cache, self.job.features, root)
        executor = self.job.executor
        train, report = load_examples(
            rows, tokenizer, inputs, max_s, "loading train", cache, executor
        )
        dev, dev_report = load_examples(
            dev_rows, tokenizer, inputs, max_s, "loading dev", cache, executor
        )
        inputs.prepare(model, train)
        reports = {"train": report, "dev": dev_report}
        return TrainingData(
            model, processor, inputs, init_version, train, dev, rows, reports, start
        )

    def streamed_data(self, tokenizer: CharTokenizer, inputs: ModelInputs) -> StreamedData:
        assert self.packed is not None
        console.print(f"streaming the packed corpus {self.packed.store.describe()}")
        settings = self.job.train_data
        stream = StreamSettings(
            int(settings.buffer_clips), bool(settings.shuffle_shards), int(self.tc.seed)
        )
        max_s = float(self.job.features.max_seconds)
        return StreamedData(self.packed, tokenizer, inputs, max_s, stream)

    def initial_model(self, rows: list[Utterance]) -> tuple[Any, Processor, str | None]:
        """(model, its processor, registry version it starts from): from the registry
        (``train.init_from``), a local checkpoint (``model.path``) or scratch."""
        alphabet = set(self.job.alphabet)
        texts = _clean(["".join(c for c in r.text or "" if c in alphabet) for r in rows])
        settings, init, version = self.job.model, self.tc.init_from, None
        if init is not None:
            model, processor, version = self.registry.load_model(str(init))
            mismatches = architecture_mismatches(settings, model)
            if mismatches:
                raise ConfigError(
                    f"train.init_from={init} (v{version}) warm-starts that model as it is, so "
                    f"these model settings cannot apply: {'; '.join(mismatches)}. Drop the "
                    "overrides to fine-tune it, or train the new architecture from scratch "
                    "(train.finetune_when_grown=null, and train.init_from=null)"
                )
        elif isinstance(settings, PretrainedModelSettings):
            model, processor = load_checkpoint(settings.path, settings.config_overrides)
            console.print(f"fine-tuning the checkpoint [bold]{settings.path}[/]")
            if settings.new_head:
                processor = replace(processor, tokenizer=CharTokenizer.from_texts(texts))
                new_head(model, processor.tokenizer)
        else:
            tokenizer = CharTokenizer.from_texts(texts)
            model = build_model(settings, len(tokenizer))
            processor = build_processor(settings, model, tokenizer)
        new = processor.tokenizer.extend(texts)
        if new:
            console.print(f"new symbols {new}: growing the CTC head, keeping trained rows")
            grow_head(model, len(processor.tokenizer))
        if settings.freeze_feature_encoder:
            model.freeze_feature_encoder()
        return model, processor, version

    def optimization(self, data: TrainingData, saved: dict | None) -> Optimization:
        """Optimizer and scheduler from ``train.optimizer`` / ``train.scheduler`` (partials)."""
        accumulation = int(self.tc.grad_accumulation)
        total = sum(
            math.ceil(len(self.epoch_plan(data, epoch)) / accumulation)
            for epoch in range(int(self.tc.epochs))
        )
        if self.tc.max_steps:
            total = min(total, int(self.tc.max_steps))
        optimizer = instantiate(self.tc.optimizer)(params=self.parameter_groups(data.model))
        rng = random.Random(int(self.tc.seed))
        step = 0
        if saved is not None:
            optimizer.load_state_dict(saved["optimizer"])
            rng.setstate(_as_tuple(saved["rng"]))
            step = int(saved["state"]["step"])
        augment = self.augment_generator(saved, step)
        scheduler = instantiate(self.tc.scheduler)(optimizer, total_steps=total, last_step=step)
        scaler = None
        if self.hardware.precision == "fp16":
            scaler = torch.amp.GradScaler(self.hardware.device.type)
            if saved is not None and "scaler" in saved:
                scaler.load_state_dict(saved["scaler"])
        return Optimization(optimizer, scheduler, total, rng, augment, scaler)

    def augment_generator(self, saved: dict | None, step: int) -> torch.Generator:
        """Augmentation's random stream for this process: where the checkpoint left it (a
        resumed run draws the masks the uninterrupted run would have), else seeded."""
        states = (saved or {}).get("augment_rng")
        if states is not None and len(states) == self.dist.world_size:
            return torch.Generator().set_state(states[self.dist.rank])
        # a fresh run, or a checkpoint written before the state was kept: seeded by the step
        return torch.Generator().manual_seed(int(self.tc.seed) + step + 1_000_003 * self.dist.rank)

    def parameter_groups(self, model) -> list:
        """Trainable parameters; one group per layer with ``train.layer_lr_decay``."""
        if self.tc.layer_lr_decay is None:
            return [p for p in model.parameters() if p.requires_grad]
        decay = float(self.tc.layer_lr_decay)
        return layerwise_groups(model, float(self.tc.optimizer["lr"]), decay)

    def epoch_plan(self, data: TrainingData, epoch: int) -> EpochPlan:
        """The epoch's global batches: streamed (``train_data=stream``) or in memory."""
        if data.stream is not None:
            frames, repeat = int(self.tc.max_batch_frames), int(self.tc.grown_repeat)
            return data.stream.epoch(epoch, self.dist, frames, self.tc.replay, repeat)
        return FolderEpoch(self.epoch_batches(data, epoch), data.train, self.dist)

    def epoch_batches(self, data: TrainingData, epoch: int) -> list[list[int]]:
        """The batches of an epoch (indices into ``data.train``), the same for the same seed.

        With ``train.replay`` set (a fine-tune on grown data), an epoch is every grown clip plus
        base-corpus clips, drawn anew each epoch, worth ``replay`` times the grown audio: the
        fine-tune costs what the new data costs and still rehearses what the model knew."""
        rng = random.Random(f"{self.tc.seed}-{epoch}")
        world = self.dist.world_size  # a global batch: every process's share of the budget
        budget = int(self.tc.max_batch_frames) * world
        if self.tc.replay is None:
            return bucket_batches(data.train, budget, rng, world)
        grown = [i for i, e in enumerate(data.train) if e.grown]
        base = [i for i, e in enumerate(data.train) if not e.grown]
        random.Random(f"{self.tc.seed}-replay-{epoch}").shuffle(base)
        replay_seconds = float(self.tc.replay) * sum(data.train[i].duration for i in grown)
        chosen, seconds = [], 0.0
        for index in base:
            if seconds >= replay_seconds:
                break
            chosen.append(index)
            seconds += data.train[index].duration
        picked = grown + chosen
        batches = bucket_batches([data.train[i] for i in picked], budget, rng, world)
        return [[picked[i] for i in batch] for batch in batches]

    def resumable_checkpoint(self, model, digest: str) -> dict | None:
        path = self.output.checkpoint
        if not path.exists():
            return None
        saved = torch.load(path, weights_only=True)
        if self.dist.is_main:
            config_from_checkpoint(saved, self.output)
        if saved["digest"] != digest:
            console.print("[yellow]checkpoint is from another config or data: starting over")
            if self.dist.is_main:  # one unit: no weights of another config beside the new ones
                path.unlink()
            return None
        model.load_state_dict(saved["model"])
        torch.set_rng_state(saved["torch_rng"])
        console.print(f"[green]resuming from step {saved['state']['step']}[/] ({path})")
        return saved

    # -- the run ------------------------------------------------------------------------------
    def fit(self) -> TrainingResult:
        with self.dist.main_first():  # rank 0 fills the feature cache, the others read it
            data = self.prepare()
        data.model.to(self.hardware.device)
        console.print(f"training on {self.hardware.describe()}{self.dist_note()}")
        packed = self.packed.index.digest() if self.packed is not None else None
        digest = config_digest(self.job, data.rows, packed)
        saved = self.resumable_checkpoint(data.model, digest)
        state = TrainingState(**saved["state"]) if saved else TrainingState()
        opt = self.optimization(data, saved)
        if not self.dist.is_main:  # its own dropout masks
            torch.manual_seed(int(self.tc.seed) + 7919 * self.dist.rank + state.step)
        if self.dist.is_main:
            write_json(self.job.dev_curve, state.dev_curve)  # DVC's plot, even with no dev
        with self.tracked_run(state) as (mlflow, run_id):
            state.run_id = run_id
            if state.step == 0:
                self.log_start(mlflow, data)
            seconds = self.loop(data, opt, state, digest, mlflow)
            self.average_with_start(data)
            version = self.finish(run_id, data) if self.dist.is_main else None
        result = TrainingResult(
            run_id=run_id or "",
            model_dir=str(self.output.best),
            steps=state.step,
            train_seconds=seconds,
            best_dev_cer=state.best_cer if math.isfinite(state.best_cer) else None,
            model_version=version,
        )
        if self.dist.is_main:
            fault_point("train.before_result")
            result.write(self.output.result)
        self.dist.stop()
        return result

    def dist_note(self) -> str:
        if not self.dist.enabled:
            return ""
        return f" x {self.dist.world_size} processes (DDP)"

    @contextmanager
    def tracked_run(self, state: TrainingState):
        """(mlflow, run id) on rank 0: the run, resumed when the checkpoint names it; other
        ranks log nowhere."""
        if not self.dist.is_main:
            yield NoTracking(), state.run_id
            return
        mlflow = tracking.setup(self.job.tracking)
        run_ctx = (
            mlflow.start_run(run_id=state.run_id)
            if state.run_id
            else tracking.step_run(self.job.tracking, "train", self.job.config, run_name=run_name())
        )
        with run_ctx as run:
            yield mlflow, run.info.run_id

    def loop(
        self, data: TrainingData, opt: Optimization, state: TrainingState, digest: str, mlflow
    ) -> float:
        """Train until the epochs, ``max_steps`` or ``max_minutes`` run out (all counted across
        resumes, so a finished run that is started again trains no further); returns the
        run's training seconds. Under DDP every rank takes the same steps (the time limit is
        agreed on), and the loss and speed logged are those of the global batch."""
        tc, model = self.tc, data.model
        trained = self.dist.wrap(model, self.hardware.device, self.find_unused(model))
        accumulation = int(tc.grad_accumulation)
        start, first_step, spent = time.perf_counter(), state.step, state.train_seconds
        deadline = start + float(tc.max_minutes) * 60 - spent
        window_audio, window_start = 0.0, time.perf_counter()
        model.train()
        stop = state.step >= opt.total_steps or time.perf_counter() > deadline
        while state.epoch < int(tc.epochs) and not stop:
            plan = self.epoch_plan(data, state.epoch)
            batches = plan.shares(state.batch_in_epoch)
            while state.batch_in_epoch < len(plan):
                first = state.batch_in_epoch
                count = min(accumulation, len(plan) - first)
                shares = [next(batches) for _ in range(count)]
                total = sum(plan.clips(first + k) for k in range(count))
                loss, lr = self.train_step(trained, data.inputs, opt, shares, total)
                seconds = sum(u.duration for share in shares for u in share)
                loss, seconds = self.dist.sum([loss, seconds])
                state.step += 1
                state.batch_in_epoch += count
                state.audio_seconds += seconds
                window_audio += seconds
                if state.step % tc.log_every == 0:
                    now = time.perf_counter()
                    speed = window_audio / (now - window_start)
                    mlflow.log_metrics(
                        {
                            "loss": loss,
                            "lr": lr,
                            "audio_seconds_per_second": speed,
                        },
                        step=state.step,
                    )
                    console.print(
                        f"step {state.step:>5}/{opt.total_steps} epoch {state.epoch} "
                        f"loss {loss:.3f} {speed:.0f} audio-s/s"
                    )
                    window_audio, window_start = 0.0, now
                if state.step % tc.eval_every == 0:
                    self.evaluate(data, state, mlflow)
                if state.step % tc.checkpoint_every == 0:
                    state.train_seconds = spent + time.perf_counter() - start
                    self.checkpoint(model, opt, state, digest)
                if state.step >= opt.total_steps or self.past(deadline):
                    stop = True
                    break
            else:
                state.epoch += 1
                state.batch_in_epoch = 0
        if state.step > first_step or not self.output.best.exists():
            self.evaluate(data, state, mlflow)
            state.train_seconds = spent + time.perf_counter() - start
            self.checkpoint(model, opt, state, digest)
        return state.train_seconds

    def past(self, deadline: float) -> bool:
        """Whether the time budget is spent (on any process: they stop together)."""
        return self.dist.sum([float(time.perf_counter() > deadline)])[0] > 0

    def find_unused(self, model) -> bool:
        setting = self.job.find_unused_parameters
        return not is_fbank_model(model) if setting == "auto" else bool(setting)

    def train_step(
        self,
        model,
        inputs_of: ModelInputs,
        opt: Optimization,
        shares: list[list[Example]],
        total: int,
    ) -> tuple[float, float]:
        """One optimizer step (SpecAugment, clipped gradients) over this process's share of
        ``train.grad_accumulation`` global batches of ``total`` clips in all: (this process's
        part of the step's mean loss, lr used). Each share's mean loss is weighted by its
        clips, so the gradient is that of the global batch's mean, whatever the split."""
        lr = opt.optimizer.param_groups[0]["lr"]
        opt.optimizer.zero_grad()
        step_loss = 0.0
        for k, share in enumerate(shares):
            inputs = collate(share, inputs_of)
            inputs_of.augment(inputs, self.tc.spec_augment, opt.augment)
            inputs = {key: v.to(self.hardware.device) for key, v in inputs.items()}
            weight = len(share) * self.dist.world_size / total
            syncing = k == len(shares) - 1 or not self.dist.enabled
            with nullcontext() if syncing else model.no_sync(), self.hardware.autocast():
                loss = model(**inputs).loss * weight
            if opt.scaler is not None:  # fp16: scale the loss so small gradients survive
                opt.scaler.scale(loss).backward()
            else:
                loss.backward()
            step_loss += loss.item() / self.dist.world_size
        if opt.scaler is not None:
            opt.scaler.unscale_(opt.optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.tc.grad_clip)
            opt.scaler.step(opt.optimizer)
            opt.scaler.update()
        else:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.tc.grad_clip)
            opt.optimizer.step()
        opt.scheduler.step()
        return step_loss, lr

    def evaluate(self, data: TrainingData, state: TrainingState, mlflow) -> None:
        """Greedy WER/CER on dev (each process transcribes its share); keeps the best model."""
        if not data.dev:
            self.save_best(data.model, data.processor)
            return
        share = [data.dev[i] for i in self.dist.shard(range(len(data.dev)))]
        pairs = greedy_transcripts(
            data.model,
            share,
            data.tokenizer,
            data.inputs,
            self.tc.max_batch_frames,
            self.hardware.device,
        )
        scores = greedy_scores([p for ranked in self.dist.gather(pairs) for p in ranked])
        mlflow.log_metrics({"dev_wer": scores["wer"], "dev_cer": scores["cer"]}, step=state.step)
        point = {"step": state.step, "dev_cer": scores["cer"], "dev_wer": scores["wer"]}
        state.dev_curve = [p for p in state.dev_curve if p["step"] != state.step] + [point]
        if self.dist.is_main:
            write_json(self.job.dev_curve, state.dev_curve)
        console.print(
            f"[cyan]dev[/] step {state.step}: CER {scores['cer']:.3f} WER {scores['wer']:.3f}"
        )
        if scores["cer"] < state.best_cer:
            state.best_cer = scores["cer"]
            self.save_best(data.model, data.processor)

    def average_with_start(self, data: TrainingData) -> None:
        """Pull the best fine-tuned model back towards the warm start by
        ``train.average_with_start`` (:mod:`asrloop.model.averaging`; once per folder)."""
        share = float(self.tc.average_with_start)
        best = self.output.best
        if not self.dist.is_main or data.start_weights is None or not share:
            return
        if averaged_with(best) is not None or not best.exists():
            return
        tuned = load_checkpoint(best)[0].state_dict()
        data.model.load_state_dict(average_weights(data.start_weights, tuned, share))
        self.save_best(data.model, data.processor, averaged=(share, data.init_version))
        console.print(f"best model averaged with v{data.init_version} ({share:.0%} of its weights)")

    def save_best(self, model, processor: Processor, averaged: tuple | None = None) -> None:
        """The model folder (:func:`save_model_folder`: the model and its processor; rank 0);
        ``averaged``: (share, start version) marked in it."""
        if not self.dist.is_main:
            return
        best = self.output.best
        tmp = best.with_name(best.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        save_model_folder(model, processor, tmp, self.job.features)
        if averaged is not None:
            mark_averaged(tmp, *averaged)
        replace_dir(tmp, best)
        atomic_write_text(self.output.config, self.config_text)  # it describes best/ now

    def checkpoint(self, model, opt: Optimization, state: TrainingState, digest: str) -> None:
        augment = self.dist.gather(opt.augment.get_state())  # every process's (collective)
        if not self.dist.is_main:
            return
        save_checkpoint(
            self.output.checkpoint,
            {
                "model": model.state_dict(),
                "optimizer": opt.optimizer.state_dict(),
                "state": asdict(state),
                "rng": opt.rng.getstate(),
                "torch_rng": torch.get_rng_state(),
                "augment_rng": augment,
                "digest": digest,
                "config": self.config_text,
                **({"scaler": opt.scaler.state_dict()} if opt.scaler else {}),
            },
        )
        atomic_write_text(self.output.config, self.config_text)  # never ahead of the weights

    def log_start(self, mlflow, data: TrainingData) -> None:
        from asrloop.model.lineage import log_corpus_input

        n_params = sum(p.numel() for p in data.model.parameters())
        mlflow.log_params(
            {
                "n_parameters": n_params,
                "vocab_size": len(data.tokenizer),
                "init_version": data.init_version or "none",
            }
        )
        metrics = {"train_rows": float(len(data.rows))}
        for name, report in data.reports.items():
            metrics.update(report.metrics(name))
        mlflow.log_metrics(metrics)
        if data.reports["train"].messages:
            mlflow.log_text("\n".join(data.reports["train"].messages), SKIPPED_ROWS_ARTIFACT)
        log_corpus_input(mlflow, self.job.tracking.root, self.job.corpus_dir, "training")

    def finish(self, run_id: str, data: TrainingData) -> str | None:
        if not self.tc.register:
            return None
        vocab = self.job.vocab_dir if (self.job.vocab_dir / VOCAB_VERSION).exists() else None
        clips = [r.audio_path for r in iter_corpus(self.job.corpus_dir, ["dev"])] or [
            r.audio_path for r in data.rows
        ]
        example = next((c for c in clips if c.exists()), None)
        fault_point("train.before_register")
        version = self.registry.register(
            self.output.best, vocab, self.job.serving(vocab, example), run_id, data.init_version
        )
        console.print(f"registered [bold]{self.registry.name}[/] v{version}")
        return version


def run_name() -> str:
    """``train``, or ``train: iteration k`` inside the loop (runs compared side by side)."""
    iteration = os.environ.get(tracking.ITERATION_ENV)
    return "train" if iteration is None else f"train: iteration {iteration}"


def _clean(texts):
    return [t for t in texts if t.strip()]


def _as_tuple(value):
    """``random.Random`` state as saved (lists after a round trip) back to nested tuples."""
    return tuple(_as_tuple(v) for v in value) if isinstance(value, list | tuple) else value
