"""The ARPA estimator against probabilities and back-off weights computed by hand.

Text (3 sentences), padded: <s> a b </s> | <s> a b c </s> | <s> c a </s>
Vocabulary for the uniform floor: a b c </s> <unk>  (|V| = 5; <s> is never predicted).
"""

import math

import pytest

from asrloop.text.arpa import (
    EOS,
    FALLBACK_DISCOUNTS,
    NO_PROB,
    SOS,
    UNK,
    estimate,
    kn_discounts,
    read_arpa,
)

TEXT = ["a b", "a b c", "c a"]
V = 5


def p(model, word, *context):
    return 10 ** model.logprob(word, context)


def bow(model, *context):
    return 10 ** model.backoffs[len(context) - 1].get(context, 0.0)


@pytest.fixture(scope="module")
def kn():
    return estimate(TEXT, order=3, method="kneser_ney")


@pytest.fixture(scope="module")
def wb():
    return estimate(TEXT, order=3, method="witten_bell")


def test_kn_discount_formula():
    # Y = n1 / (n1 + 2 n2) = 10 / 18;  Dk = k - (k+1) Y n(k+1) / nk
    y = 10 / 18
    expected = (1 - 2 * y * 4 / 10, 2 - 3 * y * 2 / 4, 3 - 4 * y * 1 / 2)
    assert kn_discounts({1: 10, 2: 4, 3: 2, 4: 1}) == pytest.approx(expected)
    assert kn_discounts({1: 5, 2: 1}) == FALLBACK_DISCOUNTS  # n3 = 0: cannot estimate


def test_kneser_ney_by_hand(kn):
    # Unigram continuation counts (distinct left neighbours):
    #   a {<s>, c} = 2, b {a} = 1, c {b, <s>} = 2, </s> {b, c, a} = 3; total 8.
    # Counts of counts n1=1 n2=2 n3=1 n4=0: Y = 1/5, D1 = 1 - 2Y*2/1 = 0.2,
    #   D2 = 2 - 3Y*1/2 = 1.7, D3+ = 3 - 4Y*0/1 = 3.
    # gamma() = (0.2*1 + 1.7*2 + 3*1) / 8 = 0.825, shared uniformly: 0.165 each.
    assert kn_discounts({1: 1, 2: 2, 3: 1}) == pytest.approx((0.2, 1.7, 3.0))
    assert p(kn, "a") == pytest.approx((2 - 1.7) / 8 + 0.165)  # 0.2025
    assert p(kn, "b") == pytest.approx((1 - 0.2) / 8 + 0.165)  # 0.265
    assert p(kn, "c") == pytest.approx(0.2025)
    assert p(kn, EOS) == pytest.approx((3 - 3.0) / 8 + 0.165)  # 0.165
    assert p(kn, UNK) == pytest.approx(0.165)
    assert kn.logprob(SOS) == NO_PROB

    # Bigrams: <s> a = 2 and <s> c = 1 keep raw counts (nothing left of <s>); the others
    # count left extensions (1 each). n1=7 n2=1 n3=0: fallback D = 0.5, 1, 1.5.
    # Context <s>: total 3, gamma = (1 + 0.5) / 3 = 0.5.
    assert p(kn, "a", SOS) == pytest.approx((2 - 1) / 3 + 0.5 * 0.2025)
    assert p(kn, "c", SOS) == pytest.approx((1 - 0.5) / 3 + 0.5 * 0.2025)
    assert p(kn, "b", SOS) == pytest.approx(0.5 * 0.265)  # unseen: back-off
    assert bow(kn, SOS) == pytest.approx(0.5)
    # Context a: {a b: 1, a </s>: 1}, total 2, gamma = (0.5 + 0.5) / 2 = 0.5.
    assert p(kn, "b", "a") == pytest.approx(0.5 / 2 + 0.5 * 0.265)  # 0.3825
    assert p(kn, EOS, "a") == pytest.approx(0.5 / 2 + 0.5 * 0.165)  # 0.3325
    assert bow(kn, "a") == pytest.approx(0.5)
    p_c_b = 0.5 / 2 + 0.5 * 0.2025  # 0.35125
    assert p(kn, "c", "b") == pytest.approx(p_c_b)

    # Trigrams keep raw counts: <s> a b = 2 (context total 2), a b </s> = a b c = 1.
    assert p(kn, "b", SOS, "a") == pytest.approx((2 - 1) / 2 + 0.5 * 0.3825)  # 0.69125
    assert bow(kn, SOS, "a") == pytest.approx(1 / 2)
    assert p(kn, "c", "a", "b") == pytest.approx(0.5 / 2 + 0.5 * p_c_b)  # 0.425625
    assert p(kn, EOS, "a", "b") == pytest.approx(0.5 / 2 + 0.5 * 0.3325)  # 0.41625
    # Unseen trigram a b a: bow(a b) * bow(b) * p(a)
    assert p(kn, "a", "a", "b") == pytest.approx(0.5 * 0.5 * 0.2025)


