"""Export (``asrloop model export``): a registered version as a loadable checkpoint folder.

The folder is exactly what the registry holds under the version's ``model_dir`` artifact:
``save_pretrained`` output plus the processor's files (tokenizer, feature extractor). It can be
fine-tuned as ``model=pretrained model.path=<folder>`` (a new project, another corpus) or
loaded by transformers (``AutoModelForCTC.from_pretrained``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from asrloop.fsutil import replace_dir
from asrloop.model.registry import Registry
from asrloop.progress import console


def export_version(registry: Registry, ref: str, folder: Path) -> Path:
    """Copy version ``ref``'s model folder to ``folder`` (replaced atomically)."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with registry.checkout(ref) as checked:
        shutil.copytree(checked.model_dir, tmp)
    folder.parent.mkdir(parents=True, exist_ok=True)
    replace_dir(tmp, folder)
    console.print(f"{registry.name} v{checked.version} ({ref}) -> {folder}")
    return folder
