# shellcheck shell=bash
# Local images: debootstrap base image, then the app image per release tag.

# version -> build args. 1.2.0 is the broken release (bad cache location baked in).
LAB_APP_VERSIONS=(1.0.0 1.1.0 1.2.0)

ensure_base_image() {
    if dk image inspect "$LAB_BASE_IMAGE" >/dev/null 2>&1; then
        ok "base image $LAB_BASE_IMAGE present"
        return 0
    fi
    local mirror rootfs
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    rootfs="$LAB_ROOT/build/rootfs"
    log "building base image $LAB_BASE_IMAGE with debootstrap from $mirror (about a minute)"
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$mirror" >"$LAB_ROOT/build/debootstrap.log" 2>&1 \
        || { tail -20 "$LAB_ROOT/build/debootstrap.log" >&2; die "debootstrap failed"; }
    # Keep the image lean: apt caches/lists are not needed at runtime.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | dk import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
        -c 'CMD ["/bin/bash"]' - "$LAB_BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    ok "base image $LAB_BASE_IMAGE imported"
}

# Hash of everything that goes into the app image.
app_source_hash() {
    (cd "$LAB_DIR/app" && find . -type f ! -name 'ca-certificates.crt' ! -path '*/__pycache__/*' \
        ! -name '*.pyc' ! -name 'docker-compose.production.yml' -print0 | LC_ALL=C sort -z \
        | xargs -0 sha256sum) | sha256sum | cut -c1-16
}

ensure_app_images() {
    local hash ctx v have
    hash=$(app_source_hash)
    ctx=""
    for v in "${LAB_APP_VERSIONS[@]}"; do
        have=$(dk image inspect -f '{{ index .Config.Labels "org.stronghold.lab.source-hash" }}' \
            "$LAB_APP_IMAGE_REPO:$v" 2>/dev/null || true)
        if [[ $have == "$hash" ]]; then
            ok "image $LAB_APP_IMAGE_REPO:$v up to date (source $hash)"
            continue
        fi
        if [[ -z $ctx ]]; then
            # Temporary build context: the app sources plus the machine's CA bundle for pip.
            ctx=$(mktemp -d /tmp/stronghold-lab-build.XXXXXX)
            cp -a "$LAB_DIR/app/." "$ctx/"
            find "$ctx" -name '__pycache__' -prune -exec rm -rf {} +
            cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
        fi
        local broken=0
        [[ $v == 1.2.0 ]] && broken=1
        log "building image $LAB_APP_IMAGE_REPO:$v (source $hash${have:+, was $have})"
        dk build --network host -q \
            --build-arg "BASE_IMAGE=$LAB_BASE_IMAGE" \
            --build-arg "APP_VERSION=$v" \
            --build-arg "APP_BROKEN_BUILD=$broken" \
            --label "org.stronghold.lab.source-hash=$hash" \
            -t "$LAB_APP_IMAGE_REPO:$v" "$ctx" >"$LAB_ROOT/build/build-$v.log" 2>&1 \
            || { rm -rf "$ctx"; tail -30 "$LAB_ROOT/build/build-$v.log" >&2; die "docker build $v failed"; }
        ok "image $LAB_APP_IMAGE_REPO:$v built"
    done
    [[ -n $ctx ]] && rm -rf "$ctx"
    local tag src
    for tag in previous:1.0.0 latest:1.1.0; do
        src=${tag#*:}; tag=${tag%%:*}
        if [[ $(dk image inspect -f '{{.Id}}' "$LAB_APP_IMAGE_REPO:$tag" 2>/dev/null || true) != \
              "$(dk image inspect -f '{{.Id}}' "$LAB_APP_IMAGE_REPO:$src")" ]]; then
            dk tag "$LAB_APP_IMAGE_REPO:$src" "$LAB_APP_IMAGE_REPO:$tag"
            ok "tagged $LAB_APP_IMAGE_REPO:$tag = $src"
        fi
    done
    ok "images: $LAB_APP_IMAGE_REPO:{1.0.0,1.1.0,1.2.0,previous=1.0.0,latest=1.1.0}"
}
