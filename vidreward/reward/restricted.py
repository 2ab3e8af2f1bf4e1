"""The one execution model for reward code: validation, training and rollout all load it here.

Reward code is untrusted (a language model wrote it). It is compiled with RestrictedPython, which
rewrites every attribute access, subscript, iteration, unpacking and item assignment into calls of
guard functions and rejects names that start with ``_``. The module then runs with:

* a curated namespace instead of modules: ``import torch`` binds :data:`TORCH`, a read-only
  stand-in that holds an explicit list of tensor functions, dtypes and constants (plus
  ``torch.nn.functional`` and ``torch.linalg`` stand-ins), never a module object; ``math`` and
  ``typing`` are stand-ins too, and no other import resolves;
* attribute access allowed only on those stand-ins, on tensors (an allowlist of non-in-place
  methods and properties: nothing that reaches storage, numpy, files, hooks or autograd state), on
  ``torch.Size``, on dicts/lists/strings (plain container methods, no ``format``) and on the
  fields of torch's named results (``values``/``indices``);
* builtins reduced to a safe list (no ``open``, ``getattr``, ``type``, ``__import__`` of real modules);
* augmented assignment done out of place (``x += 1`` never writes into a state tensor);
* ``print`` output discarded.

No chain of names from inside reward code reaches ``sys``, ``os``, ``posix``, ``numpy``,
``operator``, ``builtins``, ``importlib`` or a file: the only objects it can name are the ones
listed here and the values they return. The static checks in :mod:`vidreward.reward.validate`
and the process confinement in :mod:`vidreward.reward.confine` are further layers.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from typing import Any, Callable

import torch
from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from vidreward.errors import RewardCodeError

REWARD_FUNCTION = "compute_reward"
COMPONENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")

TORCH_FUNCTIONS = (
    "abs absolute acos acosh add addcdiv addcmul all allclose amax amin aminmax any arange arccos "
    "arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin argsort as_tensor asin asinh atan "
    "atan2 atanh atleast_1d atleast_2d broadcast_tensors broadcast_to bucketize cat cdist ceil chunk "
    "clamp clamp_max clamp_min clip clone column_stack concat concatenate copysign cos cosh "
    "count_nonzero cross cummax cummin cumprod cumsum deg2rad diag diag_embed diagonal diff dist div "
    "divide dot dstack einsum empty_like eq equal erf erfc exp exp2 expm1 eye flatten flip fliplr "
    "flipud float_power floor floor_divide fmax fmin fmod frac full full_like gather ge greater "
    "greater_equal gt heaviside hstack hypot index_select inner isclose isfinite isin isinf isnan "
    "isneginf isposinf kron le lerp less less_equal lgamma linspace log log10 log1p log2 logaddexp "
    "logaddexp2 logical_and logical_not logical_or logical_xor logit logsumexp lt masked_fill "
    "masked_select matmul max maximum mean median meshgrid min minimum mm movedim mul multiply "
    "nan_to_num nanmean nanmedian nansum narrow ne neg negative nonzero norm not_equal numel ones "
    "ones_like outer permute pow prod quantile rad2deg reciprocal relu remainder repeat_interleave "
    "reshape roll rot90 round rsqrt scatter scatter_add searchsorted select sgn sigmoid sign signbit "
    "sin sinc sinh softmax sort split sqrt square squeeze stack std std_mean sub subtract sum "
    "swapaxes t take take_along_dim tan tanh tensor tensordot tile topk trace transpose trapezoid "
    "tril triu true_divide trunc unbind unique unsqueeze var var_mean vstack where xlogy zeros "
    "zeros_like"
).split()
TORCH_VALUES = (
    "Tensor float float16 float32 float64 half double bfloat16 bool int int8 int16 int32 int64 "
    "long uint8 pi e inf nan"
).split()
NN_FUNCTIONAL_FUNCTIONS = (
    "relu relu6 elu selu celu gelu silu mish leaky_relu softplus softsign sigmoid tanh hardtanh "
    "hardsigmoid hardswish logsigmoid softmax softmin log_softmax normalize cosine_similarity "
    "pairwise_distance mse_loss l1_loss smooth_l1_loss huber_loss one_hot pad"
).split()
LINALG_FUNCTIONS = "norm vector_norm matrix_norm cross det inv solve".split()
MATH_NAMES = (
    "pi e tau inf nan sqrt exp log log2 log10 log1p expm1 sin cos tan asin acos atan atan2 sinh cosh "
    "tanh asinh acosh atanh hypot floor ceil trunc fabs copysign fmod pow radians degrees isfinite "
    "isnan isinf isclose erf erfc gamma lgamma"
).split()
TYPING_NAMES = "Any Dict List Mapping Optional Sequence Tuple Union".split()

# Tensor attributes reward code may read or call: non-in-place maths and shape handling. Absent on
# purpose: numpy, storage/untyped_storage/data_ptr, tofile, register_hook, backward, grad, data,
# apply_/map_ (arbitrary callables), share_memory_, pin_memory and every in-place ``*_`` method.
TENSOR_ATTRIBUTES = frozenset(
    (
        "shape dtype device ndim T mT size dim numel nelement item tolist float double half int "
        "long bool to type_as view view_as reshape reshape_as expand expand_as repeat contiguous "
        "cpu detach new_zeros new_ones new_full new_tensor new_empty is_floating_point "
        "is_contiguous real imag count_nonzero norm unflatten"
    ).split()
    + [name for name in TORCH_FUNCTIONS if hasattr(torch.Tensor, name) and name not in ("tensor",)]
)
DICT_METHODS = frozenset("keys values items get copy pop setdefault update".split())
LIST_METHODS = frozenset("append extend insert pop index count copy reverse sort".split())
STR_METHODS = frozenset(
    "lower upper strip lstrip rstrip startswith endswith replace split join isidentifier".split()
)
SIZE_METHODS = frozenset({"numel", "index", "count"})
NAMED_RESULT_FIELDS = frozenset({"values", "indices", "mean", "std", "var", "min", "max"})
FINFO_FIELDS = frozenset({"eps", "max", "min", "tiny", "resolution", "bits"})

SAFE_BUILTIN_NAMES = (
    "abs all any bool dict divmod enumerate filter float frozenset int isinstance iter len list map "
    "max min next pow range reversed round set slice sorted str sum tuple zip True False None "
    "ArithmeticError AssertionError AttributeError Exception ImportError IndexError KeyError "
    "NameError RuntimeError TypeError ValueError ZeroDivisionError"
).split()

_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.add, "-=": operator.sub, "*=": operator.mul, "/=": operator.truediv,
    "//=": operator.floordiv, "%=": operator.mod, "**=": operator.pow, "@=": operator.matmul,
    "&=": operator.and_, "|=": operator.or_, "^=": operator.xor, "<<=": operator.lshift,
    ">>=": operator.rshift,
}


class RewardModule:
    """A read-only stand-in for a module: only the listed members exist.

    Asking for anything else (``torch.os``, ``from torch import sys``) raises an error that says
    the name is not available to reward code.
    """

    def __init__(self, name: str, members: dict[str, Any]) -> None:
        object.__setattr__(self, "_module_name", name)
        object.__setattr__(self, "_members", dict(members))
        for key, value in members.items():
            object.__setattr__(self, key, value)

    def __getattr__(self, name: str) -> Any:  # only called for names that are not members
        raise AttributeError(f"'{self._module_name}.{name}' is not available to reward code")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"'{self._module_name}' is read-only in reward code")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"'{self._module_name}' is read-only in reward code")

    def __repr__(self) -> str:
        return f"<reward namespace {self._module_name}>"

    def member_names(self) -> list[str]:
        return sorted(self._members)


def _members(module: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(module, name) for name in names if hasattr(module, name)}


NN_FUNCTIONAL = RewardModule("torch.nn.functional",
                             _members(torch.nn.functional, NN_FUNCTIONAL_FUNCTIONS))
NN = RewardModule("torch.nn", {"functional": NN_FUNCTIONAL})
LINALG = RewardModule("torch.linalg", _members(torch.linalg, LINALG_FUNCTIONS))
TORCH = RewardModule(
    "torch",
    {**_members(torch, TORCH_FUNCTIONS + TORCH_VALUES), "finfo": torch.finfo, "nn": NN,
     "linalg": LINALG},
)
MATH = RewardModule("math", _members(math, MATH_NAMES))
import typing as _typing  # noqa: E402  (kept apart: only its listed names are exposed)

TYPING = RewardModule("typing", _members(_typing, TYPING_NAMES))
FUTURE = RewardModule("__future__", {"annotations": __import__("__future__").annotations})
IMPORTABLE = {
    "torch": TORCH, "torch.nn": NN, "torch.nn.functional": NN_FUNCTIONAL, "torch.linalg": LINALG,
    "math": MATH, "typing": TYPING, "__future__": FUTURE,
}
_TYPING_OBJECTS = tuple(id(v) for v in TYPING._members.values())


def _denied(obj: Any, name: str) -> AttributeError:
    what = f"the class {obj.__name__}" if isinstance(obj, type) else type(obj).__name__
    return AttributeError(f"attribute '.{name}' of {what} is not available to reward code")


def guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` for reward code: allowed on the stand-ins and on an allowlist per type."""
    if not isinstance(name, str) or name.startswith("_"):
        raise _denied(obj, str(name))
    if isinstance(obj, RewardModule):
        return getattr(obj, name)
    if isinstance(obj, torch.Tensor):
        allowed = TENSOR_ATTRIBUTES
    elif isinstance(obj, torch.Size):
        allowed = SIZE_METHODS
    elif isinstance(obj, dict):
        allowed = DICT_METHODS
    elif isinstance(obj, list):
        allowed = LIST_METHODS
    elif isinstance(obj, str):
        allowed = STR_METHODS
    elif isinstance(obj, torch.finfo):
        allowed = FINFO_FIELDS
    elif isinstance(obj, tuple) and type(obj).__module__ == "torch.return_types":
        allowed = NAMED_RESULT_FIELDS
    else:
        allowed = frozenset()
    if name not in allowed:
        raise _denied(obj, name)
    return getattr(obj, name)


