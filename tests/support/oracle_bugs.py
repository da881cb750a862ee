"""Planted bugs for the oracle's meta-test (``test_oracle.py``): realistic single mistakes.

Each :class:`Bug` is one text substitution in a COPY of the reference (``reference/*.py``
copied into a temporary package), the function it breaks, and the family of mistakes it
stands for -- what students and porters get wrong: a gradient term, a default, a step
counter, a scaling factor, a variance, an in-place update, a kink, an overflow... The
meta-test asserts that the oracle fails exactly that function and no other.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dlparity.reference as ref

REFERENCE_DIR = Path(ref.__file__).resolve().parent


@dataclass(frozen=True)
class Bug:
    """Replace ``old`` by ``new`` (the ``occurrence``-th match; 0 = every match) in the
    copy's ``file``; ``function`` is the one catalogue function this breaks."""

    id: str
    family: str
    function: str
    file: str
    old: str
    new: str
    occurrence: int = 1


BUGS: tuple[Bug, ...] = (
    # ------------------------------------------------------------------ layers
    Bug("relu_backward_kink", "ReLU kink: gradient passed at exactly x == 0", "relu_backward",
        "layers.py", "return np.where(x > 0, dout, 0)", "return np.where(x >= 0, dout, 0)"),
    Bug("relu_backward_in_place", "in-place update of dout (the documents' relu_backward)",
        "relu_backward", "layers.py", "    return np.where(x > 0, dout, 0)  # x's shape",
        "    dout[x <= 0] = 0\n    return dout"),
    Bug("affine_forward_no_bias", "a missing term in a forward", "affine_forward",
        "layers.py", "out = x_flat @ w + b  # (N, M)", "out = x_flat @ w  # (N, M)"),
    Bug("affine_backward_db_mean", "a gradient term: db averaged instead of summed",
        "affine_backward", "layers.py", "db = dout.sum(axis=0)  # (M,)",
        "db = dout.mean(axis=0)  # (M,)"),
    Bug("leaky_relu_default_alpha", "a default: Keras' slope 0.2 instead of 0.01",
        "leaky_relu_forward", "layers.py", "alpha: float = 0.01", "alpha: float = 0.2"),
    Bug("leaky_relu_backward_kink", "a kink: slope 1 at exactly x == 0", "leaky_relu_backward",
        "layers.py", "return np.where(x > 0, dout, alpha * dout)",
        "return np.where(x >= 0, dout, alpha * dout)"),
    Bug("sigmoid_backward_term", "a gradient term: s(1 + s)", "sigmoid_backward",
        "layers.py", "return dout * s * (1 - s)", "return dout * s * (1 + s)"),
    Bug("tanh_backward_not_squared", "a gradient term: 1 - t instead of 1 - t^2",
        "tanh_backward", "layers.py", "return dout * (1 - t * t)", "return dout * (1 - t)"),
    Bug("softmax_not_max_subtracted", "overflow: softmax without subtracting the max",
        "softmax_forward", "layers.py",
        "shifted = x - x.max(axis=-1, keepdims=True)  # (..., C), a new array, all <= 0",
        "shifted = x  # (..., C)", occurrence=1),
    Bug("softmax_backward_axis", "a reduction over the wrong axis", "softmax_backward",
        "layers.py", "return s * (dout - (dout * s).sum(axis=-1, keepdims=True))",
        "return s * (dout - (dout * s).sum(axis=0, keepdims=True))"),
    Bug("log_softmax_backward_no_sum", "a gradient term: the sum over classes forgotten",
        "log_softmax_backward", "layers.py",
        "return dout - np.exp(log_s) * dout.sum(axis=-1, keepdims=True)",
        "return dout - np.exp(log_s) * dout"),
    Bug("dropout_not_rescaled", "a scaling factor: dropout without 1/(1 - p)",
        "dropout_forward", "layers.py", "out = x * mask / (1 - p)  # x's shape",
        "out = x * mask  # x's shape"),
    Bug("dropout_mask_inverted", "a convention: keep where u < p", "dropout_forward",
        "layers.py", "mask = np.random.default_rng(seed).random(x.shape) >= p",
        "mask = np.random.default_rng(seed).random(x.shape) < 1 - p"),
    Bug("dropout_backward_not_rescaled", "a scaling factor in a backward", "dropout_backward",
        "layers.py", "return dout * mask / (1 - p)  # x's shape",
        "return dout * mask  # x's shape"),
    Bug("batchnorm_unbiased_normalisation", "a variance: unbiased variance in normalisation",
        "batchnorm_forward", "layers.py", "var = (centred * centred).mean(axis=0)  # (D,), biased",
        "var = (centred * centred).sum(axis=0) / (n - 1)  # (D,)"),
    Bug("batchnorm_momentum_direction", "a convention: torch's momentum direction",
        "batchnorm_forward", "layers.py",
        "bn_param[\"running_mean\"] = momentum * running_mean + (1 - momentum) * mean",
        "bn_param[\"running_mean\"] = (1 - momentum) * running_mean + momentum * mean"),
    Bug("batchnorm_backward_missing_term", "a gradient term: the xhat term of dx dropped",
        "batchnorm_backward", "layers.py",
        "dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std",
        "dx = (dxhat - dxhat.mean(axis=0)) / std"),
    Bug("affine_relu_backward_skips_relu", "a composite that forgets a part",
        "affine_relu_backward", "layers.py", "    return affine_backward(da, fc_cache)",
        "    return affine_backward(dout, fc_cache)"),
    Bug("affine_batchnorm_relu_backward_order", "a composite returning grads out of order",
        "affine_batchnorm_relu_backward", "layers.py", "return dx, dw, db, dgamma, dbeta",
        "return dx, dw, db, dbeta, dgamma"),
    # ------------------------------------------------------------------ losses
    Bug("mse_gradient_scale", "a scaling factor: the 2 of the square dropped", "mse_loss",
        "losses.py", "dh = 2 * diff / n  # h's shape", "dh = diff / n  # h's shape"),
    Bug("softmax_loss_not_averaged", "a scaling factor: gradient not divided by N",
        "softmax_loss", "losses.py", "    dx /= n\n", "\n"),
    Bug("nll_loss_sign", "a sign", "nll_loss", "losses.py",
        "loss = -np.sum(logp[rows, y]) / n", "loss = np.sum(logp[rows, y]) / n"),
    Bug("sigmoid_ce_mean_over_nk", "a convention: averaged over N*K (torch's default)",
        "sigmoid_cross_entropy_loss", "losses.py", "    loss = np.sum(per_entry) / n\n",
        "    loss = np.sum(per_entry) / x.size\n"),
    Bug("svm_margin_ge", "a hinge kink: margin >= 0 counted as active", "svm_loss",
        "losses.py", "active = (margins > 0).astype(x.dtype)",
        "active = ((x - correct + 1 >= 0) & (np.arange(x.shape[1]) != y[:, None]))"
        ".astype(x.dtype)"),
    Bug("kl_div_no_zero_guard", "0 log 0: no guard for p = 0", "kl_div_loss", "losses.py",
        "terms = np.multiply(p, log_p - log_q, out=np.zeros_like(p), where=present)",
        "terms = p * (np.log(p) - log_q)"),
    Bug("l2_without_half", "a scaling factor: L2 without the 1/2", "l2_regularization",
        "losses.py", "value = 0.5 * reg * np.sum(w * w)", "value = reg * np.sum(w * w)"),
    Bug("l1_subgradient_at_zero", "a kink: sign(0) taken as +1", "l1_regularization",
        "losses.py", "dw = np.asarray(reg * np.sign(w))",
        "dw = np.asarray(reg * np.where(w >= 0, 1.0, -1.0).astype(w.dtype))"),
    Bug("l0_counts_positive", "a count: only positive entries", "l0_norm", "losses.py",
        "return int(np.count_nonzero(w))", "return int(np.sum(w > 0))"),
    # ------------------------------------------------------------------ information
    Bug("entropy_in_nats", "a default: natural log instead of base 2", "entropy", "info.py",
        "return 0.0 - np.sum(_xlogy(p, p), axis=-1) / math.log(base)",
        "return 0.0 - np.sum(_xlogy(p, p), axis=-1)"),
    Bug("cross_entropy_swapped", "arguments swapped", "cross_entropy", "info.py",
        "return 0.0 - np.sum(_xlogy(p, q), axis=-1) / math.log(base)",
        "return 0.0 - np.sum(_xlogy(q, p), axis=-1) / math.log(base)"),
    # ------------------------------------------------------------------ optimizers
    Bug("sgd_in_place", "an in-place update: w -= lr * dw", "sgd", "optim.py",
        "    next_w = w - lr * dw  # w.shape\n",
        "    w -= lr * dw\n    next_w = w\n"),
    Bug("momentum_sign", "a sign: velocity += lr * dw", "sgd_momentum", "optim.py",
        'velocity = mu * _state(config, "velocity", w) - lr * dw',
        'velocity = mu * _state(config, "velocity", w) + lr * dw'),
    Bug("nesterov_coefficient", "a coefficient: mu instead of 1 + mu", "nesterov_momentum",
        "optim.py", "+ (1 + mu) * velocity  # w.shape", "+ mu * velocity  # w.shape"),
    Bug("adagrad_eps_ignored", "a default: epsilon hard-coded to 1e-8", "adagrad", "optim.py",
        'lr, eps = config["learning_rate"], config["epsilon"]\n    cache = _state(config, "cache"',
        'lr, eps = config["learning_rate"], 1e-8\n    cache = _state(config, "cache"'),
    Bug("rmsprop_eps_inside_sqrt", "epsilon inside the square root (Keras)", "rmsprop",
        "optim.py", "next_w = w - lr * dw / (np.sqrt(cache) + eps)  # w.shape\n    return "
        "next_w.astype(w.dtype, copy=False), config\n\n\ndef adam",
        "next_w = w - lr * dw / np.sqrt(cache + eps)  # w.shape\n    return "
        "next_w.astype(w.dtype, copy=False), config\n\n\ndef adam"),
    Bug("adam_beta1_in_v_hat", "a bias correction: beta1^t in v-hat (one document's Adam)",
        "adam", "optim.py", "denom /= math.sqrt(1 - beta2**t)",
        "denom /= math.sqrt(1 - beta1**t)"),
    Bug("adam_step_counter_not_kept", "a step counter: t never stored, always 1", "adam",
        "optim.py", '    config["t"] = t\n', "\n"),
    Bug("clip_norm_plus_eps", "clip with norm + eps (torch's 1e-6)", "clip_by_global_norm",
        "optim.py", "scale = clip_norm / max(global_norm, clip_norm)",
        "scale = clip_norm / max(global_norm + 1e-6, clip_norm)"),
    # ------------------------------------------------------------------ schedules
    Bug("step_decay_off_by_one", "off by one: the first decay one step early", "step_decay",
        "schedules.py", "decays = max(step - start, 0) // every",
        "decays = max(step - start + 1, 0) // every"),
    Bug("inverse_sqrt_epoch_plus_one", "off by one in a schedule", "inverse_sqrt_decay",
        "schedules.py", "return k / math.sqrt(epoch) * lr0",
        "return k / math.sqrt(epoch + 1) * lr0"),
    # ------------------------------------------------------------------ initialisers
    Bug("he_normal_without_2", "a variance: Xavier's 1/fan_in for He's 2/fan_in", "he_normal",
        "init.py", "std = math.sqrt(2.0 / fan_in)", "std = math.sqrt(1.0 / fan_in)"),
    Bug("truncated_normal_3_std", "a threshold: truncation at 3 std", "truncated_normal",
        "init.py", "> 2.0", "> 3.0", occurrence=0),
    # ------------------------------------------------------------------ preprocessing
    Bug("normalize_ddof_1", "a variance: sample std (ddof 1)", "normalize_features",
        "preprocess.py", "sigma = X_train.std(axis=0)  # (D,)",
        "sigma = X_train.std(axis=0, ddof=1)  # (D,)"),
    Bug("covariance_unbiased", "a variance: 1/(N - 1)", "covariance", "preprocess.py",
        "return Xc.T @ Xc / X.shape[0]  # (D, D)", "return Xc.T @ Xc / (X.shape[0] - 1)  # (D, D)"),
    Bug("whiten_centres_in_place", "an in-place update of the input (the documents' whitening)",
        "whiten", "preprocess.py", "Xc = X - X.mean(axis=0)  # (N, D), a new array: X itself is "
        "never centred", "X -= X.mean(axis=0)\n    Xc = X  # (N, D)"),
    Bug("running_mean_sign", "a sign", "running_mean_update", "preprocess.py",
        "mu + k * (x - mu), as_float)", "mu + k * (mu - x), as_float)"),
    # ------------------------------------------------------------------ gradient checking
    Bug("gradcheck_one_sided", "a scaling factor: (f+ - f-) / h", "eval_numerical_gradient",
        "gradcheck.py", "grad[ix] = (float(f_plus) - float(f_minus)) / (2 * h)",
        "grad[ix] = (float(f_plus) - float(f_minus)) / h"),
    Bug("rel_error_no_floor", "a missing guard: no 1e-8 floor", "rel_error", "gradcheck.py",
        "np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))",
        "np.abs(a - b) / (np.abs(a) + np.abs(b))"),
    # ------------------------------------------------------------------ model and Solver
    Bug("model_forgets_reg_gradient", "a gradient term: the L2 gradient not added",
        "FullyConnectedNet", "models.py", 'grads[f"W{i}"] = grads[f"W{i}"] + dw',
        'grads[f"W{i}"] = grads[f"W{i}"]'),
    Bug("solver_decays_every_iteration", "a schedule: lr decayed every iteration",
        "Solver", "solver.py", "    rules = optim\n",
        "    rules = optim\n\n    def _step(self, t):\n        super()._step(t)\n"
        "        self._decay_learning_rate()\n"),
)


