#!/usr/bin/env bash
# Integration test: a model named by Hugging Face reference, through the real command line.
# A local stand-in for the Hub's resolve endpoint (fake_hub.py) serves the demo model as
# test/SmolLM2-135M-Instruct-GGUF; its first requests meet a 429 and a connection dropped halfway.
#   - `cje-prep fetch-models` downloads it into a fresh hub cache (HF_HUB_CACHE) with one retry and
#     one Range resume, in huggingface_hub's layout, sha256 checked;
#   - `cje-prep run` with that config makes the same responses as the run naming the file by path;
#   - huggingface_hub (Python, from PyPI into a cached venv) finds the file cje-prep fetched, and
#     cje-prep (offline) finds a file huggingface_hub fetched: one cache, one layout;
#   - two fetch-models at once into one fresh cache download the file once;
#   - with the stand-in stopped and HF_HUB_OFFLINE=1 the run resumes from the cache;
#   - a missing file and a gated repository fail before anything is written, saying what to do;
#   - a cache on a disk too small for the model is refused before the download (root: a tmpfs).
# Usage: Tests/Integration/hub-check.sh [path/to/cje-prep]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin hub-check "${1:-}" --no-model
model=${CJE_MODEL:-"$CACHE/models/SmolLM2-135M-Instruct.Q8_0.gguf"}

check_workdir
server=""
on_exit '[ -n "$server" ] && kill "$server" 2>/dev/null'
commit=0123456789abcdef0123456789abcdef01234567
repo=test/SmolLM2-135M-Instruct-GGUF
file=SmolLM2-135M-Instruct.Q8_0.gguf
sha=$(sha256sum "$model" | cut -d' ' -f1)
cat > "$work/spec.json" <<JSON
{"repos": {"$repo": {"commit": "$commit", "files": {"$file": "$model"}},
           "test/by-huggingface-hub": {"commit": "$commit", "files": {"$file": "$model"}},
           "test/gated": {"commit": "$commit", "files": {"$file": "$model"}, "gated": true}},
 "token": "hf_good", "faults": ["429", "drop"]}
JSON
python3 "$here/fake_hub.py" "$work/spec.json" "$work/port" &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
export HF_ENDPOINT="http://127.0.0.1:$(cat "$work/port")" HF_HUB_CACHE="$work/hub"
unset HF_TOKEN HF_HUB_OFFLINE

policies='policies:
  - {name: p0, system_prompt: "You are a helpful assistant.", max_tokens: 24}
  - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", max_tokens: 24}'
printf 'n: 3\nmodels:\n  default: {hf: %s, file: %s}\n%s\n' "$repo" "$file" "$policies" > "$work/hub.yaml"
printf 'n: 3\nmodels:\n  default: {path: %s}\n%s\n' "$model" "$policies" > "$work/path.yaml"

say "fetch-models through a 429 and a dropped connection"
"$tool" fetch-models --config "$work/hub.yaml" > "$work/fetch.log" 2>&1 || { cat "$work/fetch.log"; fail "fetch-models"; }
cat "$work/fetch.log" >&2
grep -q "commit ${commit:0:12}" "$work/fetch.log" || fail "no commit in the fetch-models output"
grep -q "downloaded .* 2 retries" "$work/fetch.log" || fail "expected two retries (the 429, the drop) in the output"
stats=$(curl -s "$HF_ENDPOINT/stats")
python3 - "$stats" "$(stat -c %s "$model")" <<'PY' || fail "the stand-in's counts"
import json, sys
stats, size = json.loads(sys.argv[1]), int(sys.argv[2])
print(f"hub-check: stand-in: {stats['downloads']} downloads, ranges {stats['ranges']}, "
      f"{stats['bytes_sent']} bytes sent for a {size}-byte file: {stats['bytes_sent'] - size} re-sent", file=sys.stderr)
