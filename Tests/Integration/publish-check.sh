#!/usr/bin/env bash
# Integration test: `cje-prep publish` makes a data set that `datasets` loads and uploads it to a
# Hub stand-in (fake_hub.py, the Hub's HTTP API: create, preupload, LFS batch and PUT, commit,
# delete).
#   1. a real run (8 prompts, probes, a decision margin) published to a folder: the card's header
#      has what the Hub reads, `datasets` 5.2 loads every config with the rows of its file
#   2. refused, writing and uploading nothing: an unfinished run, --repo without HF_TOKEN, a name
#      the Hub would refuse, a name the stand-in refuses, a wrong token
#   3. uploads: a commit the Hub refuses after the repository was made (the repository is deleted
#      again), then one whose first LFS upload loses its connection half way (retried, every file
#      lands with its bytes), then the same again (every LFS object already there, none resent)
# Usage: Tests/Integration/publish-check.sh [path/to/cje-prep]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin publish-check "${1:-}"
. "$here/venv.sh"
check_workdir
datasets_venv=$(venv_for datasets "$DATASETS_VERSION")

{
    echo "n: 8"
    echo "decision_margin: 0.05"
    three_policies 32
    echo "oracle: {fraction: 0.5, probes: 0.25}"
} > "$work/config.yaml"
say "making a run of 8 prompts with $tool"
"$tool" run --config "$work/config.yaml" --dir "$work/run" > "$work/run.log" 2>&1 || {
    cat "$work/run.log" >&2
    fail "the run did not finish"
}
"$tool" publish "$work/run" --to "$work/folder" --license cc-by-4.0 > "$work/publish.out" 2>&1 || {
    cat "$work/publish.out" >&2
    fail "publish to a folder failed"
}
"$datasets_venv/bin/python" - "$work/folder" <<'PY' || fail "datasets did not load the published folder as the card says"
import json, os, sys, warnings
warnings.filterwarnings("ignore")
import datasets
from datasets.utils.logging import disable_progress_bar
disable_progress_bar()
folder = sys.argv[1]
text = open(os.path.join(folder, "README.md")).read()
header = text.split("---")[1]
import yaml
card = yaml.safe_load(header)
problems = []
for key in ("license", "task_categories", "size_categories", "configs", "dataset_info"):
    if key not in card:
        problems.append(f"the card's header has no {key}")
if card.get("license") != "cc-by-4.0":
    problems.append(f"license {card.get('license')}")
names = [c["config_name"] for c in card["configs"]]
for expected in ("responses", "frame", "scores", "logprobs", "labels", "probes"):
    if expected not in names:
        problems.append(f"no config {expected}")
for config in card["configs"]:
    path = os.path.join(folder, config["data_files"][0]["path"])
    rows = sum(1 for line in open(path) if line.strip())
    ds = datasets.load_dataset(folder, config["config_name"], split="train")
    if ds.num_rows != rows or rows == 0:
        problems.append(f"{config['config_name']}: {ds.num_rows} rows loaded, {rows} in {path}")
    else:
        print(f"publish-check:   {config['config_name']}: {rows} rows", file=sys.stderr)
frame = datasets.load_dataset(folder, "frame", split="train")
if sorted(set(frame["status"])) != ["complete"] or len(set(frame["record_id"])) != frame.num_rows:
    problems.append("the frame's rows are not all complete with distinct record ids")
if "±0.05" not in text or "## Determinism" not in text or "sha256" not in text:
    problems.append("the card's prose lacks the margin, the determinism certificate or the models' sha256")
