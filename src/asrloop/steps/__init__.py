"""One thin module per ``asrloop`` command (``corpus synth`` is ``steps/corpus_synth.py``).

Each holds a ``run(cfg)`` made by :func:`asrloop.steps.context.step`: it builds typed settings
from the root config and calls the library. The library never imports this package
(``tests/unit/test_architecture.py``).
"""