@dataclass(frozen=True)
class AttributionBug:
    """Several edits of a copy of the reference that break one or more functions, with the
    report line each function must get (``expected``: name -> 'FAIL' or 'via <root>';
    every other function checked must PASS). Each pattern was seen in real student code:
    the oracle must name the right function, not only notice that something is wrong."""

    id: str
    family: str
    edits: tuple[tuple[str, str, str], ...]  # (file, old, new)
    expected: dict[str, str]
    only_dtype: str | None = None  # the dtype that alone shows the bug (None: both)


ATTRIBUTION_BUGS: tuple[AttributionBug, ...] = (
    # The backward is broken in EVERY case; the forward only in its default-alpha case: in
    # the alpha=0.2 case the forward matched, so the backward's failure is its own.
    AttributionBug(
        "leaky_relu_constant_alpha_and_default", "a backward writing alpha for alpha * dout, "
        "beside a forward whose default is wrong",
        (("layers.py", "return np.where(x > 0, dout, alpha * dout)",
          "return np.where(x > 0, dout, alpha)"),
         ("layers.py", "alpha: float = 0.01", "alpha: float = 0.2")),
        {"leaky_relu_forward": "FAIL", "leaky_relu_backward": "FAIL"}),
    # A float64 dx for float32 input: invisible in a float64-only run; a dtype failure of the
    # backward's own output, whatever its forward did.
    AttributionBug(
        "batchnorm_backward_float64_dx", "a backward upcasting its output (float64 dx for "
        "float32 input)",
        (("layers.py", "    return dx, dgamma, dbeta\n",
          "    return dx.astype(np.float64), dgamma, dbeta\n"),),
        {"batchnorm_backward": "FAIL", "affine_batchnorm_relu_backward": "via batchnorm_backward",
         "FullyConnectedNet": "via batchnorm_backward"}, only_dtype="float32"),
    # Running statistics stored as (1, D) by the forward (its output is right) and gradients
    # of gamma/beta returned as (1, D) by the backward: two broken functions, two FAILs.
    AttributionBug(
        "batchnorm_keepdims_state_and_grads", "(1, D) running statistics and (1, D) "
        "dgamma/dbeta",
        (("layers.py",
          'bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean',
          'bn_param["running_mean"] = (momentum * running_mean + (1 - momentum) * mean)'
          '.reshape(1, -1)'),
         ("layers.py", "    return dx, dgamma, dbeta\n",
          "    return dx, dgamma.reshape(1, -1), dbeta.reshape(1, -1)\n")),
        {"batchnorm_forward": "FAIL", "batchnorm_backward": "FAIL",
         "affine_batchnorm_relu_forward": "via batchnorm_forward",
         "affine_batchnorm_relu_backward": "via batchnorm_backward",
         # the model's test-mode call raises inside batchnorm_forward, on the (1, D) state
         "FullyConnectedNet": "via batchnorm_forward"}),
    # The documents' relu kink written inline in a composite: only pre-activations of
    # exactly 0 show it, and only the composite is wrong.
    AttributionBug(
        "affine_relu_backward_inline_kink", "a composite leaking the gradient at a "
        "pre-activation of exactly 0 (dx[x < 0] = 0 inside it)",
        (("layers.py", "    da = relu_backward(dout, relu_cache)  # (N, M)\n",
          "    da = np.where(relu_cache < 0, 0.0, dout)  # (N, M)\n"),),
        {"affine_relu_backward": "FAIL"}),
    # One-pass variance: right in float64 on centred data, 70 % off in float32 at mean 1e3.
    AttributionBug(
        "batchnorm_one_pass_variance", "a one-pass E[x^2] - E[x]^2 variance",
        (("layers.py", "var = (centred * centred).mean(axis=0)  # (D,), biased",
          "var = (x * x).mean(axis=0) - mean * mean  # (D,)"),),
        {"batchnorm_forward": "FAIL", "batchnorm_backward": "via batchnorm_forward"},
        only_dtype="float32"),
    # log of the probabilities instead of the log-sum-exp: inf when the true class's logit
    # is hundreds below the maximum.
    AttributionBug(
        "softmax_loss_log_of_probs", "log(softmax) computed as the log of the probabilities",
        (("losses.py", "    log_probs = shifted - np.log(sum_exp)  # (N, C)\n",
          "    with np.errstate(divide='ignore'):\n"
          "        log_probs = np.log(exp / sum_exp)  # (N, C)\n"),),
        {"softmax_loss": "FAIL"}),
)