assert stats["faults"] == {"429": 1, "drop": 1}, stats["faults"]
assert stats["ranges"][0] == "" and stats["ranges"][1].startswith("bytes="), stats["ranges"]
assert stats["bytes_sent"] == size, "bytes were sent twice"
PY
blob="$HF_HUB_CACHE/models--test--SmolLM2-135M-Instruct-GGUF/blobs/$sha"
[ -f "$blob" ] || fail "no blob named by the sha256"
[ "$(readlink "$HF_HUB_CACHE/models--test--SmolLM2-135M-Instruct-GGUF/snapshots/$commit/$file")" = "../../blobs/$sha" ] \
    || fail "the snapshot is not a relative link to the blob"
[ "$(cat "$HF_HUB_CACHE/models--test--SmolLM2-135M-Instruct-GGUF/refs/main")" = "$commit" ] || fail "refs/main"

say "a run with the Hub model and one with the file by path make the same responses"
"$tool" run --config "$work/hub.yaml" --dir "$work/hub-run" --through generate > "$work/hub-run.log" 2>&1 \
    || { cat "$work/hub-run.log"; fail "run with the Hub model"; }
grep -q "model default: .*snapshots/$commit/$file (hf:$repo/$file@main at commit $commit)" "$work/hub-run.log" || { cat "$work/hub-run.log"; fail "the log does not name the snapshot and the reference"; }
"$tool" run --config "$work/path.yaml" --dir "$work/path-run" --through generate > "$work/path-run.log" 2>&1 \
    || { cat "$work/path-run.log"; fail "run with the path"; }
cmp "$work/hub-run/data/all_responses.jsonl" "$work/path-run/data/all_responses.jsonl" || fail "the responses differ"
python3 - "$work/hub-run/manifest.json" "$sha" "$repo" "$commit" <<'PY' || fail "the manifest's model record"
import json, sys
manifest = json.load(open(sys.argv[1]))
assert manifest["fingerprint"]["models"]["default"] == sys.argv[2], "the fingerprint keeps the sha256"
source = manifest["models"]["default"]
assert source["hub"].startswith(f"hf:{sys.argv[3]}/") and source["commit"] == sys.argv[4], source
assert "/snapshots/" in source["path"], source
PY

. "$here/venv.sh"
say "the same cache with huggingface_hub $HUB_VERSION (Python): each finds the other's files"
venv=$(venv_for huggingface_hub "$HUB_VERSION")
ours=$(HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 "$venv/bin/python" -c \
    "import sys; from huggingface_hub import hf_hub_download as d; print(d(sys.argv[1], sys.argv[2], local_files_only=True))" \
    "$repo" "$file") || fail "huggingface_hub does not find the file cje-prep fetched"
[ "$ours" = "$HF_HUB_CACHE/models--test--SmolLM2-135M-Instruct-GGUF/snapshots/$commit/$file" ] || fail "huggingface_hub found $ours"
HF_HUB_DISABLE_TELEMETRY=1 "$venv/bin/python" -c \
    "import sys; from huggingface_hub import hf_hub_download as d; d(sys.argv[1], sys.argv[2])" \
    test/by-huggingface-hub "$file" || fail "huggingface_hub could not download from the stand-in"
printf 'n: 3\nmodels:\n  default: {hf: test/by-huggingface-hub, file: %s}\n' "$file" > "$work/theirs.yaml"
HF_HUB_OFFLINE=1 "$tool" fetch-models --config "$work/theirs.yaml" > "$work/theirs.log" 2>&1 \
    || { cat "$work/theirs.log"; fail "cje-prep does not find the file huggingface_hub fetched"; }
grep -q "(in the cache at" "$work/theirs.log" || fail "not taken from the cache"

