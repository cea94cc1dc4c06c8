# Sourced by the check scripts: `venv_for PACKAGE VERSION` prints the path of a virtual
# environment with PACKAGE==VERSION from PyPI, made once per package, version and Python under
# $CACHE/venvs and reused (made beside it and moved into place, so an interrupted install is
# never taken for a finished one).
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
