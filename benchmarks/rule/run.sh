#!/usr/bin/env bash
# The real run of issue 13: ingest 7 sources, 240 records each -> candidates, cheap scores,
# then `instructmine experiments run` (resumable: re-run this script to continue).
set -euo pipefail
cd "$(dirname "$0")/../.."
IM="${IM:-instructmine}"
D="${DATA:-../shared/data}"
O=benchmarks/out/rule/pools
mkdir -p "$O"
ing() { [ -f "$1" ] || $IM ingest "${@:3}" -o "$1" --source "$2"; }
ing $O/alpaca.parquet alpaca "$D/alpaca_5000/alpaca_5000.json.gz"
ing $O/alpagasus.parquet alpagasus "$D/alpagasus/random_9k.json.gz"
ing $O/dolly.parquet dolly "$D/alpagasus/dolly_3k.json.gz"
ing $O/codealpaca.parquet codealpaca "$D/codealpaca/code_alpaca_2k.json.gz"
ing $O/gpteacher.parquet gpteacher "$D/gpteacher/roleplay-simple-deduped-roleplay-dataset.json.gz" \
  "$D/gpteacher/toolformer-dedupe-only-dataset.json.gz"
ing $O/gsm8k.parquet gsm8k "$D/gsm8k_alpaca/gsm_8k_train.json.gz"
# shellcheck disable=SC2046
ing $O/p3.parquet p3 $(ls "$D"/p3_t0_sample/templates/*.jsonl.gz | head -12)
ing $O/eval_self_instruct.parquet self_instruct "$D/self_instruct_user_oriented/user_oriented_instructions.jsonl"
[ -f $O/candidates.parquet ] || python benchmarks/rule/make_candidates.py $O/candidates.parquet 240 \
  $O/alpaca.parquet $O/alpagasus.parquet $O/dolly.parquet $O/codealpaca.parquet \
  $O/gpteacher.parquet $O/gsm8k.parquet $O/p3.parquet
$IM score $O/candidates.parquet -o benchmarks/out/rule/scores -i input_length -i output_length \
  -i mtld -i knn_6 --threads 1 --no-progress
exec $IM experiments run benchmarks/rule_experiments.yaml --no-progress
