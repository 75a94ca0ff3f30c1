#!/bin/sh
# long_run.sh -- a long fuzzing campaign, one harness after another on one
# core, for the figures in docs/fuzzing.md.
#
#   long_run.sh BIN_DIR CORPUS_DIR OUT_DIR NAME:SECONDS...
#
# Each harness runs for its seconds (libFuzzer -max_total_time) from the
# committed seeds plus OUT_DIR/NAME/corpus, which it grows.  After a crash
# the input is kept in OUT_DIR/NAME/ and the harness starts again for the
# time that is left (at most 5 times).  Prints one line per harness:
# executions, coverage, features, corpus size, crashes.
bin=$1
corpus=$2
out=$3
shift 3
for spec in "$@"; do
    name=${spec%%:*}
    left=${spec#*:}
    dir=$out/$name
    mkdir -p "$dir/corpus"
    execs=0
    crashes=0
    tries=0
    while [ "$left" -gt 0 ] && [ "$tries" -lt 6 ]; do
        t0=$(date +%s)
        "$bin/fuzz_$name" -max_total_time="$left" -timeout=20 -seed=$((tries + 1)) \
            -print_final_stats=1 -artifact_prefix="$dir/" \
            "$dir/corpus" "$corpus/$name" >"$dir/log.$tries" 2>&1 ||
            crashes=$((crashes + 1))
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.$tries")
        execs=$((execs + ${n:-0}))
        left=$((left - ($(date +%s) - t0)))
        tries=$((tries + 1))
    done
    last=$dir/log.$((tries - 1))
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9a-zA-Z]*' "$last" | tail -n 1)
    echo "$name: $execs executions, $cov, $crashes crash(es)"
done
