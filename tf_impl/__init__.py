"""The SPEC.md catalogue computed with TensorFlow (``dlparity.tf_impl``).

Same module names, function names and signatures as ``dlparity.reference``: ``layers``,
``losses``, ``info``, ``optim`` (with ``clip_by_global_norm``), ``schedules``, ``init``,
``preprocess``, ``gradcheck``, ``models``, ``solver``; every catalogue name is re-exported
here::

    from dlparity.tf_impl import affine_forward, adam

NumPy arrays at the boundary (converted in ``_convert``, which also holds the device:
``set_device('cpu' | 'cuda')``, ``device(...)`` context); TensorFlow ops and autograd
(``_autograd``: one persistent GradientTape per forward) inside. Keras objects are used
where they can be configured to the SPEC formula; ``models`` also has the idiomatic Keras
model of the FullyConnectedNet.
"""

from ._convert import device, get_device, set_device  # noqa: F401
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
