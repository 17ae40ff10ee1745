"""InstructMine: score, select and mix instruction-tuning data, fine-tune, evaluate and report."""

__version__ = "0.1.0"
