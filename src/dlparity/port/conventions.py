"""The conventions ``explain`` knows: what each is, and the setting that removes it.

Each key names one way PyTorch, Keras and SPEC.md differ (docs/conventions.md measures
them with framework defaults); ``fix_text`` words the fix in the framework of the model
that is to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .spec import float32_value

__all__ = ["CONVENTIONS", "fix_text"]

# key -> (title, what it is)
CONVENTIONS: dict[str, tuple[str, str]] = {
    "bn_epsilon": ("batch norm epsilon",
                   "Keras's BatchNormalization defaults to epsilon=1e-3, torch's BatchNorm1d "
                   "and the reference to 1e-5: the normalised output differs"),
    "bn_momentum": ("batch norm momentum",
                    "torch's momentum weights the BATCH (0.1 = SPEC/Keras 0.9); Keras "
                    "defaults to 0.99: the running statistics differ"),
    "bn_running_var_unbiased": ("batch norm unbiased running variance",
                                "torch updates running_var with the unbiased batch variance "
                                "(N/(N-1)), Keras and the reference with the biased one"),
    "leaky_relu_slope": ("leaky ReLU slope default",
                         "nn.LeakyReLU defaults to 0.01, keras.layers.LeakyReLU to 0.3, "
                         "keras.activations.leaky_relu to 0.2"),
    "keras_float32_constants": ("Keras float32 constants",
                                "Keras/TF hold the LeakyReLU slope, the L2 factor and SGD's "
                                "momentum in float32 even for float64 models"),
    "l2_half": ("Keras L2 without 1/2",
                "keras.regularizers.L2(l2) adds l2*sum(W**2); the reference and "
                "tf.nn.l2_loss add 0.5*reg*sum(W**2): the same number means twice the penalty"),
    "l2_strength": ("L2 strength", "the L2 strengths differ"),
    "from_logits": ("from_logits",
                    "SparseCategoricalCrossentropy() defaults to from_logits=False: logits "
                    "are taken for probabilities (clipped to [1e-7, 1 - 1e-7], renormalised)"),
    "loss_reduction": ("reduction mean over N vs N*K",
                       "torch's and Keras's mse / binary cross-entropy average over N*K; "
                       "SPEC's sum over K and average over N"),
    "loss_kind": ("loss function", "the data losses differ"),
    "adam_epsilon_hat": ("Adam epsilon-hat",
                         "Keras's Adam uses lr_t = lr*sqrt(1-b2^t)/(1-b1^t) and adds epsilon "
                         "to sqrt(v): torch's formula with eps/sqrt(1-b2^t) in eps's place"),
    "adam_epsilon_default": ("Adam epsilon default",
                             "Keras's Adam defaults to epsilon=1e-7, torch's to 1e-8"),
    "rmsprop_epsilon_inside": ("RMSprop epsilon inside the square root",
                               "Keras's RMSprop divides by sqrt(cache + eps), torch's by "
                               "sqrt(cache) + eps"),
    "rmsprop_rho_default": ("RMSprop rho default",
                            "Keras's RMSprop defaults to rho=0.9, torch's alpha to 0.99"),
    "adamw_weight_decay": ("AdamW decoupled weight decay",
                           "torch's AdamW and Keras's AdamW (and Adam(weight_decay=...)) both "
                           "shrink w -= lr*wd*w before the Adam step, not through the gradient; "
                           "torch's AdamW defaults to wd=0.01, Keras's AdamW to 0.004, and stock "
                           "Keras casts wd through float32"),
    "l2_vs_weight_decay": ("L2 regularizer vs weight_decay",
                           "an L2 penalty (Keras kernel_regularizer, torch's Adam/SGD "
                           "weight_decay: g += wd*w) passes through Adam's normalisation; "
                           "AdamW's decoupled decay does not: the same number is a different "
                           "update"),
    "schedule_stepping": ("learning-rate schedule stepped per epoch vs per batch",
                          "torch's schedulers change lr when scheduler.step() is called "
                          "(usually once per epoch); Keras's schedules are functions of the "
                          "optimizer's iterations (per batch)"),
    "keras_probability_clip": ("Keras clips probabilities",
                               "Keras's cross-entropies on probabilities (from_logits=False) "
                               "clip them to [1e-7, 1 - 1e-7]; torch's BCELoss / NLLLoss(log p) "
                               "do not (BCELoss clamps the log at -100); after a softmax or "
                               "sigmoid layer Keras uses that layer's logits instead"),
    "optimizer_hyperparameter": ("optimizer hyper-parameter", "a hyper-parameter differs"),
    "optimizer_kind": ("optimizer", "the optimizers differ"),
    "optimizer_state": ("optimizer state not carried over",
                        "the optimizers start from different states (m, v, t or buffers)"),
    "layer_config": ("layer setting", "a layer setting differs"),
    "weights_transposed": ("weights transposed",
                           "B holds A's weight transposed (torch's Linear.weight is W.T = "
                           "(out, in); a square layer takes it without a shape error)"),
    "weights_float32": ("weights rounded to float32",
                        "B holds A's arrays rounded to float32 (e.g. Keras layers built "
                        "without dtype='float64' keep float32 variables)"),
    "weights_differ": ("weights differ", "B's arrays are not A's"),
    "tf32": ("TF32 on GPU",
             "on Ampere and newer GPUs TensorFlow (and cuDNN in torch) run float32 matmuls "
             "with a 10-bit mantissa by default"),
}


def fix_text(f: Any, b: Any) -> str:
    """The setting that removes the divergence of finding ``f`` (an explain.Finding), in
    B's framework (``b.framework``) where it has one."""
    a = f.a_value
    texts: dict[tuple[str, str], Callable[[], str]] = {
        ("bn_epsilon", "keras"): lambda: f"keras.layers.BatchNormalization(epsilon={a!r})",
        ("bn_epsilon", "torch"): lambda: f"nn.BatchNorm1d(..., eps={a!r})",
        ("bn_momentum", "keras"): lambda: f"keras.layers.BatchNormalization(momentum={a!r})",
        ("bn_momentum", "torch"): lambda: f"nn.BatchNorm1d(..., momentum={1 - a!r}) (torch's "
                                          "meaning: the weight of the batch)",
        ("leaky_relu_slope", "keras"): lambda: f"keras.layers.LeakyReLU(negative_slope={a!r})",
        ("leaky_relu_slope", "torch"): lambda: f"nn.LeakyReLU(negative_slope={a!r})",
        ("l2_half", "keras"): lambda: f"keras.regularizers.L2({a / 2!r}) (= 0.5*{a!r}*sum(W**2))",
        ("l2_half", "torch"): lambda: f"loss += 0.5 * {a!r} * (W**2).sum()",
        ("l2_strength", "keras"): lambda: f"keras.regularizers.L2({a / 2!r})",
        ("from_logits", "keras"): lambda: (f"keras.losses.SparseCategoricalCrossentropy("
                                           f"from_logits={a})"),
        ("adam_epsilon_hat", "keras"): lambda: ("dlparity.port.TextbookAdam(...) (torch's "
                                                "formula in Keras; keras.optimizers.Adam cannot "
                                                "be configured to it)"),
        ("adam_epsilon_default", "keras"): lambda: f"keras.optimizers.Adam(epsilon={a!r})",
        ("adam_epsilon_default", "torch"): lambda: f"torch.optim.Adam(..., eps={a!r})",
        ("adamw_weight_decay", "keras"): lambda: f"keras.optimizers.AdamW(weight_decay={a!r})",
        ("adamw_weight_decay", "torch"): lambda: f"torch.optim.AdamW(..., weight_decay={a!r})",
        ("rmsprop_rho_default", "keras"): lambda: f"keras.optimizers.RMSprop(rho={a!r})",
        ("rmsprop_rho_default", "torch"): lambda: f"torch.optim.RMSprop(..., alpha={a!r})",
    }
    generic: dict[str, Callable[[], str]] = {
        "weights_transposed": lambda: (f"copy {f.field} in B's layout: Dense.kernel = "
                                       "Linear.weight.T (dlparity port does)"),
        "weights_float32": lambda: ("build B in float64 (Keras: dtype='float64' on every "
                                    "layer, or keras.config.set_floatx('float64'))"),
        "weights_differ": lambda: f"copy A's {f.field} into B (dlparity port copies bit-exactly)",
        "bn_running_var_unbiased": lambda: ("none in torch or Keras (neither can be "
                                            "configured); the reference reproduces either "
                                            "with bn_param['running_var_unbiased']"),
        "rmsprop_epsilon_inside": lambda: ("none in torch or Keras; use epsilon -> 0 on both, "
                                           "or accept the difference"),
        "keras_float32_constants": lambda: (
            f"values exactly representable in float32 (e.g. {float32_value(a)!r} for {a!r}) "
            "on both sides, or compare in float32"),
        "loss_reduction": lambda: ("F.mse_loss(out, y, reduction='sum') / N (sum over K, mean "
                                   "over N)" if a == "batchmean" else
                                   "the framework default reduction='mean' (over N*K)"),
        "l2_vs_weight_decay": lambda: (
            f"the same optimizer on both sides ({a}): AdamW's decay is not an L2 penalty "
            "under Adam (torch.optim.AdamW / keras.optimizers.AdamW on both, or Adam and "
            "the same kernel_regularizer / loss term on both)"),
        "schedule_stepping": lambda: (
            "step the torch scheduler once per optimizer step, or read it with "
            "steps_per_epoch= (--steps-per-epoch) = the batches per scheduler.step(); "
            "MultiStepLR(milestones=[m]) is PiecewiseConstantDecay([m*P - 1], ...)"),
        "optimizer_state": lambda: ("carry the optimizer state over: dlparity port converts "
                                    "m, v, t / momentum buffers with the model"),
        "tf32": lambda: ("torch.backends.cuda.matmul.allow_tf32 = False; "
                         "torch.backends.cudnn.allow_tf32 = False; "
                         "tf.config.experimental.enable_tensor_float_32_execution(False)"),
    }
    make = texts.get((f.key, b.framework)) or generic.get(f.key)
    return make() if make else f"set {f.field} = {a!r} in B"
