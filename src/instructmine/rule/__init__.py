"""The InstructMining rule: proxy experiments, the fit, rules and ranking."""
