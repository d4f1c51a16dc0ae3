"""Lexicon: spelling in model tokens, flashlight format, bad lines reported by line number."""

import pytest

from asrloop.text.lexicon import (
    LexiconError,
    build_lexicon,
    read_lexicon,
    respell,
    write_lexicon,
)
from asrloop.text.tokenizer import CharTokenizer

TOKENIZER = CharTokenizer.from_texts(["the cat sat", "a dog's bone"])


def test_build_write_read_round_trip(tmp_path):
    lexicon = build_lexicon(["cat", "dog's", "cat"], TOKENIZER)
    assert lexicon == {"cat": ["c", "a", "t", "|"], "dog's": ["d", "o", "g", "'", "s", "|"]}
    path = write_lexicon(tmp_path / "lexicon.txt", lexicon)
    assert path.read_text().splitlines()[0] == "cat\tc a t |"
    assert read_lexicon(path, TOKENIZER) == lexicon


def test_word_the_tokenizer_cannot_spell_is_refused():
    with pytest.raises(LexiconError, match="zebra"):
        build_lexicon(["zebra"], TOKENIZER)


def test_bad_symbol_is_reported_with_its_line(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("cat\tc a t |\n\nsat\ts a t |\nzoo\tz o o |\n")
    with pytest.raises(LexiconError) as error:
        read_lexicon(path, TOKENIZER)
    message = str(error.value)
    assert f"{path}:4:" in message and "'z'" in message


def test_blank_symbol_is_not_a_spelling(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("cat\tc <blank> a t |\n")
    with pytest.raises(LexiconError, match=":1:"):
        read_lexicon(path, TOKENIZER)


def test_malformed_line_is_reported_with_its_line(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("cat\tc a t |\ndog\n")
    with pytest.raises(LexiconError, match=r"lexicon\.txt:2: malformed"):
        read_lexicon(path, TOKENIZER)


def test_checkpoint_tokenizer_round_trips_its_roles(tmp_path):
    """A checkpoint folder's tokenizer: blank and delimiter from tokenizer_config.json (the
    pad token may be an AddedToken dict), specials kept, lower-case text in, upper-case out."""
    import json

    vocab = {s: i for i, s in enumerate(["<pad>", "<s>", "</s>", "<unk>", "|", "A", "C", "T"])}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    config = {"pad_token": {"content": "<pad>"}, "word_delimiter_token": "|", "unk_token": "<unk>"}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    (tmp_path / "special_tokens_map.json").write_text(json.dumps({"bos_token": "<s>"}))
    tokenizer = CharTokenizer.load(tmp_path)
    assert (tokenizer.blank_id, tokenizer.delimiter_id, tokenizer.upper) == (0, 4, True)
    assert tokenizer.alphabet == {" ", "a", "c", "t"}
    assert tokenizer.special == {"unk_token": "<unk>", "bos_token": "<s>"}
    assert tokenizer.extend(["a cat", "tax"]) == ["X"] and tokenizer.index["X"] == 8
    tokenizer.save(tmp_path / "again")
    again = CharTokenizer.load(tmp_path / "again")
    assert again.symbols == tokenizer.symbols and again.blank == "<pad>"
    assert again.special == tokenizer.special


def test_respell_moves_a_lexicon_to_another_tokenizer():
    upper = CharTokenizer(["<pad>", "|", "A", "C", "T", "S"], "<pad>", "|")
    lexicon = build_lexicon(["cat", "sat", "the"], TOKENIZER)
    spelled, lost = respell(lexicon, upper)
    assert spelled == {"cat": ["C", "A", "T", "|"], "sat": ["S", "A", "T", "|"]}
    assert lost == ["the"]
