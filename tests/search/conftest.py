import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # cheap_objective, importable by the search
