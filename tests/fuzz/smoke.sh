#!/bin/sh
# Short fuzz run for the test suite: new inputs go to a scratch directory,
# so the seed corpus in the repository is only read.
# usage: smoke.sh FUZZER SEED_DIR SCRATCH_DIR [libFuzzer flags...]
set -eu
fuzzer=$1 seed=$2 scratch=$3
shift 3
mkdir -p "$scratch"
exec "$fuzzer" "$@" "$scratch" "$seed"
