"""Evaluation: eval loss, NLP multiple-choice benchmarks (lm-eval), HumanEval/MBPP in a sandbox,
and judge-graded chat quality. See ``docs/evaluation.md``.

``evaluate(model_or_run, suites, limit, out, config)`` runs the suites and writes one results
JSON; ``demo_config()`` is a cheap setting. Heavy dependencies load inside the functions.
"""

from instructmine.evaluate.run import SUITES, EvalConfig, demo_config, evaluate

__all__ = ["SUITES", "EvalConfig", "demo_config", "evaluate"]
