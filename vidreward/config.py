"""Workflow configuration: JSON-schema validation with errors that name the offending key."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from vidreward.config_schema import SCHEMA_RESOURCE, load_schema  # noqa: F401 (re-exported)
from vidreward.errors import ConfigError
from vidreward.search.config import SearchConfig


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


def _first_error(instance: dict[str, Any], schema: dict[str, Any]) -> None:
    """Raise ConfigError naming the first offending key of ``instance`` under ``schema``."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(e.absolute_path), str(e.path)))
    if errors:
        raise ConfigError(_describe(errors[0]))


def validate_section(config: dict[str, Any], key: str) -> None:
    """Check one top-level section of a config against its part of the schema, for a section that
    is read before the whole config is validated (the matrix, which adds runs). Errors name the key
    as :func:`validate_config` would."""
    if key not in config:
        return
    schema = load_schema()
    _first_error({key: config[key]}, {"$defs": schema["$defs"], "type": "object",
                                      "properties": {key: schema["properties"][key]}})


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate a workflow config in place (defaults filled) and return it.

    Raises ConfigError naming the first offending key.
    """
    schema = load_schema()
    _first_error(config, schema)
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
        RunSettings.from_config(config, name)  # typed sections: train, rollout, critic, rewriter
        ClipConfig.check_truth(config, name)
    for name in config.get("default_runs", []):
        if name not in config["runs"]:
            raise ConfigError(
                f"config default_runs: no run named {name!r}; defined runs: "
                f"{', '.join(sorted(config['runs']))}"
            )
    return config


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a YAML config file, merge ``overrides`` at top level, validate."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
    config.update(overrides or {})
    return validate_config(config)


EVIDENCE_MODES = ("measured", "none")
"""``critic.evidence``: whether a model or human critique carries the analytic critic's measurement
(gap, motion descriptors, video/trajectory cross-check), which then reaches the rewriter's prompt."""


CANDIDATE_SEED_STRIDE = 1000


def train_seed(run_seed: int, iteration: int, candidate: int = 0) -> int:
    """Training of candidate ``k`` of iteration ``i`` is seeded with the run seed plus ``i`` plus
    ``CANDIDATE_SEED_STRIDE * k`` (candidate 0 trains as a run of one candidate does)."""
    return run_seed + int(iteration) + CANDIDATE_SEED_STRIDE * int(candidate)


def rollout_seed(run_seed: int) -> int:
    """Every iteration's rollout uses the run seed itself."""
    return run_seed


@dataclass(frozen=True)
class RolloutConfig:
    """How each iteration's policy is replayed and filmed."""

    seconds: float = 8.0
    render_size: int = 480


@dataclass(frozen=True)
class CriticConfig:
    """The upper level: which critic, whether its critique carries measured evidence, and (model
    backends) its language-model settings."""

    backend: str = "analytic"
    evidence: str = "measured"
    lm: Any = None  # LMConfig for model backends, else None


@dataclass(frozen=True)
class RewriterConfig:
    """The lower level: which rewriter and (model backends) its language-model settings."""

    backend: str = "analytic"
    lm: Any = None  # LMConfig for model backends, else None


def _lm_settings(section: dict[str, Any], backend: str, lm_backends, cache_dir: str, where: str):
    from vidreward.lm.config import LMConfig

    if backend not in lm_backends:
        return None
    settings = {k: v for k, v in section.items() if k not in ("backend", "evidence")}
    settings.setdefault("cache_dir", cache_dir)
    return LMConfig.from_dict(settings, source=f"config {where}")


def critic_config(section: dict[str, Any], cache_dir: str, where: str = "critic") -> CriticConfig:
    from vidreward.backends import CRITIC_BACKENDS, LM_BACKENDS

    backend = section.get("backend", "analytic")
    if backend not in CRITIC_BACKENDS:
        raise ConfigError(f"config {where}.backend: unknown backend {backend!r}")
    evidence = section.get("evidence", "measured")
    if evidence not in EVIDENCE_MODES:
        raise ConfigError(f"config {where}.evidence: must be one of {list(EVIDENCE_MODES)}")
    if backend == "analytic" and evidence != "measured":
        raise ConfigError(
            f"config {where}.evidence: {evidence!r} needs a model or human critic; the analytic "
            "critic's critique is the measurement"
        )
    lm = _lm_settings(section, backend, LM_BACKENDS, cache_dir, where)
    return CriticConfig(backend=backend, evidence=evidence, lm=lm)


def rewriter_config(section: dict[str, Any], cache_dir: str, where: str = "rewriter") -> RewriterConfig:
    from vidreward.backends import LM_BACKENDS, REWRITER_BACKENDS

    backend = section.get("backend", "analytic")
    if backend not in REWRITER_BACKENDS:
        raise ConfigError(f"config {where}.backend: unknown backend {backend!r}")
    return RewriterConfig(backend=backend, lm=_lm_settings(section, backend, LM_BACKENDS, cache_dir, where))


