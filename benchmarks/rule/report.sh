#!/usr/bin/env bash
# Issue 13's report on the real run's table: the example rule (fitted on every sub-dataset,
# shipped as the built-in `smollm2-proxy`), held-out comparisons on three seeded 50/50 splits,
# and the proxy's cost and signal-to-noise. Every output lands in benchmarks/results/rule/.
set -euo pipefail
cd "$(dirname "$0")/../.."
IM="${IM:-instructmine}"
T=benchmarks/results/rule/experiments.jsonl
R=benchmarks/results/rule
export COLUMNS=200
$IM fit "$T" -o "$R/smollm2-proxy.json" --name smollm2-proxy --description \
  "Fitted by InstructMine's own proxy experiments, not quoted from the paper: frozen-trunk proxy fine-tunes of SmolLM2-135M-Instruct (bottom 20 of 30 layers cached, top 10 trained; an offline substitute for the paper's LLaMA-2 7B LoRA fine-tunes) on sub-datasets of a 7-source pool (Alpaca, alpagasus, Dolly, CodeAlpaca, GPTeacher, GSM8K, P3), eval loss on self-instruct's user-oriented set; made by benchmarks/rule/report.sh." \
  | tee "$R/fit.txt"
cp "$R/smollm2-proxy.json" src/instructmine/data/rules/smollm2-proxy.json
for s in 0 1 2; do
  $IM compare "$T" --split-seed "$s" -o "$R/compare_split$s.md" | tee "$R/compare_split$s.txt"
done
python benchmarks/proxy.py "$T" | tee "$R/proxy.txt"
