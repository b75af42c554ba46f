"""The simulation: residents, asset providers and an ICS commissioner in one place, one step
a week, with everything a run needs (parameters, places, scenarios, random streams, the
fast and per-agent engines, the accounts and the run summary). Nothing here knows about
reports, screens or Ray."""

from abm.model.model import CommunityAssetsModel

__all__ = ["CommunityAssetsModel"]
