"""``dlparity train`` (src/dlparity/train.py): the three implementations follow the same
loss curve in float64, the batch order is the documented one, and the command runs,
writes its PNG/JSON and rejects bad arguments with exit status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlparity import train
from dlparity.data import Dataset
from dlparity.oracle.tolerances import tolerance
from dlparity.reference.presets import PRESETS, build_model

PRESET = "mnist_fc_tf"  # the document's MNIST recipe: 784-256-100-10, L2 5e-5, Adam 1e-3
STEPS, BATCH, SEED = 30, 50, 3


def toy_digits(rng: np.random.Generator, n: int, dtype=np.float64) -> Dataset:
    """784-pixel 'images' in [0, 1] whose class sets a bright band of pixels: learnable,
    so the loss curve actually moves."""
    y = rng.integers(0, 10, size=n)  # (n,)
    X = 0.3 * rng.random((n, 784))  # (n, 784)
    for c in range(10):
        X[y == c, 70 * c:70 * c + 70] += 0.7
    X = X.astype(dtype)
    cut = n - n // 5
    ds = Dataset(name="toy", source="test", synthetic=False, num_classes=10,
                 image_shape=(28, 28), class_names=tuple("0123456789"),
                 X_train=X[:cut], y_train=y[:cut], X_test=X[cut:], y_test=y[cut:])
    return ds.with_validation(100, seed=SEED)


def loss_curve(impl: str, ds: Dataset) -> np.ndarray:
    trainer = train.make_trainer(impl, PRESET, dtype=np.float64, seed=SEED)
    history = train.run_training(trainer, ds, batch_size=BATCH, iterations=STEPS, seed=SEED,
                                 progress=False, evaluate=False)
    return np.array(history.loss)


@pytest.fixture(scope="module")
def toy() -> Dataset:
    return toy_digits(np.random.default_rng(2024), 1000)


@pytest.fixture(scope="module")
def reference_curve(toy: Dataset) -> np.ndarray:
    return loss_curve("numpy", toy)


def test_reference_first_loss_is_softmax_ce_plus_half_reg_sum_w2_of_the_first_batch(
        toy: Dataset, reference_curve: np.ndarray) -> None:
    params = build_model(PRESET, dtype=np.float64, seed=SEED).params
    batch = np.random.default_rng(SEED).permutation(len(toy.y_train))[:BATCH]
    h = toy.X_train[batch]
    for i in (1, 2):
        h = np.maximum(h @ params[f"W{i}"] + params[f"b{i}"], 0.0)
    scores = h @ params["W3"] + params["b3"]  # (B, 10)
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    data_loss = -logp[np.arange(BATCH), toy.y_train[batch]].mean()
    l2 = 0.5 * PRESETS[PRESET].reg * sum(np.sum(params[f"W{i}"] ** 2) for i in (1, 2, 3))
    np.testing.assert_allclose(reference_curve[0], data_loss + l2, rtol=1e-12)


def test_reference_loss_curve_goes_down(reference_curve: np.ndarray) -> None:
    assert reference_curve.shape == (STEPS,) and np.all(np.isfinite(reference_curve))
    assert reference_curve[-5:].mean() < 0.5 * reference_curve[0], reference_curve


@pytest.mark.parametrize("impl", ["torch", "tf"])
def test_same_seed_weights_and_batches_give_the_reference_loss_curve_in_float64(
        impl: str, toy: Dataset, reference_curve: np.ndarray) -> None:
    pytest.importorskip({"torch": "torch", "tf": "tensorflow"}[impl])
    curve = loss_curve(impl, toy)
    tol = tolerance("training", "float64")
    assert curve.shape == reference_curve.shape and np.all(np.isfinite(curve))
    err = np.linalg.norm(curve - reference_curve) / np.linalg.norm(reference_curve)
    worst = np.max(np.abs(curve - reference_curve))
    assert err <= tol.rtol or worst <= tol.atol, (
        f"{impl}: loss curve differs from the reference: relative error {err:.3e}, worst "
        f"step {int(np.argmax(np.abs(curve - reference_curve)))} off by {worst:.3e}")


@pytest.mark.parametrize("n, batch", [(10, 3), (100, 100), (7, 1)])
def test_batch_order_is_a_seeded_permutation_per_epoch_cut_into_full_batches(
        n: int, batch: int) -> None:
    order = train.batch_order(n, batch, seed=11)
    rng = np.random.default_rng(11)
    for epoch in range(3):
        expected = rng.permutation(n)[: (n // batch) * batch].reshape(n // batch, batch)
        np.testing.assert_array_equal(order(epoch), expected)
    np.testing.assert_array_equal(order(0), order(0))  # asking again gives the same batches


# ----------------------------------------------------------------------------- the CLI


def test_help_explains_models_data_and_the_mnist_recipe(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop:
        train.main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for words in ("--model", "--impl", "--device", "--data", "--data-dir", "--epochs",
                  "--iterations", "--batch-size", "--seed", "--dtype", "--plot", "--json",
                  "mnist_fc_tf", "784-256-100-10", "10,000", "synthetic", "SYNTHETIC",
                  "fashion-mnist", "mnist-5k", "cifar-10"):
        assert words in out, words


def tiny_run_args(tmp_path, *extra: str) -> list[str]:
    return ["--data", "synthetic-mnist", "--synthetic-size", "300", "--val-size", "50",
            "--iterations", "6", "--batch-size", "50", "--no-progress",
            "--json", str(tmp_path / "run.json"), *extra]


def test_tiny_run_writes_json_with_the_curve_accuracies_and_the_synthetic_data(
        tmp_path, capsys: pytest.CaptureFixture) -> None:
    assert train.main(tiny_run_args(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "test accuracy" in out
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["model"] == PRESET and record["impl"] == "numpy"
    assert record["data"]["synthetic"] is True and record["data"]["name"] == "mnist"
    assert (record["data"]["train"], record["data"]["val"]) == (250, 50)
    assert len(record["loss"]) == 6 and all(np.isfinite(record["loss"]))
    # 250 samples / batch 50 = 5 steps per epoch: evaluated after epoch 1 and at the end
    assert [e["iteration"] for e in record["epochs"]] == [5, 6]
    assert record["epochs_trained"] == pytest.approx(6 / 5)
    for e in record["epochs"]:
        assert 0.0 <= e["train_acc"] <= 1.0 and 0.0 <= e["val_acc"] <= 1.0
    assert 0.0 <= record["test_acc"] <= 1.0 and record["samples_per_s"] > 0


def test_tiny_run_writes_the_learning_curve_png(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "curve.png"
    assert train.main(tiny_run_args(tmp_path, "--plot", str(png))) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


@pytest.mark.parametrize("argv, words", [
    (["--model", "resnet50"], "--model must be one of"),
    (["--model", "dating_linear"], "--model must be one of"),
    (["--model", "cifar10", "--data", "synthetic-mnist"], "3072 inputs"),
    (["--data", "synthetic-mnist", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["--data", "synthetic-mnist", "--synthetic-size", "20", "--batch-size", "100"],
     "--batch-size must be at most"),
    (["--device", "cuda"], "CPU only"),
    (["--device", "tpu"], "--device must be cpu or cuda"),
    (["--compile", "xla"], "compile must be one of"),
    (["--epochs", "-1"], "--epochs must be a positive number"),
])
def test_bad_arguments_exit_2_with_a_message(argv: list[str], words: str,
                                             capsys: pytest.CaptureFixture) -> None:
    assert train.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("dlparity train: error:") and words in err, err


@pytest.mark.parametrize("argv, words", [
    (["--impl", "jax"], "invalid choice"),
    (["--iterations", "5", "--epochs", "1"], "not allowed with"),
    (["--batch-size", "ten"], "invalid int value"),
])
def test_unparsable_arguments_exit_2_with_argparse_message(
        argv: list[str], words: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as stop:
        train.main(argv)
    assert stop.value.code == 2 and words in capsys.readouterr().err
