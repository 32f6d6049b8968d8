#!/usr/bin/env bash
# Regenerates every committed report: the reference endpoint under both profiles, each
# third-party server (suite + fuzz campaigns, and its baseline of known divergences), and the
# comparison matrix. Needs the servers installed: .ci/endpoints.sh install
#
# The fuzz campaigns are the `CAMPAIGNS` of tests/endpoints_suite.rs, each on a fresh server:
# the default mix (`s3conform fuzz` with no --mix) on every server, then safe creates racing
# deletes, read-modify-write loops, and conditional CompleteMultipartUpload racing conditional
# PUT. A campaign that cannot run (the server did not start or stopped answering) is written
# as a failed campaign with its reason, and `compare` shows it as such.
#
# Run reports are written normalized (`run --stable-json`, `report::json::normalize`): start
# time, durations, ports, request ids and upload ids are replaced, each case's dates are shifted
# to start at 2001-01-01 and its instants become their order, so a regeneration's diff shows
# only what the servers answered. The fuzz witnesses inside the reports keep their timings: a
# campaign's interleaving is itself not reproducible. tests/report_regenerate.rs checks that
# the committed files are normalized and that COMPARISON.* is what `compare` makes of them.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/s3conform-target}"
cargo build --quiet
bin="$CARGO_TARGET_DIR/debug/s3conform"
for p in coreweave aws; do
  "$bin" run --quiet --profile "$p" --stable-json --json "reports/reference-$p.json" >/dev/null || true
done
S3CONFORM_WRITE_REPORTS=1 cargo test --quiet --test tests -- endpoints_suite:: --test-threads 1 --include-ignored
"$bin" compare reports/*.json --markdown reports/COMPARISON.md --html reports/COMPARISON.html --quiet
