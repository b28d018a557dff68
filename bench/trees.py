"""The trees benchmarked: copies of real code no one here wrote, and a generated one.

Only `.py` files are copied, so the analyzer (which also reads .md/.rst/.txt/.cfg/.toml),
vulture and pylint all see exactly the same files.
"""

from __future__ import annotations

import random
import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path

STDLIB = Path("/root/.pyenv/versions/3.11.7/lib/python3.11")
DJANGO = Path(sysconfig.get_paths()["purelib"]) / "django"  # the Django installed beside the bench
EXCLUDED_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}


def copy_py(src: Path, dest: Path) -> int:
    """Copy every .py file under src to dest, pruning excluded folders; returns the file count."""
    count = 0
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if any(part in EXCLUDED_DIRS for part in rel.parts[:-1]):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        count += 1
    return count


def stdlib(base: Path) -> Path:
    """CPython 3.11's standard library without its tests; the folder to scan."""
    root = base / "stdlib"
    copy_py(STDLIB, root)
    return root


def django(base: Path) -> Path:
    """The installed Django package; scanned as `<base>/django-src/django` (import root one up)."""
    root = base / "django-src" / "django"
    copy_py(DJANGO, root)
    return root


def module_source(rng: random.Random, index: int, modules: list[str]) -> str:
    """A plausible small module: imports of siblings, bus calls, a few functions and a class."""
    lines = ['"""Generated module."""', "", "from __future__ import annotations", ""]
    for target in rng.sample(modules, k=min(len(modules), rng.randint(0, 3))):
        lines.append(f"import {target}")
    lines.append("")
    channel = f"curiosity.gen_{rng.randrange(200)}"
    call = rng.choice(['ChemPub().emit("{c}")', 'ChemSub("{c}")', 'ChemPub().publish(signal="{c}")'])
    lines.append(call.format(c=channel))
    for f in range(rng.randint(1, 5)):
        # the called global varies, so bodies form many small clone groups (as real trees have)
        # instead of one group of every function in the tree
        lines += [
            "",
            f"def func_{index}_{f}(a, b=None):",
            f'    """Function {f} of module {index}."""',
            "    total = 0",
            "    for item in range(a):",
            f"        total += scale_{rng.randrange(1000)}(item)",
            "    return total if b is None else total + b",
        ]
    # a method name of its own: one shared unused name ("run") puts every file's dead-code
    # question under one key, which the store rewrites whole per file (see BENCHMARKS.md)
    lines += [
        "",
        f"class Thing{index}:",
        f"    def run_{index}(self):",
        f"        return func_{index}_0(3)",
        "",
    ]
    return "\n".join(lines)


def tiny_source(rng: random.Random, index: int, modules: list[str]) -> str:
    """A module sharing no names with the others: its cost to analyze does not grow with the tree."""
    return f'"""Module {index}."""\n\nVALUE_{index} = {rng.randrange(10**6)}\n'


def generated(
    base: Path, files: int, seed: int = 7, name: str = "gen", source: Callable[..., str] = module_source
) -> Path:
    """Exactly `files` modules in packages of 50 (the first is the package's __init__.py),
    each importing a few earlier ones."""
    root = base / name
    rng = random.Random(seed)
    modules: list[str] = []
    for i in range(files):
        package = f"pkg{i // 50:04d}"
        folder = root / package
        if i % 50 == 0:
            folder.mkdir(parents=True, exist_ok=True)
            path, module = folder / "__init__.py", package
        else:
            path, module = folder / f"mod{i:05d}.py", f"{package}.mod{i:05d}"
        path.write_text(source(rng, i, modules[-200:]))
        modules.append(module)
    return root


def py_files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.py"))
