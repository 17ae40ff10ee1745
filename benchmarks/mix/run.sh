#!/usr/bin/env bash
# The real 8-mixture grid of issue 14 (docs/mixtures.md, "The real run"): None + A, C, P, AC,
# AP, CP, ACP over alpaca_5000 (chat), codealpaca (code) and p3_t0_sample (NLP), three seeds.
# Resumable across machines: the results table benchmarks/results/mix-paper/results.jsonl is
# tracked, and a (mixture, seed) already in it is never run again. Re-run to continue.
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
exec $IM mix grid docs/mix/paper_grid.yaml --run --workers "${WORKERS:-2}" \
  --only None --only A --only C --only P --only AC --only AP --only CP --only ACP