@dataclass(frozen=True)
class RunSettings:
    """The resolved, typed settings of one run (what the stages receive)."""

    name: str
    clip: str
    robot: str
    task: str
    iterations: int
    seed: int = 0
    warm_start: bool = True
    train: Any = None  # TrainConfig (its seed is the run's; see train_config)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    critic: CriticConfig = field(default_factory=CriticConfig)
    rewriter: RewriterConfig = field(default_factory=RewriterConfig)
    robot_model: Any = None  # vidreward.sim.robots.RobotModelConfig: which model file the robot is
    search: SearchConfig = field(default_factory=SearchConfig)  # K candidates, selection

    @classmethod
    def from_config(cls, config: dict[str, Any], run: str) -> "RunSettings":
        from vidreward.sim.robots.spec import RobotModelConfig
        from vidreward.train.config import TrainConfig

        if run not in config["runs"]:
            raise ConfigError(f"config runs: no run named {run!r}")
        raw = copy.deepcopy(config["runs"][run])
        cache_dir = config.get("lm_cache_dir", "data/lm_cache")
        where = f"runs.{run}"
        return cls(
            name=run,
            clip=raw["clip"],
            robot=raw["robot"],
            task=raw["task"],
            iterations=raw["iterations"],
            seed=raw.get("seed", 0),
            warm_start=raw.get("warm_start", True),
            train=TrainConfig.from_dict(raw.get("train", {}), where=f"config {where}.train"),
            rollout=RolloutConfig(**raw.get("rollout", {})),
            critic=critic_config(raw.get("critic", {}), cache_dir, f"{where}.critic"),
            rewriter=rewriter_config(raw.get("rewriter", {}), cache_dir, f"{where}.rewriter"),
            robot_model=RobotModelConfig(**raw.get("robot_model", {})),
            search=SearchConfig.from_dict(raw.get("search"), where=f"{where}.search"),
        )._checked(where)

    def _checked(self, where: str) -> "RunSettings":
        """Settings that contradict each other fail here, naming both keys."""
        lm = self.rewriter.lm
        if self.search.candidates > 1 and lm is not None and lm.temperature == 0:
            raise ConfigError(
                f"config {where}.search.candidates: {self.search.candidates} candidates from a model "
                f"rewriter at {where}.rewriter.temperature 0 would all be the same answer; set a "
                "temperature (0.7-1.0) or candidates: 1")
        return self

    def train_config(self, iteration: int, candidate: int = 0):
        """The TrainConfig of candidate ``candidate`` of iteration ``iteration``: the run's, seeded
        by :func:`train_seed`."""
        return dataclasses.replace(self.train, seed=train_seed(self.seed, iteration, candidate))

    def seeds(self, iteration: int) -> dict[str, Any]:
        """The seeds iteration ``iteration`` uses (recorded in its provenance): ``train`` is
        candidate 0's, ``train_candidates`` every candidate's."""
        k = self.search.candidates
        return {
            "run": self.seed,
            "train": train_seed(self.seed, iteration),
            "train_candidates": [train_seed(self.seed, iteration, c) for c in range(k)],
            "rollout": rollout_seed(self.seed),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for provenance records)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ClipConfig:
    """One expert clip's entry of ``clips`` (schema defaults filled)."""

    name: str
    source: dict[str, str]
    start: float
    end: float
    fps: float = 20
    height: int = 240
    licence: str = "unknown"
    truth: str | None = None  # the clip's truth file (*.truth.json), which the oracle critic reads

    @classmethod
    def from_config(cls, config: dict[str, Any], clip: str) -> "ClipConfig":
        if clip not in config["clips"]:
            raise ConfigError(f"config clips: no clip named {clip!r}")
        return cls(name=clip, **copy.deepcopy(config["clips"][clip]))

    def to_dict(self) -> dict[str, Any]:
        """The config entry (for provenance records and fetch sidecars; ``truth`` only when set)."""
        record = dataclasses.asdict(self)
        record.pop("name")
        if record["truth"] is None:
            record.pop("truth")
        return record

    @staticmethod
    def check_truth(config: dict[str, Any], run: str) -> None:
        """A run whose critic is the oracle needs its clip to declare ``truth``."""
        spec = config["runs"][run]
        if (spec.get("critic") or {}).get("backend") == "oracle" and not config["clips"][spec["clip"]].get("truth"):
            raise ConfigError(
                f"config runs.{run}.critic.backend: 'oracle' reads the expert's motion from a truth "
                f"file, and clip {spec['clip']!r} declares none (set clips.{spec['clip']}.truth)"
            )


def runs_to_build(config: dict[str, Any]) -> list[str]:
    return list(config.get("default_runs") or config["runs"])


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base`` in place, recursively for mappings (copies of the values)."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
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
        deep_merge(config["runs"][run], params)
    return config
