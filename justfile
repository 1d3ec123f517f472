# lockstep recipes. `just --list` shows them.


# The test suite (what CI runs).
test:
    cargo test --workspace

# The main job: generated blocks on every executor, compared with the reference.
run *ARGS:
    cargo run --release -- run {{ARGS}}

# Executor throughput on the generated workloads.
bench *ARGS:
    cargo run --release -- bench {{ARGS}}

# Recompile the workload contracts with the pinned solc-js (needs npm).
contracts:
    cd harness/contracts && npm ci --no-audit --no-fund && node build.js

# loom models of Block-STM's scheduler and MVMemory (toy VM, 2 workers, preemption bound 2).
loom:
    RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p lockstep-executors --no-default-features --test loom_block_stm --release --target-dir target-loom

# A cargo-fuzz campaign on stable (`cargo install cargo-fuzz --locked`) from the seed corpus and
# with the dictionary: TARGET is differential, schedules, statetest_mutation or decoders; a
# divergence stops it with the path of its minimized bundle. ARGS go to libFuzzer
# (`-fork=2`, `-jobs=4 -workers=2`, `-max_total_time=600`).
fuzz TARGET="differential" *ARGS: fuzz-corpus
    cd fuzz && cargo fuzz run -s none {{TARGET}} corpus/{{TARGET}} -- -dict=lockstep.dict {{ARGS}}

# The fuzz targets' seeds (fuzz/seeds.json), seed corpora (fuzz/corpus/) and dictionary
# (fuzz/lockstep.dict), from the fixtures and the workload families; none is committed.
fuzz-corpus:
    cargo run --release -- fuzz corpus --out fuzz

# The OSS-Fuzz / ClusterFuzzLite build script, outside Docker: the targets, dictionaries, seed
# corpora and seeds into target/oss-fuzz/out.
fuzz-oss:
    OUT=target/oss-fuzz/out WORK=target/oss-fuzz/work FUZZ_BUILD_FLAGS="-s none" .clusterfuzzlite/build.sh

# A short campaign of every fuzz target (CI's): built by the OSS-Fuzz script, each run SECONDS
# from its seed corpus with the dictionary, libFuzzer seeded by $SEED (default 1).
fuzz-smoke SECONDS="30":
    fuzz/smoke.sh {{SECONDS}}

# Every seeded Block-STM bug against every search strategy, and the unmutated build as the
# control (`lockstep hunt`, a build with the planted-bugs feature): ARGS go to it.
hunt *ARGS:
    cargo run --release --features planted-bugs -- hunt {{ARGS}}

# Every official fixture (state tests and blockchain tests) on every bundled executor, then both
# kinds packed into multi-transaction blocks.
conformance:
    cargo run --release -- conformance --executor sequential --executor block-stm --threads 2
    cargo run --release -- statetest --packed --executor sequential --executor block-stm --threads 2
    cargo run --release -- blocktest --packed --executor sequential --executor block-stm --threads 2

# The full conformance report: every shared state-test folder on both bundled executors, plain
# and packed, a short generated-workload run and a bench, each into lockstep-out/report/ (a
# failure or divergence does not stop the recipe; each report says what it found).
report:
    -cargo run --release -- conformance -e sequential -e block-stm --threads 2 --no-minimize --report lockstep-out/report/conformance
    -cargo run --release -- statetest --packed -e sequential -e block-stm --threads 2 --no-minimize --report lockstep-out/report/packed
    -cargo run --release -- run --duration 60 --seed 1 --out lockstep-out/report/run-bundles --report lockstep-out/report/run
    cargo run --release -- bench --txs 2000 --repeat 5 --report lockstep-out/report/bench

# Download the pinned official fixtures and verify their content hashes, into the cache
# (~/.cache/lockstep/fixtures) or ARGS' --dir; sets already there and intact are kept (needs
# internet, or --mirror / LOCKSTEP_FIXTURES_MIRROR=URL-or-DIR).
fixtures *ARGS:
    cargo run --release -- fixtures fetch {{ARGS}}

# Install the execution specification (EELS, pinned in spec/requirements.txt) into
# .lockstep/spec-venv; `--executors spec/lockstep.toml` then names it `eels` (needs PyPI).
spec:
    python3 -m venv .lockstep/spec-venv
    .lockstep/spec-venv/bin/pip install --quiet --no-deps -r spec/requirements.txt
    .lockstep/spec-venv/bin/ethereum-spec-evm --version
