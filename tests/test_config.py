"""Config validation: schema, defaults, cross references, params.yaml overrides."""

import copy

import pytest
import yaml

from vidreward.config import CriticConfig, RunSettings, apply_params, load_config, validate_config
from vidreward.errors import ConfigError

from workflow_helpers import REPO


def base_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_and_quick_configs_validate_with_defaults_filled():
    config = load_config(REPO / "config" / "config.yaml")
    run = config["runs"]["ant_cmu_jumps"]
    assert run["iterations"] == 5 and run["robot"] == "ant"
    assert config["clips"]["cmu_01_01_forward_jumps"]["fps"] == 20
    quick = load_config(REPO / "config" / "quick.yaml")
    assert quick["runs"]["ant_quick"]["rollout"]["render_size"] == 128
    assert quick["runs"]["ant_quick"]["warm_start"] is True  # default filled
    settings = RunSettings.from_config(config, "ant_cmu_jumps")
    assert settings.critic == CriticConfig(backend="analytic", evidence="measured", lm=None)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c["runs"]["ant_cmu_jumps"].update(iteratons=3), "'iteratons'"),
        (lambda c: c.update(colour="red"), "'colour'"),
        (lambda c: c["runs"]["ant_cmu_jumps"]["train"].update(learning_rat=1e-3), "learning_rat"),
        (lambda c: c["runs"]["ant_cmu_jumps"].update(robot="spider"), "runs.ant_cmu_jumps.robot"),
        (lambda c: c["runs"]["ant_cmu_jumps"].update(clip="nope"), "no clip named 'nope'"),
        (lambda c: c["runs"]["ant_cmu_jumps"].update(iterations="five"), "iterations"),
        (lambda c: c["clips"]["cmu_01_01_forward_jumps"].update(end=-1), "clips.cmu_01_01_forward_jumps"),
        (lambda c: c["clips"]["cmu_01_01_forward_jumps"].update(start=5, end=4), "must be after start"),
        (lambda c: c["clips"]["cmu_01_01_forward_jumps"]["source"].update(url="http://x/y"), "exactly one"),
        (lambda c: c["runs"]["ant_cmu_jumps"]["critic"].update(backend="oracle"), "critic"),
        (lambda c: c.update(default_runs=["ghost"]), "no run named 'ghost'"),
        (lambda c: c.update(robustness_episodes=0), "robustness_episodes"),
    ],
)
def test_bad_config_names_the_key(mutate, message):
    config = base_config()
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert message in str(err.value)


def test_params_yaml_overrides_only_the_named_run(tmp_path):
    config = base_config()
    params = tmp_path / "params.yaml"
    params.write_text("run: ant_cmu_jumps\niterations: 2\ntrain: {total_env_steps: 1234}\n")
    apply_params(config, params)
    validate_config(config)
    run = config["runs"]["ant_cmu_jumps"]
    assert run["iterations"] == 2
    assert run["train"]["total_env_steps"] == 1234
    shipped = base_config()["runs"]["ant_cmu_jumps"]["train"]
    untouched = {k: v for k, v in shipped.items() if k != "total_env_steps"}
    assert untouched and {k: run["train"][k] for k in untouched} == untouched  # survive the merge
    other = copy.deepcopy(base_config())
    params.write_text("run: not_in_this_config\niterations: 9\n")
    assert apply_params(other, params) == base_config()


def test_params_yaml_without_run_key_is_rejected(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("iterations: 2\n")
    with pytest.raises(ConfigError, match="params.yaml"):
        apply_params(base_config(), params)


def test_workflow_lint_and_format_are_clean():
    import subprocess

    from workflow_helpers import BIN, env

    lint = subprocess.run([str(BIN / "snakemake"), "--lint"], cwd=REPO, capture_output=True,
                          text=True, env=env(), timeout=300)
    assert lint.returncode == 0 and "good condition" in lint.stdout + lint.stderr, lint.stdout
    smk = sorted(str(p.relative_to(REPO)) for p in (REPO / "rules").glob("*.smk"))
    fmt = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", *smk], cwd=REPO,
                         capture_output=True, text=True, env=env(), timeout=300)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
