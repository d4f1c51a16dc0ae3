"""B-WER / U-WER (Le et al. 2021; fbai-speech is21_deep_bias) and false alarms on term-free
clips, against hand-counted cases."""

from __future__ import annotations

from asrloop.metrics import biased_errors, error_counts, false_alarm_clips


def test_a_missed_term_is_a_biased_error_and_the_rest_unbiased():
    # "brexit" -> "bread sit": the listed word substituted (B) and an unlisted word inserted (U)
    counts = biased_errors(["brexit talks resumed"], ["bread sit talks resumed"], ["brexit"])
    assert (counts.b_errors, counts.b_words) == ([1], [1])
    assert (counts.u_errors, counts.u_words) == ([1], [2])
    assert counts.b_wer == 1.0 and counts.u_wer == 0.5


def test_an_inserted_list_word_is_a_biased_error_an_inserted_other_word_is_not():
    counts = biased_errors(["the tax rose"], ["the vax tax rose"], ["vax"])
    assert counts.b_errors == [1] and counts.b_words == [0]
    assert counts.u_errors == [0] and counts.u_words == [3]
    counts = biased_errors(["the tax rose"], ["the big tax rose"], ["vax"])
    assert counts.b_errors == [0] and counts.u_errors == [1]


def test_a_multi_word_term_marks_all_its_words():
    refs = ["mary smith met boris johnson", "boris went home"]
    hyps = ["mary smith met boris jonson", "boris went home"]
    counts = biased_errors(refs, hyps, ["boris johnson"])
    # clip 1: "boris johnson" is 2 biased words, "johnson" substituted; clip 2: a lone "boris"
    # is not the phrase, so it is an unbiased word
    assert counts.b_words == [2, 0] and counts.b_errors == [1, 0]
    assert counts.u_words == [3, 3] and counts.u_errors == [0, 0]
    assert counts.b_wer == 0.5


def test_b_and_u_errors_add_up_to_the_word_errors():
    refs = ["a brexit deal was signed", "no deal", "brexit brexit"]
    hyps = ["a bread sit deal signed", "no deal brexit", ""]
    counts = biased_errors(refs, hyps, ["brexit"])
    total = error_counts(refs, hyps)
    assert sum(counts.b_errors) + sum(counts.u_errors) == total["errors"]
    assert sum(counts.b_words) + sum(counts.u_words) == total["ref_words"]
    assert counts.b_words == [1, 0, 2]
    assert counts.b_errors == [1, 1, 2]  # substitution; inserted list word; two deletions


def test_normalisation_applies_to_the_list_too():
    counts = biased_errors(["Brexit, again."], ["brexit again"], ["BREXIT"])
    assert counts.b_words == [1] and counts.b_errors == [0]


def test_false_alarms_count_term_free_clips_with_a_term_written():
    refs = ["the tax rose", "vax rates rose", "nothing here", "new vax centre"]
    hyps = ["the vax rose", "vax rates rose", "nothing here", "new tax centre"]
    assert false_alarm_clips(refs, hyps, ["vax"]) == (1, 2)
    assert false_alarm_clips(
        ["boris went home"], ["boris johnson went home"], ["boris johnson"]
    ) == (
        1,
        1,
    )
