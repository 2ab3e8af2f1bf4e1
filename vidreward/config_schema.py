"""The workflow config's JSON schema: the schema file plus the parts generated from the code's
dataclasses and registries (:func:`load_schema`; validation is :mod:`vidreward.config`'s)."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import typing
from importlib import resources
from typing import Any

from vidreward.errors import ConfigError

SCHEMA_RESOURCE = "config.schema.json"


def load_schema() -> dict[str, Any]:
    """The config schema, a fresh copy each call (callers may fill or edit it); built once per
    process by :func:`_build_schema`."""
    return copy.deepcopy(_build_schema())


@functools.cache
def _build_schema() -> dict[str, Any]:
    """The config schema. Generated parts: the ``train`` section from ``TrainConfig``'s fields,
    the ``lm`` section from ``LMConfig``'s fields (the schema file adds ranges and descriptions
    per field, and may name no field ``LMConfig`` lacks), the ``rollout`` section from
    ``RolloutConfig``, the ``robot_model`` section from ``RobotModelConfig`` (its ``anymal`` enum
    from ``ANYMAL_MODELS``), the robot enum from the robot registry and the backend and evidence enums
    from ``vidreward.backends``, the matrix's method and mode enums from ``vidreward.compare.methods``."""
    from vidreward.backends import CRITIC_BACKENDS, REWRITER_BACKENDS
    from vidreward.compare.methods import METHODS, MODES
    from vidreward.config import EVIDENCE_MODES, RolloutConfig
    from vidreward.lm.config import CACHE_MODES, LMConfig
    from vidreward.search import HalvingConfig
    from vidreward.sim.robots import ROBOTS
    from vidreward.sim.robots.spec import ANYMAL_MODELS, RobotModelConfig

    text = resources.files("vidreward.schemas").joinpath(SCHEMA_RESOURCE).read_text()
    schema = json.loads(text)
    defs = schema["$defs"]
    defs["train"]["properties"] = _train_properties()
    defs["lm"]["properties"] = _merge_properties(LMConfig, defs["lm"]["properties"], "lm")
    defs["lm"]["properties"]["cache_mode"]["enum"] = list(CACHE_MODES)
    defs["rollout"]["properties"] = _merge_properties(
        RolloutConfig, defs["rollout"]["properties"], "rollout", defaults=True
    )
    defs["robot_model"]["properties"] = _merge_properties(
        RobotModelConfig, defs["robot_model"]["properties"], "robot_model", defaults=True
    )
    defs["robot_model"]["properties"]["anymal"]["enum"] = list(ANYMAL_MODELS)
    run = defs["run"]["properties"]
    defs["search"]["properties"] = _search_properties(defs["search"]["properties"])
    defs["halving"]["properties"] = _merge_properties(
        HalvingConfig, defs["halving"]["properties"], "halving", defaults=True
    )
    run["robot"]["enum"] = list(ROBOTS)
    run["critic"]["allOf"][1]["properties"]["backend"]["enum"] = list(CRITIC_BACKENDS)
    run["critic"]["allOf"][1]["properties"]["evidence"]["enum"] = list(EVIDENCE_MODES)
    run["rewriter"]["allOf"][1]["properties"]["backend"]["enum"] = list(REWRITER_BACKENDS)
    defs["task"]["properties"]["robot"]["enum"] = list(ROBOTS)
    defs["matrix"]["properties"]["methods"]["items"]["enum"] = list(METHODS)
    defs["matrix"]["properties"]["mode"]["enum"] = list(MODES)
    return schema


def _merge_properties(
    cls: type, overlay: dict[str, Any], where: str, defaults: bool = False
) -> dict[str, Any]:
    """JSON-schema properties of dataclass ``cls``: each field's type, plus the schema file's
    ``overlay`` for it (ranges, descriptions); an overlay key that is no field is an error."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    stray = sorted(set(overlay) - set(names) - {"backend", "evidence"})
    if stray:
        raise ConfigError(f"schema $defs.{where}: {stray} are not fields of {cls.__name__}")
    props = {k: v for k, v in overlay.items() if k not in names}
    for f in dataclasses.fields(cls):
        props[f.name] = {**_json_type(hints[f.name]), **overlay.get(f.name, {})}
        if defaults:
            props[f.name].setdefault("default", f.default)
    return props


_JSON_TYPES = {int: "integer", float: "number", bool: "boolean", str: "string"}


def _json_type(annotation: Any) -> dict[str, Any]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (tuple, list):
        return {"type": "array", "items": _json_type(args[0]) if args else {}}
    if args and len(args) < len(typing.get_args(annotation)):  # Optional[X]
        inner = _json_type(args[0])
        return {"type": [inner["type"], "null"], **{k: v for k, v in inner.items() if k != "type"}}
    if annotation is float:
        return {"type": "number"}
    return {"type": _JSON_TYPES.get(annotation, "string")}


def _search_properties(overlay: dict[str, Any]) -> dict[str, Any]:
    """The ``search`` section from ``SearchConfig`` (its selection enum from ``OBJECTIVES``)."""
    from vidreward.search import OBJECTIVES, SearchConfig

    props = _merge_properties(SearchConfig, overlay, "search", defaults=True)
    props["selection"]["enum"] = list(OBJECTIVES)
    props["halving"].pop("type", None)  # null or the halving object (the overlay's anyOf)
    return props


def _train_properties() -> dict[str, Any]:
    from vidreward.train.config import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    # The seed is the run's (`runs.<name>.seed`, plus the iteration index), not a train knob.
    return {
        f.name: _json_type(hints[f.name]) for f in dataclasses.fields(TrainConfig) if f.name != "seed"
    }
