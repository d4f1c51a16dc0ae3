"""``asrloop train``: CTC training on the corpus, tracked in MLflow, resumable, registered.

Checkpoints are written atomically every ``train.checkpoint_every`` steps to
``train.output_dir/checkpoint.pt``; the same command resumes from there after an interruption
(when the config is unchanged). The best dev checkpoint is saved with ``save_pretrained``; the
run's outcome is ``result.json`` (:class:`asrloop.records.TrainingResult`).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from asrloop import tracking
from asrloop.audio.features import FbankExtractor, spec_augment
from asrloop.config import config_snapshot
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.errors import ConfigError, MissingInputError
from asrloop.faults import fault_point
from asrloop.fsutil import recover_dir, replace_dir
from asrloop.hardware import Hardware
from asrloop.jsonio import write_json
from asrloop.metrics import cer, wer
from asrloop.model.data import (
    Example,
    LoadReport,
    bucket_batches,
    collate,
    feature_stats,
    load_examples,
)
from asrloop.model.factory import build_model
from asrloop.model.feature_cache import FeatureCache
from asrloop.model.folder import save_model_folder
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.records import TrainingResult
from asrloop.text.tokenizer import CharTokenizer
from asrloop.tracking import TrackingSettings

CHECKPOINT = "checkpoint.pt"
RESULT = "result.json"
BEST = "best"
# train.* keys that change neither the weights nor the batch order: a run resumes across them
RESUME_INDEPENDENT = {
    "max_minutes",
    "max_steps",
    "register",
    "log_every",
    "checkpoint_every",
    "dev_curve",
}


@dataclass(frozen=True)
class TrainingJob:
    """Everything a training run reads, unpacked from the root config by :func:`run`."""

    train: DictConfig
    model: DictConfig
    features: DictConfig
    decode: DictConfig  # registered with the model: how the served version decodes
    corpus_dir: Path
    vocab_dir: Path
    alphabet: str
    hardware: Hardware
    cache_dir: Path  # stored features (paths.cache)
    tracking: TrackingSettings
    config: dict[str, Any]  # the resolved config: logged with the run, saved beside the model

    @property
    def output_dir(self) -> Path:
        return Path(self.train.output_dir)


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
    """The prepared inputs of a run: model, tokenizer, featurised train and dev sets."""

    model: Any
    tokenizer: CharTokenizer
    init_version: str | None
    train: list[Example]
    dev: list[Example]
    rows: list[Utterance]
    reports: dict[str, LoadReport] = field(default_factory=dict)


@dataclass
class Optimization:
    """Optimizer, scheduler and the step budget, plus the random state of batch order."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    total_steps: int
    rng: random.Random
    scaler: torch.amp.GradScaler | None = None  # fp16 only


def config_digest(job: TrainingJob, train_cfg: DictConfig, rows: list[Utterance]) -> str:
    """What a resumable run must share: model/train/features config and the training data."""
    keep = {
        "model": OmegaConf.to_container(job.model, resolve=True),
        "features": OmegaConf.to_container(job.features, resolve=True),
    }
    keep["train"] = {
        k: v
        for k, v in OmegaConf.to_container(train_cfg, resolve=True).items()
        if k not in RESUME_INDEPENDENT
    }
    keep["data"] = sorted((r.audio_filepath, str(r.manifest), r.text) for r in rows)
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    fault_point("train.checkpoint")
    os.replace(tmp, path)


@torch.no_grad()
def greedy_eval(model, examples, tokenizer, max_frames: int, device) -> dict[str, float]:
    model.eval()
    refs, hyps = [], []
    for batch_ids in bucket_batches(examples, max_frames, random.Random(0)):
        batch = [examples[i] for i in batch_ids]
        inputs = collate(batch)
        features = inputs["input_features"].to(device)
        logits = model(features, inputs["feature_lengths"].to(device)).logits.cpu()
        lengths = model.output_lengths(inputs["feature_lengths"])
        for u, row, n in zip(batch, logits.argmax(-1), lengths, strict=True):
            refs.append(u.text)
            hyps.append(tokenizer.decode(tokenizer.ctc_collapse(row[: int(n)].tolist())))
    model.train()
    return {"wer": wer(refs, hyps), "cer": cer(refs, hyps)}


