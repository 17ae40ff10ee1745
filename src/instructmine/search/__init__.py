"""Subset-size search: which n (top-n by a rule) gives the lowest eval loss, against random n.

- ``objective.py``: the plug-in interface — a ``Trial`` (n, arm, seed), the ``Objective``
  protocol (``trial -> loss``), the factory that builds one from the config, and ``Ranking``
  (the top-n or a seeded random n of the ranked records).
- ``trials.py``: the trials table (JSONL, one atomic append per finished trial) = the memo a
  re-run resumes from.
- ``run.py``: a log-spaced grid, then FLAML BlendSearch over integer n, random baselines at
  each n, trials run in parallel local processes.
"""
