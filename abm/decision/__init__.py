"""Decision support: the best mixes of strategies for a place, for efficiency and for equity,
robust over what the calibration leaves uncertain.

- :mod:`abm.decision.space`: the policy space, read from the parameter declaration (levers,
  their plausible ranges, the budget-share constraint) and from the rules (which share
  switches which rule on, which lever belongs to which rule).
- :mod:`abm.decision.objectives`: what a mix is judged on (WELLBYs, the q5-q1 gap, Core20,
  NHS costs, extra money), paired with the status quo at the same posterior draw and seed.
- :mod:`abm.decision.spec`: ``abm frontier`` and ``abm what-it-takes`` spec files.
- :mod:`abm.decision.search`: evaluating mixes through the project's executors (resumable by
  run id) and the multi-objective search (pymoo's NSGA-II / NSGA-III, ask and tell).
- :mod:`abm.decision.aim`: "what would it take" for a stated aim.
- :mod:`abm.decision.outputs`: the frontier table, figure, mixes in words, scenario files.

This layer sits above ``calibration`` (its run store and posterior draws) and below
``abm.report`` and ``abm.app``, which show its results.
"""
