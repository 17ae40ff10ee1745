"""Instruction mixtures: specs, building, grids of mixtures and ratio optimisation (DESIGN §2.4).

- :mod:`instructmine.mix.spec` — the typed mixture spec (YAML) and its resolution to counts;
- :mod:`instructmine.mix.build` — sampling a spec into a pool plus a manifest of exact ids;
- :mod:`instructmine.mix.grid` — grids (every non-empty combination, ratio sweeps) and the
  resumable results table fed by a pluggable per-mixture unit of work;
- :mod:`instructmine.mix.optimise` — per-skill regressions from ratios and the proposed ratio;
- :mod:`instructmine.mix.plot` — the trade-off plot.
"""
