"""Subset-size search: which n (top-n by a rule) gives the lowest eval loss, against random n.

- ``objective.py``: the plug-in interface — the ``Objective`` protocol (``trial -> loss``),
  the ``SearchContext`` a factory gets and the factory that builds one from the config. The
  ``Trial`` (n, arm, seed) and the ``Ranking`` (the top-n or a seeded random n of the ranked
  records) live in :mod:`instructmine.select.subsets`, and the trials table (JSONL, one atomic
  append per finished trial = the memo a re-run resumes from) in
  :mod:`instructmine.select.trials`: ``select-compare`` uses them too, and search sits on top
  of select.
- ``run.py``: a log-spaced grid, then FLAML BlendSearch over integer n, random baselines at
  each n, trials run in parallel local processes.
"""
