"""Property-based fuzzing (hypothesis) of every reader of user-editable or client-sent input.

Each reader gets 1,000 generated inputs: arbitrary JSON, near-valid rows with one field swapped
for anything, arbitrary bytes. Whatever comes in, the reader either accepts it or raises one of
asrloop's own errors (a message naming the file and field): no raw traceback, and no file of the
project changes. The counts are printed per reader.
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from asrloop.audio.io import encode_wav
from asrloop.config import compose
from asrloop.corpus.manifest import read_manifest
from asrloop.errors import AsrloopError
from asrloop.loop.review_queue import QUEUE_CSV, QUEUE_JSONL, read_queue
from asrloop.records import Candidate, GateDecision
from asrloop.review.access import Access
from asrloop.review.app import create_app
from asrloop.review.page import PageSettings
from asrloop.review.server import ReviewServer
from asrloop.review.store import ReviewStore
from asrloop.settings.origin import Origin
from asrloop.settings.validation import validate
from tests.review_data import ALPHABET
from tests.security.conftest import DROP, data_digest

pytestmark = pytest.mark.security

CASES = 1000
FUZZ = settings(
    max_examples=CASES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
TALLY: Counter = Counter()

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def near(valid: dict, values=json_values) -> st.SearchStrategy[dict]:
    """``valid`` with one field replaced by anything, removed, or an extra field added."""
    keys = sorted(valid)
    return st.one_of(
        st.builds(lambda k, v: {**valid, k: v}, st.sampled_from(keys), values),
        st.builds(lambda k: {n: x for n, x in valid.items() if n != k}, st.sampled_from(keys)),
        st.builds(lambda k, v: {**valid, k: v}, st.text(max_size=10), values),
        st.dictionaries(st.text(max_size=10), values, max_size=6),
    )


def dump(value) -> str:
    """JSON text as Python writes it (NaN and Infinity included: a file may hold them)."""
    return json.dumps(value, allow_nan=True, default=str)


def folder_state(folder: Path | None) -> dict[str, bytes]:
    if folder is None:
        return {}
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def attempt(reader: str, call, folder: Path | None = None) -> None:
    """Run one case: success or an asrloop error; anything else fails the test. The files in
    ``folder`` (the input) must be as they were: a reader writes nothing."""
    before = folder_state(folder)
    try:
        call()
        TALLY[f"{reader} accepted"] += 1
    except AsrloopError:
        TALLY[f"{reader} refused"] += 1
    TALLY[reader] += 1
    TALLY[f"{reader} changed"] += folder_state(folder) != before


def report(reader: str) -> None:
    changed = TALLY[f"{reader} changed"]
    print(
        f"\nfuzz {reader}: {TALLY[reader]} cases ({TALLY[f'{reader} accepted']} accepted, "
        f"{TALLY[f'{reader} refused']} refused with a message), 0 raw tracebacks, "
        f"{changed} cases changed a file"
    )
    assert TALLY[reader] >= CASES and changed == 0


# ------------------------------------------------------------------ files people edit

MANIFEST_ROW = {"id": "c1", "audio_filepath": "c1.wav", "duration": 1.5, "text": "a b"}


def test_fuzz_manifest_reader():
    folder = Path(tempfile.mkdtemp())

    @FUZZ
    @given(st.lists(near(MANIFEST_ROW).map(dump) | st.text(max_size=60), max_size=4))
    def case(lines):
        (folder / "manifest.jsonl").write_text("\n".join(lines), encoding="utf-8")
        attempt(
            "manifest", lambda: read_manifest(folder / "manifest.jsonl", contained=True), folder
        )

    case()
    report("manifest")


QUEUE_ROW = {
    "id": "drop-00001",
    "status": "approved",
    "reason": "random",
    "hypothesis": "a b",
    "reference": "a b",
    "voice": "v",
    "confidence": 0.5,
    "audio_filepath": "data/drops/d/drop-00001.wav",
    "reviewer": "ann",
    "word_confidence": "0.5 0.5",
    "revision": 1,
    "reviewed_at": "",
}


def test_fuzz_queue_jsonl_reader():
    folder = Path(tempfile.mkdtemp())

    @FUZZ
    @given(st.lists(near(QUEUE_ROW).map(dump) | st.text(max_size=60), max_size=4))
    def case(lines):
        (folder / QUEUE_JSONL).write_text("\n".join(lines), encoding="utf-8")
        attempt("queue.jsonl", lambda: read_queue(folder), folder)

    case()
    report("queue.jsonl")


def test_fuzz_queue_csv_reader():
    folder = Path(tempfile.mkdtemp())
    header = ",".join(QUEUE_ROW)
    cells = st.text(max_size=30) | st.sampled_from(["=1+1", "nan", "inf", "-1", "approved", ""])
    rows = st.lists(
        st.lists(cells, min_size=0, max_size=len(QUEUE_ROW) + 2).map(
            lambda r: ",".join(json.dumps(c) if i % 2 else c for i, c in enumerate(r))
        ),
        max_size=4,
    )

    @FUZZ
    @given(rows, st.booleans() | st.binary(max_size=40))
    def case(lines, tail):
        text = "\n".join([header, *lines]).encode("utf-8", "surrogatepass")
        if isinstance(tail, bytes):
            text += tail  # not always UTF-8
        (folder / QUEUE_CSV).write_bytes(text)
        attempt("queue.csv", lambda: read_queue(folder), folder)

    case()
    report("queue.csv")


GATE = GateDecision(
    False,
    "measured",
    Candidate("2", 0.1, 150, 0.2, 40, {}),
    Candidate("1", 0.1, 150, 0.2, 40, {}),
    None,
).to_dict()


def test_fuzz_gate_record_reader():
    folder = Path(tempfile.mkdtemp())
    challenger = GATE["challenger"]

    @FUZZ
    @given(
        near(GATE)
        | near(challenger).map(lambda c: {**GATE, "challenger": c})
        | json_values.map(lambda v: {"promote": v})
    )
    def case(data):
        (folder / "v2.json").write_text(dump({"schema": GateDecision.schema(), **data}))
        attempt("gate record", lambda: GateDecision.load(folder / "v2.json"), folder)

    case()
    report("gate record")


def test_fuzz_scenario_file_reader():
    scenario = OmegaConf.to_container(compose(["scenario=pandemic"]).scenario, resolve=False)
    drop = scenario["drop"]
    given_scenarios = (
        near(scenario)
        | near(drop).map(lambda d: {**scenario, "drop": d})
        | st.dictionaries(st.text(max_size=8), json_values, max_size=5)
    )

    def read(data):
        config = {"scenario": data, "seed": 1, "corpus": {"rate_wpm": [150]}}
        origin = Origin("conf/scenario/fuzzed.yaml")
        return validate(OmegaConf.create(config), origin, partial=True, consume=True)

    @FUZZ
    @given(given_scenarios)
    def case(data):
        try:
            OmegaConf.create({"scenario": data})
        except Exception:  # not even YAML-shaped (a key that is no string): YAML cannot say it
            TALLY["scenario file"] += 1
            TALLY["scenario file refused"] += 1
            return
        attempt("scenario file", lambda: read(data))

    case()
    report("scenario file")


# ------------------------------------------------------------------ requests


def post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_fuzz_review_requests(project):
    store = ReviewStore(project.queue, ALPHABET, project.root, (project.drop_dir,))
    access = Access.for_binding("127.0.0.1")
    page = PageSettings(DROP, reviewer="", low_confidence=0.6, phrases=())
    before = data_digest(project.root)
    save = {"status": "approved", "reference": "a b", "reviewer": "ann", "seen": "0" * 16}
    statuses: Counter = Counter()
    with ReviewServer(create_app(store, page, access)) as server:
        headers = {"content-type": "application/json", "x-csrf-token": access.csrf}

        @FUZZ
        @given(
            st.sampled_from(["drop-00001", "drop-00002", "nope", "%2e%2e%2fetc", "a" * 300]),
            near(save).map(dump).map(str.encode) | st.binary(max_size=200),
        )
        def case(clip, body):
            before = folder_state(project.queue)
            status = post(f"{server.url}/api/rows/{clip}", body, headers)
            statuses[status] += 1
            TALLY["review request"] += 1
            TALLY["review request changed"] += folder_state(project.queue) != before
            assert status in (200, 400, 404, 409, 422), (status, body[:200])  # never 500

        case()
    assert data_digest(project.root) == before  # no fuzzed save changed a decision
    print(f"\nreview request answers: {dict(statuses)}")
    TALLY["review request accepted"] = statuses[200]
    TALLY["review request refused"] = sum(n for s, n in statuses.items() if s != 200)
    report("review request")


def test_fuzz_serving_requests(transcriber, project):
    before = data_digest(project.root)
    wav = encode_wav(np.zeros(1600, dtype=np.float32))
    audio = (
        st.binary(max_size=300)
        | st.binary(max_size=200).map(lambda b: wav[:44] + b)  # a WAV header, anything after
        | st.just(wav)
        | st.none()
        | st.text(max_size=20)
    )
    paths = st.text(max_size=60) | st.sampled_from(
        ["/etc/passwd", "../../etc/shadow", str(project.drop_dir / "drop-00001.wav"), ""]
    )

    @FUZZ
    @given(st.lists(st.fixed_dictionaries({"audio": audio, "path": paths}), min_size=1, max_size=4))
    def case(rows):
        def predict():
            answers = transcriber.predict(None, pd.DataFrame(rows))
            assert len(answers) == len(rows)
            for answer in answers:
                assert "Traceback" not in answer.get("error", "")

        attempt("serving request", predict, project.root / "data")

    case()
    assert data_digest(project.root) == before
    report("serving request")
