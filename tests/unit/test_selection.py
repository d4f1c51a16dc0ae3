"""Active learning: each selection strategy's ranking on a hand-built pool, the diversity step,
the simulated reviewer's accounting, and the CTC posterior uncertainty the rankings read."""

import dataclasses
import math

import pytest
import torch

from asrloop.config import compose
from asrloop.errors import ConfigError, DataError
from asrloop.inference.transcript import Transcript
from asrloop.inference.types import Transcription, WordTiming
from asrloop.inference.uncertainty import FrameUncertainty, combine, frame_uncertainty
from asrloop.loop.review_queue import ReviewItem
from asrloop.loop.reviewer import minutes_spent, review_effort, review_order, simulate_review
from asrloop.loop.selection import near_miss, phrase_groups, rank_pool, same_pattern
from asrloop.records import Disagreement, Spike, SpikeReport
from asrloop.settings import typed
from asrloop.settings.triage import ReviewerSettings, TriageSettings


def settings(strategy: str, **selection) -> TriageSettings:
    base = typed(compose()).triage
    chosen = dataclasses.replace(
        base.selection, **{"strategy": strategy, "size": None, **selection}
    )
    return dataclasses.replace(
        base, selection=chosen, flagged=2, least_confident=2, random=2, seed=3
    )


def clip(
    name, text, confidence=0.9, entropy=0.5, margin=0.5, greedy=None, voice="v1", seconds=2.0
) -> Transcript:
    heard = Transcription(
        tuple(WordTiming(w, 0.0, 0.1, confidence) for w in text.split()), greedy, entropy, margin
    )
    return Transcript(name, f"{name}.wav", seconds, voice, heard, "1", "v")


POOL = [
    clip(
        "a", "the council met today", 0.95, entropy=0.2, margin=0.9, greedy="the council met today"
    ),
    clip("b", "the bread sit deal", 0.70, entropy=1.4, margin=0.3, greedy="the bred sit deal"),
    clip("c", "markets fell sharply", 0.40, entropy=0.9, margin=0.6, greedy="market fell sharp"),
    clip("d", "talks on bread sits", 0.85, entropy=0.4, margin=0.2, greedy="talks on bread sits"),
    clip("e", "rain in the north", 0.60, entropy=2.0, margin=0.7, greedy="rain in the north"),
    clip("f", "a new bread sit vote", 0.90, entropy=0.1, margin=0.8, greedy="a new bread sit vote"),
]


def ranked(strategy: str, phrases=("bread sit",), **selection) -> list[tuple[str, str]]:
    return [
        (p.transcript.id, p.reason)
        for p in rank_pool(POOL, phrases, settings(strategy, **selection))
    ]


def ids(strategy: str, **kw) -> list[str]:
    return [clip_id for clip_id, _ in ranked(strategy, **kw)]


def test_confidence_margin_and_entropy_rank_the_least_sure_first():
    assert ids("least_confidence") == ["c", "e", "b", "d", "f", "a"]
    assert ids("margin") == ["d", "b", "c", "e", "f", "a"]
    assert ids("entropy") == ["e", "b", "c", "d", "a", "f"]
    assert ranked("entropy")[0] == ("e", "high entropy (2.00 nats)")
    assert ranked("margin")[0] == ("d", "low margin (0.20)")


def test_disagreement_ranks_where_the_two_paths_differ_most():
    order = ids("disagreement")
    assert set(order[:2]) == {"b", "c"} and order[0] == "c"  # 3 of 3 words differ in c
    assert ranked("disagreement")[0][1].startswith("disagreement (")
    no_second = [
        dataclasses.replace(t, transcription=Transcription(t.transcription.words)) for t in POOL
    ]
    with pytest.raises(DataError, match="second_path"):
        rank_pool(no_second, (), settings("disagreement"))


def test_term_focused_takes_flagged_then_near_misses_then_least_confident():
    order = ranked("term_focused")
    assert {clip_id for clip_id, _ in order[:2]} == {"b", "f"}
    assert all(reason == "flagged: bread sit" for _, reason in order[:2])
    assert order[2] == ("d", "near miss: bread sits ~ bread sit")
    assert [clip_id for clip_id, _ in order[3:]] == ["c", "e", "a"]
    assert near_miss(["we", "ate", "red", "bits"], ["bread sit"], 0.75) is None


