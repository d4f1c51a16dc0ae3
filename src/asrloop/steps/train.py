"""``asrloop train``: train (or fine-tune) the CTC model on the corpus and register the best."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from asrloop.config import config_snapshot
from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.packed import ShardStore
from asrloop.distributed import Distributed
from asrloop.hardware import Hardware
from asrloop.model.registry import PyfuncModel
from asrloop.progress import console
from asrloop.steps import corpus_pack
from asrloop.steps.context import StepContext, step
from asrloop.train import ServingPackage, Trainer, TrainingJob


def serving_package(ctx: StepContext) -> ServingPackage:
    """How the registered version is served: ``decode`` and ``features`` with the vocabulary it
    ships with. Registering decodes nothing, so no trainer settings: no device is picked and
    this process's threads stay as training set them."""

    def package(vocab: Path | None, example: Path | None) -> PyfuncModel:
        from asrloop.inference.calibration import calibrate_model_folder
        from asrloop.inference.loading import DecodingSetup
        from asrloop.inference.pyfunc import pyfunc_model

        settings = ctx.settings
        setup = DecodingSetup.resolve(settings.decode, settings.features, ctx.layout.vocab)
        if settings.train.calibrate_confidence:
            report = calibrate_model_folder(
                ctx.model_output.best,
                lambda folder: setup.build(folder, vocab),
                list(iter_corpus(ctx.layout.corpus, ["dev"])),
                float(settings.evaluate.batch_seconds),
            )
            if report is not None:
                console.print(
                    f"word confidence calibrated on {report.words} dev words: ECE "
                    f"{report.ece_raw:.3f} -> {report.ece:.3f}, AUROC {report.auroc:.3f}"
                )
        return pyfunc_model(setup, vocab, example, settings.transcribe.serving)

    return package


def packed_store(ctx: StepContext) -> ShardStore | None:
    """The packed corpus training streams (``train_data=stream``), or None (folders)."""
    settings = ctx.settings.train_data
    if settings.kind != "stream":
        return None
    return ShardStore(ctx.layout.packed_corpus(), ctx.layout.root, settings.remote)


def packed_refresh(ctx: StepContext) -> Callable[[], None] | None:
    """Streaming the local packed corpus: bring it up to date with the corpus first (the loop
    grows the corpus; only changed shard folders are packed again). A remote is streamed as
    it was pushed (``asrloop corpus pack``)."""
    settings = ctx.settings.train_data
    if settings.kind != "stream" or settings.remote is not None:
        return None
    return lambda: corpus_pack.pack(ctx.layout, settings)


@step("train")
def run(ctx: StepContext) -> float:
    """The best dev CER (the objective of ``hparams_search`` sweeps). Under ``torchrun`` (or a
    SLURM job with several tasks) each process runs this as one DDP rank."""
    settings, layout = ctx.settings, ctx.layout
    distributed = Distributed.from_env()
    hardware = Hardware.resolve(
        settings.trainer, distributed.local_rank, distributed.local_world_size
    )
    job = TrainingJob(
        train=settings.train,
        model=settings.model,
        features=settings.features,
        corpus_dir=layout.corpus,
        vocab_dir=layout.vocab,
        alphabet=settings.corpus.alphabet,
        hardware=hardware,
        feature_cache=layout.feature_cache(),
        dev_curve=layout.dev_curve(),
        tracking=ctx.tracking,
        config=config_snapshot(ctx.cfg),
        serving=serving_package(ctx),
        distributed=distributed,
        find_unused_parameters=settings.trainer.ddp_find_unused_parameters,
        executor=ctx.executor,
        train_data=settings.train_data,
        packed=packed_store(ctx),
        refresh_packed=packed_refresh(ctx),
    )
    result = Trainer(job).fit()
    console.print(result)
    return float("inf") if result.best_dev_cer is None else result.best_dev_cer  # sweeps
