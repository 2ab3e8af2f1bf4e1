"""Workflow configuration: JSON-schema validation with errors that name the offending key."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from vidreward.errors import ConfigError

SCHEMA_RESOURCE = "config.schema.json"


def load_schema() -> dict[str, Any]:
    """The config schema; its ``train`` section is derived from ``TrainConfig``'s fields."""
    text = resources.files("vidreward.schemas").joinpath(SCHEMA_RESOURCE).read_text()
    schema = json.loads(text)
    schema["$defs"]["train"]["properties"] = _train_properties()
    return schema


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


def _train_properties() -> dict[str, Any]:
    from vidreward.train.config import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    # The seed is the run's (`runs.<name>.seed`, plus the iteration index), not a train knob.
    return {
        f.name: _json_type(hints[f.name]) for f in dataclasses.fields(TrainConfig) if f.name != "seed"
    }


def _where(path) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _where(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"config {where}: unknown key(s) {', '.join(map(repr, extra))}{hint}"
    if error.validator == "required":
        return f"config {where}: {error.message}"
    if error.validator in ("minProperties", "maxProperties") and where.endswith("source"):
        return f"config {where}: give exactly one of 'url', 'file' or 'shipped'"
    return f"config {where}: {error.message}"


def _apply_defaults(instance: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    """Fill ``default`` values of the schema into ``instance`` (objects only, recursively)."""
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    for sub in schema.get("allOf", []):
        _apply_defaults(instance, sub, root)
    if not isinstance(instance, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        sub_resolved = _resolve(sub["$ref"], root) if "$ref" in sub else sub
        if key not in instance and "default" in sub_resolved:
            instance[key] = copy.deepcopy(sub_resolved["default"])
        if key in instance:
            _apply_defaults(instance[key], sub, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                _apply_defaults(value, extra, root)


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate a workflow config in place (defaults filled) and return it.

    Raises ConfigError naming the first offending key.
    """
    schema = load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.path)))
    if errors:
        raise ConfigError(_describe(errors[0]))
    _apply_defaults(config, schema, schema)
    for name, clip in config["clips"].items():
        if clip["end"] <= clip["start"]:
            raise ConfigError(
                f"config clips.{name}: end ({clip['end']}) must be after start ({clip['start']})"
            )
    for name, run in config["runs"].items():
        if run["clip"] not in config["clips"]:
            raise ConfigError(
                f"config runs.{name}.clip: no clip named {run['clip']!r}; "
                f"defined clips: {', '.join(sorted(config['clips']))}"
            )
        _check_train(name, run.get("train", {}))
    for name in config.get("default_runs", []):
        if name not in config["runs"]:
            raise ConfigError(
                f"config default_runs: no run named {name!r}; defined runs: "
                f"{', '.join(sorted(config['runs']))}"
            )
    return config


def _check_train(run: str, train: dict[str, Any]) -> None:
    from vidreward.train.config import TrainConfig

    try:
        TrainConfig.from_dict(train)
    except ConfigError as exc:
        raise ConfigError(f"config runs.{run}.train: {exc}") from exc


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a YAML config file, merge ``overrides`` at top level, validate."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
    config.update(overrides or {})
    return validate_config(config)


@dataclass
class RunSettings:
    """The resolved settings of one run (what the scripts receive)."""

    name: str
    clip: str
    robot: str
    task: str
    iterations: int
    seed: int = 0
    warm_start: bool = True
    train: dict[str, Any] = field(default_factory=dict)
    rollout: dict[str, Any] = field(default_factory=dict)
    critic: dict[str, Any] = field(default_factory=lambda: {"backend": "analytic"})
    rewriter: dict[str, Any] = field(default_factory=lambda: {"backend": "analytic"})

    @classmethod
    def from_config(cls, config: dict[str, Any], run: str) -> "RunSettings":
        if run not in config["runs"]:
            raise ConfigError(f"config runs: no run named {run!r}")
        return cls(name=run, **copy.deepcopy(config["runs"][run]))


def runs_to_build(config: dict[str, Any]) -> list[str]:
    return list(config.get("default_runs") or config["runs"])


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def apply_params(config: dict[str, Any], params_path: str | Path) -> dict[str, Any]:
    """Apply the sweepable knobs of ``params.yaml`` (DVC params) to the run it names.

    ``params.yaml`` holds ``run: <name>`` plus any of that run's settings (iterations, seed,
    train.total_env_steps, critic.backend, ...). It is applied only when the config defines that
    run, so other config files (``--configfile config/quick.yaml``) are unaffected.
    """
    path = Path(params_path)
    if not path.exists():
        return config
    try:
        params = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: cannot parse: {exc}") from exc
    if not isinstance(params, dict) or "run" not in params:
        raise ConfigError(f"{path}: must be a mapping with a 'run' key naming the run it tunes")
    params = dict(params)
    run = params.pop("run")
    if run in config.get("runs", {}):
        _deep_merge(config["runs"][run], params)
    return config
