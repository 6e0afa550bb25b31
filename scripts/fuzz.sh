#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one at a time (go test takes one
# -fuzz pattern per run), each for FUZZTIME (2000x by default: 2,000 inputs):
# the targets are the FuzzXxx functions of the _test.go files. A count, not a
# duration, by default: with a duration, Go 1.26's fuzzing coordinator can
# report "context deadline exceeded" as a failure when the time runs out on
# a busy machine (golang/go#75804, fixed in Go 1.27), with no failing input. A target that finds a failing
# input stops the run; go test writes the input under the package's
# testdata/fuzz/FuzzXxx/, where it becomes a seed once committed.
#
#   scripts/fuzz.sh                      every target, 2,000 inputs each
#   FUZZTIME=1000000x scripts/fuzz.sh    every target, a million inputs each
#   FUZZTIME=10m scripts/fuzz.sh         every target, ten minutes each
#   scripts/fuzz.sh FuzzQueryWords ...   only the targets named
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-2000x}
only=" $* "

# Lines "./package FuzzName", in a stable order.
targets=$(git ls-files '*_test.go' | xargs grep -H '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#./\1 \2#' | sort -u)
if [ -z "$targets" ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

start=$SECONDS
n=0
while read -r pkg name; do
	if [ "$only" != "  " ] && [[ $only != *" $name "* ]]; then
		continue
	fi
	echo "fuzz: $pkg $name for $fuzztime"
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg"
	n=$((n + 1))
done <<<"$targets"
echo "fuzz: $n targets, $((SECONDS - start))s"