def test_witten_bell_by_hand(wb):
    # Unigram raw counts a 3, b 2, c 2, </s> 3: total C = 10, types T = 4.
    # p(w) = (c(w) + T / |V|) / (C + T)
    assert p(wb, "a") == pytest.approx((3 + 4 / V) / 14)
    assert p(wb, "b") == pytest.approx((2 + 4 / V) / 14)  # 0.2
    assert p(wb, UNK) == pytest.approx((0 + 4 / V) / 14)
    p_a, p_b, p_eos = 3.8 / 14, 0.2, 3.8 / 14
    # Context <s>: {a: 2, c: 1}, C = 3, T = 2, gamma = 2 / 5.
    assert p(wb, "a", SOS) == pytest.approx((2 + 2 * p_a) / 5)
    assert p(wb, "b", SOS) == pytest.approx(2 / 5 * p_b)
    assert bow(wb, SOS) == pytest.approx(2 / 5)
    # Context a: {b: 2, </s>: 1}; context b: {</s>: 1, c: 1}.
    p_b_a = (2 + 2 * p_b) / 5  # 0.48
    assert p(wb, "b", "a") == pytest.approx(p_b_a)
    assert p(wb, EOS, "a") == pytest.approx((1 + 2 * p_eos) / 5)
    p_c_b, p_eos_b = (1 + 2 * 0.2) / 4, (1 + 2 * p_eos) / 4
    assert p(wb, "c", "b") == pytest.approx(p_c_b)
    # Trigram context <s> a: {b: 2}, C = 2, T = 1, gamma = 1/3.
    assert p(wb, "b", SOS, "a") == pytest.approx((2 + 1 * p_b_a) / 3)
    assert bow(wb, SOS, "a") == pytest.approx(1 / 3)
    # Context a b: {</s>: 1, c: 1}, gamma = 1/2.
    assert p(wb, "c", "a", "b") == pytest.approx((1 + 2 * p_c_b) / 4)
    assert p(wb, EOS, "a", "b") == pytest.approx((1 + 2 * p_eos_b) / 4)


@pytest.mark.parametrize("method", ["kneser_ney", "witten_bell"])
def test_every_context_sums_to_one(method):
    model = estimate(TEXT, order=3, method=method, boost={"b": 1.0, "new": 0.5})
    words = sorted(model.vocab - {SOS})
    contexts = [c for table in model.probs[:-1] for c in table if c[-1] != EOS]
    contexts += [(), ("zzz",), ("a", "a"), ("c", "zzz")]  # unseen contexts back off
    for context in contexts:
        total = sum(p(model, w, *context) for w in words)
        assert total == pytest.approx(1.0), (method, context)


def test_hot_word_boost_renormalises():
    plain = estimate(TEXT, order=2)
    boosted = estimate(TEXT, order=2, boost={"b": 1.0})
    z = 1 - p(plain, "b") + 10 * p(plain, "b")
    assert p(boosted, "b") == pytest.approx(10 * p(plain, "b") / z)
    assert p(boosted, "a") == pytest.approx(p(plain, "a") / z)


def test_tiny_and_empty_corpora_never_divide_by_zero():
    empty = estimate([], order=3)
    assert p(empty, EOS) == pytest.approx(0.5)  # uniform over </s>, <unk>
    one = estimate(["hello"], order=4, method="kneser_ney", vocabulary=["extra"])
    assert all(math.isfinite(v) for table in one.probs for v in table.values())
    assert one.logprob("extra") > NO_PROB


@pytest.mark.parametrize("method", ["kneser_ney", "witten_bell"])
def test_arpa_round_trip(tmp_path, method):
    model = estimate(TEXT, order=3, method=method)
    path = model.write_arpa(tmp_path / "lm.arpa")
    text = path.read_text()
    assert text.startswith("\\data\\\nngram 1=6\nngram 2=8\nngram 3=6\n")
    assert "\\3-grams:" in text and text.rstrip().endswith("\\end\\")
    again = read_arpa(path)
    assert again.order == 3
    for n in range(3):
        assert again.probs[n].keys() == model.probs[n].keys()
        for ngram, value in model.probs[n].items():
            assert again.probs[n][ngram] == pytest.approx(value, abs=1e-6)
        for ngram, value in model.backoffs[n].items():
            assert again.backoffs[n][ngram] == pytest.approx(value, abs=1e-6)
