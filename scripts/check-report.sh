#!/usr/bin/env bash
# Open an audit's report.html in headless Chromium, take a screenshot and dump the DOM, and check
# that the browser laid out the three charts (non-empty SVG marks) and the cluster table (its
# row count equals min(25, clusters with duplicates) from summary.json).
#
#   scripts/check-report.sh [AUDIT_DIR]
#
# Without AUDIT_DIR it builds neardup and audits ../shared/data/neardup/dev.jsonl (or, when that
# is absent, a small generated corpus). Installs Debian `chromium` with apt-get when missing
# (idempotent). Leaves report.png and report.dom.html in AUDIT_DIR. Exit 0 = all checks passed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

dir="${1:-}"
if [ -z "$dir" ]; then
    cargo build --quiet --bin neardup
    target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
    bin="$target/debug/neardup"
    work="$(mktemp -d)"
    dir="$work/audit"
    input=../shared/data/neardup/dev.jsonl
    if [ ! -f "$input" ]; then
        input="$work/corpus.jsonl"
        for i in $(seq 1 60); do
            printf '{"id":"d%s","source":"site%s","text":"Story %s: the council met on day %s to discuss the budget of district %s and its schools."}\n' \
                "$i" "$((i % 4))" "$((i % 20))" "$((i % 20))" "$((i % 20))" >>"$input"
        done
    fi
    # Exit code 1 only means some input items failed; they are listed in the summary.
    "$bin" audit --quiet --out "$dir" "$input" || [ $? -eq 1 ]
fi
report="$dir/report.html"
[ -f "$report" ] || { echo "no $report" >&2; exit 1; }
report_abs="$(cd "$dir" && pwd)/report.html"

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --user-data-dir="$profile" --window-size=1200,2400 --hide-scrollbars)

echo "== screenshot"
rm -f "$dir/report.png"
chromium "${flags[@]}" --screenshot="$dir/report.png" "file://$report_abs" >/dev/null 2>&1 || true
[ -s "$dir/report.png" ] || { echo "FAIL: no screenshot" >&2; exit 1; }
png_bytes=$(stat -c %s "$dir/report.png")
echo "report.png: $png_bytes bytes"
[ "$png_bytes" -gt 20000 ] || { echo "FAIL: screenshot looks blank ($png_bytes bytes)" >&2; exit 1; }

echo "== DOM"
chromium "${flags[@]}" --dump-dom "file://$report_abs" 2>/dev/null >"$dir/report.dom.html"
dom="$dir/report.dom.html"
grep -q 'data-rendered="1"' "$dom" || { echo "FAIL: the page's layout probe did not run" >&2; exit 1; }

fail=0
for chart in chart-cluster-sizes chart-similarity chart-boilerplate; do
    tag="$(grep -o "<svg[^>]*id=\"$chart\"[^>]*>" "$dom" | head -n 1)"
    marks="$(printf '%s' "$tag" | sed -n 's/.*data-rendered-marks="\([0-9]*\)".*/\1/p')"
    size="$(printf '%s' "$tag" | sed -n 's/.*data-rendered-size="\([0-9x]*\)".*/\1/p')"
    echo "$chart: ${marks:-?} marks laid out, ${size:-?} px"
    if [ -z "$marks" ] || [ "$marks" -eq 0 ] || [ "${size%%x*}" = "0" ]; then
        echo "FAIL: $chart rendered nothing" >&2
        fail=1
    fi
done

rows=$(grep -o '<tr class="cluster-row">' "$dom" | wc -l)
with_dups=$(sed -n 's/^  "clusters_with_duplicates": \([0-9]*\),$/\1/p' "$dir/summary.json")
expected=$(( with_dups < 25 ? with_dups : 25 ))
echo "cluster table: $rows rows (expected $expected)"
[ "$rows" -eq "$expected" ] || { echo "FAIL: cluster table rows" >&2; fail=1; }
[ "$rows" -gt 0 ] || { echo "FAIL: the corpus has no duplicate clusters to show" >&2; fail=1; }

[ "$fail" -eq 0 ] && echo "report OK: $dir"
exit "$fail"
