"""Helpers for tests: the real config shrunk, tiny real corpora copied, git + DVC repos."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from asrloop.config import compose

PROJECT = Path(__file__).resolve().parents[1]

TINY_CORPUS = [
    "corpus.splits.train=40",
    "corpus.splits.dev=6",
    "corpus.splits.test=6",
    "corpus.splits.regression=6",
    "corpus.splits.test_neural=2",
    "corpus.shard_size=20",
]

# a small model and short, deterministic training steps (seconds on 2 cores)
FAST_TRAINING = [
    "model.config.d_model=64",
    "model.config.num_heads=2",
    "model.config.ff_dim=128",
    "model.config.num_layers=2",
    "train.scheduler.warmup_steps=2",
    "train.log_every=1",
    "train.max_batch_frames=3000",
    "train.eval_every=1000",
    "train.spec_augment.time_masks=0",
    "train.spec_augment.freq_masks=0",
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def python_without_asrloop(folder: Path) -> Path:
    """A Python environment that sees this one's packages but not asrloop (its editable
    install is a ``.pth`` file, which a path listed in another ``.pth`` does not process).
    Returns its ``bin`` folder, with ``python`` and a ``uvicorn`` for ``mlflow models serve``."""
    import site

    base = getattr(sys, "_base_executable", sys.executable)
    run([base, "-m", "venv", "--without-pip", str(folder)], folder.parent)
    packages = next(Path(p) for p in site.getsitepackages() if p.endswith("site-packages"))
    target = next((folder / "lib").glob("python3*/site-packages"))
    (target / "packages.pth").write_text(f"{packages}\n")
    uvicorn = folder / "bin" / "uvicorn"
    uvicorn.write_text(f"#!{folder / 'bin' / 'python'}\nfrom uvicorn.main import main\nmain()\n")
    uvicorn.chmod(0o755)
    return folder / "bin"


def make_cfg(root: Path, *overrides: str):
    """The project's real config with every path under ``root``."""
    return compose([f"paths.root={root}", *overrides])


def tracking_uri(cfg) -> str:
    """The tracking URI the steps of ``cfg`` use."""
    from asrloop.settings import typed
    from asrloop.tracking import TrackingSettings

    return TrackingSettings.resolve(typed(cfg).tracking, cfg.paths.root).uri


def copy_corpus(source_root: Path, target_root: Path) -> None:
    shutil.copytree(source_root / "data", target_root / "data", dirs_exist_ok=True)


def trained_project(source_root: Path, root: Path, *overrides: str):
    """``root`` with a copy of ``source_root``'s corpus, its vocabulary built and a model
    trained (and registered) with ``overrides``; returns the config."""
    from asrloop.steps import train, vocab_build

    copy_corpus(source_root, root)
    cfg = make_cfg(root, *overrides)
    vocab_build.run(cfg)
    train.run(cfg)
    return cfg


