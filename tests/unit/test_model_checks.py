"""Model checks: the default phrases are speakable by the corpus, and the report's structure on
an untrained model (no training: a random-init model saved with ``save_pretrained``)."""

from __future__ import annotations

import re

from asrloop.checks.model import (
    Evidence,
    RegressionComparison,
    check_model,
    check_phrases,
    measure_regression,
    sample_rows,
    summary_metrics,
)
from asrloop.config import compose
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.corpus.numbers import spell_number
from asrloop.corpus.plan import plan_corpus
from asrloop.corpus.shards import render_shards
from asrloop.inference.loading import GREEDY
from asrloop.inference.recognizer import Recognizer
from asrloop.model.factory import build_model
from asrloop.records import ModelInfo
from asrloop.settings import typed
from asrloop.text.tokenizer import CharTokenizer


def corpus_words(text_cfg) -> set[str]:
    """Every word the news templates and slots can produce (numbers spelled out)."""
    parts = [re.sub(r"\{\w+\}", " ", t) for t in text_cfg.templates]
    parts += [value for values in text_cfg.slots.values() for value in values]
    parts += [spell_number(n) for n in range(1000)]
    return {word for part in parts for word in part.split()}


def test_default_phrases_only_use_corpus_words():
    cfg = compose()
    words = corpus_words(cfg.corpus.text)
    for phrase in cfg.checks.model.phrases:
        assert set(phrase.split()) <= words, phrase


def test_sample_rows_is_stable_and_bounded():
    rows = [Utterance(f"test-{i:05d}", f"{i}.wav", 1.0) for i in range(10)]
    picked = sample_rows(list(reversed(rows)), 4)
    assert [r.id for r in picked] == ["test-00000", "test-00002", "test-00004", "test-00006"]
    assert sample_rows(rows, 50) == rows


def test_report_structure_on_an_untrained_model(tmp_path):
    overrides = [
        f"paths.root={tmp_path}",
        "corpus.splits.train=0",
        "corpus.splits.dev=0",
        "corpus.splits.test=3",
        "corpus.splits.regression=3",
        "corpus.splits.test_neural=0",
        "checks.model.max_clips=3",
        "model.config.d_model=32",
        "model.config.num_layers=1",
        "model.config.ff_dim=64",
        "checks.model.phrases=[forty two votes]",
    ]
    cfg = compose(overrides)
    settings = typed(cfg)
    plan = plan_corpus(settings.corpus, list(cfg.scenario.terms))
    render_shards(plan, tmp_path / "data" / "corpus" / "base", workers=1)
    model_dir = tmp_path / "untrained"
    tokenizer = CharTokenizer.from_texts(["abcdefghijklmnopqrstuvwxyz'"])
    build_model(settings.model, len(tokenizer)).save_pretrained(model_dir)
    tokenizer.save(model_dir)

    features = settings.features
    recognizer = Recognizer.from_dirs(model_dir, None, GREEDY, features, features.max_seconds)
    regression = list(iter_corpus(cfg.paths.base_corpus, ["regression"]))
    model_wer = measure_regression(recognizer, regression, 60.0, "regression")
    comparison = RegressionComparison(len(regression), model_wer, "itself", model_wer)
    report = check_model(
        recognizer,
        ModelInfo(str(model_dir)),
        cfg.checks.model,
        list(iter_corpus(cfg.paths.base_corpus, ["test"])),
        Evidence(comparison, None),
        float(cfg.gate.max_regression_wer_delta),
        60.0,
    )

    assert report.checks == ["invariance", "minimum_functionality", "regression", "emerging_terms"]
    assert "minimum_functionality" in report.failed_checks()  # a random model says nothing right
    assert report.summary["regression"]["delta"] == 0.0  # the same model as its own champion
    assert set(report.summary["invariance"]) == {
        "clips",
        "clean",
        "gain -6 dB",
        "gain +6 dB",
        "noise 30 dB SNR",
    }
    assert report.summary["emerging_terms"]["clips"] == 0  # no drop synthesized
    assert "check_model.regression.wer" in summary_metrics(report.summary)

    # against a champion that misses the same phrase, the miss is inherited: a warning only
    findings, numbers = check_phrases(
        recognizer, ["forty two votes"], list(cfg.checks.model.voices), reference=recognizer
    )
    assert [f.severity for f in findings] == ["warning"]
    assert numbers["missed_by_champion_too"] == 1 and numbers["exact"] == 0
