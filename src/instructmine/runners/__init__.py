"""Runners execute indicators over a pool; the indicator code is the same under every runner.

:mod:`instructmine.runners.collect` records finished units of the mixture grid and the proxy
experiments, run in local processes or on Ray.
"""