def corpus_project(source_root: Path, root: Path) -> Path:
    """A git repository at ``root`` (one commit) holding a copy of ``source_root``'s data."""
    run(["git", "init", "-q"], root)
    (root / "README").write_text("asrloop test project\n")
    run(["git", "add", "README"], root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"], root)
    copy_corpus(source_root, root)
    return root


ASRLOOP = str(Path(sys.executable).parent / "asrloop")


def asrloop_cli(
    root: Path,
    *args: str,
    env: dict | None = None,
    check: bool = True,
    timeout: float | None = 1500,
) -> subprocess.CompletedProcess:
    """Run the ``asrloop`` CLI in project ``root`` (``ASRLOOP_ROOT`` set, on top of ``env`` or
    this process's environment); with ``check``, a failure shows the tails of its output."""
    full_env = {**(os.environ if env is None else env), "ASRLOOP_ROOT": str(root)}
    result = subprocess.run(
        [ASRLOOP, *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


CACHES = shutil.ignore_patterns("__pycache__", "*.pyc")


def init_project_repo(root: Path) -> Path:
    """A fresh git + DVC project like a clone of asrloop: pipeline, the code its stages depend
    on, ignore files, local remote."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pipelines").mkdir(exist_ok=True)
    shutil.copy(PROJECT / "pipelines" / "dvc.yaml", root / "pipelines" / "dvc.yaml")
    shutil.copy(PROJECT / ".gitignore", root / ".gitignore")
    shutil.copy(PROJECT / ".dvcignore", root / ".dvcignore")
    # the stages depend on the code they run, as in a clone of asrloop
    shutil.copytree(PROJECT / "src" / "asrloop", root / "src" / "asrloop", ignore=CACHES)
    run(["git", "init", "-q", "-b", "main"], root)
    run(["git", "config", "user.email", "test@asrloop"], root)
    run(["git", "config", "user.name", "asrloop test"], root)
    run([sys.executable, "-m", "dvc", "init", "-q"], root)
    run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], root)
    (root / ".dvc" / "config").write_text(
        "[core]\n    analytics = false\n    remote = local\n"
        "['remote \"local\"']\n    url = ../.dvc-remote\n"
    )
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "project"], root)
    return root


# A wav2vec2-base-960h-like inventory: <pad> (the CTC blank) first, specials, the delimiter,
# upper-case letters by frequency, the apostrophe.
CHECKPOINT_VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAOINHSRDLUMWCFGYPBVK'XJQZ"]


def make_wav2vec2_checkpoint(folder: Path, attention_mask: bool = False) -> Path:
    """A small raw-audio CTC checkpoint as a hub download looks: ``save_pretrained`` of a
    Wav2Vec2ForCTC and of its Wav2Vec2Processor (feature extractor + CTC tokenizer files).
    As wav2vec2-base: a group-norm feature encoder, no attention mask; ``attention_mask``: as
    wav2vec2-large-lv60, layer norm and masked padding."""
    import json

    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.json"
    vocab_file.write_text(json.dumps({s: i for i, s in enumerate(CHECKPOINT_VOCAB)}))
    tokenizer = Wav2Vec2CTCTokenizer(
        str(vocab_file),
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        word_delimiter_token="|",
    )
    extractor = Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16000,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=attention_mask,
    )
    config = Wav2Vec2Config(
        vocab_size=len(CHECKPOINT_VOCAB),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        conv_dim=[32] * 7,  # wav2vec2's feature encoder, narrow: 20 ms frames
        conv_kernel=[10, 3, 3, 3, 3, 2, 2],
        conv_stride=[5, 2, 2, 2, 2, 2, 2],
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_extract_norm="layer" if attention_mask else "group",
        mask_time_prob=0.0,
        layerdrop=0.0,
        pad_token_id=0,
        ctc_loss_reduction="sum",  # as the hub's wav2vec2 configs; model.config_overrides fixes
    )
    torch.manual_seed(0)
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def streamed(folder: Path, buffer: int = 10_000, shuffle: bool = False, model: str = ""):
    """Streamed training data of the packed corpus at ``folder`` for a fresh model of the
    default config (``model``: another model option), 30 s the longest clip."""
    from asrloop.corpus.packed import ShardStore
    from asrloop.model.factory import build_model, build_processor
    from asrloop.model.streamed_data import PackedCorpus, StreamedData, StreamSettings
    from asrloop.settings import typed
    from asrloop.text.tokenizer import CharTokenizer

    cfg = make_cfg(folder.parent, *([f"model={model}"] if model else []))
    settings = typed(cfg)
    corpus = PackedCorpus(ShardStore(folder, folder.parent))
    tokenizer = CharTokenizer.from_texts(row.text for row in corpus.rows("train"))
    net = build_model(settings.model, len(tokenizer))
    inputs = build_processor(settings.model, net, tokenizer).inputs(net, settings.features)
    return StreamedData(corpus, tokenizer, inputs, 30.0, StreamSettings(buffer, shuffle, 1234))


@contextmanager
def team_stack(root: Path):
    """(the stack, the env a client of it needs): the team stack up for the project at ``root``
    (its default DVC remote the stack's bucket), on free ports; down afterwards."""
    from asrloop.settings import typed
    from asrloop.team import TeamStack

    # PostgreSQL runs as another user under root: its folder must stay traversable, and pytest
    # resets its own temp root to mode 700 whenever a pytest session starts, so not in there
    stack_dir = Path(tempfile.mkdtemp(prefix="asrloop-team-")) / "stack"
    cfg = compose(
        [
            f"paths.root={root}",
            f"team.dir={stack_dir}",
            f"team.mlflow_port={free_port()}",
            f"team.s3_port={free_port()}",
            "team.start_timeout=300",
        ]
    )
    stack = TeamStack.of(typed(cfg).team, root)
    stack.up()
    try:
        yield stack, {**os.environ, **stack.env()}
    finally:
        stack.down()
        shutil.rmtree(stack_dir.parent, ignore_errors=True)


def s3_client(stack, env: dict):
    """A boto3 client of the team stack's S3 endpoint, with the credentials in ``env``."""
    import boto3  # the team extra; imported here so the quick suite collects without it

    return boto3.client(
        "s3",
        endpoint_url=stack.s3_endpoint,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
