"""Distil an LLM judge into a fast quality scorer of (prompt, response) (issue 29, docs/scorer.md).

- :mod:`~instructmine.scorer.pool`: judge labels as a labelled pool (the shared AlpacaEval
  judgements loader) and the label-sampling helper with its cost estimate;
- :mod:`~instructmine.indicators.quality_features`: cheap text indicators and chunked MiniLM
  embeddings (answers longer than MiniLM's 256-token window are embedded window by window);
- :mod:`~instructmine.indicators.quality_model`: the scorer itself, trained *within instruction*
  (labels and features centred per instruction), saved as a small folder;
- :mod:`~instructmine.scorer.metrics`: agreement on answers of held-out models (within-instruction
  Spearman, pairwise accuracy, both raw and with answer length held fixed, bootstrap CIs);
- :mod:`~instructmine.scorer.evaluate`: the split by model, the learning curve, answer length's
  own figures and the adversarial check.
"""
