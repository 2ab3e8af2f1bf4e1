"""Validate untrusted reward code before it is written or trained on.

Checks, in order (each failure raises :class:`vidreward.errors.RewardCodeError` whose ``check`` is
the name below and whose message names the origin):

``size``       the source is not empty and not absurdly large
``parse``      ``ast.parse`` (syntax errors with their line number)
``allowlist``  only ``import torch`` (and torch submodules), ``import math``, ``from torch import``,
               ``from typing import``, ``from __future__ import``; no dangerous builtins
               (open/exec/eval/getattr/...), no double-underscore names, no private (``_x``)
               or introspection attributes (``gi_frame``, ``f_globals``...), no torch escape
               hatches (``torch.load``, ``torch.hub``, ``torch.utils``, ...), no dunder-looking
               string literals, no attribute assignment (``torch.exp = ...``), no
               ``global``/``nonlocal``
``signature``  exactly one top-level ``def compute_reward(...)`` whose parameters are all state
               field names (:data:`vidreward.sim.fields.STATE_FIELD_NAMES`), no ``*args``/``**kw``
``compile``    ``compile(..., "exec")``
``restricted`` RestrictedPython's compile (:mod:`vidreward.reward.restricted`), the form every
               process runs reward code in
then, in a separate resource-limited process (:mod:`vidreward.reward.sandbox`) on a sample batch:
``timeout``, ``memory``, ``runtime``, ``return``, ``dtype``, ``shape``, ``components``, ``finite``,
``inplace`` (the state tensors must not be modified), and ``components`` also requires every
component name to be a string literal of the code matching ``[a-z][a-z0-9_]{0,47}``.

The trial batch has a size and seed derived from the code's sha256 (reproducible, but no fixed
number a reward could test for) and its corner-case envs sit at shuffled rows; the code runs
under the same restricted execution model as in training.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from vidreward.errors import RewardCodeError
from vidreward.reward.loader import reward_digest
from vidreward.reward.restricted import compile_reward
from vidreward.reward.sample_state import RobotDims, robot_dims
from vidreward.reward.sandbox import run_in_sandbox
from vidreward.reward.terms import clock_frequency
from vidreward.sim.fields import STATE_FIELD_NAMES

REWARD_FUNCTION = "compute_reward"
MAX_SOURCE_CHARS = 200_000
STATIC_CHECKS = ("size", "parse", "allowlist", "signature", "compile", "restricted")
RUNTIME_CHECKS = ("runtime", "return", "dtype", "shape", "components", "finite", "inplace")

ALLOWED_MODULES = frozenset({"torch", "math"})
ALLOWED_FROM_MODULES = frozenset({"torch", "typing", "__future__"})
DENIED_NAMES = frozenset(
    {
        "open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "getattr",
        "setattr", "delattr", "input", "breakpoint", "exit", "quit", "help", "memoryview",
    }
)
# attribute names (on any object, torch above all) that reach files, processes, the network,
# native code, global state or code evaluation
DENIED_ATTRIBUTES = frozenset(
    {
        # torch modules and functions that load/save/compile/serialise or touch devices
        "hub", "load", "save", "from_file", "ops", "utils", "classes", "package", "distributed",
        "multiprocessing", "cuda", "backends", "jit", "compile", "compiler", "library", "fx",
        "export", "onnx", "profiler", "autograd", "mps", "xpu", "mtia", "testing", "overrides",
        "serialization", "storage", "untyped_storage", "UntypedStorage", "TypedStorage",
        "cpp", "futures", "monitor", "load_library", "export_chrome_trace", "share_memory_",
        # process-global state shared with the trainer
        "manual_seed", "seed", "set_rng_state", "set_default_device", "set_default_dtype",
        "set_default_tensor_type", "set_num_threads", "set_num_interop_threads",
        "set_flush_denormal", "use_deterministic_algorithms", "set_grad_enabled",
        # numpy escape routes from tensor.numpy()
        "tofile", "fromfile", "dump", "dumps", "savetxt", "loadtxt", "ctypes",
        # code evaluation through typing
        "get_type_hints", "ForwardRef", "evaluate_forward_ref", "get_annotations",
    }
)
# frame, code and traceback introspection reaches module globals (and real builtins) without dunders
DENIED_ATTRIBUTE_PREFIXES = ("_", "gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")
DUNDER_STRING = re.compile(r"__\w+__")


@dataclass
class ValidationReport:
    """What validation established about a piece of reward code."""

    origin: str
    robot: str
    sha256: str = ""
    params: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    reward_stats: dict[str, float] = field(default_factory=dict)
    component_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    num_envs: int = 0
    seed: int = 0
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StaticResult:
    """Outcome of the static checks: the parsed tree and the parameters of compute_reward."""

    tree: ast.Module
    params: list[str]
    checks: list[str]


def _fail(origin: str, check: str, message: str) -> RewardCodeError:
    return RewardCodeError(f"{origin}: reward code failed the '{check}' check: {message}", check)


def _module_allowed(name: str) -> bool:
    parts = name.split(".")
    if parts[0] == "math":
        return len(parts) == 1
    if parts[0] != "torch":
        return False
    return all(p not in DENIED_ATTRIBUTES and not p.startswith("_") for p in parts[1:])


class _AllowlistVisitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[str] = []

    def _add(self, node: ast.AST, text: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {text}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _module_allowed(alias.name):
                self._add(node, f"'import {alias.name}' is not allowed (only torch and math)")
            if alias.asname and alias.asname.startswith("__"):
                self._add(node, f"import alias {alias.asname!r} is not allowed")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self._add(node, "relative imports are not allowed")
            return
        root = module.split(".")[0]
        if module not in ALLOWED_FROM_MODULES and not (root == "torch" and _module_allowed(module)):
            self._add(node, f"'from {module} import ...' is not allowed (only torch, typing, __future__)")
            return
        for alias in node.names:
            if alias.name == "*":
                self._add(node, f"'from {module} import *' is not allowed")
            elif module != "__future__" and (
                alias.name in DENIED_ATTRIBUTES or alias.name.startswith("_") or alias.name in DENIED_NAMES
            ):
                self._add(node, f"importing {alias.name!r} from {module} is not allowed")
            if alias.asname and (alias.asname.startswith("__") or alias.asname in DENIED_NAMES):
                self._add(node, f"import alias {alias.asname!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in DENIED_NAMES:
            self._add(node, f"the name {node.id!r} is not allowed")
        elif node.id.startswith("__"):
            self._add(node, f"double-underscore name {node.id!r} is not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._add(node, f"assigning or deleting the attribute '.{attr}' is not allowed "
                      "(it would change shared modules such as torch)")
        elif attr.startswith("__"):
            self._add(node, f"double-underscore attribute '.{attr}' is not allowed")
        elif attr in DENIED_ATTRIBUTES:
            self._add(node, f"attribute '.{attr}' is not allowed (file, process, device or global-state access)")
        elif attr.startswith(DENIED_ATTRIBUTE_PREFIXES):
            self._add(node, f"private or introspection attribute '.{attr}' is not allowed")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and DUNDER_STRING.search(node.value):
            self._add(node, f"string literal containing a double-underscore name ({node.value[:40]!r}) is not allowed")

    def visit_Global(self, node: ast.Global) -> None:
        self._add(node, "'global' statements are not allowed")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._add(node, "'nonlocal' statements are not allowed")

    def _visit_args(self, node: ast.arguments) -> None:
        for arg in node.posonlyargs + node.args + node.kwonlyargs + [a for a in (node.vararg, node.kwarg) if a]:
            if arg.arg.startswith("__") or arg.arg in DENIED_NAMES:
                self._add(arg, f"parameter name {arg.arg!r} is not allowed")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name.startswith("__") or node.name in DENIED_NAMES:
            self._add(node, f"function name {node.name!r} is not allowed")
        self._visit_args(node.args)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_args(node.args)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name.startswith("__") or node.name in DENIED_NAMES:
            self._add(node, f"class name {node.name!r} is not allowed")
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg and node.arg.startswith("__"):
            self._add(node, f"keyword argument {node.arg!r} is not allowed")
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name and node.name.startswith("__"):
            self._add(node, f"exception name {node.name!r} is not allowed")
        self.generic_visit(node)

    def visit_alias(self, node: ast.alias) -> None:  # handled by the import visitors
        return


def _check_signature(tree: ast.Module, origin: str) -> list[str]:
    defs = [
        n for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == REWARD_FUNCTION
    ]
    if not defs:
        top = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        raise _fail(origin, "signature", f"no top-level 'def {REWARD_FUNCTION}(...)' "
                    f"(top-level functions: {top or 'none'})")
    if len(defs) > 1:
        raise _fail(origin, "signature", f"'{REWARD_FUNCTION}' is defined {len(defs)} times "
                    f"(lines {[d.lineno for d in defs]})")
    fn = defs[0]
    if isinstance(fn, ast.AsyncFunctionDef):
        raise _fail(origin, "signature", f"'{REWARD_FUNCTION}' must be a plain def, not async def")
    rebinds = [
        n.lineno for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id == REWARD_FUNCTION and isinstance(n.ctx, (ast.Store, ast.Del))
    ]
    if rebinds:
        raise _fail(origin, "signature", f"'{REWARD_FUNCTION}' is reassigned on line(s) {rebinds}")
    args = fn.args
    if args.vararg or args.kwarg:
        star = [f"*{args.vararg.arg}"] if args.vararg else []
        star += [f"**{args.kwarg.arg}"] if args.kwarg else []
        raise _fail(origin, "signature", f"'{REWARD_FUNCTION}' may not take {', '.join(star)}; "
                    f"name each state field it needs. Valid fields: {', '.join(STATE_FIELD_NAMES)}")
    params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    unknown = [p for p in params if p not in STATE_FIELD_NAMES]
    if unknown:
        raise _fail(origin, "signature", f"'{REWARD_FUNCTION}' has unknown parameter(s) {unknown}; "
                    f"every parameter must be a state field: {', '.join(STATE_FIELD_NAMES)}")
    return params


def static_checks(code: str, origin: str = "<reward>") -> StaticResult:
    """Run the checks that need no process: size, parse, allowlist, signature, compile."""
    if not isinstance(code, str):
        raise _fail(origin, "size", f"reward code must be a string, got {type(code).__name__}")
    if not code.strip():
        raise _fail(origin, "size", "the reward code is empty")
    if len(code) > MAX_SOURCE_CHARS:
        raise _fail(origin, "size", f"the reward code has {len(code)} characters (limit {MAX_SOURCE_CHARS})")
    try:
        tree = ast.parse(code, filename=origin)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        text = (exc.text or "").strip()
        raise _fail(origin, "parse", f"syntax error at {where}: {exc.msg}" + (f": {text!r}" if text else "")) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise _fail(origin, "parse", f"cannot parse: {type(exc).__name__}: {exc}") from exc

    visitor = _AllowlistVisitor()
    try:
        visitor.visit(tree)
    except RecursionError as exc:
        raise _fail(origin, "allowlist", "the code is nested too deeply to check") from exc
    if visitor.problems:
        shown = visitor.problems[:10]
        more = len(visitor.problems) - len(shown)
        raise _fail(origin, "allowlist", "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))

    params = _check_signature(tree, origin)
    try:
        compile(tree, origin, "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        raise _fail(origin, "compile", (f"line {line}: " if line else "") + f"{type(exc).__name__}: {exc}") from exc
    compile_reward(code, origin)  # RewardCodeError 'restricted'
    clock_frequency(code, origin)  # RewardCodeError 'terms': clocked terms out of range or disagreeing
    return StaticResult(tree=tree, params=params, checks=list(STATIC_CHECKS))


def trial_num_envs(digest: str) -> int:
    """Size of the trial batch for code with this sha256: between 9 and 520 envs."""
    return 9 + int(digest[:8], 16) % 512


def validate_reward_code(
    code: str,
    robot: str | Any,
    origin: str = "<reward>",
    timeout_s: float = 10,
    memory_mb: int = 2048,
    num_envs: int | None = None,
    seed: int | None = None,
) -> ValidationReport:
    """Validate reward code statically, then run it once in a sandbox on a sample batch.

    ``robot`` is a robot name (``vidreward.sim.robots.get_robot``) or a RobotSpec-like object.
    Returns a :class:`ValidationReport`; raises :class:`RewardCodeError` naming ``origin`` and the
    failed check.
    """
    start = time.monotonic()
    static = static_checks(code, origin)
    digest = reward_digest(code)
    num_envs = trial_num_envs(digest) if num_envs is None else int(num_envs)
    seed = int(digest[8:16], 16) if seed is None else int(seed)
    dims: RobotDims = robot_dims(robot)
    result = run_in_sandbox(
        code, dims.to_dict(), origin=origin, timeout_s=timeout_s, memory_mb=memory_mb,
        num_envs=num_envs, seed=seed,
    )
    if not result.ok:
        raise _fail(origin, result.check or "runtime", result.message)
    return ValidationReport(
        origin=origin,
        robot=dims.name,
        sha256=digest,
        params=static.params,
        components=result.components,
        checks=static.checks + ["timeout", "memory"] + list(RUNTIME_CHECKS),
        reward_stats=result.reward_stats,
        component_stats=result.component_stats,
        num_envs=num_envs,
        seed=seed,
        wall_s=round(time.monotonic() - start, 3),
    )
