"""What code produced an artifact.

Two different things, kept apart on purpose:
* the stage's *code version*, part of the fingerprint: a hash of the source files that
  implement the stage (plus an explicit version string to force a bump), so editing the stage
  invalidates its outputs while committing unrelated code does not;
* the repository's *git commit*, recorded in the manifest for provenance only.

A hand-written list of files goes stale: a stage that hashed only its own task file kept reusing
codes after ``salad_core/mimi`` changed. ``module_code_version`` therefore derives the list from
the code: the project modules a stage module imports, transitively, found by parsing the source
(``ast``; nothing is imported, so storage stays free of the modules it reads). Known limits: a
module loaded by name at run time (``importlib.import_module("...")``) is not seen; a stage that
does that lists the module in ``also``.

What counts of a Python file is its code (``code_bytes``): the syntax tree without docstrings,
written back as text, so editing a comment, a docstring or the layout makes no new version and
no rebuild, while any change to what runs does. Other files (data, C sources) count byte for byte.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import subprocess
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("salad_core", "storage", "tasks")


def code_bytes(path: Path) -> bytes:
    """The part of a file that decides what it does: for ``.py`` files the code without comments,
    docstrings and layout (``ast.unparse`` of the tree less its docstrings); other files as they are.
    A ``.py`` file that does not parse counts byte for byte (the import that runs it will fail)."""
    raw = path.read_bytes()
    return _python_code(raw, str(path)) if path.suffix == ".py" else raw


@lru_cache(maxsize=4096)
def _python_code(raw: bytes, filename: str) -> bytes:
    """Cached by content: every stage's version parses the same modules (the cache never goes stale,
    an edited file is other bytes)."""
    try:
        tree = ast.parse(raw, filename=filename)
    except SyntaxError:
        return raw
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and _has_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree).encode()


def _has_docstring(node: ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = node.body[0] if node.body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def source_hash(*modules: ModuleType | str | Path) -> str:
    """Hash of the code of modules (or files, see ``code_bytes``); order-independent, 12 hex chars."""
    paths = {(Path(inspect.getfile(m)) if isinstance(m, ModuleType) else Path(m)).resolve() for m in modules}
    digests = [hashlib.sha256(code_bytes(p)).hexdigest() for p in paths]
    return hashlib.sha256("".join(sorted(digests)).encode()).hexdigest()[:12]


def stage_code_version(version: str, *modules: ModuleType | str | Path) -> str:
    """``version`` + the hash of the code of `modules` (a hand-written list; prefer ``module_code_version``)."""
    return f"{version}+{source_hash(*modules)}" if modules else version


def module_code_version(
    version: str,
    module: str,
    exclude: Iterable[str] = (),
    also: Iterable[str] = (),
    packages: Iterable[str] = PROJECT_PACKAGES,
    root: Path | str = REPO_ROOT,
) -> str:
    """``version`` + a hash of every project module ``module`` imports, transitively.

    E.g. ``module_code_version("tokenize-2", "tasks.tokenize", exclude=["salad_core.clustering.report"])``.
    ``exclude`` names presentation-only modules (or whole packages): they are neither hashed nor
    followed. ``also`` adds modules the stage loads by name. Only modules of ``packages`` under
    ``root`` count; the standard library and third-party packages are pinned elsewhere.
    """
    root = Path(root).resolve()
    files = module_closure([module, *also], exclude=exclude, packages=packages, root=root)
    digest = hashlib.sha256()
    for path in files:  # sorted: relative path and content, so a moved module counts too
        digest.update(f"{path.relative_to(root).as_posix()}\0{hashlib.sha256(code_bytes(path)).hexdigest()}\n".encode())
    return f"{version}+{digest.hexdigest()[:12]}"


def module_closure(
    modules: Iterable[str],
    exclude: Iterable[str] = (),
    packages: Iterable[str] = PROJECT_PACKAGES,
    root: Path | str = REPO_ROOT,
) -> list[Path]:
    """Source files of ``modules`` and of every project module they import, transitively (sorted).

    Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` too, so those count.
    """
    root, packages, exclude = Path(root).resolve(), tuple(packages), tuple(exclude)

    def excluded(name: str) -> bool:
        return any(name == e or name.startswith(e + ".") for e in exclude)

    def in_project(name: str) -> bool:
        return name.split(".", 1)[0] in packages and not excluded(name)

    seen: dict[str, Path] = {}
    todo = list(modules)
    for name in todo:
        if name not in seen and excluded(name):
            raise ValueError(f"module {name!r} is both asked for and excluded")
    while todo:
        name = todo.pop()
        if name in seen or not in_project(name):
            continue
        path = _module_file(root, name)
        if path is None:
            raise ValueError(f"module {name!r} has no source file under {root} (expected {name.replace('.', '/')}.py or a package)")
        seen[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages' __init__.py
        todo += [m for m in _imports(path, name, is_package=path.name == "__init__.py") if in_project(m) and _module_file(root, m)]
    return sorted(set(seen.values()))


def _module_file(root: Path, name: str) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, name: str, is_package: bool) -> frozenset[str]:
    """Module names a source file may import: ``import a.b``, ``from a import b`` (a, a.b), relative forms."""
    return _imports_of(path.read_bytes(), str(path), name, is_package)


@lru_cache(maxsize=4096)
def _imports_of(raw: bytes, filename: str, name: str, is_package: bool) -> frozenset[str]:
    """Cached by content, as ``_python_code``."""
    try:
        tree = ast.parse(raw, filename=filename)
    except SyntaxError as exc:
        raise ValueError(f"cannot parse {filename} to find its imports: {exc}") from exc
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base:
                found.add(base)
            found.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names if alias.name != "*")
    return frozenset(found)


@lru_cache(maxsize=1)
def git_revision() -> dict[str, str | bool | None]:
    """The checkout's commit and whether it had uncommitted changes; None outside git."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": bool(status)}
