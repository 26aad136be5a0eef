# shellcheck shell=bash
# shellcheck disable=SC2034  # BENCH_* variables are used by scripts/bench
# Shared helpers for scripts/bench: logging, installing peers, a throwaway
# PostGIS cluster, and timing. Sourced, not run. Everything it starts is
# stopped and removed by the EXIT trap that bench_init installs.
#
# Variables it sets: BENCH_ROOT (repo root), BENCH_TMP (scratch dir, removed
# on exit unless BENCH_KEEP=1, which keeps it for a closer look), BENCH_RUNS (timed runs per command, default 5), PGHOST/PGPORT/
# PGUSER/PGDATABASE (after bench_pg_start), BENCH_PG_DSN (an OGR "PG:" string).

BENCH_RUNS="${BENCH_RUNS:-5}"
BENCH_PG_PORT="${BENCH_PG_PORT:-55432}"
BENCH_PG_OWNER="${BENCH_PG_OWNER:-postgres}"   # OS user the server runs as (when we are root)
BENCH_CLEANUP=()                               # commands run, last first, on exit

bench_log() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
bench_die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# bench_init SCRIPT_PATH: find the repo root, make the scratch dir, set the trap.
bench_init() {
    BENCH_ROOT="$(cd "$(dirname "$(readlink -f "$1")")/.." && pwd)"
    bench_reap_stale
    BENCH_TMP="$(mktemp -d /tmp/geoalign-bench.XXXXXX)"
    echo $$ >"$BENCH_TMP/bench.pid"
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        BENCH_CLEANUP+=("bench_log 'kept $BENCH_TMP (BENCH_KEEP=1)'")
    else
        BENCH_CLEANUP+=("rm -rf '$BENCH_TMP'")
    fi
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local i
    for ((i = ${#BENCH_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${BENCH_CLEANUP[i]}" || true
    done
    BENCH_CLEANUP=()
}

# bench_need_pkgs "CHECK:PACKAGE"...: apt-get install each PACKAGE whose CHECK
# (a command name, or a path glob starting with /) is missing. A package that
# does not exist in the archive is skipped when its name ends with '?'.
bench_need_pkgs() {
    local spec check pkg missing=() optional=()
    for spec in "$@"; do
        check="${spec%%:*}" pkg="${spec#*:}"
        if [[ $check == /* ]]; then compgen -G "$check" >/dev/null && continue
        else command -v "$check" >/dev/null && continue; fi
        if [[ $pkg == *'?' ]]; then optional+=("${pkg%?}"); else missing+=("$pkg"); fi
    done
    ((${#missing[@]} + ${#optional[@]})) || return 0
    [[ $(id -u) == 0 ]] || bench_die "missing packages (${missing[*]} ${optional[*]}); install them or run as root"
    local t0=$SECONDS
    bench_log "installing: ${missing[*]} ${optional[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    local log="$BENCH_TMP/apt.log"
    apt-get update -qq >"$log" 2>&1 || { tail -n 20 "$log" >&2; bench_die "apt-get update failed"; }
    if ((${#missing[@]})) && ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        tail -n 20 "$log" >&2
        bench_die "apt-get install ${missing[*]} failed"
    fi
    for pkg in "${optional[@]}"; do
        apt-get install -y -qq --no-install-recommends "$pkg" >>"$log" 2>&1 \
            || bench_log "optional package $pkg not installable; going on without it"
    done
    bench_log "install took $((SECONDS - t0)) s"
}

# bench_build: release build of geoalign; sets BENCH_GEOALIGN.
bench_build() {
    bench_log "cargo build --release"
    (cd "$BENCH_ROOT" && cargo build --release --quiet) || bench_die "cargo build --release failed"
    BENCH_GEOALIGN="$BENCH_ROOT/target/release/geoalign"
}

# ---- throwaway PostgreSQL + PostGIS --------------------------------------

_bench_as_owner() {
    if [[ $(id -u) == 0 ]]; then runuser -u "$BENCH_PG_OWNER" -- "$@"; else "$@"; fi
}

# bench_pg_start: initdb + pg_ctl start a private cluster in a temp dir,
# listening only on a unix socket there (port number BENCH_PG_PORT), with a
# database "bench" that has PostGIS. Idempotent within one run.
bench_pg_start() {
    [[ -n ${BENCH_PG_DIR:-} ]] && return 0
    bench_need_pkgs "/usr/lib/postgresql/*/bin/initdb:postgresql" \
        "/usr/share/postgresql/*/extension/postgis.control:postgresql-postgis"
    # The newest server version that has PostGIS.
    local ctl ver bin
    for ctl in /usr/share/postgresql/*/extension/postgis.control; do
        ver="$(basename "$(dirname "$(dirname "$ctl")")")"
        [[ -x /usr/lib/postgresql/$ver/bin/initdb ]] && bin="/usr/lib/postgresql/$ver/bin"
    done
    [[ -n ${bin:-} ]] || bench_die "no PostgreSQL server version with PostGIS found"
    BENCH_PG_DIR="$(mktemp -d /tmp/geoalign-bench-pg.XXXXXX)"
    echo $$ >"$BENCH_PG_DIR/bench.pid"
    if [[ $(id -u) == 0 ]]; then chown "$BENCH_PG_OWNER" "$BENCH_PG_DIR"; fi
    BENCH_CLEANUP+=("bench_pg_stop '$bin' '$BENCH_PG_DIR'")
    bench_log "starting PostgreSQL $(basename "$(dirname "$bin")") in $BENCH_PG_DIR (socket, port $BENCH_PG_PORT)"
    _bench_as_owner "$bin/initdb" -D "$BENCH_PG_DIR/data" -U bench --auth=trust -E UTF8 --no-sync >"$BENCH_PG_DIR/initdb.log" 2>&1 \
        || bench_die "initdb failed; see $BENCH_PG_DIR/initdb.log"
    _bench_as_owner "$bin/pg_ctl" -D "$BENCH_PG_DIR/data" -l "$BENCH_PG_DIR/server.log" -w -t 60 \
        -o "-k $BENCH_PG_DIR -p $BENCH_PG_PORT -c listen_addresses=''" start >/dev/null \
        || bench_die "pg_ctl start failed: $(tail -5 "$BENCH_PG_DIR/server.log" 2>/dev/null)"
    export PGHOST="$BENCH_PG_DIR" PGPORT="$BENCH_PG_PORT" PGUSER=bench PGDATABASE=bench
    "$bin/createdb" bench || bench_die "createdb failed"
    psql -qX -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION postgis' >/dev/null || bench_die "CREATE EXTENSION postgis failed"
    BENCH_PG_DSN="PG:host=$PGHOST port=$PGPORT dbname=bench user=bench"
    bench_log "PostGIS $(psql -qXAt -c 'SELECT postgis_lib_version()') ready"
}

bench_pg_stop() {  # BIN DIR
    [[ -f $2/data/postmaster.pid ]] && _bench_as_owner "$1/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null 2>&1
    rm -rf "$2"
    unset BENCH_PG_DIR
}

# Scratch dirs and clusters left by a run killed (-9) before its trap ran:
# those whose bench.pid names a process that is gone.
bench_reap_stale() {
    local dir pid pg_ctl
    for dir in /tmp/geoalign-bench.* /tmp/geoalign-bench-pg.*; do
        [[ -d $dir ]] || continue
        pid="$(cat "$dir/bench.pid" 2>/dev/null || true)"
        [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && continue
        bench_log "removing $dir, left by an earlier run"
        pg_ctl="$(compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' | tail -n 1 || true)"
        if [[ -n $pg_ctl ]]; then bench_pg_stop "$(dirname "$pg_ctl")" "$dir"; else rm -rf "$dir"; fi
    done
}

# ---- timing --------------------------------------------------------------

# bench_time PREPARE COMMAND: run COMMAND (a bash string; output kept in
# $BENCH_TMP/warmup.log) once untimed as a warm-up and check, then BENCH_RUNS
# times, each after PREPARE (untimed), output discarded. Prints "MEDIAN MIN"
# in seconds. Uses hyperfine when installed, else a date-based loop.
bench_time() {
    local prepare="$1" cmd="$2"
    eval "$prepare"
    if ! eval "$cmd" >"$BENCH_TMP/warmup.log" 2>&1; then
        tail -n 20 "$BENCH_TMP/warmup.log" >&2
        bench_die "failed: $cmd"
    fi
    if command -v hyperfine >/dev/null; then
        local csv="$BENCH_TMP/hyperfine.csv"
        hyperfine --shell=bash --style basic --runs "$BENCH_RUNS" --prepare "$prepare" \
            --export-csv "$csv" "$cmd" >&2 || bench_die "failed: $cmd"
        # command,mean,stddev,median,user,system,min,max (count from the end:
        # the command itself may hold commas)
        awk -F, 'NR == 2 { print $(NF - 4), $(NF - 1) }' "$csv"
        return
    fi
    local i t0 t1 times=()
    for ((i = 0; i < BENCH_RUNS; i++)); do
        eval "$prepare"
        t0=$(date +%s.%N)
        eval "$cmd" >/dev/null 2>&1 || bench_die "failed: $cmd"
        t1=$(date +%s.%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
        printf '.' >&2
    done
    echo >&2
    printf '%s\n' "${times[@]}" | sort -g | awk '{ t[NR] = $1 }
        END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; print m, t[1] }'
}

# bench_table_row TOOL MEDIAN MIN BASE_MEDIAN: one markdown row; the ratio is
# MEDIAN / BASE_MEDIAN, so > 1 means the baseline (geoalign) is faster.
bench_table_row() {
    awk -v tool="$1" -v med="$2" -v min="$3" -v base="$4" \
        'BEGIN { printf "| %s | %.3f | %.3f | %.2f |\n", tool, med, min, med / base }'
}

# bench_table_row_ms TOOL MEDIAN MIN BASE_MEDIAN: like bench_table_row, times
# (given in seconds) printed in milliseconds, for sub-second benchmarks.
bench_table_row_ms() {
    awk -v tool="$1" -v med="$2" -v min="$3" -v base="$4" \
        'BEGIN { printf "| %s | %.3f | %.3f | %.1f |\n", tool, med * 1000, min * 1000, med / base }'
}

# ---- Python peers ----------------------------------------------------------

# bench_need_py "MODULE:PACKAGE"...: pip-install each PyPI PACKAGE whose MODULE
# python3 cannot import (falls back to --break-system-packages where pip refuses
# to touch a distribution-managed Python).
bench_need_py() {
    command -v python3 >/dev/null || bench_need_pkgs python3:python3 'pip3:python3-pip'
    local spec missing=()
    for spec in "$@"; do
        python3 -c "import ${spec%%:*}" 2>/dev/null || missing+=("${spec#*:}")
    done
    ((${#missing[@]})) || return 0
    bench_log "installing: ${missing[*]} (pip)"
    local log="$BENCH_TMP/pip.log"
    python3 -m pip install --quiet "${missing[@]}" >"$log" 2>&1 \
        || python3 -m pip install --quiet --break-system-packages "${missing[@]}" >>"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; bench_die "pip install ${missing[*]} failed"; }
}

# ---- criterion -------------------------------------------------------------

# bench_criterion_dir: the folder criterion writes its results to.
bench_criterion_dir() {
    local target
    target="$(cd "$BENCH_ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')" \
        || target="$BENCH_ROOT/target"
    printf '%s/criterion\n' "$target"
}

# bench_criterion ID: "MEDIAN MIN" in seconds of criterion benchmark ID (e.g.
# dissolve_all/zip3) from its last run: the median estimate, and the fastest
# sample (per iteration).
bench_criterion() {
    local dir
    dir="$(bench_criterion_dir)/$1/new"
    [[ -f $dir/estimates.json && -f $dir/sample.json ]] || bench_die "no criterion results for $1 in $dir"
    python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
est = json.load(open(f"{d}/estimates.json"))
sample = json.load(open(f"{d}/sample.json"))
fastest = min(t / n for t, n in zip(sample["times"], sample["iters"]))
print(est["median"]["point_estimate"] / 1e9, fastest / 1e9)
PY
}

# ---- PostGIS query timing --------------------------------------------------

# bench_pg_time SQL: run SQL (one statement, no trailing ';') once as a warm-up
# and BENCH_RUNS times in one psql session with \timing; prints "MEDIAN MIN"
# in seconds (server time plus the unix-socket round trip).
bench_pg_time() {
    local sql="$1" i
    {
        echo '\timing on'
        for ((i = 0; i <= BENCH_RUNS; i++)); do printf '%s;\n' "$sql"; done
    } | psql -qXAt -v ON_ERROR_STOP=1 >"$BENCH_TMP/psql.log" 2>&1 \
        || { tail -n 20 "$BENCH_TMP/psql.log" >&2; bench_die "psql failed: $sql"; }
    awk '/^Time: / { t[n++] = $2 / 1000 }
        END {
            if (n < 2) exit 1
            m = 0; for (i = 1; i < n; i++) v[m++] = t[i]   # drop the warm-up
            for (i = 0; i < m; i++) for (j = i + 1; j < m; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
            med = m % 2 ? v[(m - 1) / 2] : (v[m / 2 - 1] + v[m / 2]) / 2
            print med, v[0]
        }' "$BENCH_TMP/psql.log" || bench_die "no timings from psql for: $sql"
}
