"""The checks of what reward code returned in the sandbox: ``(reward [N] float finite,
{str: float tensor [N] finite})``, and the state tensors not modified in place."""

from __future__ import annotations

from typing import Any


def _stats(t) -> dict[str, float]:
    t = t.detach().double()
    return {"mean": float(t.mean()), "min": float(t.min()), "max": float(t.max())}


def _corner_cases(rows: list[int], state: dict[str, Any]) -> str:
    """Which of the sample batch's corner cases are among ``rows`` (as a parenthesised phrase)."""
    cases = []
    for row in rows:
        if float(state["root_linvel"][row].abs().sum()) == 0.0 and float(state["episode_time"][row]) == 0.0:
            cases.append("the env at rest right after a reset")
        elif float(state["foot_contact_forces"][row].abs().sum()) == 0.0:
            cases.append("an env with every foot in the air")
        elif float(state["up_proj"][row]) < 0.0:
            cases.append("an env lying upside down")
    return f" (among them {', '.join(sorted(set(cases)))})" if cases else ""


def check_result(result: Any, n: int, originals: dict[str, Any], state: dict[str, Any],
                  literals: frozenset[str], origin: str) -> dict:
    import torch

    from vidreward.errors import RewardCodeError
    from vidreward.reward.restricted import check_component_names

    def fail(check: str, message: str) -> dict:
        return {"ok": False, "check": check, "message": message}

    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return fail(
            "return",
            f"compute_reward must return a tuple (reward, components); got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""),
        )
    reward, components = result
    if not isinstance(reward, torch.Tensor):
        return fail("dtype", f"reward must be a torch.Tensor, got {type(reward).__name__}")
    if not reward.is_floating_point():
        return fail("dtype", f"reward must be a floating-point tensor, got {reward.dtype}")
    if tuple(reward.shape) != (n,):
        return fail("shape", f"reward must have shape [{n}] (one value per env), got {list(reward.shape)}")
    if not isinstance(components, dict):
        return fail("components", f"components must be a dict {{name: tensor}}, got {type(components).__name__}")
    try:
        check_component_names(list(components), literals, origin)
    except RewardCodeError as exc:
        return fail(exc.check, str(exc))
    for name, value in components.items():
        if not isinstance(value, torch.Tensor):
            return fail("dtype", f"component {name!r} must be a torch.Tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            return fail("dtype", f"component {name!r} must be a floating-point tensor, got {value.dtype}")
        if tuple(value.shape) != (n,):
            return fail("shape", f"component {name!r} must have shape [{n}], got {list(value.shape)}")
    if not bool(torch.isfinite(reward).all()):
        bad = (~torch.isfinite(reward)).nonzero().flatten().tolist()
        return fail("finite", f"reward is NaN/inf for {len(bad)} of {n} env(s) of the sample batch"
                    f"{_corner_cases(bad, state)}")
    for name, value in components.items():
        if not bool(torch.isfinite(value).all()):
            bad = (~torch.isfinite(value)).nonzero().flatten().tolist()
            return fail("finite", f"component {name!r} is NaN/inf for {len(bad)} of {n} env(s) of the "
                        f"sample batch{_corner_cases(bad, state)}")
    for key, before in originals.items():
        if not torch.equal(before, state[key]):
            return fail("inplace", f"compute_reward modified the state field {key!r} in place; "
                        "state tensors are shared with the simulator and must be read-only")
    return {
        "ok": True,
        "components": list(components),
        "reward_stats": _stats(reward),
        "component_stats": {k: _stats(v) for k, v in components.items()},
    }
