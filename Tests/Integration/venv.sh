# Sourced by the check scripts. Makes sure python3 can make virtual environments (Debian's
# python3-venv, installed with apt-get when missing); then `venv_for PACKAGE VERSION` prints the path of a virtual
# environment with PACKAGE==VERSION from PyPI, made once per package, version and Python under
# $CACHE/venvs and reused (made beside it and moved into place, so an interrupted install is
# never taken for a finished one).
if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "installing python3 and python3-venv with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi

# The PyPI releases the checks read (prepare.sh makes their environments ahead of them).
CJE_EVAL_VERSIONS="0.3.0 0.9.3"
HUB_VERSION=2.4.0
JINJA2_VERSION=3.1.6
DATASETS_VERSION=5.2.0

venv_for() { # package version
    local py key dir
    py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    key="$1-$2-py$py"
    dir="$CACHE/venvs/$key"
    if [ ! -f "$dir/.complete" ]; then
        mkdir -p "$CACHE/venvs"
        rm -rf "$dir.part.$$"
        echo "installing $1==$2 into $dir" >&2
        python3 -m venv "$dir.part.$$" >&2
        "$dir.part.$$/bin/pip" install -q --disable-pip-version-check "$1==$2" >&2
        touch "$dir.part.$$/.complete"
        rm -rf "$dir" && mv "$dir.part.$$" "$dir"
    fi
    echo "$dir"
}
