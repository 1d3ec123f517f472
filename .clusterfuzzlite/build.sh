#!/bin/bash -eu
# Builds every target of fuzz/ into $OUT, as OSS-Fuzz and ClusterFuzzLite call it: from the
# repository root (the image's WORKDIR), with $OUT and $WORK set.
# It runs outside Docker too (`just fuzz-oss`): with LOCKSTEP_FIXTURES set it uses those
# fixtures instead of fetching the pinned ones, and FUZZ_BUILD_FLAGS replaces the build flags
# (`-s none` where no sanitizer runtime is installed).
#
# $OUT gets, for each TARGET: the binary, TARGET.dict (the shared dictionary) and
# TARGET_seed_corpus.zip; and seeds.json, which statetest_mutation reads beside its binary.
OUT="${OUT:?set OUT to where the targets go}"
WORK="${WORK:-$(mktemp -d)}"
root="$(pwd)"
test -f "$root/fuzz/Cargo.toml" || { echo "run from the repository root" >&2; exit 2; }
mkdir -p "$OUT" "$WORK"
OUT="$(cd "$OUT" && pwd)"
WORK="$(cd "$WORK" && pwd)"

fixtures="${LOCKSTEP_FIXTURES:-}"
if [ -z "$fixtures" ]; then
  cargo run --release -- fixtures fetch --dir "$WORK/fixtures"
  fixtures="$WORK/fixtures"
fi
cargo run --release -- fuzz corpus --out "$WORK/fuzz" --fixtures "$fixtures"

cd "$root/fuzz"
# Release with debug assertions: an overflow is a crash, as it would be in a debug build.
# shellcheck disable=SC2086
cargo fuzz build -O --debug-assertions ${FUZZ_BUILD_FLAGS:-}
release="$root/fuzz/target/x86_64-unknown-linux-gnu/release"
for target in $(cargo fuzz list); do
  cp "$release/$target" "$OUT/"
  cp "$WORK/fuzz/lockstep.dict" "$OUT/$target.dict"
  (cd "$WORK/fuzz/corpus/$target" && python3 -m zipfile -c "$OUT/${target}_seed_corpus.zip" .)
done
cp "$WORK/fuzz/seeds.json" "$OUT/seeds.json"
