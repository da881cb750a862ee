"""The NumPy reference implementation of the SPEC.md catalogue (``dlparity.reference``).

Organised by kind -- ``layers``, ``losses``, ``info``, ``optim`` (with
``clip_by_global_norm``), ``schedules``, ``init``, ``preprocess``, ``gradcheck``,
``models``, ``solver`` and ``presets`` -- and every catalogue name is re-exported here
(``presets`` and ``models.RegressionNet`` are reached through their modules)::

    from dlparity.reference import affine_forward, adam
"""

from . import presets  # noqa: F401  (the documents' models as data; not catalogue names)
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
