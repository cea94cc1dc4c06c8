# Sourced by the integration scripts: what each of them would otherwise write out again.
#
#   check_begin NAME [TOOL] [--no-model]
#       here, repo (the checkout), tool (TOOL made absolute, default .build/release/cje-prep),
#       CACHE (the bootstrap's cache), say and fail (prefixed with NAME), and CJE_MODEL required
#       unless --no-model, and CJE_CHAT_DATE (today, once) for every run it makes. Then `check_workdir` makes $work, removed at exit (with `on_exit`'s
#       commands run first).
#   need_packages COMMAND:PACKAGE ...
#       installs with apt-get the Debian packages whose command is missing, saying so.
#   three_policies MAX_TOKENS
#       prints the `policies:` block of the default three policies (p0, pi_clone, pi_bad) with
#       that answer length, for a run config.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
CACHE="${CJE_CACHE:-$HOME/.cache/cje-prep}"

check_begin() {
    local name=$1 given=${2:-} model=required
    [ "${3:-}" = --no-model ] && model=""
    CHECK_NAME=$name
    CHECK_STARTED=$(date +%s)
    # Every run directory a check makes takes one day, so runs compared byte for byte agree
    # even when the check crosses midnight (each exported row carries its run's day).
    export CJE_CHAT_DATE=${CJE_CHAT_DATE:-$(date -u +%F)}
    given=${given:-$repo/.build/release/cje-prep}
    tool=$(cd "$(dirname "$given")" && pwd)/$(basename "$given")
    if [ -n "$model" ]; then
        : "${CJE_MODEL:?CJE_MODEL must name the demo model (run through scripts/with-env.sh)}"
    fi
}

say() { echo "${CHECK_NAME:-check}: $*" >&2; }
fail() {
    say "FAILED: $*"
    exit 1
}

# Commands run at exit before $work is removed (servers, clusters, mounts), in order.
CHECK_EXIT=()
on_exit() { CHECK_EXIT+=("$*"); }
check_cleanup() {
    local status=$? command
    # What each check took, in CI's log: where the time of `make test` goes.
    [ -n "${CHECK_STARTED:-}" ] && say "took $(($(date +%s) - CHECK_STARTED)) s (exit $status)"
    for command in "${CHECK_EXIT[@]}"; do eval "$command" || true; done
    [ -n "${work:-}" ] && rm -rf "$work"
    return 0
}

check_workdir() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/cje-$CHECK_NAME.XXXXXX")
    trap check_cleanup EXIT
}

need_packages() {
    local pair command package missing=()
    for pair in "$@"; do
        command=${pair%%:*}
        package=${pair#*:}
        command -v "$command" >/dev/null || [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]} with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 ||
        fail "could not install ${missing[*]} (apt-get install ${missing[*]})"
}

three_policies() {
    local tokens=$1
    cat <<YAML
policies:
  - {name: p0, system_prompt: "You are a helpful assistant.", max_tokens: $tokens}
  - {name: pi_clone, system_prompt: "You are a helpful assistant.", max_tokens: $tokens}
  - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", max_tokens: $tokens}
YAML
}