def test_flagged_phrases_share_the_queue_by_weight_least_sure_clip_first():
    pool = [clip(f"s{i}", "talks on the bread sit deal", 0.9 - i / 10) for i in range(5)]
    pool += [clip(f"r{i}", "rain in the north", 0.5) for i in range(5)]
    sure_first = [dataclasses.replace(pool[0], id="s9")]  # heard surely: comes last of its phrase

    def flagged(phrases):
        picks = rank_pool(pool + sure_first, phrases, settings("term_focused", size=4))
        return [p.transcript.id for p in picks]

    # weight 3 against 1: three of the first four picks (Sainte-Lague's 1, 3, 5 divisors)
    assert flagged({"bread sit": 3.0, "rain": 1.0}) == ["s4", "s3", "r0", "s2"]
    # equal weights (a plain list): a round-robin in phrase order
    assert flagged(["rain", "bread sit"]) == ["r0", "s4", "r1", "s3"]
    everything = rank_pool(pool + sure_first, {"bread sit": 1.0}, settings("term_focused"))
    said = [p.transcript.id for p in everything if p.reason == "flagged: bread sit"]
    assert said == ["s4", "s3", "s2", "s1", "s0", "s9"]


def test_a_clip_belongs_to_the_heaviest_phrase_it_says():
    """Clips saying "beat pump" are heat pump's mishearing: the lighter phrase "beat" takes its own
    clips (a rare word heard as a frequent one) before them, however unsure those are."""
    pool = [
        clip("hp1", "a beat pump in every school", 0.30),
        clip("hp2", "they fitted a beat pump", 0.35),
        clip("pe1", "the beat bogs must be protected", 0.80),
        clip("pe2", "beat holds more carbon", 0.85),
    ]
    picks = rank_pool(pool, {"pump": 3.0, "beat": 2.0}, settings("term_focused", size=4))
    assert [p.transcript.id for p in picks] == ["hp1", "pe1", "hp2", "pe2"]
    assert [p.reason for p in picks][:2] == ["flagged: pump", "flagged: beat"]


def test_phrases_that_share_their_clips_take_one_share_with_group_overlap():
    """A rare word's mishearing and its context words ("the tax", "clinic in": the same clips) count
    once against another word's one phrase ("omar on") when group_overlap joins them."""
    pool = [clip(f"t{i}", "the tax clinic in leeds was closed") for i in range(4)]
    pool += [clip(f"c{i}", "a new clinic in hull") for i in range(2)]
    pool += [clip(f"o{i}", "omar on cases rose") for i in range(4)]
    phrases = {"the tax": 4.0, "clinic in": 3.0, "omar on": 2.0}

    def reasons(**selection):
        picks = rank_pool(pool, phrases, settings("term_focused", size=6, **selection))
        return [p.reason.removeprefix("flagged: ") for p in picks]

    assert reasons() == ["the tax", "clinic in", "omar on", "the tax", "clinic in", "the tax"]
    assert reasons(group_overlap=0.5) == [
        "the tax",
        "omar on",
        "clinic in",
        "the tax",
        "omar on",
        "clinic in",
    ]
    with pytest.raises(DataError, match="group_overlap"):
        reasons(group_overlap=1.5)


def test_phrase_groups_join_overlapping_clips_transitively():
    clips = {"a": {"1", "2"}, "b": {"2", "3"}, "c": {"3", "4"}, "d": {"9"}}
    assert phrase_groups(clips, 0.0) == [["a"], ["b"], ["c"], ["d"]]
    assert phrase_groups(clips, 0.5) == [["a", "b", "c"], ["d"]]
    assert phrase_groups(clips, 0.75) == [["a"], ["b"], ["c"], ["d"]]


def test_flagged_phrase_weights_are_the_occurrences_their_evidence_explains():
    report = SpikeReport(
        "d1",
        (Spike("trust", 1, 71, 11, 0.6, 3.8), Spike("said voters", 2, 8, 0, 0.0, 2.2)),
        (Disagreement("trust", "tros", 24, 71, 0.34), Disagreement("to", "trus", 14, 56, 0.25)),
    )
    assert report.flagged(10) == {"trust": 70.4, "to": 14.0, "said voters": 8.0}
    assert report.phrases(1) == ["trust"] and list(report.flagged(1)) == ["trust"]


