"""The house plan, checked on the source: who may take the root config, the layers and who may
import whom, no import circle, the pipeline's dependencies, where file paths live, where manifest
fields are read and how failures leave the program."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from asrloop.cli import COMMANDS
from asrloop.commands import COMMAND_NAMES, step_module
from asrloop.imports import import_graph, module_files

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "asrloop"
ROOT_CONFIG = "cfg"  # the name the root config goes by; subtrees are named for their group

# Modules outside steps/ that may still hold the root config, and why.
ROOT_CONFIG_ALLOWED = {
    "asrloop.cli": "the command line: composes the config and calls the step",
    "asrloop.config": "config plumbing: composes, validates, resolves and saves the root config",
    "asrloop.pipeline": "writes the root config as the pipeline's params.yaml",
}

# Layers, lowest first: a module may import its own layer and the layers below, never above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "asrloop.errors",
            "asrloop.artifacts",
            "asrloop.commands",
            "asrloop.jsonio",
            "asrloop.strict",
            "asrloop.fsutil",
            "asrloop.faults",
            "asrloop.progress",
            "asrloop.lock",
            "asrloop.imports",
            "asrloop.settings",
            "asrloop.records",
            "asrloop.distributed",
            "asrloop.hardware",
            "asrloop.machine",
            "asrloop.tracking",
            "asrloop.execution",
        ),
    ),
    (
        "signal",
        ("asrloop.text", "asrloop.audio", "asrloop.metrics", "asrloop.stats", "asrloop.decode"),
    ),
    ("data", ("asrloop.corpus",)),
    ("model", ("asrloop.model", "asrloop.train")),
    (
        "inference",
        (
            "asrloop.inference",
            "asrloop.scoring",
            "asrloop.evaluate",
            "asrloop.decode_tune",
            "asrloop.peer",
            "asrloop.report_render",
        ),
    ),
    ("checks", ("asrloop.checks",)),
    ("loop", ("asrloop.loop", "asrloop.review", "asrloop.team")),
    ("config plumbing", ("asrloop.config", "asrloop.pipeline", "asrloop.stages")),
    ("steps", ("asrloop.steps",)),
    ("command line", ("asrloop.cli",)),
]


def layer_of(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def trees() -> dict[str, ast.Module]:
    return {m: ast.parse(p.read_text(), str(p)) for m, p in module_files(SRC).items()}


def functions(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def graph() -> dict[str, frozenset[str]]:
    return import_graph(SRC)


def test_every_command_has_its_step_module():
    files = module_files(SRC)
    missing = [name for name in COMMAND_NAMES if step_module(name) not in files]
    assert not missing, f"commands without a module in src/asrloop/steps/: {missing}"
    assert set(COMMANDS.values()) == {f"{step_module(n)}:run" for n in COMMAND_NAMES}


def test_only_steps_take_the_root_config():
    offenders = []
    for module, tree in trees().items():
        if module.startswith("asrloop.steps") or module in ROOT_CONFIG_ALLOWED:
            continue
        for function in functions(tree):
            names = [a.arg for a in (*function.args.args, *function.args.kwonlyargs)]
            if ROOT_CONFIG in names:
                offenders.append(f"{module}.{function.name} (line {function.lineno})")
    assert not offenders, "library functions take the root config: " + ", ".join(offenders)


def test_the_library_never_imports_steps():
    offenders = [
        f"{module} -> {target}"
        for module, targets in graph().items()
        if not module.startswith(("asrloop.steps", "asrloop.cli"))
        for target in targets
        if target.startswith("asrloop.steps")
    ]
    assert not offenders, offenders


def test_every_module_has_a_layer():
    unplaced = [m for m in graph() if m != "asrloop" and layer_of(m) is None]
    assert not unplaced, f"modules in no layer of LAYERS (add them): {unplaced}"


def test_no_import_climbs_a_layer():
    offenders = []
    for module, targets in graph().items():
        rank = layer_of(module)
        for target in targets:
            if rank is not None and (layer_of(target) or 0) > rank:
                above = LAYERS[layer_of(target)][0]
                offenders.append(f"{module} ({LAYERS[rank][0]}) imports {target} ({above})")
    assert not offenders, "imports that climb back up:\n" + "\n".join(offenders)


def strongly_connected(g: dict[str, frozenset[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module: the import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle():
    assert strongly_connected(graph()) == []


def test_the_circle_check_can_fail():
    planted = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"})}
    assert strongly_connected(planted) == [["a", "b", "c"]]


def test_model_does_not_import_inference():
    for module, targets in graph().items():
        if module.startswith("asrloop.model"):
            serving = [m for m in targets if m.startswith("asrloop.inference")]
            assert not serving, f"{module} imports {serving}: model/ must not depend on inference/"


def test_dvc_yaml_is_the_declared_pipeline():
    """``pipelines/dvc.yaml`` is what ``asrloop pipeline`` writes: data paths from the layout,
    code deps from the real imports (a stale file means: run ``asrloop pipeline``)."""
    from asrloop.artifacts import Layout
    from asrloop.config import compose
    from asrloop.stages import declared_stages, render

    cfg = compose([f"paths.root={ROOT}"])
    layout = Layout.from_paths(cfg.paths)
    expected = render(declared_stages(layout, Path(cfg.train.output_dir)), ROOT, SRC)
    assert (ROOT / "pipelines" / "dvc.yaml").read_text() == expected, "run `asrloop pipeline`"


def test_dvc_yaml_code_deps_cover_each_stage_import():
    """Every module a stage's step imports sits under one of the stage's declared deps."""
    import yaml

    from asrloop.imports import closure

    pipeline = yaml.safe_load((ROOT / "pipelines" / "dvc.yaml").read_text())["stages"]
    files = module_files(SRC)
    for name, stage in pipeline.items():
        command = stage["cmd"].removeprefix("asrloop ").split(" --params")[0]
        deps = [(ROOT / "pipelines" / d).resolve() for d in stage["deps"]]
        for module in closure(step_module(command), SRC):
            path = files[module].resolve()
            assert any(path == d or d in path.parents for d in deps), f"{name}: {module}"


# File names a module may spell although artifacts.py owns the project's paths, and why.
FILE_NAME_EXCEPTIONS = {
    "corpus/importer/ljspeech.py": "LJ Speech's own metadata.csv (an input format)",
    "corpus/importer/audiofolder.py": "Hugging Face audiofolder's metadata files (input format)",
    "corpus/importer/lhotse_manifest.py": "lhotse's manifest suffix (an input format)",
    "corpus/importer/nemo.py": "NeMo manifest suffixes (an input format)",
    "corpus/importer/librispeech.py": "LibriSpeech's own .trans.txt files (an input format)",
    "model/checkpoint.py": "transformers' own files inside a checkpoint folder",
    "model/registry.py": "transformers' files that identify a model folder in an artifact",
    "inference/recognizer.py": "transformers' files copied with a model folder",
    "text/tokenizer.py": "transformers' tokenizer files (save_pretrained's names)",
    "review/app.py": "the page's Jinja template",
    "team.py": "the team stack's state file inside its own folder (conf/team.dir)",
}
SUFFIXES = (".json", ".jsonl", ".csv", ".txt", ".yaml", ".pt", ".arpa", ".lock")


def path_strings(tree: ast.Module) -> list[tuple[int, str]]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and node.value.endswith(SUFFIXES)
        and " " not in node.value
    ]


def test_file_paths_live_in_artifacts():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative == "artifacts.py" or relative in FILE_NAME_EXCEPTIONS:
            continue
        tree = ast.parse(path.read_text(), str(path))
        offenders += [f"{relative}:{line} {text!r}" for line, text in path_strings(tree)]
    assert not offenders, "file names outside asrloop.artifacts:\n" + "\n".join(offenders)


@pytest.mark.parametrize("planted", ['X = "reports/gate.json"\n', 'open("a.csv")\n'])
def test_the_path_check_can_fail(planted):
    assert path_strings(ast.parse(planted))


def test_manifest_fields_are_read_only_in_the_manifest_module():
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "manifest.py" and path.parent.name == "corpus":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if 'row["' in line or "row.get(" in line:
                offenders.append(f"{path.relative_to(SRC)}:{number}")
    assert not offenders, f"raw manifest row access outside corpus/manifest.py: {offenders}"


def test_no_exit_below_the_cli():
    offenders = []
    for module, tree in trees().items():
        if module == "asrloop.cli":
            continue
        for node in ast.walk(tree):
            raised = isinstance(node, ast.Raise) and "SystemExit" in ast.unparse(node.exc or node)
            called = isinstance(node, ast.Call) and ast.unparse(node.func) in {"sys.exit", "exit"}
            if raised or called:
                offenders.append(f"{module}:{node.lineno}")
    assert not offenders, f"exits below the CLI (raise an AsrloopError instead): {offenders}"


def test_the_root_config_check_can_fail():
    """The rule above would catch an offender: a planted one is found."""
    tree = ast.parse("def helper(cfg):\n    return cfg.paths.root\n")
    names = [a.arg for f in functions(tree) for a in f.args.args]
    assert ROOT_CONFIG in names


def test_no_code_names_a_scenario_term():
    """The emerging terms come from config: any scenario's terms, anywhere in src/, fail (as
    words: "peat" inside "repeat" names nothing)."""
    import re

    import yaml

    conf = ROOT / "conf" / "scenario"
    terms = {t for f in conf.glob("*.yaml") for t in yaml.safe_load(f.read_text())["terms"]}
    assert terms
    offenders = [
        f"{path.relative_to(SRC)}: {term}"
        for path in SRC.rglob("*.py")
        for term in terms
        if re.search(rf"\b{re.escape(term)}\b", path.read_text().lower())
    ]
    assert not offenders, offenders
