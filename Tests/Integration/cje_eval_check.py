"""Reads a cje-prep export with the installed cje-eval and checks the estimates.

Usage: python cje_eval_check.py VERSION RUN_DIR
"""

import contextlib
import io
import json
import math
import sys
import warnings

warnings.filterwarnings("ignore")

from cje import analyze_dataset  # noqa: E402

version, run = sys.argv[1], sys.argv[2]
dataset = f"{run}/cje/cje_dataset.jsonl"
responses = f"{run}/cje/responses"
targets = sorted(json.loads(open(dataset).readline())["target_policy_logprobs"])
failures = []


def check(label, call, expected):
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            result = call()
    except Exception as error:  # the library's own message is the useful part
        failures.append(f"{label}: {type(error).__name__}: {error}")
        print(chatter.getvalue()[-2000:], file=sys.stderr)
        return
    policies = list(result.metadata.get("target_policies", []))
    estimates = [float(x) for x in result.estimates]
    errors = [float(x) for x in result.standard_errors]
    shown = ", ".join(f"{p}={e:.3f}±{s:.3f}" for p, e, s in zip(policies, estimates, errors))
    print(f"  cje-eval {version} {label}: {shown}")
    if sorted(policies) != expected:
        failures.append(f"{label}: policies {policies}, expected {expected}")
    if not all(math.isfinite(e) and 0 <= e <= 1 for e in estimates):
        failures.append(f"{label}: estimates {estimates} not all in [0, 1]")
    if not all(math.isfinite(s) and s >= 0 for s in errors):
        failures.append(f"{label}: standard errors {errors} not all finite and >= 0")


if version.startswith("0.3."):
    for estimator in ["calibrated-ips", "dr-cpo"]:
        check(
            estimator,
            lambda: analyze_dataset(logged_data_path=dataset, fresh_draws_dir=responses, estimator=estimator),
            targets,
        )
else:
    # Direct mode compares every policy with fresh draws, the logging policy (p0) included.
    check("direct", lambda: analyze_dataset(fresh_draws_dir=responses), sorted(targets + ["p0"]))

for failure in failures:
    print(f"  FAILED {failure}", file=sys.stderr)
sys.exit(1 if failures else 0)
