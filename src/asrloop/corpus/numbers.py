"""Spell numbers out in words, as a newsreader says them."""

from __future__ import annotations

ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def spell_number(n: int) -> str:
    """0 <= n < 1,000,000 in words: 342 -> 'three hundred and forty two'."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"cannot spell {n}")
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS[tens] + ("" if ones == 0 else " " + ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = ONES[hundreds] + " hundred"
        return head if rest == 0 else f"{head} and {spell_number(rest)}"
    thousands, rest = divmod(n, 1000)
    head = spell_number(thousands) + " thousand"
    if rest == 0:
        return head
    return f"{head} and {spell_number(rest)}" if rest < 100 else f"{head} {spell_number(rest)}"


def spell_year(year: int) -> str:
    """1999 -> 'nineteen ninety nine', 2005 -> 'two thousand and five'."""
    if 2000 <= year < 2010:
        return "two thousand" + ("" if year == 2000 else " and " + ONES[year - 2000])
    high, low = divmod(year, 100)
    if low == 0:
        return spell_number(high) + " hundred"
    tail = spell_number(low) if low >= 10 else "oh " + ONES[low]
    return f"{spell_number(high)} {tail}"