def test_random_is_a_seeded_permutation_and_mixed_keeps_its_quotas():
    first = ids("random")
    assert sorted(first) == sorted(t.id for t in POOL) and first == ids("random")
    assert {reason for _, reason in ranked("random")} == {"random"}
    mixed = ranked("mixed")
    kinds = [reason.split(":")[0].split(" (")[0] for _, reason in mixed]
    assert (
        kinds
        == ["random", "random", "flagged", "flagged", "least confident", "least confident"][
            : len(kinds)
        ]
    )
    assert len({clip_id for clip_id, _ in mixed}) == len(mixed)


def test_size_cuts_a_ranked_queue():
    assert ids("entropy", size=3) == ["e", "b", "c"]
    assert len(ids("entropy")) == 6  # default size: the quotas' sum (2 + 2 + 2)


def test_diversity_keeps_one_voice_and_pattern_out_of_the_first_rows():
    pool = [
        clip("p1", "the bread sit deal was signed", 0.1, voice="v1"),
        clip("p2", "the bread sit deal was signed today", 0.2, voice="v1"),  # same pattern, voice
        clip("p3", "the bread sit deal was signed", 0.3, voice="v2"),  # same pattern, other voice
        clip("p4", "rain in the north", 0.4, voice="v1"),
    ]
    plain = rank_pool(pool, (), settings("least_confidence"))
    assert [p.transcript.id for p in plain] == ["p1", "p2", "p3", "p4"]
    diverse = rank_pool(pool, (), settings("least_confidence", diversity_k=3))
    assert [p.transcript.id for p in diverse] == ["p1", "p3", "p4", "p2"]
    assert same_pattern("a b c d", "a b c d e", 0.5) and not same_pattern("a b c", "x y z", 0.5)


def test_exploration_gives_every_nth_row_to_randoms_own_order(capsys):
    plain = ids("least_confidence")
    explored = rank_pool(POOL, (), settings("least_confidence", explore_every=2))
    random_order = ids("random")
    assert sorted(p.transcript.id for p in explored) == sorted(plain)  # no clip twice or lost
    sampled = [p.transcript.id for p in explored if p.reason == "random (exploration)"]
    assert [p.transcript.id for p in explored][1::2] == sampled
    # the exploration rows come in random's order, skipping clips the ranking took before
    assert sampled == [i for i in random_order if i in sampled]
    assert sampled[0] == next(i for i in random_order if i != plain[0])  # row 2: plain[0] taken
    ranked_rows = [p.transcript.id for p in explored if p.reason != "random (exploration)"]
    assert ranked_rows == [i for i in plain if i in ranked_rows]  # the ranking's order kept
    assert [p.transcript.id for p in rank_pool(POOL, (), settings("random", explore_every=2))] == (
        random_order
    )  # random (and mixed) already hold a random share, and say the setting is ignored
    assert "explore_every=2 is ignored: 'random'" in " ".join(capsys.readouterr().err.split())


def test_a_ranking_needs_its_scores_and_names_the_missing_field():
    old = [dataclasses.replace(t, transcription=Transcription(t.transcription.words)) for t in POOL]
    with pytest.raises(DataError, match="has no field 'entropy'"):
        rank_pool(old, (), settings("entropy"))


def test_an_unknown_strategy_is_one_clear_config_error():
    with pytest.raises(ConfigError, match=r"triage\.selection\.strategy.*did you mean entropy"):
        typed(compose(["triage.selection.strategy=entrophy"]))


# ---- the simulated reviewer ----------------------------------------------------------------


def row(name, rank, seconds, status="pending") -> ReviewItem:
    return ReviewItem(
        name, status, "r", "hyp", "hyp", "v", 0.5, f"{name}.wav", rank=rank, duration=seconds
    )


QUEUE = [row("q3", 3, 5.0), row("q1", 1, 2.0), row("q2", 2, 3.0), row("q4", None, 4.0)]
REFERENCES = {"q1": "one", "q2": "two", "q3": "three", "q4": "four"}


def test_the_reviewer_takes_rows_by_rank_until_the_clip_budget():
    assert [i.id for i in review_order(QUEUE)] == ["q1", "q2", "q3", "q4"]
    done = simulate_review(QUEUE, REFERENCES, ReviewerSettings(10.0, budget_clips=2))
    assert [i.id for i in done] == ["q3", "q1", "q2", "q4"]  # file order kept
    assert {i.id: i.status for i in done} == {
        "q1": "approved",
        "q2": "approved",
        "q3": "pending",
        "q4": "pending",
    }
    assert done[1].reference == "one"