_SUBSCRIPTABLE = (torch.Tensor, dict, list, tuple, str, range)


def guarded_getitem(obj: Any, key: Any) -> Any:
    """``obj[key]`` for reward code: containers, tensors and typing generics only."""
    if isinstance(obj, _SUBSCRIPTABLE) or obj in (tuple, dict, list) or id(obj) in _TYPING_OBJECTS:
        return obj[key]
    raise TypeError(f"subscripting {type(obj).__name__} is not available to reward code")


class _ItemWriter:
    """What ``_write_`` hands back: item assignment passes through, attribute assignment does not."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._target[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._target[key]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"assigning '.{name}' is not available to reward code")

    __delattr__ = __setattr__


def guarded_write(obj: Any) -> _ItemWriter:
    if isinstance(obj, (dict, list, torch.Tensor)):
        return _ItemWriter(obj)
    raise TypeError(f"changing a {type(obj).__name__} is not available to reward code")


def inplace_var(op: str, left: Any, right: Any) -> Any:
    """``left op= right`` computed out of place, so a state tensor is never written through."""
    try:
        return _INPLACE_OPS[op](left, right)
    except KeyError:
        raise TypeError(f"augmented assignment {op!r} is not available to reward code") from None


def guarded_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                   level: int = 0) -> RewardModule:
    if level != 0 or name not in IMPORTABLE:
        raise ImportError(f"import of {name!r} is not available to reward code "
                          f"(importable: {', '.join(sorted(IMPORTABLE))})")
    if fromlist:
        module = IMPORTABLE[name]
        for member in fromlist:
            if member not in module._members:
                raise ImportError(f"'{member}' cannot be imported from {name} in reward code: "
                                  f"it is not available to reward code")
        return module
    return IMPORTABLE[name.split(".")[0]]


class _DiscardPrints:
    """``_print_`` for RestrictedPython: whatever reward code prints goes nowhere."""

    def __init__(self, _getattr_: Any = None) -> None:
        pass

    def _call_print(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __call__(self) -> str:
        return ""


def safe_builtins() -> dict[str, Any]:
    import builtins

    table = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
    table["__import__"] = guarded_import
    return table


def restricted_globals(module_name: str) -> dict[str, Any]:
    """A fresh module namespace for reward code: safe builtins plus the RestrictedPython guards."""
    return {
        "__builtins__": safe_builtins(),
        "__name__": module_name,
        "__metaclass__": type,
        "_getattr_": guarded_getattr,
        "_getitem_": guarded_getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": guarded_write,
        "_inplacevar_": inplace_var,
        "_print_": _DiscardPrints,
        "_apply_": lambda fn, *a, **kw: fn(*a, **kw),
    }


class RewardPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus annotated assignment to a plain name
    (``components: dict[str, torch.Tensor] = {}``), which typed reward code uses everywhere."""

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if not isinstance(node.target, ast.Name):
            self.error(node, "annotated assignment is allowed to plain names only")
            return node
        self.check_name(node.target, node.target.id)
        return self.node_contents_visit(node)


