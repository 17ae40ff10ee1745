#!/usr/bin/env bash
# The real 8-mixture grid of issue 14 (docs/mixtures.md, "The real run"): None + A, C, P, AC,
# AP, CP, ACP over alpaca_5000 (chat), codealpaca (code) and p3_t0_sample (NLP), three seeds.
# Resumable across machines: the results tables benchmarks/results/mix-{paper,ratio}/results.jsonl
# are tracked, and a (mixture, seed) already in one is never run again. Re-run to continue.
# Modes: grid (default), sweep (the C:A ratio sweep), proposal (mix optimise --run), summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
IM="${IM:-instructmine}"
D="${DATA:-../shared/data}"
P=runs/mix-paper/pools
mkdir -p "$P"
ing() { [ -f "$1" ] || $IM ingest "$2" -o "$1"; }
ing $P/alpaca_5000.parquet "$D/alpaca_5000/alpaca_5000.json.gz"
ing $P/codealpaca.parquet "$D/codealpaca/code_alpaca_2k.json.gz"
ing $P/p3_t0_sample.parquet "$D/p3_t0_sample/templates"
case "${1:-grid}" in
  grid)  # the 8 mixtures x 3 seeds (22 units: None once)
    exec $IM mix grid docs/mix/paper_grid.yaml --run --workers "${WORKERS:-2}" ;;
  sweep)  # C:A = 0.5, 1.5, 3 x 3 seeds (docs/mix/ratio_sweep.yaml)
    exec $IM mix grid docs/mix/ratio_sweep.yaml --run --workers "${WORKERS:-2}" ;;
  proposal)  # the optimiser's ratio for nlp=1,code=1,chat=2, run at the grid's seeds
    exec $IM mix optimise benchmarks/results/mix-paper/results.jsonl \
      --weights nlp=1,code=1,chat=2 --grid docs/mix/paper_grid.yaml --total 864 --run ;;
  summary)
    $IM mix summary docs/mix/paper_grid.yaml
    exec $IM mix summary docs/mix/ratio_sweep.yaml ;;
  *) echo "usage: $0 [grid|sweep|proposal|summary]" >&2; exit 2 ;;
esac
