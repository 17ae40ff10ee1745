#!/usr/bin/env bash
# The real run of issue 16 (docs/selection.md, "The real run"): alpagasus random_9k scored with
# the offline default set, ranked by the built-in rule smollm2-proxy, then the size search
# (proxy, one epoch per subset) and select-compare at n = 100 and 250 (plain LoRA).
# Every step resumes: the score cache, the trials and the compare rows are under the tracked
# benchmarks/results/select/ (work files git-ignored), so a re-run continues where a killed or
# reset machine stopped. Steps: `run.sh [score|size|compare]...` (default: all, in order).
set -euo pipefail
cd "$(dirname "$0")/../.."
IM="${IM:-instructmine}"
D="${DATA:-../shared/data}"
O=benchmarks/out/select/pools
R=benchmarks/results/select
mkdir -p "$O" "$R"
ing() { [ -f "$1" ] || $IM ingest "${@:3}" -o "$1" --source "$2"; }
ing $O/random_9k.parquet alpagasus "$D/alpagasus/random_9k.json.gz"
ing $O/eval_self_instruct.parquet self_instruct "$D/self_instruct_user_oriented/user_oriented_instructions.jsonl"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(score size compare)
for step in "${steps[@]}"; do
  case $step in
    score)
      $IM score $O/random_9k.parquet -o $R/scores --threads 2 --no-progress
      $IM rank $R/scores --rule smollm2-proxy -o benchmarks/out/select/ranked.parquet ;;
    size)  # the trunk cache on both cores first; the search's two 1-thread workers then find it
      # (in the default content-keyed $INSTRUCTMINE_CACHE/trunk: it outlives a fresh checkout)
      $IM experiments trunk $O/random_9k.parquet $O/eval_self_instruct.parquet \
        --threads 2 --no-progress
      $IM search-size docs/select/size_search.yaml ;;
    compare)  # RDS+ vectors (one per record, 21 MB for 9k; git-ignored) live in $R/rds, beside
      # the compare rows: the content-keyed cache folder links there (one embed, ≈ 54 min, 1 thread)
      C="${INSTRUCTMINE_CACHE:-$HOME/.cache/instructmine}"
      mkdir -p "$R/rds" "$C"
      [ -e "$C/rds" ] || ln -s "$PWD/$R/rds" "$C/rds"
      $IM select-compare docs/select/compare_100.yaml
      $IM select-compare docs/select/compare_250.yaml ;;
    *) echo "unknown step $step (score, size or compare)" >&2; exit 2 ;;
  esac
done
