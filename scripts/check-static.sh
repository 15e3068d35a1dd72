#!/usr/bin/env bash
# Builds the static binary (scripts/build-static.sh) and proves it is static
# and works:
#   1. ELF: no PT_INTERP (no dynamic loader), no DT_NEEDED (no shared
#      libraries), no symbol version needs (no GLIBC_x.y): read with
#      `readelf` when present and with a small python3 parser when present;
#      at least one of the two must be available.
#   2. The seed script through standalone mode, `--lang en` and the default
#      (pt), byte for byte against tests/fixtures/seed.{en,pt}.out.
#   3. The seed script through `server` + `client` (server on 127.0.0.1:0,
#      port read from its `Listening on` line), then SIGTERM: exit status 0.
#   4. When run as root with a working chroot: the binary in an otherwise
#      empty root (as in the `FROM scratch` image) runs, resolves a host name
#      from /etc/hosts and talks to the server. Skipped (said so) otherwise.
# Exits non-zero with a "check-static: FAIL: ..." line on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "check-static: FAIL: $*" >&2
    exit 1
}

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== build (scripts/build-static.sh)"
bin=$(scripts/build-static.sh | tail -n 1) || fail "scripts/build-static.sh failed (see above)"
[ -x "$bin" ] || fail "build-static.sh did not produce an executable (got '$bin')"
echo "binary: $bin ($(wc -c <"$bin") bytes)"

echo "== ELF checks"
if command -v file >/dev/null; then
    echo "file: $(file -b "$bin")"
fi
checked=0
if command -v readelf >/dev/null; then
    headers=$(readelf -lW "$bin") || fail "readelf -l failed"
    grep -qi 'file type is \(EXEC\|DYN\)' <<<"$headers" || fail "not an executable ELF file"
    if grep -q 'INTERP' <<<"$headers"; then
        fail "readelf: the binary has a PT_INTERP (needs a dynamic loader)"
    fi
    if readelf -dW "$bin" | grep -q '(NEEDED)'; then
        fail "readelf: the binary needs shared libraries: $(readelf -dW "$bin" | grep '(NEEDED)' | tr -s ' ')"
    fi
    if readelf -VW "$bin" | grep -q 'GLIBC_'; then
        fail "readelf: the binary needs GLIBC_ symbol versions: $(readelf -VW "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tr '\n' ' ')"
    fi
    echo "readelf: no PT_INTERP, no DT_NEEDED, no GLIBC_ version needs"
    checked=$((checked + 1))
fi
if command -v python3 >/dev/null; then
    python3 - "$bin" <<'PY' || fail "python3 ELF check (see above)"
import struct, sys

PT_DYNAMIC, PT_INTERP = 2, 3
DT_NULL, DT_NEEDED, DT_VERNEED = 0, 1, 0x6FFFFFFE
SHT_GNU_VERNEED = 0x6FFFFFFE

path = sys.argv[1]
data = open(path, "rb").read()
problems = []
if data[:4] != b"\x7fELF":
    sys.exit(f"{path}: not an ELF file")
if data[4] != 2 or data[5] != 1:
    sys.exit(f"{path}: not a 64-bit little-endian ELF file")
(e_type, e_machine, _, _, e_phoff, e_shoff, _, _, e_phentsize, e_phnum,
 e_shentsize, e_shnum, _) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
if e_machine != 62:
    sys.exit(f"{path}: not x86-64 (e_machine {e_machine})")
if e_type not in (2, 3):
    sys.exit(f"{path}: not an executable (e_type {e_type})")
for i in range(e_phnum):
    p_type, _, p_offset, _, _, p_filesz, _, _ = struct.unpack_from(
        "<IIQQQQQQ", data, e_phoff + i * e_phentsize)
    if p_type == PT_INTERP:
        interp = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
        problems.append(f"PT_INTERP {interp} (needs a dynamic loader)")
    if p_type == PT_DYNAMIC:
        for off in range(p_offset, p_offset + p_filesz, 16):
            d_tag, _ = struct.unpack_from("<qQ", data, off)
            if d_tag == DT_NULL:
                break
            if d_tag == DT_NEEDED:
                problems.append("DT_NEEDED (needs a shared library)")
            if d_tag == DT_VERNEED:
                problems.append("DT_VERNEED (needs versioned symbols)")
for i in range(e_shnum):
    sh_type = struct.unpack_from("<I", data, e_shoff + i * e_shentsize + 4)[0]
    if sh_type == SHT_GNU_VERNEED:
        problems.append("a .gnu.version_r section (symbol version needs)")
if problems:
    sys.exit(f"{path}: not static: " + "; ".join(sorted(set(problems))))
kind = "static-pie" if e_type == 3 else "static"
print(f"python3: {kind} x86-64 ELF; no PT_INTERP, no DT_NEEDED, no version needs")
PY
    checked=$((checked + 1))
