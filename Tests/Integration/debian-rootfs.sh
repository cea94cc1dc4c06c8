# Sourced by bundle-check.sh, image-check.sh and wheel-check.sh (after lib.sh). `debian_rootfs
# [PACKAGE]` prints the path of a minimal Debian root file system as a tarball (mmdebstrap
# --variant=minbase, the host's release and apt sources, plus ca-certificates for HTTPS, and
# PACKAGE when given, e.g. python3-venv), made once and kept in $CACHE/rootfs. No Swift, no
# compiler, no libgomp. mmdebstrap is installed with apt-get when missing.
debian_rootfs() {
    local suite rootfs part extra=${1:-}
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$suite" ] || { echo "the host names no Debian release in /etc/os-release" >&2; return 1; }
    rootfs="$CACHE/rootfs/debian-$suite-minbase${extra:+-$extra}-$(uname -m).tar"
    if [ ! -f "$rootfs" ]; then
        need_packages mmdebstrap:mmdebstrap
        mkdir -p "$CACHE/rootfs"
        echo "making a minimal Debian $suite root file system (mmdebstrap --variant=minbase; once, kept in $CACHE/rootfs)" >&2
        # The name ends in .tar: mmdebstrap writes the format its output's name says.
        part="${rootfs%.tar}.part.$$.tar"
        mmdebstrap --quiet --variant=minbase --include="ca-certificates${extra:+,$extra}" --mode=root "$suite" "$part" \
            >"$CACHE/rootfs/mmdebstrap.log" 2>&1 ||
            { tail -n 30 "$CACHE/rootfs/mmdebstrap.log" >&2; rm -rf "$part"; echo "mmdebstrap failed" >&2; return 1; }
        mv -f "$part" "$rootfs"
    fi
    echo "$rootfs"
}

# `host_run CONFIG`: the host build's run of CONFIG, which a run inside the root file system is
# compared with; prints its directory. With $CHECK_HOST_RUN (the Makefile gives bundle-check and
# wheel-check one), a run of the same config another check made there is reused instead of made
# again; otherwise it is made in $work/host.
host_run() {
    local config=$1 dir=${CHECK_HOST_RUN:-$work/host}
    if [ -f "$dir/data/dataset_info.json" ] && cmp -s "$config" "$dir.config.yaml"; then
        say "the host's run of this config: reused from $dir"
        echo "$dir"
        return 0
    fi
    rm -rf "$dir" "$dir.config.yaml"
    say "the host's run of this config"
    "$tool" run --dir "$dir" --config "$config" >"$dir.log" 2>&1 || { tail -n 20 "$dir.log" >&2; return 1; }
    cp "$config" "$dir.config.yaml"
    echo "$dir"
}

# `same_data_files HOST-RUN OTHER-RUN WHERE`: the data files (data/, phase2/, cje/) of the two run
# directories are the same list and bytes; prints their count, or says how they differ and fails.
same_data_files() {
    local a b
    a=$(cd "$1" && find data phase2 cje -type f | sort | xargs sha256sum)
    b=$(cd "$2" && find data phase2 cje -type f | sort | xargs sha256sum)
    [ "$(echo "$a" | wc -l)" -ge 15 ] || { echo "only $(echo "$a" | wc -l) data files in the host's run" >&2; return 1; }
    [ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b") >&2; echo "$3's files differ from the host's" >&2; return 1; }
    echo "$a" | wc -l
}
