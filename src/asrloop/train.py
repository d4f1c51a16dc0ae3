"""``asrloop train``: CTC training on the corpus, tracked in MLflow, resumable, registered.

Checkpoints are written atomically every ``train.checkpoint_every`` steps to
``train.output_dir/checkpoint.pt``; the same command resumes from there after an interruption
(when the config is unchanged). The best dev checkpoint is saved with ``save_pretrained``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from asrloop import tracking
from asrloop.audio.features import FbankExtractor, spec_augment
from asrloop.config import save_config
from asrloop.corpus.manifest import iter_corpus
from asrloop.metrics import cer, wer
from asrloop.model.data import bucket_batches, collate, feature_stats, load_utterances
from asrloop.model.factory import build_model
from asrloop.model.registry import load_registered, register_model
from asrloop.progress import console
from asrloop.text.tokenizer import CharTokenizer

CHECKPOINT = "checkpoint.pt"
# train.* keys that change neither the weights nor the batch order: a run resumes across them
RESUME_INDEPENDENT = {"max_minutes", "max_steps", "register", "log_every", "checkpoint_every"}
BEST = "best"


def config_digest(cfg: DictConfig, data_rows: list[dict]) -> str:
    """What a resumable run must share: model/train/features config and the training data."""
    keep = {k: OmegaConf.to_container(cfg[k], resolve=True) for k in ("model", "features")}
    keep["train"] = {
        k: v
        for k, v in OmegaConf.to_container(cfg.train, resolve=True).items()
        if k not in RESUME_INDEPENDENT
    }
    keep["data"] = sorted((r["audio_filepath"], r["_manifest"], r["text"]) for r in data_rows)
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))


def save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


@torch.no_grad()
def greedy_eval(model, utterances, tokenizer, max_frames: int) -> dict[str, float]:
    model.eval()
    refs, hyps = [], []
    for batch_ids in bucket_batches(utterances, max_frames, random.Random(0)):
        batch = [utterances[i] for i in batch_ids]
        inputs = collate(batch)
        logits = model(inputs["input_features"], inputs["feature_lengths"]).logits
        lengths = model.output_lengths(inputs["feature_lengths"])
        for u, row, n in zip(batch, logits.argmax(-1), lengths, strict=True):
            refs.append(u.text)
            hyps.append(tokenizer.decode(tokenizer.ctc_collapse(row[: int(n)].tolist())))
    model.train()
    return {"wer": wer(refs, hyps), "cer": cer(refs, hyps)}


class Trainer:
    def __init__(self, cfg: DictConfig):
        self.cfg, self.tc = cfg, cfg.train
        self.out = Path(self.tc.output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        torch.set_num_threads(int(cfg.threads))
        torch.manual_seed(int(self.tc.seed))
        self.extractor = FbankExtractor.from_config(cfg.features)

    # -- data ---------------------------------------------------------------------------------
    def training_rows(self) -> list[dict]:
        rows = list(iter_corpus(self.cfg.paths.corpus, ["train"]))
        grown = [r for r in rows if str(r.get("source", "")).startswith("drop/")]
        return rows + grown * max(0, int(self.tc.grown_repeat) - 1)

    def prepare(self):
        if self.cfg.model.get("input", "fbank") != "fbank":
            raise SystemExit(
                f"model={self.cfg.model.name}: training feeds fbank features; a raw-audio model "
                "(model.input=waveform) needs an input adapter in asrloop.model.data first"
            )
        train_rows = self.training_rows()
        self.apply_finetune_policy(train_rows)
        dev_rows = list(iter_corpus(self.cfg.paths.corpus, ["dev"]))
        if not train_rows:
            raise SystemExit(f"no training rows under {self.cfg.paths.corpus}: run corpus synth")
        model, tokenizer, init_version = self.initial_model(train_rows)
        sub = getattr(model.config, "subsampling", 4)
        max_s = float(self.cfg.features.max_seconds)
        train, report = load_utterances(
            train_rows, tokenizer, self.extractor, max_s, sub, "loading train"
        )
        dev, dev_report = load_utterances(
            dev_rows, tokenizer, self.extractor, max_s, sub, "loading dev"
        )
        if init_version is None and model.config.feature_mean is None:
            model.config.feature_mean, model.config.feature_std = feature_stats(train)
            model.feature_mean.copy_(torch.tensor(model.config.feature_mean))
            model.feature_std.copy_(torch.tensor(model.config.feature_std))
        return model, tokenizer, init_version, train, dev, train_rows, report, dev_report

    def apply_finetune_policy(self, rows) -> None:
        """Grown corpus and no explicit init: warm start from the champion
        (``train.finetune_when_grown``)."""
        policy = self.tc.get("finetune_when_grown")
        grown = any(str(r.get("source", "")).startswith("drop/") for r in rows)
        if self.tc.init_from is not None or not grown or not policy or not policy.get("from"):
            return
        from asrloop.model.registry import alias_version

        if alias_version(self.cfg, str(policy["from"])) is None:
            return
        console.print(f"corpus has grown: fine-tuning from [bold]{policy['from']}[/]")
        settings = {k: v for k, v in policy.items() if k != "from"}
        self.tc = OmegaConf.merge(self.tc, {"init_from": str(policy["from"]), **settings})

    def initial_model(self, rows):
        alphabet = set(self.cfg.corpus.alphabet)
        texts = ["".join(c for c in r.get("text", "") if c in alphabet) for r in rows]
        init = self.tc.init_from
        if init is None:
            tokenizer = CharTokenizer.from_texts(_clean(texts))
            return build_model(self.cfg.model, len(tokenizer)), tokenizer, None
        model, tokenizer, version = load_registered(self.cfg, str(init))
        new = tokenizer.extend(_clean(texts))
        if new:
            console.print(f"new symbols {new}: growing the CTC head, keeping trained rows")
            model.resize_vocab(len(tokenizer))
        return model, tokenizer, version

    # -- loop ---------------------------------------------------------------------------------
    def fit(self) -> dict:
        model, tokenizer, init_version, train, dev, rows, report, dev_report = self.prepare()
        rng = random.Random(int(self.tc.seed))
        steps_per_epoch = len(bucket_batches(train, self.tc.max_batch_frames, random.Random(0)))
        total = steps_per_epoch * int(self.tc.epochs)
        if self.tc.max_steps:
            total = min(total, int(self.tc.max_steps))
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=self.tc.lr, weight_decay=self.tc.weight_decay
        )
        digest = config_digest(self.cfg, rows)
        state = {
            "step": 0,
            "epoch": 0,
            "batch_in_epoch": 0,
            "best_cer": float("inf"),
            "run_id": None,
            "audio_seconds": 0.0,
        }
        ckpt_path = self.out / CHECKPOINT
        if ckpt_path.exists():
            saved = torch.load(ckpt_path, weights_only=False)
            if saved["digest"] == digest:
                model.load_state_dict(saved["model"])
                optimizer.load_state_dict(saved["optimizer"])
                state = saved["state"]
                rng.setstate(saved["rng"])
                torch.set_rng_state(saved["torch_rng"])
                console.print(f"[green]resuming from step {state['step']}[/] ({ckpt_path})")
            else:
                console.print("[yellow]checkpoint is from another config or data: starting over")
        save_config(self.cfg, self.out / "config.yaml")
        mlflow = tracking.setup(self.cfg)
        run_ctx = (
            mlflow.start_run(run_id=state["run_id"])
            if state["run_id"]
            else tracking.step_run(self.cfg, "train", run_name="train")
        )
        with run_ctx as run:
            state["run_id"] = run.info.run_id
            if state["step"] == 0:
                self.log_start(mlflow, model, tokenizer, init_version, report, dev_report, rows)
            result = self._loop(
                model,
                tokenizer,
                optimizer,
                train,
                dev,
                rng,
                state,
                total,
                steps_per_epoch,
                digest,
                mlflow,
            )
            result.update(self.finish(mlflow, run, tokenizer, init_version))
        (self.out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
        return result

    def _loop(
        self,
        model,
        tokenizer,
        optimizer,
        train,
        dev,
        rng,
        state,
        total,
        steps_per_epoch,
        digest,
        mlflow,
    ) -> dict:
        tc = self.tc
        generator = torch.Generator().manual_seed(int(tc.seed) + state["step"])
        start = time.perf_counter()
        deadline = start + float(tc.max_minutes) * 60
        window_audio, window_start = 0.0, time.perf_counter()
        model.train()
        stop = False
        while state["epoch"] < int(tc.epochs) and not stop:
            epoch_rng = random.Random(f"{tc.seed}-{state['epoch']}")
            batches = bucket_batches(train, tc.max_batch_frames, epoch_rng)
            for batch_ids in batches[state["batch_in_epoch"] :]:
                batch = [train[i] for i in batch_ids]
                inputs = collate(batch)
                sa = tc.spec_augment
                spec_augment(
                    inputs["input_features"],
                    inputs["feature_lengths"],
                    sa.freq_masks,
                    sa.freq_width,
                    sa.time_masks,
                    sa.time_width,
                    generator,
                )
                for group in optimizer.param_groups:
                    group["lr"] = tc.lr * lr_factor(state["step"], tc.warmup_steps, total)
                loss = model(**inputs).loss
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
                optimizer.step()
                state["step"] += 1
                state["batch_in_epoch"] += 1
                seconds = sum(u.duration for u in batch)
                state["audio_seconds"] += seconds
                window_audio += seconds
                if state["step"] % tc.log_every == 0:
                    now = time.perf_counter()
                    speed = window_audio / (now - window_start)
                    mlflow.log_metrics(
                        {
                            "loss": loss.item(),
                            "lr": optimizer.param_groups[0]["lr"],
                            "audio_seconds_per_second": speed,
                        },
                        step=state["step"],
                    )
                    console.print(
                        f"step {state['step']:>5}/{total} epoch {state['epoch']} "
                        f"loss {loss.item():.3f} {speed:.0f} audio-s/s"
                    )
                    window_audio, window_start = 0.0, now
                if state["step"] % tc.eval_every == 0:
                    self.evaluate(model, tokenizer, dev, state, mlflow)
                if state["step"] % tc.checkpoint_every == 0:
                    self.checkpoint(model, optimizer, rng, state, digest)
                if state["step"] >= total or time.perf_counter() > deadline:
                    stop = True
                    break
            else:
                state["epoch"] += 1
                state["batch_in_epoch"] = 0
        self.evaluate(model, tokenizer, dev, state, mlflow)
        self.checkpoint(model, optimizer, rng, state, digest)
        elapsed = time.perf_counter() - start
        return {"steps": state["step"], "train_seconds": elapsed, "best_dev_cer": state["best_cer"]}

    def evaluate(self, model, tokenizer, dev, state, mlflow) -> None:
        if not dev:
            self.save_best(model, tokenizer)
            return
        scores = greedy_eval(model, dev, tokenizer, self.tc.max_batch_frames)
        mlflow.log_metrics({"dev_wer": scores["wer"], "dev_cer": scores["cer"]}, step=state["step"])
        console.print(
            f"[cyan]dev[/] step {state['step']}: CER {scores['cer']:.3f} WER {scores['wer']:.3f}"
        )
        if scores["cer"] < state["best_cer"]:
            state["best_cer"] = scores["cer"]
            self.save_best(model, tokenizer)

    def save_best(self, model, tokenizer) -> None:
        tmp = self.out / (BEST + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        tokenizer.save(tmp)
        shutil.rmtree(self.out / BEST, ignore_errors=True)
        os.replace(tmp, self.out / BEST)

    def checkpoint(self, model, optimizer, rng, state, digest) -> None:
        save_checkpoint(
            self.out / CHECKPOINT,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "state": state,
                "rng": rng.getstate(),
                "torch_rng": torch.get_rng_state(),
                "digest": digest,
            },
        )

    def log_start(self, mlflow, model, tokenizer, init_version, report, dev_report, rows):
        from asrloop.model.lineage import log_dataset_inputs

        n_params = sum(p.numel() for p in model.parameters())
        mlflow.log_params(
            {
                "n_parameters": n_params,
                "vocab_size": len(tokenizer),
                "init_version": init_version or "none",
            }
        )
        mlflow.log_metrics(
            {**report.metrics("train"), **dev_report.metrics("dev"), "train_rows": float(len(rows))}
        )
        if report.messages:
            mlflow.log_text("\n".join(report.messages), "skipped_rows.txt")
        log_dataset_inputs(mlflow, self.cfg)

    def finish(self, mlflow, run, tokenizer, init_version) -> dict:
        best = self.out / BEST
        out = {"run_id": run.info.run_id, "model_dir": str(best)}
        if self.tc.register:
            version = register_model(self.cfg, best, run.info.run_id, init_version)
            out["model_version"] = version
            console.print(f"registered [bold]{self.cfg.tracking.registered_model}[/] v{version}")
        return out


def _clean(texts):
    return [t for t in texts if t.strip()]


def run(cfg: DictConfig) -> float:
    """Train; returns the best dev CER (the objective of ``hparams_search`` sweeps)."""
    result = Trainer(cfg).fit()
    console.print(result)
    return float(result["best_dev_cer"])
