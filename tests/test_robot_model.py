"""The robot model source is a run setting (``robot_model``): validated by the schema, reaching the
model builders as a ``RobotModelConfig`` (no environment variable decides), recorded in provenance."""

from __future__ import annotations

import copy
import json

import mujoco
import pytest
import torch

from vidreward.config import RunSettings, load_config, validate_config
from vidreward.errors import ConfigError
from vidreward.sim import make_sim
from vidreward.sim.robots import compiled_model, get_robot, model_source, selected_models, use_models
from vidreward.sim.robots.anymal import ANYMAL_LEGS, _build_anymal_menagerie, anymal_builtin_spec, anymal_source
from vidreward.sim.robots.spec import RobotModelConfig

QUICK = "config/quick.yaml"


def _config_with(robot_model: dict) -> dict:
    config = load_config(QUICK)
    config = copy.deepcopy(config)
    run = next(iter(config["runs"]))
    config["runs"][run]["robot_model"] = robot_model
    return config


@pytest.fixture
def selection():
    """Restores the process's model selection and compiled models after a test."""
    before = selected_models()
    yield
    use_models(before)
    compiled_model.cache_clear()


@pytest.fixture
def menagerie_root(tmp_path):
    """A MuJoCo Menagerie layout (``<root>/anybotics_anymal_c/scene.xml``, unnamed foot spheres on
    the shanks). The real Menagerie files cannot be fetched offline, so the scene is the built-in
    model written out in Menagerie's layout with the foot names removed."""
    spec = anymal_builtin_spec()
    for leg in ANYMAL_LEGS:
        spec.geom(f"{leg}_foot").name = ""
    scene = tmp_path / "menagerie" / "anybotics_anymal_c" / "scene.xml"
    scene.parent.mkdir(parents=True)
    scene.write_text(spec.to_xml())
    return tmp_path / "menagerie"


def test_schema_accepts_the_model_sources_and_defaults_to_auto():
    for choice in ("auto", "menagerie", "builtin"):
        config = validate_config(_config_with({"anymal": choice, "menagerie_root": "/some/where"}))
        run = next(iter(config["runs"]))
        assert RunSettings.from_config(config, run).robot_model == RobotModelConfig(choice, "/some/where")
    config = load_config(QUICK)
    run = next(iter(config["runs"]))
    assert RunSettings.from_config(config, run).robot_model == RobotModelConfig("auto", None)


@pytest.mark.parametrize(
    "robot_model, message",
    [
        ({"anymal": "mesh"}, r"robot_model\.anymal: 'mesh' is not one of"),
        ({"anymal": "builtin", "root": "/x"}, r"robot_model: unknown key\(s\) 'root'"),
        ({"menagerie_root": 3}, r"robot_model\.menagerie_root: 3 is not of type"),
    ],
)
def test_schema_rejects_bad_model_settings_naming_the_key(robot_model, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_config_with(robot_model))


def test_no_environment_variable_decides(monkeypatch, selection):
    monkeypatch.setenv("VIDREWARD_ANYMAL_SOURCE", "menagerie")
    monkeypatch.setenv("MENAGERIE_ROOT", "/nonexistent")
    assert anymal_source(RobotModelConfig("builtin")) == "builtin"
    use_models(RobotModelConfig("builtin"))
    assert get_robot("anymal").model().names.startswith(b"anymal_c_builtin")
    with pytest.raises(ConfigError, match=r"robot_model\.anymal"):
        anymal_source(RobotModelConfig("mesh"))


def test_menagerie_from_config_loads_that_directory(menagerie_root, selection):
    """``robot_model: {anymal: menagerie, menagerie_root: <dir>}`` in the config reaches the builder:
    the Menagerie loader names the feet, adds touch sensors and the tracking camera, and the model
    runs in the batched simulator."""
    config = validate_config(_config_with({"anymal": "menagerie", "menagerie_root": str(menagerie_root)}))
    settings = RunSettings.from_config(config, next(iter(config["runs"])))
    assert anymal_source(settings.robot_model) == "menagerie"
    use_models(settings.robot_model)
    model = get_robot("anymal").model()
    for leg in ANYMAL_LEGS:
        assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{leg}_foot") >= 0
    touch = [i for i in range(model.nsensor) if model.sensor_type[i] == mujoco.mjtSensor.mjSENS_TOUCH]
    assert len(touch) == len(ANYMAL_LEGS)
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "track") >= 0
    assert model is not get_robot("anymal").model(RobotModelConfig("builtin"))  # per-source cache
    sim = make_sim("anymal", 4, seed=0)
    try:
        assert sim.model is model
        for _ in range(5):
            result = sim.step(torch.zeros(4, sim.robot.action_dim))
        state = sim.state()
        assert torch.isfinite(state["root_pos"]).all()
        assert state["foot_contact_forces"].shape == (4, len(ANYMAL_LEGS))
        assert (state["foot_contact_forces"] > 0).any(), "standing robot has no foot contact"
        assert not result.terminated.any()
    finally:
        sim.close()


def test_auto_finds_the_menagerie_root(menagerie_root):
    assert anymal_source(RobotModelConfig("auto", str(menagerie_root))) == "menagerie"
    assert anymal_source(RobotModelConfig("auto", str(menagerie_root / "missing"))) in ("builtin", "menagerie")


def test_menagerie_without_the_files_fails_naming_the_remedy(monkeypatch, tmp_path):
    """Asking for the real ANYmal C when Menagerie cannot fetch it: a clear error, no hang."""
    monkeypatch.setenv("MENAGERIE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("MENAGERIE_BASE_URL", "http://127.0.0.1:9/assets")  # nothing listens there
    with pytest.raises(ConfigError, match=r"anybotics_anymal_c.*robot_model\.menagerie_root.*builtin"):
        _build_anymal_menagerie(str(tmp_path / "no-checkout"))


def test_provenance_records_the_model_asked_for_and_run(menagerie_root, tmp_path):
    from vidreward.config import ClipConfig
    from vidreward.provenance import robot_model_record, write_provenance

    config = validate_config(_config_with({"anymal": "auto", "menagerie_root": str(menagerie_root)}))
    settings = RunSettings.from_config(config, next(iter(config["runs"])))
    anymal = RunSettings(**{**settings.__dict__, "robot": "anymal"})
    assert robot_model_record(anymal) == {
        "asked": {"anymal": "auto", "menagerie_root": str(menagerie_root)},
        "ran": "menagerie",
    }
    builtin = RunSettings(**{**anymal.__dict__, "robot_model": RobotModelConfig("builtin")})
    assert robot_model_record(builtin)["ran"] == "builtin"
    assert model_source("ant") == get_robot("ant").xml_path

    out = tmp_path / "provenance.json"
    clip = ClipConfig.from_config(config, settings.clip)
    write_provenance(out, {}, builtin, clip, 0, tmp_path / "benchmarks")
    record = json.loads(out.read_text())
    assert record["robot_model"] == {"asked": {"anymal": "builtin", "menagerie_root": None}, "ran": "builtin"}
    assert record["settings"]["robot_model"] == {"anymal": "builtin", "menagerie_root": None}