def test_minutes_count_audio_plus_decision_and_decided_rows_spend_budget():
    # q1 costs 2 + 10 s, q2 3 + 10 s: 25 s fit a budget of 0.45 min (27 s), q3 (15 s) does not
    done = simulate_review(QUEUE, REFERENCES, ReviewerSettings(10.0, budget_minutes=0.45))
    assert [i.id for i in done if i.approved] == ["q1", "q2"]
    assert minutes_spent(done, 10.0) == pytest.approx(25 / 60)
    # a row a person rejected already spent 12 s of the 27: only q1 fits now
    earlier = [row("q2", 2, 2.0, status="rejected") if i.id == "q2" else i for i in QUEUE]
    done = simulate_review(earlier, REFERENCES, ReviewerSettings(10.0, budget_minutes=0.45))
    assert [i.id for i in done if i.approved] == ["q1"]
    effort = review_effort(done, "entropy", 10.0)
    assert (effort.decided, effort.pending, effort.strategy) == (2, 2, "entropy")
    assert effort.minutes == pytest.approx(24 / 60, abs=1e-3)


def test_without_a_budget_every_row_with_a_reference_is_answered():
    done = simulate_review(QUEUE, {"q1": "one", "q4": "four"}, ReviewerSettings())
    assert {i.id for i in done if i.approved} == {"q1", "q4"}


def test_queue_rows_refuse_a_bad_rank_or_duration():
    base = row("x", 1, 1.0).to_dict()
    with pytest.raises(DataError, match="field 'rank'"):
        ReviewItem.from_dict({**base, "rank": 0}, "queue.jsonl:1")
    with pytest.raises(DataError, match="field 'duration'"):
        ReviewItem.from_dict({**base, "duration": -1.0}, "queue.jsonl:1")
    assert ReviewItem.from_dict({**base, "rank": "4", "duration": "2.5"}, "queue.csv:2").rank == 4


# ---- uncertainty of the CTC posteriors --------------------------------------------------------


def test_frame_uncertainty_reads_speech_frames_only():
    blank, vocab = 0, 4
    sure = torch.full((vocab,), 1e-6).index_fill(0, torch.tensor([2]), 1.0)
    unsure = torch.tensor([0.1, 0.3, 0.3, 0.3])
    silence = torch.full((vocab,), 1e-6).index_fill(0, torch.tensor([blank]), 1.0)
    frames = torch.stack([silence, sure, unsure, silence]).log()[None]
    (score,) = frame_uncertainty(frames, torch.tensor([4]), blank)
    assert score.frames == 2  # the two blank frames are left out
    unsure_entropy = -(unsure * unsure.log()).sum().item()
    assert score.entropy == pytest.approx(unsure_entropy / 2, rel=1e-3)
    assert score.margin == pytest.approx((1.0 + 0.0) / 2, abs=1e-3)
    only_blank = torch.stack([silence, silence]).log()[None]
    (quiet,) = frame_uncertainty(only_blank, torch.tensor([2]), blank)
    assert quiet.frames == 2 and quiet.margin == pytest.approx(1.0, abs=1e-3)
    joined = combine([FrameUncertainty(1.0, 0.2, 1), FrameUncertainty(2.0, 0.8, 3)])
    assert (joined.entropy, joined.margin, joined.frames) == (1.75, 0.65, 4)
    assert combine([]) is None and math.isclose(unsure_entropy, 1.3138, abs_tol=1e-3)


# ---- the loop summary -------------------------------------------------------------------------


def test_the_loop_summary_shows_what_the_review_cost(tmp_path):
    from asrloop.loop.summary import summary_rows
    from asrloop.records import IterationRecord, LoopSummary

    one = simulate_review(QUEUE, REFERENCES, ReviewerSettings(10.0, budget_clips=1))
    effort = dataclasses.asdict(review_effort(one, "entropy", 10.0))
    its = (IterationRecord(0), IterationRecord(1, review=effort))
    summary = LoopSummary("s", ["t"], "run", its, {}, 1.0, {})
    rows = dict(summary_rows(summary))
    assert rows["review: rows decided / minutes (strategy)"] == ["-", "1 / 0.2 min (entropy)"]
    path = summary.write(tmp_path / "summary.json")
    assert LoopSummary.load(path).iterations[1].review == effort
