#!/bin/bash -eu
# A short campaign of every fuzz target, as CI runs it: the targets built by
# .clusterfuzzlite/build.sh (release with debug assertions, so an overflow is a crash), then
# each run SECONDS seconds (default 30) from its seed corpus with its dictionary, libFuzzer
# seeded with SEED (default 1) so that a failure names the seed that found it.
# A crash or divergence stops the script with libFuzzer's report and the bundle's path.
# Run from the repository root; LOCKSTEP_FIXTURES and FUZZ_BUILD_FLAGS go to build.sh.
seconds="${1:-30}"
seed="${SEED:-1}"
root="$(pwd)"
test -f "$root/fuzz/Cargo.toml" || { echo "run from the repository root" >&2; exit 2; }
base="$root/target/oss-fuzz"
export OUT="$base/out" WORK="$base/work"
export FUZZ_BUILD_FLAGS="${FUZZ_BUILD_FLAGS:--s none}"
"$root/.clusterfuzzlite/build.sh"

# Bundles of divergences and libFuzzer's crash inputs land here, out of the source tree.
runs="$base/runs"
rm -rf "$runs"
mkdir -p "$runs"
export LOCKSTEP_FUZZ_OUT="$runs/bundles" LOCKSTEP_FUZZ_SEEDS="$OUT/seeds.json"
for target in differential schedules statetest_mutation decoders; do
  corpus="$runs/corpus/$target"
  mkdir -p "$corpus"
  echo "== $target: ${seconds} s, -seed=$seed"
  # The seed corpus is read from its own folder and not written to; new inputs go to $corpus.
  "$OUT/$target" "$corpus" "$WORK/fuzz/corpus/$target" -dict="$OUT/$target.dict" \
    -max_total_time="$seconds" -seed="$seed" -artifact_prefix="$runs/" -print_final_stats=1 \
    2>"$runs/$target.log" || { tail -n 60 "$runs/$target.log" >&2; exit 1; }
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$runs/$target.log" || true
done
