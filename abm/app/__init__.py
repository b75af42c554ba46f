"""The workshop app: the model in a browser, with plain-language sliders, working offline
(``abm viz``; the page is :mod:`abm.app.page`). DEVELOPERS.md says how it is built."""

#: Environment variables through which ``abm viz`` tells the app what to start with.
ENV_SCENARIO, ENV_PLACE, ENV_SAVE_DIR = "ABM_VIZ_SCENARIO", "ABM_VIZ_PLACE", "ABM_VIZ_SAVE_DIR"