for problem in problems:
    print(f"publish-check: FAILED: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
say "ok: datasets 5.2.0 loads every config of the card from the folder"

# Refused before anything is written or uploaded.
"$tool" run --config "$work/config.yaml" --dir "$work/partial" --through prompts > /dev/null 2>&1 ||
    fail "the partial run failed"
refused() { # message command...
    local message=$1
    shift
    if env "$@" > "$work/refused.out" 2>&1; then fail "'$*' succeeded; expected: $message"; fi
    grep -qF -- "$message" "$work/refused.out" || { cat "$work/refused.out" >&2; fail "'$*' did not say: $message"; }
    [ ! -e "$work/nothing" ] || fail "'$*' wrote $work/nothing"
    say "ok: refused: $message"
}
refused "holds no validated run" "$tool" publish "$work/partial" --to "$work/nothing"
refused "HF_TOKEN is not set" -u HF_TOKEN "$tool" publish "$work/run" --to "$work/nothing" --repo cje/data
refused "is not a Hub repository name" HF_TOKEN=x "$tool" publish "$work/run" --to "$work/nothing" --repo "cje/bad--name"

# The Hub stand-in: the first commit is refused, the first LFS upload loses its connection.
echo '{"repos": {}, "token": "secret", "refuse": ["cje/reserved"], "lfs_threshold": 1024, "faults": ["commit-422", "drop-upload"]}' > "$work/spec.json"
python3 "$here/fake_hub.py" "$work/spec.json" "$work/port" &
on_exit "kill $!"
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
hub="http://127.0.0.1:$(cat "$work/port")"
stats() { python3 -c 'import json, sys, urllib.request; print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1] + "/stats"))))' "$hub"; }
upload() { env HF_ENDPOINT="$hub" HF_TOKEN=secret "$tool" publish "$work/run" --to "$work/folder" "$@"; }

refused "The repository name cje/reserved is reserved" HF_ENDPOINT="$hub" HF_TOKEN=secret "$tool" publish "$work/run" --to "$work/nothing" --repo cje/reserved
refused "the Hub refused the token" HF_ENDPOINT="$hub" HF_TOKEN=wrong "$tool" publish "$work/run" --to "$work/nothing" --repo cje/data
if upload --repo cje/first > "$work/first.out" 2>&1; then fail "an upload whose commit was refused succeeded"; fi
grep -q "was deleted, so nothing is left half uploaded" "$work/first.out" || { cat "$work/first.out" >&2; fail "the failed upload did not say it deleted the repository"; }
upload --repo cje/data > "$work/upload.out" 2>&1 || { cat "$work/upload.out" >&2; fail "the upload failed"; }
upload --repo cje/data > "$work/again.out" 2>&1 || { cat "$work/again.out" >&2; fail "the second upload failed"; }
grep '^publish: cje/data' "$work/upload.out" "$work/again.out" >&2
stats > "$work/stats.json"
python3 - "$work/stats.json" "$work/folder" "$work/again.out" <<'PY' || fail "the stand-in does not hold what was published"
import hashlib, json, os, re, sys
stats, folder, again = json.load(open(sys.argv[1])), sys.argv[2], open(sys.argv[3]).read()
problems = []
held = stats["datasets"].get("cje/data", {}).get("files", {})
local = {}
for root, _, names in os.walk(folder):
    for name in names:
        path = os.path.relpath(os.path.join(root, name), folder)
        if path != ".cje-prep-publish":
            local[path] = hashlib.sha256(open(os.path.join(root, name), "rb").read()).hexdigest()
if held != local:
    problems.append(f"the Hub holds {len(held)} files, the folder has {len(local)}; differing: {sorted(set(held.items()) ^ set(local.items()))[:4]}")
if "cje/first" in stats["datasets"] or "cje/first" not in stats["deleted"]:
    problems.append("the repository of the refused commit was not deleted")
if "cje/reserved" in stats["datasets"]:
    problems.append("a refused name was created")
if stats["faults"].get("drop-upload") != 1 or stats["faults"].get("commit-422") != 1:
    problems.append(f"faults injected: {stats['faults']}")
skipped = re.search(r"(\d+) already there", again)
if not skipped or int(skipped.group(1)) == 0 or ", 0 already there" in again.split("through LFS")[0]:
    problems.append(f"the second upload resent LFS objects: {again.strip()}")
for problem in problems:
    print(f"publish-check: FAILED: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
say "ok: the refused commit's repository was deleted; a dropped LFS upload was retried; every file landed with its bytes; a second upload resent nothing through LFS"