def plant_all(package: Path, bug: AttributionBug) -> None:
    """Apply every edit of ``bug`` to the reference copy at ``package``."""
    for file, old, new in bug.edits:
        plant(package, Bug(bug.id, bug.family, "", file, old, new))


STUDENT = Path(__file__).with_name("oracle_fixture_student.py")

#: The same kind of mistakes in the independently written module (one file, its own
#: structure: its softmax_loss calls its log_softmax_forward, its model its own layers, its
#: Solver its own update rules), where the oracle must follow that structure to attribute.
STUDENT_BUGS: tuple[Bug, ...] = (
    Bug("student_log_softmax_unstable", "overflow: log-sum-exp without the max",
        "log_softmax_forward", STUDENT.name,
        "lse = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))",
        "lse = np.log(np.sum(np.exp(x), axis=-1, keepdims=True))"),
    Bug("student_sigmoid_branches_swapped", "a branch: the two stable forms swapped",
        "sigmoid_forward", STUDENT.name,
        "s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "s = np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))"),
    Bug("student_affine_db_axis", "a reduction over the wrong axis", "affine_backward",
        STUDENT.name, "return dx, dw, np.sum(dout, axis=0)", "return dx, dw, np.sum(dout, axis=1)"),
    Bug("student_dropout_not_rescaled", "a scaling factor", "dropout_forward", STUDENT.name,
        "scaled = keep.astype(x.dtype) / x.dtype.type(1 - p)", "scaled = keep.astype(x.dtype)"),
    Bug("student_batchnorm_graph_half", "a gradient term: the 1/2 of d sqrt", "batchnorm_backward",
        STUDENT.name, "dvar = 0.5 * dsqrtvar / np.sqrt(var + eps)",
        "dvar = dsqrtvar / np.sqrt(var + eps)"),
    Bug("student_svm_margin_ge", "a hinge kink", "svm_loss", STUDENT.name,
        "positive = margins > 0",
        "positive = (margins >= 0) & (np.arange(x.shape[1]) != y[:, None])"),
    Bug("student_momentum_lr_outside", "torch's momentum: lr outside the velocity",
        "sgd_momentum", STUDENT.name,
        'v = config["momentum"] * v - config["learning_rate"] * dw\n    config["mom"] = v\n'
        "    return w + v, config",
        'v = config["momentum"] * v - dw\n    config["mom"] = v\n'
        '    return w + config["learning_rate"] * v, config'),
    Bug("student_adam_v_hat_beta1", "a bias correction", "adam", STUDENT.name,
        "m, v = m / (1 - b1**step), v / (1 - b2**step)",
        "m, v = m / (1 - b1**step), v / (1 - b1**step)"),
    Bug("student_step_decay_at_start", "off by one at the start", "step_decay", STUDENT.name,
        "if step < start:", "if step < start - 1:"),
    Bug("student_model_reg_without_half", "a scaling factor in the model",
        "FullyConnectedNet", STUDENT.name, "loss += 0.5 * self.reg * np.sum(W * W)",
        "loss += self.reg * np.sum(W * W)"),
    Bug("student_solver_decays_every_step", "a schedule: decay every iteration", "Solver",
        STUDENT.name, "            if epoch_end:\n                self.epoch += 1\n",
        "            if True:\n                self.epoch += epoch_end\n"),
)


