"""The seams between steps, checked on the source: who may take the root config, who may import
whom, where manifest fields are read, and how failures leave the program."""

from __future__ import annotations

import ast
from pathlib import Path

from asrloop.cli import COMMANDS

SRC = Path(__file__).resolve().parents[2] / "src" / "asrloop"
ROOT_CONFIG = "cfg"  # the name the root config goes by; subtrees are named for their group

# Functions below the entry points that may still hold the root config, and why.
ROOT_CONFIG_ALLOWED = {
    "asrloop.cli": "the command line: composes the config and calls the entry point",
    "asrloop.config": "config plumbing: composes, resolves and saves the root config",
    "asrloop.pipeline": "writes the root config as the pipeline's params.yaml",
    "asrloop.loop.runner": "the loop is the step that runs steps: it passes the config on",
}


def modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        name = ".".join(("asrloop", *path.relative_to(SRC).with_suffix("").parts))
        out[name.removesuffix(".__init__")] = ast.parse(path.read_text(), str(path))
    return out


def entry_points() -> set[tuple[str, str]]:
    return {tuple(target.split(":")) for target in COMMANDS.values()}


def functions(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_only_entry_points_take_the_root_config():
    allowed = entry_points()
    offenders = []
    for module, tree in modules().items():
        if module in ROOT_CONFIG_ALLOWED:
            continue
        for function in functions(tree):
            names = [a.arg for a in (*function.args.args, *function.args.kwonlyargs)]
            if ROOT_CONFIG in names and (module, function.name) not in allowed:
                offenders.append(f"{module}.{function.name} (line {function.lineno})")
    assert not offenders, "functions below a step's run(cfg) take the root config: " + ", ".join(
        offenders
    )


def imported_modules(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_model_does_not_import_serve():
    for module, tree in modules().items():
        if module.startswith("asrloop.model"):
            serving = [m for m in imported_modules(tree) if m.startswith("asrloop.serve")]
            assert not serving, f"{module} imports {serving}: model/ must not depend on serve/"


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
    for module, tree in modules().items():
        if module == "asrloop.cli":
            continue
        for node in ast.walk(tree):
            raised = isinstance(node, ast.Raise) and "SystemExit" in ast.unparse(node.exc or node)
            called = isinstance(node, ast.Call) and ast.unparse(node.func) in {"sys.exit", "exit"}
            if raised or called:
                offenders.append(f"{module}:{node.lineno}")
    assert not offenders, f"exits below the CLI (raise an AsrloopError instead): {offenders}"


def test_the_checks_can_fail():
    """The rule above would catch an offender: a planted one is found."""
    tree = ast.parse("def helper(cfg):\n    return cfg.paths.root\n")
    names = [a.arg for f in functions(tree) for a in f.args.args]
    assert ROOT_CONFIG in names


def test_no_code_names_a_scenario_term():
    """The emerging terms come from config: any scenario's terms, anywhere in src/, fail."""
    import yaml

    conf = SRC.parents[1] / "conf" / "scenario"
    terms = {t for f in conf.glob("*.yaml") for t in yaml.safe_load(f.read_text())["terms"]}
    assert terms
    offenders = [
        f"{path.relative_to(SRC)}: {term}"
        for path in SRC.rglob("*.py")
        for term in terms
        if term in path.read_text().lower()
    ]
    assert not offenders, offenders
