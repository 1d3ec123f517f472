# lockstep recipes. `just --list` shows them.

fixtures_dir := env_var_or_default("LOCKSTEP_FIXTURES", "../shared/fixtures")

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

# A cargo-fuzz campaign on stable (`cargo install cargo-fuzz --locked`): TARGET is
# differential or schedules; a divergence stops it with the path of its minimized bundle.
fuzz TARGET="differential" *ARGS:
    cargo fuzz run -s none {{TARGET}} {{ARGS}}

# All official state tests on every bundled executor, then packed into multi-transaction blocks.
conformance:
    cargo run --release -- statetest --executor sequential --executor block-stm --exec-threads 2
    cargo run --release -- statetest --packed --executor sequential --executor block-stm --exec-threads 2

# Download the pinned official fixtures into DIR (needs internet).
fixtures dir=fixtures_dir:
    #!/usr/bin/env bash
    set -euo pipefail
    dir="{{dir}}"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$dir/ethereum-tests" "$dir/eest"
    commit=4c87ebbf024a3e9ec842bcce90564f629a3bcd82
    curl -fsSL "https://github.com/ethereum/tests/archive/$commit.tar.gz" | tar xz -C "$tmp"
    rm -rf "$dir/ethereum-tests/GeneralStateTests" "$dir/ethereum-tests/BlockchainTests"
    mv "$tmp/tests-$commit/GeneralStateTests" "$dir/ethereum-tests/"
    mkdir -p "$dir/ethereum-tests/BlockchainTests"
    mv "$tmp/tests-$commit/BlockchainTests/ValidBlocks" "$dir/ethereum-tests/BlockchainTests/"
    for rel in pectra-devnet-5 fusaka-devnet-5; do
      mkdir -p "$tmp/$rel" "$dir/eest/$rel"
      curl -fsSL "https://github.com/ethereum/execution-spec-tests/releases/download/$rel%40v1.1.0/fixtures_$rel.tar.gz" \
        | tar xz -C "$tmp/$rel"
      rm -rf "$dir/eest/$rel/state_tests"
      mv "$tmp/$rel/fixtures/state_tests" "$dir/eest/$rel/"
    done
    # Left out on purpose, as in the shared copy: EOF (removed from Prague) and seven files
    # filled before the final EIP-7623/EIP-7702 rules.
    find "$dir/eest/pectra-devnet-5/state_tests" -type d -name '*eof*' -prune -exec rm -rf {} +
    p="$dir/eest/pectra-devnet-5/state_tests/prague"
    rm -f "$p"/eip7623_increase_calldata_cost/execution_gas/{full_gas_consumption,gas_consumption_below_data_floor,gas_refunds_from_data_floor}.json
    rm -f "$p"/eip7702_set_code_tx/set_code_txs/ext_code_on_{set_code,self_set_code,chain_delegating_set_code,self_delegating_set_code}.json
    echo "fixtures in $dir"
