"""``asrloop data validate``: a corrupt, empty or wrong-rate clip is named and excluded."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.validate import run
from tests.helpers import TINY_CORPUS, copy_corpus, make_cfg


def test_bad_clips_are_reported_by_file_and_reason(tiny_corpus, tmp_path):
    _, root = tiny_corpus
    copy_corpus(root, tmp_path)
    mine = make_cfg(tmp_path, *TINY_CORPUS)
    rows = list(iter_corpus(mine.paths.base_corpus, ["train"]))
    corrupt, wrong_rate, empty = rows[0], rows[1], rows[2]
    corrupt.audio_path.write_bytes(b"RIFF this is not audio")
    sf.write(str(wrong_rate.audio_path), np.zeros(8000, np.float32), 8000)
    sf.write(str(empty.audio_path), np.zeros(0, np.float32), 16000)
    excluded = run(mine)
    text = "\n".join(excluded)
    for row in (corrupt, wrong_rate, empty):
        assert row.id in text
    assert "decode" in text.lower() or "cannot" in text.lower()
    assert "8000" in text
    healthy = {r.id for r in rows[3:]}
    assert not any(clip in text for clip in healthy)
    assert (tmp_path / "reports" / "validate" / "excluded.txt").read_text().count("\n") == len(
        excluded
    )
