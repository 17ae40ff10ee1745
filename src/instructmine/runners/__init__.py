"""Runners execute indicators over a pool; the indicator code is the same under every runner.

Scoring streams chunks through its own runners (``local``, ``ray_runner``); which one runs is
chosen like every other stage's backend (:func:`instructmine.execute.backend_name`). Units of
work of the other stages run on :mod:`instructmine.execute`.
"""
