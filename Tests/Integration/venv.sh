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

# llama-cpp-python's Python package, from the sdist the bootstrap built llama.cpp from (no build:
# it loads the project's own libllama through LLAMA_CPP_LIB_PATH), with its dependencies pinned;
# the vLLM stand-in (vllm_standin.py) runs on it. Prints the environment's path.
LLAMA_CPP_PYTHON_VERSION=0.3.36
venv_llama_cpp_python() {
    local py dir sdist
    py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    dir="$CACHE/venvs/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-py$py"
    if [ ! -f "$dir/.complete" ]; then
        sdist="$CACHE/downloads/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
        [ -f "$sdist" ] || { echo "venv.sh: $sdist is missing (scripts/bootstrap.sh fetches it)" >&2; return 1; }
        mkdir -p "$CACHE/venvs"
        rm -rf "$dir.part.$$"
        echo "installing llama-cpp-python $LLAMA_CPP_PYTHON_VERSION's Python package into $dir" >&2
        python3 -m venv "$dir.part.$$" >&2
        "$dir.part.$$/bin/pip" install -q --disable-pip-version-check numpy==2.2.6 "Jinja2==$JINJA2_VERSION" \
            diskcache==5.6.3 typing-extensions==4.15.0 >&2
        local site
        site=$("$dir.part.$$/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
        tar -xzf "$sdist" -C "$site" --strip-components=1 "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/llama_cpp"
        touch "$dir.part.$$/.complete"
        rm -rf "$dir" && mv "$dir.part.$$" "$dir"
    fi
    echo "$dir"
}
