"""Community assets and health disparities: an agent-based model for Integrated Care Systems.

Start with :class:`abm.model.CommunityAssetsModel` (also importable as ``abm.Model``)::

    from abm import Model
    Model("devon_ics", "scale+embed", seed=1).run().summary()
"""

__version__ = "0.2.0"

from abm.model import CommunityAssetsModel

Model = CommunityAssetsModel

__all__ = ["CommunityAssetsModel", "Model", "__version__"]
