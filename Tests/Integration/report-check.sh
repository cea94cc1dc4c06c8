#!/usr/bin/env bash
# Integration test: the report of a small real run, rendered by a real browser (Debian's
# chromium, headless; installed with apt-get when missing):
#   - `run` writes report/index.html and says where;
#   - after the page's script ran, the DOM has every section, a chart in each (but the first),
#     and the script's own check says "ok";
#   - the browser logs no console error and no refused request (the page's content security
#     policy refuses any fetch, so a request would show as one);
#   - a screenshot PNG is taken (kept at $CJE_REPORT_SCREENSHOT when set).
# Usage: Tests/Integration/report-check.sh [path/to/cje-prep]    (CJE_MODEL must be set)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin report-check "${1:-}"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    need_packages chromium:chromium
    browser=$(command -v chromium)
fi

check_workdir
{
    printf 'n: 8\nseed: 21\n'
    three_policies 48
    echo "oracle: {fraction: 0.5}"
} >"$work/config.yaml"
say "a run of 8 prompts"
"$tool" run --dir "$work/run" --config "$work/config.yaml" >"$work/run.out" 2>&1 ||
    { cat "$work/run.out" >&2; fail "the run failed"; }
page="$work/run/report/index.html"
grep -q "^report: $page$" "$work/run.out" || { tail -5 "$work/run.out" >&2; fail "run did not say where the report is"; }

chrome() { timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 "$@" "file://$page"; }
chrome --virtual-time-budget=3000 --dump-dom >"$work/dom.html" 2>"$work/console.log" || fail "chromium could not load the page"
grep -q 'data-report-check="ok"' "$work/dom.html" ||
    fail "the page's check says: $(grep -o 'data-report-check="[^"]*"' "$work/dom.html" || echo "nothing (the script did not run)")"
for section in glance weights judge oracle estimates stages; do
    grep -q "<section id=\"$section\" data-section=\"$section\">" "$work/dom.html" || fail "no section $section in the DOM"
done
charts=$(grep -o '<svg class="chart"' "$work/dom.html" | wc -l)
[ "$charts" -ge 8 ] || fail "only $charts charts in the DOM"
if grep -E "CONSOLE|Refused to|ERR_BLOCKED|net::ERR" "$work/console.log" | grep -v "dbus" >"$work/errors.log"; then
    cat "$work/errors.log" >&2
    fail "the browser logged console errors or refused requests"
fi
say "ok: after the page's script: 6 sections, $charts charts, its check ok; no console error, no request"
shot=${CJE_REPORT_SCREENSHOT:-$work/report.png}
chrome --window-size=1200,2800 --screenshot="$shot" >/dev/null 2>&1 || fail "no screenshot"
[ "$(stat -c %s "$shot")" -gt 20000 ] || fail "the screenshot $shot is nearly empty"
say "ok: screenshot $shot ($(stat -c %s "$shot") bytes)"
say "all checks passed"
