"""Community assets and health disparities: an agent-based model for Integrated Care Systems.

Start with :class:`abm.model.CommunityAssetsModel` (also importable as ``abm.Model``)::

    from abm import Model
    Model("devon_ics", "scale+embed", seed=1).run().summary()

The package is layered; each layer imports only the layers below it (``tests/test_layout.py``
checks this):

- :mod:`abm.cli`: the ``abm`` command (parses and delegates);
- :mod:`abm.app`: the workshop app;
- :mod:`abm.report`: reports of results folders;
- ``calibration`` and ``experiments`` (packages beside ``abm``): calibration, sensitivity and
  uncertainty; sweeps on Ray;
- :mod:`abm.analysis`: paired comparisons, distributional cost-effectiveness, tables,
  figures, the codebook, scenario discovery, the EMA workbench adaptor;
- :mod:`abm.model`: the simulation (everything a run needs);
- :mod:`abm.files`: safe reading, atomic and checksummed writing, one-line errors, provenance.
"""

from abm.model import CommunityAssetsModel
from abm.version import __version__

Model = CommunityAssetsModel

__all__ = ["CommunityAssetsModel", "Model", "__version__"]