say "two processes fetching one file into one fresh cache: one download"
before=$(curl -s "$HF_ENDPOINT/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["downloads"])')
HF_HUB_CACHE="$work/hub2" "$tool" fetch-models --config "$work/hub.yaml" > "$work/two-a.log" 2>&1 &
a=$!
HF_HUB_CACHE="$work/hub2" "$tool" fetch-models --config "$work/hub.yaml" > "$work/two-b.log" 2>&1 \
    || { cat "$work/two-b.log"; fail "the second fetch-models"; }
wait "$a" || { cat "$work/two-a.log"; fail "the first fetch-models"; }
after=$(curl -s "$HF_ENDPOINT/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["downloads"])')
[ $((after - before)) = 1 ] || fail "$((after - before)) downloads for two processes"
grep -h "waiting\|in the cache\|downloaded" "$work/two-a.log" "$work/two-b.log" | cut -c1-160 >&2

say "offline, with the stand-in stopped: the run goes on from the cache"
kill "$server"; wait "$server" 2>/dev/null || true; server=""
HF_HUB_OFFLINE=1 "$tool" run --config "$work/hub.yaml" --dir "$work/hub-run" --through logprobs > "$work/offline.log" 2>&1 \
    || { cat "$work/offline.log"; fail "offline run"; }

say "a file the repository does not have, and a gated repository, fail before anything is written"
python3 "$here/fake_hub.py" "$work/spec.json" "$work/port2" &
server=$!
for _ in $(seq 100); do [ -s "$work/port2" ] && break; sleep 0.1; done
export HF_ENDPOINT="http://127.0.0.1:$(cat "$work/port2")"
refused() { # words config
    if "$tool" run --config "$2" --dir "$work/refused" > "$work/refused.log" 2>&1; then fail "$2 was accepted"; fi
    grep -q -- "$1" "$work/refused.log" || { cat "$work/refused.log"; fail "no '$1' in the error"; }
    [ ! -e "$work/refused" ] || fail "a refused run wrote $work/refused"
    say "refused as expected: $(grep -m1 Error "$work/refused.log")"
}
printf 'n: 3\nmodels:\n  default: {hf: %s, file: nope.gguf}\n' "$repo" > "$work/missing.yaml"
refused "has no file 'nope.gguf'" "$work/missing.yaml"
printf 'n: 3\nmodels:\n  default: {hf: test/gated, file: %s}\n' "$file" > "$work/gated.yaml"
refused "set HF_TOKEN" "$work/gated.yaml"

# A cache on a disk too small for the model: refused before a byte is fetched (needs root to mount).
if [ "$(id -u)" = 0 ] && mkdir -p "$work/small" && mount -t tmpfs -o size=32m tmpfs "$work/small" 2>/dev/null; then
    if HF_HUB_CACHE="$work/small/hub" "$tool" fetch-models --config "$work/hub.yaml" > "$work/small.log" 2>&1; then
        umount "$work/small"; fail "the demo model was fetched into a 32 MB cache"
    fi
    umount "$work/small"
    grep -q "needs [0-9.]* GB more in .* GB are free" "$work/small.log" || { cat "$work/small.log"; fail "no clear message for a full cache disk"; }
    say "refused as expected: $(grep -m1 Error "$work/small.log")"
    # A disk that fills during the download (the Hub understated the size): the write names it.
    kill "$server"; wait "$server" 2>/dev/null || true
    sed 's/"faults": \[[^]]*\]/"faults": ["small-size"]/' "$work/spec.json" > "$work/spec-small.json"
    python3 "$here/fake_hub.py" "$work/spec-small.json" "$work/port3" &
    server=$!
    for _ in $(seq 100); do [ -s "$work/port3" ] && break; sleep 0.1; done
    mount -t tmpfs -o size=32m tmpfs "$work/small"
    if HF_ENDPOINT="http://127.0.0.1:$(cat "$work/port3")" HF_HUB_CACHE="$work/small/hub" \
        "$tool" fetch-models --config "$work/hub.yaml" > "$work/full.log" 2>&1; then
        umount "$work/small"; fail "a 94 MB model was written into a 32 MB cache"
    fi
    umount "$work/small"
    grep -q "cannot write .*blobs/$sha.incomplete: No space left on device (ENOSPC)" "$work/full.log" \
        || { cat "$work/full.log"; fail "a full disk mid-download is not named"; }
    say "refused as expected: $(grep -m1 Error "$work/full.log")"
else
    say "not root: the full-disk case is left out"
fi
say "ok"
