"""The PyTorch implementation of the SPEC.md catalogue (``dlparity.torch_impl``).

Same module names, function names, signatures and results as ``dlparity.reference``,
computed with torch ops; every backward and every loss gradient comes from autograd, the
optimizers and schedules are ``torch.optim`` objects configured to the SPEC formulas.
NumPy arrays cross the boundary (``_convert``: dtype and device, cpu by default)::

    from dlparity.torch_impl import affine_forward, adam
    from dlparity.torch_impl._convert import device
    with device("cuda"):
        out, cache = affine_forward(x, w, b)
"""

from .gradcheck import *  # noqa: F403
from .info import *  # noqa: F403
from .init import *  # noqa: F403
from .layers import *  # noqa: F403
from .losses import *  # noqa: F403
from .models import *  # noqa: F403
from .optim import *  # noqa: F403
from .preprocess import *  # noqa: F403
from .schedules import *  # noqa: F403
from .solver import *  # noqa: F403
