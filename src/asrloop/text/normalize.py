"""The one text normaliser: references, imported transcripts, reviewer corrections, hypotheses.

Both entry points run the same steps, so texts compared with each other went through one
function:

1. Unicode compatibility forms (full-width digits, ligatures), curly apostrophes -> ``'``;
2. lower case;
3. numbers spelled out in the language (num2words): cardinals, ordinals (``21st``), decimals,
   years (``1999`` -> "nineteen ninety nine"), times (``3:30``), percentages and currency
   (``$5`` -> "five dollars"); a few symbols become words (``&`` -> "and");
4. accents folded (``café`` -> "cafe"), unless the language keeps them;
5. punctuation and hyphens become spaces; apostrophes inside or at the edge of a word stay.

* :func:`normalize_text`: lenient, for comparing texts (metrics, matching phrases): a symbol
  with no word is dropped, letters of any script are kept;
* :func:`normalize_transcript`: strict, for text that becomes training data: text holding a
  symbol with no word, or a letter the alphabet cannot write, raises
  :class:`NormalizationError` (callers report it with the file and row and leave the row out).

>>> normalize_text("Results: 42 votes, the 3rd time -- café!")
'results forty two votes the third time cafe'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

from asrloop.errors import ConfigError, DataError

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u0060\u00b4\u2032"})
# Letters that Unicode does not decompose into a base letter plus a mark.
_FOLD = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"}
)
_SPACES = re.compile(r"\s+")
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CURRENCY = re.compile(rf"([$£€¥])\s?({_NUMBER})")
_PERCENT = re.compile(rf"({_NUMBER})\s?%")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_YEAR = re.compile(r"(?<![\d.,])(1[1-9]\d\d|20\d\d)(?![\d.,]\d)(s?)\b")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
_INTEGER = re.compile(r"\d+(?:,\d{3})*(?!\d)")


@dataclass(frozen=True)
class Language:
    """How a language says symbols and numbers (num2words code, words for symbols)."""

    code: str
    symbols: dict[str, str] = field(default_factory=dict)
    currency: dict[str, str] = field(default_factory=dict)
    point: str = "point"
    fold_accents: bool = True


LANGUAGES = {
    "en": Language(
        "en",
        symbols={"%": "percent", "&": "and", "+": "plus", "@": "at", "=": "equals"},
        currency={"$": "dollars", "£": "pounds", "€": "euros", "¥": "yen"},
    ),
    "de": Language(
        "de",
        symbols={"%": "prozent", "&": "und", "+": "plus", "@": "at"},
        currency={"$": "dollar", "£": "pfund", "€": "euro"},
        point="komma",
        fold_accents=False,
    ),
    "fr": Language(
        "fr",
        symbols={"%": "pour cent", "&": "et", "+": "plus", "@": "arobase"},
        currency={"$": "dollars", "£": "livres", "€": "euros"},
        point="virgule",
        fold_accents=False,
    ),
    "es": Language(
        "es",
        symbols={"%": "por ciento", "&": "y", "+": "más", "@": "arroba"},
        currency={"$": "dólares", "£": "libras", "€": "euros"},
        point="coma",
        fold_accents=False,
    ),
}


class NormalizationError(DataError):
    """Text that cannot be written in the model's alphabet; the message says what is left."""


@cache
def language(code: str) -> Language:
    """The rules for ``code``; raises :class:`ConfigError` for a language with no rules."""
    if code not in LANGUAGES:
        raise ConfigError(
            f"no text normalisation rules for language {code!r} (known: {sorted(LANGUAGES)}): "
            "add it to asrloop.text.normalize.LANGUAGES"
        )
    return LANGUAGES[code]


def _say(number: int | str, lang: Language, to: str = "cardinal") -> str:
    from num2words import num2words

    return f" {num2words(int(number), lang=lang.code, to=to)} "


def _say_decimal(whole: str, fraction: str, lang: Language) -> str:
    from num2words import num2words

    digits = " ".join(num2words(int(d), lang=lang.code) for d in fraction)
    return f"{_say(whole, lang)}{lang.point} {digits} "


def _say_number(text: str, lang: Language) -> str:
    text = text.replace(",", "")
    if "." in text:
        return _say_decimal(*text.split(".", 1), lang)
    return _say(text, lang)


def _say_time(match: re.Match, lang: Language) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))
    if lang.code != "en":
        return _say(hours, lang) + (_say(minutes, lang) if minutes else "")
    if minutes == 0:
        return f"{_say(hours, lang)}o'clock "
    return _say(hours, lang) + ("oh " if minutes < 10 else "") + _say(minutes, lang)


