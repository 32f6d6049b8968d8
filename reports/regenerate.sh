#!/usr/bin/env bash
# Regenerates every committed report: the reference endpoint under both profiles, each
# third-party server (suite + fuzz campaigns, and its baseline of known divergences), the
# comparison matrix, the certificates under reports/certificates/ with a screenshot of one, and
# the README's certificate table. Needs the servers installed: .ci/endpoints.sh install
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
# Certificates (`s3conform certify`, quick level, seed 12): the reference endpoint under both
# profiles, then each third-party server under the profile of its report. Certificates are not
# normalized: their evidence digest must match the bytes `certify --verify` reads.
for p in coreweave aws; do
  rm -rf "reports/certificates/reference-$p" s3conform-out/certify-reference-$p
  "$bin" certify -q --seed 12 --profile "$p" --out "s3conform-out/certify-reference-$p" >/dev/null || true
  mkdir -p "reports/certificates/reference-$p"
  for f in certificate.json certificate.md certificate.html badge.svg evidence.json; do
    cp s3conform-out/certify-reference-$p/latest/$f "reports/certificates/reference-$p/"
  done
done
S3CONFORM_WRITE_REPORTS=1 cargo test --quiet --test tests -- endpoints_certify:: --test-threads 1 --include-ignored
# A screenshot of one not-conformant certificate page as headless Chromium renders it
# (SeaweedFS's when it is not conformant, else the first that is not), linked from the README's
# table; skipped with a message when Chromium is absent.
rm -f reports/certificates/*/screenshot.png
shot=""
for d in reports/certificates/seaweedfs reports/certificates/*; do
  if grep -q '^  "verdict": "not-conformant"' "$d/certificate.json" 2>/dev/null; then shot="$d"; break; fi
done
chrome="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$chrome" ]; then
  echo "regenerate.sh: no chromium on PATH; no screenshot taken" >&2
elif [ -z "$shot" ]; then
  echo "regenerate.sh: no certificate is not conformant; no screenshot taken" >&2
else
  timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1280,1600 --screenshot="$PWD/$shot/screenshot.png" "file://$PWD/$shot/certificate.html" 2>/dev/null \
    || echo "regenerate.sh: chromium failed; no screenshot taken" >&2
fi
# The README's certificate table, rendered from the certificates just made (tests/certdocs.rs).
S3CONFORM_WRITE_DOCS=1 cargo test --quiet --test tests -- certdocs::the_readme_table_is_the_committed_certificates
"$bin" compare reports/*.json --markdown reports/COMPARISON.md --html reports/COMPARISON.html --quiet