def compile_reward(source: str, origin: str):
    """RestrictedPython's compile; its refusals become a RewardCodeError naming ``origin``."""
    result = compile_restricted_exec(source, filename=origin, policy=RewardPolicy)
    if result.errors or result.code is None:
        problems = "; ".join(str(e) for e in result.errors) or "could not compile"
        raise RewardCodeError(f"{origin}: reward code failed the 'restricted' check: {problems}",
                              "restricted")
    return result.code


def exec_reward(source: str, origin: str, module_name: str = "reward_code") -> Callable:
    """Compile and run reward code in the restricted namespace; return its ``compute_reward``.

    Errors raised while the module body runs propagate unchanged (the caller reports them).
    """
    code = compile_reward(source, origin)
    namespace = restricted_globals(module_name)
    exec(code, namespace)  # noqa: S102 - restricted code in a curated namespace, see module doc
    fn = namespace.get(REWARD_FUNCTION)
    if not callable(fn):
        raise RewardCodeError(f"{origin}: no callable {REWARD_FUNCTION} after executing the module",
                              "signature")
    return fn


def string_literals(source: str) -> frozenset[str]:
    """Every string literal in ``source`` (component names must be among them)."""
    return frozenset(
        node.value for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def check_component_names(names: list[Any], literals: frozenset[str], origin: str) -> None:
    """Component names are string literals of the code and plain identifiers of bounded length."""
    for name in names:
        if not isinstance(name, str) or not COMPONENT_NAME.fullmatch(name):
            shown = repr(name)[:60]
            raise RewardCodeError(
                f"{origin}: component name {shown} is not allowed: names must match "
                f"{COMPONENT_NAME.pattern} (lower case, digits, underscores, at most 48 characters)",
                "components",
            )
        if name not in literals:
            raise RewardCodeError(
                f"{origin}: component name {name!r} is not a string literal of the reward code; "
                "write each component name as a literal key, e.g. components[\"upright\"] = ...",
                "components",
            )
