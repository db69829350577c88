"""Bad configs and options stop ``python3 -m training`` with a coded one-line error and exit status 2."""

import pytest

from .helpers import TINY_CONFIG, assert_refused, run_training_cli


def train(run_dir, root, *args):
    return run_training_cli("train", "--config", TINY_CONFIG, f"run.dir={run_dir}", f"data.root={root}",
                            "data.val_fraction=0.34", "train.batch_size=4", *args)


@pytest.mark.parametrize(
    "override, expected",
    [
        ("train.epochs=abc", "train.epochs must be an integer >= 1; got 'abc'"),
        ("train.epochs=0", "train.epochs must be an integer >= 1; got 0"),
        ("train.epochs=-1", "train.epochs must be an integer >= 1; got -1"),
        ("train.batch_size=-3", "train.batch_size must be an integer >= 2; got -3"),
        ("train.lr=[1,2]", "train.lr must be a finite number > 0; got [1, 2]"),
        ("train.lr=-1", "train.lr must be a finite number > 0; got -1"),
        ("train.lr=nan", "train.lr must be a finite number > 0; got nan"),
        ("train.lr=[1,2", "override 'train.lr=[1,2' is not valid YAML at line 1, column 5"),
    ],
)
def test_bad_values_are_refused_before_anything_runs(u1652_root, tmp_path, override, expected):
    run_dir = tmp_path / "run"
    assert_refused(train(run_dir, u1652_root, override), "GEOLOC_ERR_CONFIG", expected)
    assert not run_dir.exists()


def test_broken_yaml_names_the_file_and_line(tmp_path):
    config = tmp_path / "broken.yaml"
    config.write_text(f"_base_: {TINY_CONFIG}\ntrain:\n  epochs: 3\n   lr: 0.1\n")
    result = run_training_cli("train", "--config", str(config))
    assert_refused(result, "GEOLOC_ERR_CONFIG", f"config file {config} is not valid YAML at line 4")


def test_missing_resume_checkpoint_names_resume_and_the_path(u1652_root, tmp_path):
    missing = tmp_path / "missing.pt"
    result = train(tmp_path / "run", u1652_root, "--resume", str(missing))
    assert_refused(result, "GEOLOC_ERR_CHECKPOINT_MISSING", f"--resume (train.resume) names {missing}")
    error = next(line for line in result.stderr.splitlines() if "GEOLOC_ERR" in line)
    assert "model.weights" not in error


def test_batch_larger_than_the_training_locations_is_refused(u1652_root, tmp_path):
    result = train(tmp_path / "run", u1652_root, "train.batch_size=50")
    assert_refused(result, "GEOLOC_ERR_CONFIG", "train.batch_size is too large")
