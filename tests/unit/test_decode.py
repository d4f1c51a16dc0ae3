"""Decoders on synthetic frame posteriors that spell words (peaked frames, blanks between).

The emerging word is spelled only here (the project rule: terms come from config or tests).
"""

import math

import pytest
import torch
from omegaconf import OmegaConf

from asrloop.config import CONF_DIR, compose
from asrloop.decode import GreedyDecoder, LexiconDecoder, build_decoder
from asrloop.settings import typed
from asrloop.text.tokenizer import CharTokenizer
from asrloop.text.vocabulary import add_words, build_vocabulary, load_vocabulary

NEW_WORD = "brexit"
TEXTS = [
    "the bread is fresh",
    "sit down now",
    "they will break it",
    "bread sit down",
    "the tax is next",
    "talks resume in the city",
]


@pytest.fixture
def vocab_dir(tmp_path):
    build_vocabulary(TEXTS, tmp_path / "vocab", order=3)
    return tmp_path / "vocab"


# a wav2vec2-style checkpoint's vocabulary: <pad> is the blank, upper-case letters, specials
CHECKPOINT_SYMBOLS = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]


def checkpoint_tokenizer():
    return CharTokenizer(CHECKPOINT_SYMBOLS, "<pad>", "|", {"unk_token": "<unk>"})


def frames(text, tokenizer, peak=6.0):
    """[1, T, V] log-probs: each character on 2 frames then a blank; spaces as the delimiter."""
    path = []
    for char in text:
        token = tokenizer.index[tokenizer.to_symbol(char)]
        path += [token, token, tokenizer.blank_id]
    logits = torch.zeros(len(path), len(tokenizer))
    logits[torch.arange(len(path)), torch.tensor(path)] = peak
    return logits.log_softmax(-1)[None]


def lexicon_decoder(folder, tokenizer=None, **options):
    """The lexicon decoder with test settings (``options``: e.g. ``bias``, ``bias_bonus``)."""
    return LexiconDecoder(
        tokenizer or load_vocabulary(folder).tokenizer,
        folder,
        beam_size=50,
        lm_weight=0.8,
        word_score=0.0,
        unk_score=float("-inf"),
        sil_score=0.0,
        beam_threshold=25.0,
        nbest=1,
        **options,
    )


def test_greedy_returns_the_spelled_text(vocab_dir):
    tokenizer = load_vocabulary(vocab_dir).tokenizer
    [hyp] = GreedyDecoder(tokenizer).decode(frames("bread sit", tokenizer))
    assert hyp.text == "bread sit"
    assert [(w.word, w.start_frame, w.end_frame) for w in hyp.words] == [
        ("bread", 0, 12),
        ("sit", 18, 24),
    ]
    assert all(0.9 < w.confidence <= 1.0 for w in hyp.words)


def test_lexicon_decoder_decodes_in_vocabulary_text(vocab_dir):
    decoder = lexicon_decoder(vocab_dir)
    [hyp] = decoder.decode(frames("they will break it", decoder.tokenizer))  # "ll": blank between
    assert hyp.text == "they will break it"
    assert [w.start_frame for w in hyp.words] == [0, 15, 30, 48]  # the frames greedy gives


def test_out_of_vocabulary_word_comes_out_as_known_words(vocab_dir):
    decoder = lexicon_decoder(vocab_dir)
    [hyp] = decoder.decode(frames(NEW_WORD, decoder.tokenizer))
    assert hyp.text and NEW_WORD not in hyp.text
    assert set(hyp.text.split()) <= set(decoder.lexicon)
    assert min(w.confidence for w in hyp.words) < 0.9  # forced letters have low posteriors


def test_adding_the_word_changes_the_decode(vocab_dir):
    before = load_vocabulary(vocab_dir)
    add_words(vocab_dir, [NEW_WORD], sentences=[f"{NEW_WORD} talks resume"])
    after = load_vocabulary(vocab_dir)
    assert after.tokenizer.symbols == before.tokenizer.symbols  # acoustic model unchanged
    assert after.version["vocab_version"] != before.version["vocab_version"]
    assert NEW_WORD in after.lexicon and NEW_WORD in after.hotwords
    assert after.words[NEW_WORD] == 1
    decoder = lexicon_decoder(vocab_dir)
    [hyp] = decoder.decode(frames(NEW_WORD, decoder.tokenizer))
    assert hyp.text == NEW_WORD


def test_word_added_without_sentences_is_decodable(vocab_dir):
    add_words(vocab_dir, [NEW_WORD])
    assert load_vocabulary(vocab_dir).words[NEW_WORD] == 0
    decoder = lexicon_decoder(vocab_dir)
    [hyp] = decoder.decode(frames(f"the {NEW_WORD} tax", decoder.tokenizer))
    assert hyp.text == f"the {NEW_WORD} tax"


@pytest.mark.parametrize("kind", ["greedy", "lexicon_lm"])
def test_empty_input_gives_an_empty_hypothesis(vocab_dir, kind):
    decode = typed(compose([f"decode={kind}"])).decode
    tokenizer = load_vocabulary(vocab_dir).tokenizer
    decoder = build_decoder(decode, tokenizer, vocab_dir)
    assert [h.text for h in decoder.decode(torch.zeros(2, 0, len(tokenizer)))] == ["", ""]
    batch = torch.cat([frames("sit down", tokenizer)] * 2)
    hyps = decoder.decode(batch, torch.tensor([0, batch.shape[1]]))
    assert [h.text for h in hyps] == ["", "sit down"]


def test_config_reads_minus_infinity_for_unknown_words():
    cfg = OmegaConf.load(CONF_DIR / "decode" / "lexicon_lm.yaml")
    assert cfg.type == "lexicon" and math.isinf(cfg.unk_score) and cfg.unk_score < 0


def test_checkpoint_vocabulary_decodes_lexicon_words_in_lower_case(vocab_dir):
    """Blank <pad> at 0, delimiter at 4, upper-case letters: the lexicon is spelled in them."""
    tokenizer = checkpoint_tokenizer()
    decoder = lexicon_decoder(vocab_dir, tokenizer)
    assert decoder.lexicon["bread"] == ["B", "R", "E", "A", "D", "|"]
    [hyp] = decoder.decode(frames("they will break it", tokenizer))
    assert hyp.text == "they will break it"
    assert [w.start_frame for w in hyp.words] == [0, 15, 30, 48]
    [greedy] = GreedyDecoder(tokenizer).decode(frames("bread sit", tokenizer))
    assert greedy.text == "bread sit" and [w.word for w in greedy.words] == ["bread", "sit"]


def test_special_tokens_write_no_text():
    tokenizer = checkpoint_tokenizer()
    ids = [tokenizer.index[s] for s in ["<s>", "S", "I", "<unk>", "T", "|", "</s>"]]
    assert tokenizer.decode(ids) == "sit"
    assert tokenizer.encode("it's") == [tokenizer.index[s] for s in ["I", "T", "'", "S"]]
    assert tokenizer.unknown_chars("IT é") == {"I", "T", "é"}