class Trainer:
    def __init__(self, job: TrainingJob):
        self.job, self.tc = job, job.train
        self.out = job.output_dir
        self.out.mkdir(parents=True, exist_ok=True)
        recover_dir(self.out / BEST)
        self.registry = Registry(job.tracking)
        self.hardware = job.hardware.apply()
        torch.manual_seed(int(self.tc.seed))
        self.extractor = FbankExtractor.from_config(job.features)

    # -- data ---------------------------------------------------------------------------------
    def training_rows(self) -> list[Utterance]:
        rows = list(iter_corpus(self.job.corpus_dir, ["train"]))
        grown = [r for r in rows if r.is_grown]
        return rows + grown * max(0, int(self.tc.grown_repeat) - 1)

    def prepare(self) -> TrainingData:
        if self.job.model.input != "fbank":
            raise ConfigError(
                f"model={self.job.model.name}: training feeds fbank features; a raw-audio model "
                "(model.input=waveform) needs an input adapter in asrloop.model.data first"
            )
        rows = self.training_rows()
        self.apply_finetune_policy(rows)
        if not rows:
            raise MissingInputError(
                f"no training rows under {self.job.corpus_dir}: run `asrloop corpus synth`"
            )
        dev_rows = list(iter_corpus(self.job.corpus_dir, ["dev"]))
        model, tokenizer, init_version = self.initial_model(rows)
        sub = getattr(model.config, "subsampling", 4)
        max_s = float(self.job.features.max_seconds)
        cache = FeatureCache(
            self.job.cache_dir / "features", self.job.features, self.job.tracking.root
        )
        train, report = load_examples(
            rows, tokenizer, self.extractor, max_s, sub, "loading train", cache
        )
        dev, dev_report = load_examples(
            dev_rows, tokenizer, self.extractor, max_s, sub, "loading dev", cache
        )
        if init_version is None and model.config.feature_mean is None:
            model.config.feature_mean, model.config.feature_std = feature_stats(train)
            model.feature_mean.copy_(torch.tensor(model.config.feature_mean))
            model.feature_std.copy_(torch.tensor(model.config.feature_std))
        reports = {"train": report, "dev": dev_report}
        return TrainingData(model, tokenizer, init_version, train, dev, rows, reports)

    def apply_finetune_policy(self, rows: list[Utterance]) -> None:
        """Grown corpus and no explicit init: warm start from the champion
        (``train.finetune_when_grown``)."""
        policy = self.tc.finetune_when_grown
        grown = any(r.is_grown for r in rows)
        if self.tc.init_from is not None or not grown or not policy or not policy.get("from"):
            return
        if self.registry.alias_version(str(policy["from"])) is None:
            return
        console.print(f"corpus has grown: fine-tuning from [bold]{policy['from']}[/]")
        settings = {k: v for k, v in policy.items() if k != "from"}
        self.tc = OmegaConf.merge(self.tc, {"init_from": str(policy["from"]), **settings})

    def initial_model(self, rows: list[Utterance]):
        alphabet = set(self.job.alphabet)
        texts = ["".join(c for c in r.text or "" if c in alphabet) for r in rows]
        init = self.tc.init_from
        if init is None:
            tokenizer = CharTokenizer.from_texts(_clean(texts))
            return build_model(self.job.model, len(tokenizer)), tokenizer, None
        model, tokenizer, version = self.registry.load_model(str(init))
        new = tokenizer.extend(_clean(texts))
        if new:
            console.print(f"new symbols {new}: growing the CTC head, keeping trained rows")
            model.resize_vocab(len(tokenizer))
        return model, tokenizer, version

    def optimization(self, data: TrainingData, saved: dict | None) -> Optimization:
        """Optimizer and scheduler from ``train.optimizer`` / ``train.scheduler`` (partials)."""
        total = sum(len(self.epoch_batches(data, epoch)) for epoch in range(int(self.tc.epochs)))
        if self.tc.max_steps:
            total = min(total, int(self.tc.max_steps))
        optimizer = instantiate(self.tc.optimizer)(params=data.model.parameters())
        rng = random.Random(int(self.tc.seed))
        step = 0
        if saved is not None:
            optimizer.load_state_dict(saved["optimizer"])
            rng.setstate(_as_tuple(saved["rng"]))
            step = int(saved["state"]["step"])
        scheduler = instantiate(self.tc.scheduler)(optimizer, total_steps=total, last_step=step)
        scaler = None
        if self.hardware.precision == "fp16":
            scaler = torch.amp.GradScaler(self.hardware.device.type)
            if saved is not None and "scaler" in saved:
                scaler.load_state_dict(saved["scaler"])
        return Optimization(optimizer, scheduler, total, rng, scaler)

    def epoch_batches(self, data: TrainingData, epoch: int) -> list[list[int]]:
        """The batches of an epoch (indices into ``data.train``), the same for the same seed.

        With ``train.replay`` set (a fine-tune on grown data), an epoch is every grown clip plus
        base-corpus clips, drawn anew each epoch, worth ``replay`` times the grown audio: the
        fine-tune costs what the new data costs and still rehearses what the model knew."""
        rng = random.Random(f"{self.tc.seed}-{epoch}")
        if self.tc.replay is None:
            return bucket_batches(data.train, self.tc.max_batch_frames, rng)
        grown = [i for i, e in enumerate(data.train) if e.grown]
        base = [i for i, e in enumerate(data.train) if not e.grown]
        random.Random(f"{self.tc.seed}-replay-{epoch}").shuffle(base)
        budget = float(self.tc.replay) * sum(data.train[i].duration for i in grown)
        chosen, seconds = [], 0.0
        for index in base:
            if seconds >= budget:
                break
            chosen.append(index)
            seconds += data.train[index].duration
        picked = grown + chosen
        batches = bucket_batches([data.train[i] for i in picked], self.tc.max_batch_frames, rng)
        return [[picked[i] for i in batch] for batch in batches]

    def resumable_checkpoint(self, model, digest: str) -> dict | None:
        path = self.out / CHECKPOINT
        if not path.exists():
            return None
        saved = torch.load(path, weights_only=True)
        if saved["digest"] != digest:
            console.print("[yellow]checkpoint is from another config or data: starting over")
            return None
        model.load_state_dict(saved["model"])
        torch.set_rng_state(saved["torch_rng"])
        console.print(f"[green]resuming from step {saved['state']['step']}[/] ({path})")
        return saved

    # -- the run ------------------------------------------------------------------------------
    def fit(self) -> TrainingResult:
        data = self.prepare()
        data.model.to(self.hardware.device)
        console.print(f"training on {self.hardware.describe()}")
        digest = config_digest(self.job, self.tc, data.rows)
        saved = self.resumable_checkpoint(data.model, digest)
        state = TrainingState(**saved["state"]) if saved else TrainingState()
        opt = self.optimization(data, saved)
        masked = tracking.mask_secrets(self.job.config)
        OmegaConf.save(OmegaConf.create(masked), self.out / "config.yaml")
        write_json(Path(self.tc.dev_curve), state.dev_curve)  # DVC's plot, even with no dev set
        mlflow = tracking.setup(self.job.tracking)
        run_ctx = (
            mlflow.start_run(run_id=state.run_id)
            if state.run_id
            else tracking.step_run(self.job.tracking, "train", self.job.config, run_name=run_name())
        )
        with run_ctx as run:
            state.run_id = run.info.run_id
            if state.step == 0:
                self.log_start(mlflow, data)
            seconds = self.loop(data, opt, state, digest, mlflow)
            version = self.finish(run.info.run_id, data)
        fault_point("train.before_result")
        result = TrainingResult(
            run_id=run.info.run_id,
            model_dir=str(self.out / BEST),
            steps=state.step,
            train_seconds=seconds,
            best_dev_cer=state.best_cer,
            model_version=version,
        )
        result.write(self.out / RESULT)
        return result

    def loop(
        self, data: TrainingData, opt: Optimization, state: TrainingState, digest: str, mlflow
    ) -> float:
        """Train until the epochs, ``max_steps`` or ``max_minutes`` run out (all counted across
        resumes, so a finished run that is started again trains no further); returns the
        run's training seconds."""
        tc, model = self.tc, data.model
        generator = torch.Generator().manual_seed(int(tc.seed) + state.step)
        start, first_step, spent = time.perf_counter(), state.step, state.train_seconds
        deadline = start + float(tc.max_minutes) * 60 - spent
        window_audio, window_start = 0.0, time.perf_counter()
        model.train()
        stop = state.step >= opt.total_steps or time.perf_counter() > deadline
        while state.epoch < int(tc.epochs) and not stop:
            batches = self.epoch_batches(data, state.epoch)
            for batch_ids in batches[state.batch_in_epoch :]:
                batch = [data.train[i] for i in batch_ids]
                loss, lr = self.train_step(model, opt, batch, generator)
                state.step += 1
                state.batch_in_epoch += 1
                seconds = sum(u.duration for u in batch)
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
                if state.step >= opt.total_steps or time.perf_counter() > deadline:
                    stop = True
                    break
            else:
                state.epoch += 1
                state.batch_in_epoch = 0
        if state.step > first_step or not (self.out / BEST).exists():
            self.evaluate(data, state, mlflow)
            state.train_seconds = spent + time.perf_counter() - start
            self.checkpoint(model, opt, state, digest)
        return state.train_seconds

    def train_step(
        self, model, opt: Optimization, batch: list[Example], generator
    ) -> tuple[float, float]:
        """One optimizer step on a batch (SpecAugment, clipped gradients): (loss, lr used)."""
        inputs = collate(batch)
        sa = self.tc.spec_augment
        spec_augment(
            inputs["input_features"],
            inputs["feature_lengths"],
            sa.freq_masks,
            sa.freq_width,
            sa.time_masks,
            sa.time_width,
            generator,
        )
        inputs = {k: v.to(self.hardware.device) for k, v in inputs.items()}
        lr = opt.optimizer.param_groups[0]["lr"]
        with self.hardware.autocast():
            loss = model(**inputs).loss
        opt.optimizer.zero_grad()
        if opt.scaler is not None:  # fp16: scale the loss so small gradients survive
            opt.scaler.scale(loss).backward()
            opt.scaler.unscale_(opt.optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.tc.grad_clip)
            opt.scaler.step(opt.optimizer)
            opt.scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.tc.grad_clip)
            opt.optimizer.step()
        opt.scheduler.step()
        return loss.item(), lr

    def evaluate(self, data: TrainingData, state: TrainingState, mlflow) -> None:
        if not data.dev:
            self.save_best(data.model, data.tokenizer)
            return
        scores = greedy_eval(
            data.model, data.dev, data.tokenizer, self.tc.max_batch_frames, self.hardware.device
        )
        mlflow.log_metrics({"dev_wer": scores["wer"], "dev_cer": scores["cer"]}, step=state.step)
        point = {"step": state.step, "dev_cer": scores["cer"], "dev_wer": scores["wer"]}
        state.dev_curve = [p for p in state.dev_curve if p["step"] != state.step] + [point]
        write_json(Path(self.tc.dev_curve), state.dev_curve)
        console.print(
            f"[cyan]dev[/] step {state.step}: CER {scores['cer']:.3f} WER {scores['wer']:.3f}"
        )
        if scores["cer"] < state.best_cer:
            state.best_cer = scores["cer"]
            self.save_best(data.model, data.tokenizer)

    def save_best(self, model, tokenizer) -> None:
        tmp = self.out / (BEST + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        save_model_folder(model, tokenizer, tmp, self.job.features)
        replace_dir(tmp, self.out / BEST)

    def checkpoint(self, model, opt: Optimization, state: TrainingState, digest: str) -> None:
        save_checkpoint(
            self.out / CHECKPOINT,
            {
                "model": model.state_dict(),
                "optimizer": opt.optimizer.state_dict(),
                "state": asdict(state),
                "rng": opt.rng.getstate(),
                "torch_rng": torch.get_rng_state(),
                "digest": digest,
                **({"scaler": opt.scaler.state_dict()} if opt.scaler else {}),
            },
        )

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
            mlflow.log_text("\n".join(data.reports["train"].messages), "skipped_rows.txt")
        log_corpus_input(mlflow, self.job.tracking.root, self.job.corpus_dir, "training")

    def finish(self, run_id: str, data: TrainingData) -> str | None:
        if not self.tc.register:
            return None
        from asrloop.serve.loading import DecodingSetup
        from asrloop.serve.pyfunc import pyfunc_model

        vocab = self.job.vocab_dir if (self.job.vocab_dir / "version.json").exists() else None
        setup = DecodingSetup.from_config(self.job.decode, self.job.features, self.job.vocab_dir)
        clips = [r.audio_path for r in iter_corpus(self.job.corpus_dir, ["dev"])] or [
            r.audio_path for r in data.rows
        ]
        example = next((c for c in clips if c.exists()), None)
        fault_point("train.before_register")
        version = self.registry.register(
            self.out / BEST, vocab, pyfunc_model(setup, vocab, example), run_id, data.init_version
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


def run(cfg: DictConfig) -> float:
    """Train; returns the best dev CER (the objective of ``hparams_search`` sweeps)."""
    job = TrainingJob(
        train=cfg.train,
        model=cfg.model,
        features=cfg.features,
        decode=cfg.decode,
        corpus_dir=Path(cfg.paths.corpus),
        vocab_dir=Path(cfg.paths.vocab),
        alphabet=str(cfg.corpus.alphabet),
        hardware=Hardware.from_config(cfg.trainer),
        cache_dir=Path(cfg.paths.cache),
        tracking=TrackingSettings.from_config(cfg.tracking, cfg.paths.root),
        config=config_snapshot(cfg),
    )
    result = Trainer(job).fit()
    console.print(result)
    return float(result.best_dev_cer)
