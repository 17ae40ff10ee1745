import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # execute_units, importable by spawned workers