def _say_year(match: re.Match, lang: Language) -> str:
    from num2words import num2words

    spoken = num2words(int(match.group(1)), lang=lang.code, to="year")
    if match.group(2):  # the 1990s
        spoken = spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"
    return f" {spoken} "


def _say_money(match: re.Match, lang: Language) -> str:
    """``$5.50`` -> "five dollars fifty"."""
    symbol, amount = match.group(1), match.group(2).replace(",", "")
    if symbol not in lang.currency:
        return match.group(0)
    whole, _, cents = amount.partition(".")
    spoken = f"{_say(whole, lang)}{lang.currency[symbol]} "
    if len(cents) == 2:
        return spoken + (_say(cents, lang) if int(cents) else "")
    return f"{_say_number(amount, lang)}{lang.currency[symbol]} "


def spell_numbers(text: str, lang: Language) -> str:
    """Digits in ``text`` as words (currency, percent, ordinals, times, years, decimals)."""
    if not any(c.isdigit() for c in text):
        return text
    text = _CURRENCY.sub(lambda m: _say_money(m, lang), text)
    text = _PERCENT.sub(lambda m: f"{_say_number(m.group(1), lang)}{lang.symbols['%']} ", text)
    text = _ORDINAL.sub(lambda m: _say(m.group(1), lang, "ordinal"), text)
    text = _TIME.sub(lambda m: _say_time(m, lang), text)
    if lang.code == "en":
        text = _YEAR.sub(lambda m: _say_year(m, lang), text)
    text = _DECIMAL.sub(lambda m: _say_decimal(m.group(1), m.group(2), lang), text)
    return _INTEGER.sub(lambda m: _say_number(m.group(0), lang), text)


def _fold(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


def _clean(text: str, lang: Language, strict: bool) -> str:
    """Steps 4-5: symbols, accents, punctuation; returns the text and raises in strict mode."""
    out, unknown = [], []
    for char in text:
        category = unicodedata.category(char)
        if char in lang.symbols:
            out.append(f" {lang.symbols[char]} ")
        elif char == "'" or char.isspace():
            out.append(char)
        elif category[0] in "LN":
            out.append(_fold(char.translate(_FOLD)) if lang.fold_accents else char)
        elif category[0] in "PZC" or category == "Sk":  # punctuation, separators, controls
            out.append(" ")
        elif category[0] == "M":  # a combining mark left over: part of the letter before it
            out.append("" if lang.fold_accents else char)
        else:  # a symbol with no word in this language
            unknown.append(char)
            out.append(" ")
    if strict and unknown:
        raise NormalizationError(f"{text.strip()!r}: no word for {''.join(sorted(set(unknown)))!r}")
    return "".join(out)


def _tidy_apostrophes(text: str) -> str:
    """Apostrophes stay inside or at the edge of a word; one standing alone goes."""
    return " ".join(token for token in text.split() if token.strip("'"))


CACHED_TEXT_CHARS = 2000  # longer texts (rare; a hostile request's) are normalized uncached


def _normalize(text: str, code: str, strict: bool) -> str:
    """Scoring normalizes the same references and hypotheses once per slice and metric: a
    bounded cache of short texts (at most 65,536 of 2,000 characters) answers the repeats."""
    if len(text) <= CACHED_TEXT_CHARS:
        return _normalize_cached(text, code, strict)
    return _normalize_uncached(text, code, strict)


def _normalize_uncached(text: str, code: str, strict: bool) -> str:
    lang = language(code)
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = spell_numbers(text, lang)
    text = _clean(text, lang, strict)
    return _SPACES.sub(" ", _tidy_apostrophes(text)).strip()


_normalize_cached = lru_cache(maxsize=1 << 16)(_normalize_uncached)


def normalize_text(text: str, lang: str = "en") -> str:
    """Lenient: spelled-out, folded, lower-case words; a symbol with no word is dropped."""
    return _normalize(text, lang, strict=False)


def normalize_transcript(text: str, alphabet: str, lang: str = "en") -> str:
    """Strict: :func:`normalize_text`, refusing text that would lose a symbol or a letter."""
    normalized = _normalize(text, lang, strict=True)
    allowed = set(alphabet)
    lost = sorted({char for char in normalized if char not in allowed})
    if lost:
        raise NormalizationError(f"{text!r}: cannot write {''.join(lost)!r} in the alphabet")
    if not normalized:
        raise NormalizationError(f"{text!r}: nothing left to transcribe")
    return normalized


def words(text: str) -> list[str]:
    return normalize_text(text).split()