fi
[ "$checked" -gt 0 ] || fail "neither readelf nor python3 is available to inspect the ELF file"

echo "== seed script, standalone"
fixtures=tests/fixtures
for lang in en pt; do
    if [ "$lang" = en ]; then args=(--lang en); else args=(); fi
    timeout 10 "$bin" "${args[@]}" <"$fixtures/seed.cmds" >"$work/standalone.$lang.out" 2>"$work/standalone.$lang.err" \
        || fail "standalone ($lang) exited with status $? (stderr: $(cat "$work/standalone.$lang.err"))"
    cmp "$work/standalone.$lang.out" "$fixtures/seed.$lang.out" \
        || { diff "$fixtures/seed.$lang.out" "$work/standalone.$lang.out" >&2 || true; fail "standalone ($lang) output differs from $fixtures/seed.$lang.out"; }
    [ ! -s "$work/standalone.$lang.err" ] || fail "standalone ($lang) wrote to stderr: $(cat "$work/standalone.$lang.err")"
    echo "standalone ${args[*]:-(default pt)}: identical to $fixtures/seed.$lang.out"
done

# Starts "$bin" server on 127.0.0.1:0 with the given extra arguments; sets
# server_pid and port. The Listening line is read from a fifo, with a timeout.
start_server() {
    rm -f "$work/listen.fifo"
    mkfifo "$work/listen.fifo"
    "$bin" server --listen 127.0.0.1:0 "$@" >"$work/listen.fifo" 2>"$work/server.err" &
    server_pid=$!
    exec 3<"$work/listen.fifo"
    local line
    IFS= read -r -t 10 line <&3 || fail "the server printed no Listening line within 10 s (stderr: $(cat "$work/server.err"))"
    case "$line" in
        "Listening on 127.0.0.1:"[0-9]*) port=${line#Listening on 127.0.0.1:} ;;
        *) fail "unexpected first line from the server: '$line'" ;;
    esac
}

# Sends SIGTERM to the server; it must exit with status 0.
stop_server() {
    kill -TERM "$server_pid"
    local status=0
    wait "$server_pid" || status=$?
    server_pid=
    exec 3<&-
    [ "$status" -eq 0 ] || fail "the server exited with status $status after SIGTERM (stderr: $(cat "$work/server.err"))"
}

echo "== seed script, server + client"
for lang in en pt; do
    start_server --lang "$lang"
    timeout 10 "$bin" client --lang "$lang" --connect "127.0.0.1:$port" <"$fixtures/seed.cmds" \
        >"$work/client.$lang.out" 2>"$work/client.$lang.err" \
        || fail "client ($lang) exited with status $? (stderr: $(cat "$work/client.$lang.err"))"
    cmp "$work/client.$lang.out" "$fixtures/seed.$lang.out" \
        || { diff "$fixtures/seed.$lang.out" "$work/client.$lang.out" >&2 || true; fail "client ($lang) output differs from $fixtures/seed.$lang.out"; }
    [ ! -s "$work/client.$lang.err" ] || fail "client ($lang) wrote to stderr: $(cat "$work/client.$lang.err")"
    stop_server
    echo "server+client --lang $lang (port $port): identical to $fixtures/seed.$lang.out; server exited 0 on SIGTERM"
done

echo "== empty root (like the FROM scratch image)"
if [ "$(id -u)" -ne 0 ] || ! command -v chroot >/dev/null; then
    echo "SKIP: needs root and chroot"
else
    root="$work/root"
    mkdir -p "$root/etc"
    cp "$bin" "$root/callcenter"
    printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
    printf '127.0.0.1 localhost\n127.0.0.1 server\n' >"$root/etc/hosts"
    status=0
    version=$(chroot "$root" /callcenter --version 2>&1) || status=$?
    if [ "$status" -eq 125 ]; then
        echo "SKIP: chroot is not permitted here ($version)"
    else
        [ "$status" -eq 0 ] || fail "in an empty root, /callcenter --version failed with status $status: $version"
        [ "$version" = "callcenter $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)" ] \
            || fail "in an empty root, --version printed '$version'"
        start_server --lang en
        timeout 10 chroot "$root" /callcenter client --lang en --connect "server:$port" <"$fixtures/seed.cmds" \
            >"$work/chroot.out" 2>"$work/chroot.err" \
            || fail "client in an empty root exited with status $? (stderr: $(cat "$work/chroot.err"))"
        cmp "$work/chroot.out" "$fixtures/seed.en.out" || fail "client in an empty root: output differs from $fixtures/seed.en.out"
        stop_server
        echo "empty root holding only the binary and /etc/{hosts,nsswitch.conf}: --version ok; client --connect server:$port resolved and matched seed.en.out"
    fi
fi

echo "check-static: OK ($bin)"
