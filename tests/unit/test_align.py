"""Word alignment: a split or merged word is one confusion; plain edits still work."""

from asrloop.loop.align import Edit, align, summarize


def errors(ref: str, hyp: str) -> list[Edit]:
    return [edit for edit in align(ref, hyp) if edit.is_error]


def test_split_word_is_one_confusion():
    assert errors("the brexit deal was signed", "the bread sit deal was signed") == [
        Edit("split", ("brexit",), ("bread", "sit"))
    ]
    assert errors("after brexit", "after break it") == [Edit("split", ("brexit",), ("break", "it"))]


def test_merged_words_are_one_confusion():
    assert errors("he ate bread sit down", "he ate brexit down") == [
        Edit("merge", ("bread", "sit"), ("brexit",))
    ]


def test_plain_substitution_insertion_deletion():
    assert errors("the cat sat", "the dog sat") == [Edit("substitute", ("cat",), ("dog",))]
    assert errors("the cat sat", "the cat sat down") == [Edit("insert", (), ("down",))]
    assert errors("the cat sat", "the sat") == [Edit("delete", ("cat",), ())]
    # an extra word next to a correct one stays an insertion, not a split
    assert errors("the cat sat", "the cat s sat") == [Edit("insert", (), ("s",))]
    # words that do not spell alike are never merged into one
    assert errors("the vote", "a the dog vote") == [
        Edit("insert", (), ("a",)),
        Edit("insert", (), ("dog",)),
    ]


def test_alignment_covers_both_sides():
    edits = align("a b c brexit d", "a x c bread sit d e")
    assert [w for e in edits for w in e.ref] == ["a", "b", "c", "brexit", "d"]
    assert [w for e in edits for w in e.hyp] == ["a", "x", "c", "bread", "sit", "d", "e"]


def test_summarize_counts_pairs_with_examples():
    summary = summarize(
        [
            ("c1", "the brexit deal", "the bread sit deal"),
            ("c2", "brexit talks resumed", "bread sit talks resumed today"),
            ("c3", "the vote", "vote"),
        ]
    )
    assert summary["confusions"] == [
        {"ref": "brexit", "hyp": "bread sit", "op": "split", "count": 2, "examples": ["c1", "c2"]}
    ]
    assert summary["insertions"] == [{"word": "today", "count": 1, "examples": ["c2"]}]
    assert summary["deletions"] == [{"word": "the", "count": 1, "examples": ["c3"]}]
    counts = summary["counts"]
    assert (counts["split"], counts["insert"], counts["delete"], counts["errors"]) == (2, 1, 1, 4)
    assert counts["ref_words"] == 8
