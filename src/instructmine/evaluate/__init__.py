"""Evaluation: eval loss, NLP multiple-choice benchmarks (lm-eval), HumanEval/MBPP in a sandbox,
and judge-graded chat quality. See ``docs/evaluation.md``.

Submodules import their heavy dependencies inside functions; import them directly.
"""