def copy_student(dest: Path, name: str = "student") -> Path:
    """Copy the independently written module to ``dest/name.py``; return its path."""
    path = dest / f"{name}.py"
    shutil.copy(STUDENT, path)
    return path


def copy_reference(dest: Path, name: str = "candidate") -> Path:
    """Copy the reference's modules into ``dest/name`` (a plain package); return its path."""
    package = dest / name
    package.mkdir(parents=True)
    for path in REFERENCE_DIR.glob("*.py"):
        shutil.copy(path, package / path.name)
    return package


def plant(package: Path, bug: Bug) -> None:
    """Apply ``bug`` to the copy at ``package`` (a package folder, or the student module's
    copy); raise if its text is not found (the code changed under the bug: update it)."""
    path = package if package.is_file() else package / bug.file
    text = path.read_text()
    old, new = bug.old, bug.new
    if text.count(old) < max(bug.occurrence, 1):
        raise LookupError(f"bug {bug.id}: {old!r} not found {max(bug.occurrence, 1)} time(s) "
                          f"in {bug.file}")
    if bug.occurrence == 0:
        text = text.replace(old, new)
    else:
        at = -1
        for _ in range(bug.occurrence):
            at = text.index(old, at + 1)
        text = text[:at] + new + text[at + len(old):]
    path.write_text(text)
