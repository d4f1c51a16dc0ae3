"""A starting scenario file for new terms (``asrloop scenario new``).

The file has every key of :class:`~asrloop.settings.scenario.ScenarioSettings`, commented, and
sentences a loop can run with at once: news-style templates (the corpus's slots, such as
``{place}``) with each term in them, to be replaced by sentences from the real domain. Words a
term sounds like become near-miss sentences: the same templates saying the look-alike, so the
gate's precision clause has bait.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from asrloop.errors import ConfigError
from asrloop.jsonio import atomic_write_text
from asrloop.text.normalize import normalize_text

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
TEMPLATES = (
    "{role} said {term} would change the {noun} in {place}",
    "the {org} published a new report on {term} on {day}",
    "{people} in {region} are talking about {term}",
    "{company} blamed {term} for a fall in profits",
    "{first_name} {last_name} said {term} had been a {adjective} surprise",
    "the {party} has a new plan for {term}",
    "what will {term} mean for {people} in {place}",
    "{title} {last_name} spoke about {term} {when_past}",
    "the news about {term} reached {place} on {day}",
    "{people} want a clear answer on {term}",
    "{role} met {first_name} {last_name} to discuss {term}",
    "few {people} in {place} had heard of {term} before {month}",
    "{term} was the main story on the news again {when_past}",
    "the {org} warned that {term} would hit {nouns}",
    "reporters asked {title} {last_name} about {term}",
    "{percent} of {people} say {term} matters to them",
)
NEAR_MISS_PER_WORD = 8
DROP_VOICES = (
    "en-us+klatt2",
    "en+klatt4",
    "en-gb-scotland+klatt4",
    "en-029+klatt3",
    "en-us-nyc+klatt3",
    "en-gb-x-rp+klatt3",
)


def parse_words(text: str, what: str) -> list[str]:
    """Comma-separated terms (each normalised: lower case, letters, single spaces)."""
    words = [normalize_text(part) for part in text.split(",")]
    out = [w for w in dict.fromkeys(words) if w]
    dropped = [
        part.strip() for part in text.split(",") if part.strip() and not normalize_text(part)
    ]
    if dropped:
        raise ConfigError(f"scaffold.{what}: {dropped} have no letters to speak")
    return out


def _yaml_list(items: Sequence[str], indent: str) -> str:
    return "".join(f'{indent}- "{item}"\n' for item in items)


def starter_scenario(name: str, terms: Sequence[str], near_miss: Sequence[str] = ()) -> str:
    """The text of a scenario file for ``terms`` (see the module docstring)."""
    if not NAME.fullmatch(name or ""):
        raise ConfigError(
            f"scaffold.name: {name!r} is not a scenario name (lower-case letters, digits, - "
            "and _; e.g. `asrloop scenario new energy --terms ...`)"
        )
    if not terms:
        raise ConfigError('scaffold.terms: name at least one term: --terms "word,two words"')
    share = max(0.1, round(0.45 / len(terms), 2))
    lines = [
        f"# Scenario '{name}': written by `asrloop scenario new`. Replace the template sentences",
        "# with sentences from your domain; every key is explained beside it (conf/README.md).",
        f"name: {name}",
        f"terms: [{', '.join(terms)}]   # every emerging term (a term may be several words)",
        "pronunciations: {}   # optional CMU phones per term, for `asrloop bench peer`",
        "templates:           # per term: sentences that say it; {slots} come from the corpus text",
    ]
    text = "\n".join(lines) + "\n"
    for term in terms:
        text += f"  {term}:\n" + _yaml_list([t.replace("{term}", term) for t in TEMPLATES], "    ")
    sentences = [t.replace("{term}", w) for w in near_miss for t in TEMPLATES[:NEAR_MISS_PER_WORD]]
    text += (
        "near_miss:          # sentences with words the terms sound like: after learning a term,\n"
        "                    # the model must still write these (the gate's precision clause)\n"
    )
    text += _yaml_list(sentences, "  ") if sentences else "  []\n"
    shares = ", ".join(f"{term}: {share}" for term in terms)
    text += (
        "drops:              # what drop k brings (the last entry repeats): each term's share of\n"
        "                    # the drop's clips, and the share of near-miss sentences\n"
        f"  - terms: {{{shares}}}\n"
        f"    near_miss: {0.1 if sentences else 0.0}\n"
        "drop:               # the production drop of iteration k (conf/README.md: scenario)\n"
        "  size: 240         # clips\n"
        "  holdout_share: 0.5  # never enters the corpus: the gate measures the fix here\n"
        "  source: synth     # synth: from this file | import: your audio in import_from\n"
        "  import_from: null\n"
        "  voices:           # the drop's voices (the last two are in no training split)\n"
        + _yaml_list(DROP_VOICES, "    ")
        + "  rate_wpm: [150, 200]\n"
        "  noise:\n"
        "    prob: 0.7\n"
        "    snr_db: [12, 30]\n"
    )
    return text


def write_starter(path: Path, text: str, overwrite: bool) -> Path:
    """Write the file, refusing to replace one unless told."""
    if path.exists() and not overwrite:
        raise ConfigError(
            f"{path} exists: pick another name, or pass scaffold.overwrite=true to replace it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return path
