"""Runs a cje-prep bundle's own analyze.py with the installed cje-eval (0.9.2+) and checks
what the label design promises: every policy's estimate is corrected by its own random labels
(route `augmented`), the design and propensities were declared, every probed target's
transport audit is graded (not NOT_CHECKED), and the labels are not all one value.

Usage: python cje_direct_check.py RUN_DIR [LABEL]   (prints each policy's estimate and 95% CI)
"""

import contextlib
import io
import json
import os
import runpy
import sys
import warnings

warnings.filterwarnings("ignore")

run = sys.argv[1]
label = sys.argv[2] if len(sys.argv) > 2 else "run"
bundle = os.path.join(run, "cje")
design = json.load(open(os.path.join(bundle, "label_design.json")))
out = os.path.join(run, "results.json")
failures = []

chatter = io.StringIO()
argv = sys.argv
sys.argv = [os.path.join(bundle, "analyze.py"), "-o", out]
try:
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        runpy.run_path(os.path.join(bundle, "analyze.py"), run_name="__main__")
except BaseException as error:
    print(chatter.getvalue()[-3000:], file=sys.stderr)
    print(f"  FAILED analyze.py: {type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(1)
finally:
    sys.argv = argv

results = json.load(open(out))
meta = results.get("metadata", {})
policies = meta.get("target_policies", [])
expected = sorted(design["policies"])
if sorted(policies) != expected:
    failures.append(f"policies {policies}, expected {expected}")
routes = dict(zip(policies, meta.get("point_estimator", {}).get("routes", [])))
for policy in expected:
    if routes.get(policy) != "augmented":
        failures.append(f"{policy}: route {routes.get(policy)}, expected augmented (its own labels)")
if meta.get("label_design", design["cje_label_design"]) != design["cje_label_design"]:
    failures.append(f"label design {meta.get('label_design')}, declared {design['cje_label_design']}")
audits = meta.get("transport_audits") or {}
probed = [p for p, info in design["policies"].items() if info["probe_rows"] > 0]
for policy in probed:
    status = (audits.get(policy) or {}).get("status")
    if status not in ("PASS", "FAIL", "INCONCLUSIVE"):
        failures.append(f"{policy}: transport audit {status}, expected a grade (PASS, FAIL or INCONCLUSIVE)")
if not probed:
    failures.append("no probed policy: the run was made without oracle.probes")

# Labels that are all one value leave CJE nothing to calibrate (it says so and reports zero-width
# intervals): the check would pass vacuously.
labels = set()
for name in expected:
    with open(os.path.join(bundle, "responses", name + "_responses.jsonl")) as f:
        labels |= {json.loads(line).get("oracle_label") for line in f if line.strip()}
labels.discard(None)
if len(labels) < 2:
    failures.append(f"every oracle label is {sorted(labels)}: nothing to calibrate, the check would be vacuous")

estimates = results.get("estimates", [])
intervals = results.get("confidence_intervals") or {}
lower, upper = intervals.get("lower", []), intervals.get("upper", [])
for k, policy in enumerate(policies):
    ci = [lower[k], upper[k]] if k < len(lower) and k < len(upper) else None
    width = (ci[1] - ci[0]) if ci else float("nan")
    audit = (audits.get(policy) or {}).get("status", "-")
    print(
        f"  {label}: {policy} = {estimates[k]:.3f}, 95% CI {ci and [round(x, 3) for x in ci]} (width {width:.3f}),"
        f" route {routes.get(policy)}, transport {audit}, labels {design['policies'][policy]['labelled_rows']}"
    )
for failure in failures:
    print(f"  FAILED {failure}", file=sys.stderr)
sys.exit(1 if failures else 0)
