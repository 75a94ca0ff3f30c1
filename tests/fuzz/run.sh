#!/bin/sh
# run.sh -- run libFuzzer harnesses for a fixed number of inputs from a
# fixed seed (what `make fuzz` does).
#
#   run.sh CORPUS_DIR BIN_DIR NAME...
#
# Each harness BIN_DIR/fuzz_NAME starts from the committed seeds in
# CORPUS_DIR/NAME (read only) and keeps what it finds in
# fuzz-work/NAME/corpus; a crashing input lands in fuzz-work/NAME/ as
# crash-<sha1> (or leak-, timeout-, oom-), its log in fuzz-work/NAME/log.
# Prints "PASS: fuzz_NAME ..." or "FAIL: fuzz_NAME ..." per harness and
# exits 1 if any failed.
#
# Environment: FUZZ_RUNS (inputs per harness, default 100000), FUZZ_SEED
# (default 1), FUZZ_FLAGS (more libFuzzer flags, e.g. -max_total_time=60).
corpus=$1
bin=$2
shift 2
runs=${FUZZ_RUNS:-100000}
seed=${FUZZ_SEED:-1}
status=0
for name in "$@"; do
    work=fuzz-work/$name
    rm -rf "$work"
    mkdir -p "$work/corpus"
    # shellcheck disable=SC2086
    "$bin/fuzz_$name" -runs="$runs" -seed="$seed" -timeout=20 \
        -print_final_stats=1 -artifact_prefix="$work/" $FUZZ_FLAGS \
        "$work/corpus" "$corpus/$name" >"$work/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        echo "PASS: fuzz_$name (${execs:-?} runs, ${cov:-cov: ?})"
    else
        echo "FAIL: fuzz_$name (exit $rc; log: $work/log)"
        grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$work/log" |
            head -n 20
        status=1
    fi
done
exit $status
