"""Scenarios as a user writes them: per-term shares, near-miss sentences, drops that bring new
terms, and the second decoding path that finds a word forced into a known one."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from asrloop.config import compose, drops_so_far, load_params
from asrloop.corpus.plan import plan_drop, plan_renditions, terms_so_far
from asrloop.inference.transcript import Transcript
from asrloop.inference.types import Transcription, WordTiming
from asrloop.loop.disagreement import disagreements
from asrloop.pipeline import write_params
from asrloop.settings import typed
from asrloop.text.normalize import words


def plain(cfg) -> tuple[dict, dict]:
    return (
        OmegaConf.to_container(cfg.corpus, resolve=True),
        OmegaConf.to_container(cfg.scenario, resolve=True),
    )


def says(text: str, term: str) -> bool:
    return f" {term} " in f" {text} "


SCENARIOS = sorted(p.stem for p in (Path(__file__).parents[2] / "conf" / "scenario").glob("*.yaml"))


def keys(tree, prefix: str = "") -> set[str]:
    """Every key path in a config tree; lists and per-term mappings are leaves."""
    if not isinstance(tree, dict):
        return {prefix}
    return {k for key, value in tree.items() for k in keys(value, f"{prefix}.{key}")}


def test_every_scenario_has_the_keys_the_steps_read():
    """A scenario missing a key (``drop.source``, say) would fail only when its loop runs."""
    _, default = plain(compose())
    for name in SCENARIOS:
        _, scenario = plain(compose([f"scenario={name}"]))
        assert keys(scenario["drop"]) == keys(default["drop"]), name
        assert set(scenario) >= set(default) - {"pronunciations"}, name


def test_every_scenario_plans_its_terms_in_their_shares():
    assert {"brexit", "pandemic", "westminster"} <= set(SCENARIOS)
    for name in SCENARIOS:
        settings = typed(compose([f"scenario={name}"]))
        corpus, scenario = settings.corpus, settings.scenario
        for index in (1, 2):
            contents = scenario.drops[min(index, len(scenario.drops)) - 1]
            plan = plan_drop(corpus, scenario, f"{name}-drop{index}", 7, index)
            texts = [c.text for c in plan.clips]
            assert len(texts) == scenario.drop.size == len(set(texts))
            for term in scenario.terms:
                share = contents.terms.get(term, 0.0)
                count = sum(says(t, term) for t in texts)
                assert count == round(len(texts) * share), (name, index, term, count)


def test_near_miss_sentences_never_say_a_term():
    settings = typed(compose(["scenario=pandemic"]))
    corpus, scenario = settings.corpus, settings.scenario
    texts = [c.text for c in plan_drop(corpus, scenario, "pandemic-drop1", 7, 1).clips]
    bait = [t for t in texts if says(t, "tax")]
    assert len(bait) >= round(len(texts) * scenario.drops[0].near_miss)
    assert not any(says(t, term) for t in bait for term in scenario.terms)


def test_later_drops_bring_new_terms():
    scenario = typed(compose(["scenario=westminster"])).scenario
    assert terms_so_far(scenario, 1) == ["truss"]
    assert terms_so_far(scenario, 2) == ["truss", "sunak", "starmer"]
    assert terms_so_far(scenario, 3) == terms_so_far(scenario, 2)  # the last drop repeats


def test_renditions_use_other_voices_and_are_reproducible():
    settings = typed(compose()).grow.synthesize
    sentences = [("clip-1", "a new word here"), ("clip-2", "the new word again")]
    first = plan_renditions("d-tts", sentences, 4, settings, "drop/d")
    assert first == plan_renditions("d-tts", sentences, 4, settings, "drop/d")
    assert len(first.clips) == 8
    for clip in ("clip-1", "clip-2"):
        voices = [c.voice for c in first.clips if c.id.startswith(clip)]
        assert len(set(voices)) == 4 and set(voices) <= set(settings.voices)
    assert all(c.split == "train" and c.source == "drop/d" for c in first.clips)


def transcript(clip: str, text: str, greedy: str) -> Transcript:
    heard = Transcription(tuple(WordTiming(w, 0, 0, 0.9) for w in words(text)), greedy)
    return Transcript(clip, f"{clip}.wav", 2.0, "v", heard, "1", "v")


def test_the_second_path_finds_a_word_forced_into_a_known_one():
    rows = [
        transcript(f"v{i}", "the tax centre will open", "the vax centre will open")
        for i in range(6)
    ]
    rows += [
        transcript(f"t{i}", "the tax office is closed", "the tax ofice is closed") for i in range(6)
    ]
    found = disagreements(rows, max_similarity=0.75, min_count=3, min_rate=0.2)
    assert [(d.phrase, d.heard, d.count, d.occurrences) for d in found] == [("tax", "vax", 6, 12)]
    # a misspelt but alike word ("ofice") is not a disagreement; neither is a rare one
    assert not disagreements(rows[:2], max_similarity=0.75, min_count=3, min_rate=0.2)


def test_the_pipelines_params_name_every_drop_so_far(tmp_path):
    """A DVC stage reads pipelines/params.yaml: at drop 2 it must still see drop 1 (evaluation
    scored drop 2's held-out clips twice when the written name pinned every drop to the last)."""
    cfg = compose([f"paths.root={tmp_path}", "scenario=westminster", "scenario.drop.index=2"])
    loaded = load_params(write_params(cfg))
    names = [drop.name for drop in drops_so_far(loaded)]
    assert names == ["westminster-drop1", "westminster-drop2"]
    assert names == [drop.name for drop in drops_so_far(cfg)]
    assert loaded.scenario.drop.name == "westminster-drop2"
