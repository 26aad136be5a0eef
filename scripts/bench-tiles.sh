# shellcheck shell=bash
# `scripts/bench tiles`: vector tiles of a ZIP3 alignment of zip5_us.fgb, geoalign
# serve vs PostGIS ST_AsMVT(ST_AsMVTGeom(...)) on the same data (a unit layer with its
# territory id, GiST-indexed 3857 geometry), over the same list of tiles z4-z12.
#   - cold: cache empty, concurrency 8 (geoalign: benches/tile_client.rs, 8 keep-alive
#     connections, gzip accepted, bodies not inflated; PostGIS: pgbench -c 8 over the
#     tile list), tiles/s and p99;
#   - warm: wrk (TILES_WRK_ARGS, default -t2 -c16) with Accept-Encoding: gzip over the
#     cached list, req/s, p99. wrk and the server share the 2 cores: 16 connections keep
#     8 requests per server worker in flight, enough to saturate it; -c64 only queued
#     requests behind each other (p99 = queueing, not work);
#   - bytes per tile (uncompressed MVT) per zoom side by side;
#   - the largest tile of the whole pyramid z0-12 (geoalign tiles export).
# Sourced by scripts/bench; uses bench-lib.sh helpers and bench_free_port.
# Env: TILES_WRK_DURATION (10s), TILES_WRK_ARGS (-t2 -c16), TILES_PG_SECONDS (30),
# TILES_EXPORT (1: export z0-12). The load average (uptime) is recorded with each figure.

# Load average (1, 5, 15 min) now: the 2 cores are shared, so each figure carries it.
tiles_load() { cut -d' ' -f1-3 /proc/loadavg; }

bench_tiles() {
    local src="$BENCH_DATA/zip5_us.fgb"
    if [[ ! -f $src ]]; then
        bench_log "skipping tiles: $src not found"
        return 0
    fi
    src="$(readlink -f "$src")"
    setup_common
    bench_need_pkgs wrk:wrk curl:curl pgbench:postgresql-client
    bench_pg_start
    local t="$BENCH_TMP/tiles"
    mkdir -p "$t"

    # 1. geoalign: ingest, ZIP3 sheet (region = state of the ZIP3's first ZIP), import.
    bench_log "tiles: geoalign ingest + ZIP3 alignment (untimed)"
    "$BENCH_GEOALIGN" --store "$t/t.db" ingest "$src" --dataset us --id-field zip >"$t/ingest.log" 2>&1 \
        || { tail -n 20 "$t/ingest.log" >&2; bench_die "geoalign ingest failed"; }
    ogr2ogr -f CSV /vsistdout/ "$src" -select zip,state 2>/dev/null | tr -d '"' | sort -t, -k1,1 | awk -F, '
        BEGIN { print "unit_id,territory,region" }
        $1 == "zip" { next }
        { z3 = substr($1, 1, 3); if (!(z3 in region)) region[z3] = $2; print $1 "," z3 "," region[z3] }' >"$t/sheet.csv"
    "$BENCH_GEOALIGN" --store "$t/t.db" align import "$t/sheet.csv" --alignment zip3 --dataset us \
        --levels territory,region >"$t/align.log" 2>&1 \
        || { tail -n 20 "$t/align.log" >&2; bench_die "geoalign align import failed"; }

    # 2. PostGIS: the same polygons, 3857 geometry with a GiST index, territory column.
    bench_log "tiles: PostGIS load + transform + index (untimed)"
    ogr2ogr -f PostgreSQL "$BENCH_PG_DSN" "$src" -nln zip5 -overwrite -nlt PROMOTE_TO_MULTI \
        -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=NONE --config PG_USE_COPY YES \
        || bench_die "ogr2ogr into PostGIS failed"
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || bench_die "PostGIS preparation failed"
ALTER TABLE zip5 ADD COLUMN territory text;
UPDATE zip5 SET territory = left(zip, 3);
ALTER TABLE zip5 ADD COLUMN geom3857 geometry(MultiPolygon, 3857);
UPDATE zip5 SET geom3857 = ST_Transform(geom, 3857);
CREATE INDEX zip5_geom3857 ON zip5 USING gist (geom3857);
VACUUM ANALYZE zip5;
-- The tile list: at each zoom 4-12, 150 tiles (all there are at z4) drawn in a fixed
-- pseudo-random order from the tiles holding a ZIP's point on surface.
CREATE TABLE tiles AS
WITH pts AS (SELECT ST_Transform(ST_PointOnSurface(geom), 3857) AS p FROM zip5),
zs AS (SELECT generate_series(4, 12) AS z),
all_tiles AS (
    SELECT DISTINCT z,
        floor((ST_X(p) + 20037508.342789244) / (40075016.68557849 / 2 ^ z))::int AS x,
        floor((20037508.342789244 - ST_Y(p)) / (40075016.68557849 / 2 ^ z))::int AS y
    FROM pts, zs
), ranked AS (
    SELECT z, x, y, row_number() OVER (PARTITION BY z ORDER BY md5(z || '/' || x || '/' || y)) AS k FROM all_tiles
)
SELECT z, x, y FROM ranked WHERE k <= 150 ORDER BY z, k;
ALTER TABLE tiles ADD COLUMN id serial;
CREATE FUNCTION mvt(tz int, tx int, ty int) RETURNS bytea LANGUAGE sql STABLE AS $f$
    SELECT ST_AsMVT(q, 'units', 4096, 'geom') FROM (
        SELECT zip, territory, ST_AsMVTGeom(geom3857, ST_TileEnvelope(tz, tx, ty), 4096, 64, true) AS geom
        FROM zip5 WHERE geom3857 && ST_TileEnvelope(tz, tx, ty, margin => 64.0 / 4096)
    ) q
$f$;
-- Bytes and time of every tile, one query at a time.
CREATE TABLE mvt_sizes (z int, x int, y int, bytes int, ms float8);
DO $d$ DECLARE r record; t0 timestamptz; b bytea; BEGIN
    FOR r IN SELECT * FROM tiles ORDER BY id LOOP
        t0 := clock_timestamp();
        b := mvt(r.z, r.x, r.y);
        INSERT INTO mvt_sizes VALUES (r.z, r.x, r.y, coalesce(length(b), 0),
            extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END $d$;
SQL
    local n
    n="$(psql -qXAt -c 'SELECT count(*) FROM tiles')"
    psql -qXAt -F' ' -c 'SELECT z, x, y FROM tiles ORDER BY id' >"$t/tiles.txt"
    bench_log "tiles: $n tiles at z4-z12"

    # 3. PostGIS cold rate: pgbench, 8 clients, random tiles of the list.
    local pg_s="${TILES_PG_SECONDS:-30}"
    cat >"$t/pg.sql" <<SQL
\\set i random(1, $n)
SELECT mvt(z, x, y) FROM tiles WHERE id = :i;
SQL
    bench_log "tiles: PostGIS ST_AsMVT, pgbench -c 8 -j 2 -T $pg_s"
    pgbench -n -c 8 -j 2 -T "$pg_s" -f "$t/pg.sql" -r >"$t/pgbench.log" 2>&1 \
        || { cat "$t/pgbench.log" >&2; bench_die "pgbench failed"; }
    local pg_tps pg_lat pg_load
    pg_load="$(tiles_load)"
    pg_tps="$(awk '/^tps = / { print $3; exit }' "$t/pgbench.log")"
    pg_lat="$(awk '/^latency average/ { print $4; exit }' "$t/pgbench.log")"

    # 4. geoalign serve, cache empty: warm the prepared alignment (TileJSON, one units
    # tile), then every tile of the list once, 8 at a time. TILES_COLD_RUNS (3) runs,
    # each on a fresh server; the median run is reported. The last server stays up,
    # its cache full, for the sizes and the warm run.
    local client
    client="$(cd "$BENCH_ROOT" && cargo bench --quiet --bench tile_client --no-run --message-format=json \
        | python3 -c 'import json, sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable") and m["target"]["name"] == "tile_client"][-1])')" \
        || bench_die "building benches/tile_client.rs failed"
    local port url revision run runs="${TILES_COLD_RUNS:-3}"
    port="$(bench_free_port)"
    url="http://127.0.0.1:$port"
    TILES_PID=""   # global: the exit trap stops the server of the last run
    BENCH_CLEANUP+=('[[ -z $TILES_PID ]] || { kill "$TILES_PID" 2>/dev/null; wait "$TILES_PID" 2>/dev/null; }')
    for ((run = 1; run <= runs; run++)); do
        if [[ -n $TILES_PID ]]; then kill "$TILES_PID" 2>/dev/null; wait "$TILES_PID" 2>/dev/null || true; fi
        RUST_LOG=warn GEOALIGN_TILE_CACHE_MB=2048 "$BENCH_GEOALIGN" --store "$t/t.db" serve --bind "127.0.0.1:$port" >"$t/serve.log" 2>&1 &
        TILES_PID=$!
        local i
        for ((i = 0; i < 600; i++)); do
            curl -fsS -o /dev/null "$url/tiles/zip3.json" 2>/dev/null && break
            kill -0 "$TILES_PID" 2>/dev/null || bench_die "geoalign serve exited: $(tail -5 "$t/serve.log")"
            sleep 0.2
        done
        ((i < 600)) || bench_die "geoalign serve did not answer on $url"
        curl -fsS -o /dev/null "$url/tiles/zip3/8/60/95.mvt" || true
        revision="$(curl -fsS "$url/tiles/zip3.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])')"
        awk -v r="$revision" '{ printf "/tiles/zip3/%s/%s/%s/%s.mvt\n", r, $1, $2, $3 }' "$t/tiles.txt" >"$t/paths.txt"
        bench_log "tiles: geoalign cold run $run/$runs, $n tiles, 8 keep-alive connections (benches/tile_client.rs)"
        "$client" "127.0.0.1:$port" "$t/paths.txt" 8 >"$t/cold.$run.txt" 2>"$t/cold.$run.log" \
            || { cat "$t/cold.$run.log" >&2; bench_die "tile client failed"; }
        printf '%s %s %s\n' "$(awk '/requests in/ { print $4 }' "$t/cold.$run.log")" "$run" "$(tiles_load)" >>"$t/cold_runs.txt"
    done
    local cold_s cold_rate cold_p99 cold_bad cold_load cold_all median_run
    read -r cold_s median_run cold_load < <(sort -g "$t/cold_runs.txt" | awk -v m=$(((runs + 1) / 2)) 'NR == m { print $1, $2, $3, $4, $5 }')
    cp "$t/cold.$median_run.txt" "$t/cold.txt"
    cold_all="$(sort -g "$t/cold_runs.txt" | awk -v n="$n" '{ printf "%s%.0f", (NR > 1 ? ", " : ""), n / $1 }')"
    cold_rate="$(awk -v n="$n" -v s="$cold_s" 'BEGIN { printf "%.0f", n / s }')"
    cold_p99="$(awk '{ print $2 * 1000 }' "$t/cold.txt" | sort -g | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.1f", v[i] }')"
    cold_bad="$(awk '$1 != 200 && $1 != 204' "$t/cold.txt" | wc -l)"

    # 5. sizes per zoom (uncompressed, as PostGIS returns them) side by side.
    awk -v u="$url" -v r="$revision" '{ printf "url = \"%s/tiles/zip3/%s/%s/%s/%s.mvt\"\noutput = \"/dev/null\"\n", u, r, $1, $2, $3 }' \
        "$t/tiles.txt" >"$t/curl-raw.cfg"
    curl -sS -K "$t/curl-raw.cfg" -w '%{size_download}\n' | paste -d' ' "$t/tiles.txt" - >"$t/geo_sizes.txt"
    psql -qXAt -F' ' -c 'SELECT z, x, y, coalesce(bytes, 0), ms FROM mvt_sizes' >"$t/pg_sizes.txt"
    # geoalign's cold time per tile, by zoom (from the URL of each transfer).
    awk '{ n = split($4, u, "/"); print u[n - 2], $2 * 1000 }' "$t/cold.txt" >"$t/geo_ms.txt"
    local sizes
    sizes="$(awk 'FILENAME ~ /geo_ms/ { gm[$1] += $2; gc[$1]++; next }
        FILENAME ~ /pg_sizes/ { pg[$1" "$2" "$3] = $4; pm[$1] += $5; pc[$1]++; next }
        { z = $1; k = $1" "$2" "$3; g[z] += $4; p[z] += pg[k]; c[z]++; if ($4 > mg[z]) mg[z] = $4; if (pg[k] > mp[z]) mp[z] = pg[k] }
        END { for (z = 4; z <= 12; z++) if (c[z]) printf "| %d | %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f |\n", z, c[z], g[z] / c[z] / 1024, p[z] / c[z] / 1024, (g[z] / c[z]) / (p[z] / c[z]), mg[z] / 1024, mp[z] / 1024, gm[z] / gc[z], pm[z] / pc[z] }' \
        "$t/geo_ms.txt" "$t/pg_sizes.txt" "$t/geo_sizes.txt")"
    local ratio46
    ratio46="$(awk 'FNR == NR { pg[$1" "$2" "$3] = $4; next } $1 >= 4 && $1 <= 6 { g += $4; p += pg[$1" "$2" "$3] }
        END { printf "%.3f", g / p }' "$t/pg_sizes.txt" "$t/geo_sizes.txt")"

    # 6. warm: wrk over the cached list with gzip.
    local lua="$t/tiles.lua" wrk_log="$t/wrk.log" wrk_d="${TILES_WRK_DURATION:-10s}"
    local -a wrk_args
    read -r -a wrk_args <<<"${TILES_WRK_ARGS:--t2 -c16}"
    cat >"$lua" <<LUA
local paths = {}
for line in io.lines("$t/paths.txt") do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
LUA
    bench_log "tiles: geoalign warm, wrk ${wrk_args[*]} -d$wrk_d --latency (gzip)"
    wrk "${wrk_args[@]}" -d3s -s "$lua" "$url" >/dev/null 2>&1 || true
    wrk "${wrk_args[@]}" -d"$wrk_d" --latency -s "$lua" "$url" >"$wrk_log" 2>&1 \
        || { cat "$wrk_log" >&2; bench_die "wrk failed"; }
    local rps p50 p99 non2xx warm_load
    warm_load="$(tiles_load)"
    rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$wrk_log")"
    p50="$(awk '$1 == "50%" { print $2 }' "$wrk_log")"
    p99="$(awk '$1 == "99%" { print $2 }' "$wrk_log")"
    non2xx="$(awk '/Non-2xx/ { print $NF }' "$wrk_log")"
    kill "$TILES_PID" 2>/dev/null; wait "$TILES_PID" 2>/dev/null || true
    TILES_PID=""

    # 7. the largest tile of the whole pyramid z0-12 (export).
    local export_line="(skipped: TILES_EXPORT=0)"
    if [[ ${TILES_EXPORT:-1} != 0 ]]; then
        bench_log "tiles: geoalign tiles --format pmtiles --minzoom 0 --maxzoom 12"
        local e0 e1
        e0=$(date +%s.%N)
        export_line="$("$BENCH_GEOALIGN" --store "$t/t.db" tiles --alignment zip3 --format pmtiles \
            --minzoom 0 --maxzoom 12 --output "$t/zip3.pmtiles" 2>/dev/null)" || bench_die "geoalign tiles failed"
        e1=$(date +%s.%N)
        export_line="$export_line ($(awk -v a="$e0" -v b="$e1" 'BEGIN { printf "%.0f", b - a }') s)"
    fi

    local rev ver
    rev="$(git -C "$BENCH_ROOT" describe --always --dirty 2>/dev/null || echo 'no commit')"
    ver="PostGIS $(psql -qXAt -c 'SELECT postgis_lib_version()') / PostgreSQL $(psql -qXAt -c 'SHOW server_version' | cut -d' ' -f1)"
    ver+=" · $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2) · $(curl --version | head -1 | cut -d' ' -f1-2)"
    local md="$BENCH_OUT/tiles.md"
    {
        printf '## tiles: ZIP3 alignment of %s (%s units, %s territories), %s tiles z4-z12\n\n' \
            "$(basename "$src")" "$(psql -qXAt -c 'SELECT count(*) FROM zip5')" \
            "$(psql -qXAt -c 'SELECT count(DISTINCT territory) FROM zip5')" "$n"
        printf '%s · %s cores · geoalign %s (release) · %s\n\n' "$(date -u +%F)" "$(nproc)" "$rev" "$ver"
        printf '| measure | geoalign | PostGIS ST_AsMVT | ratio | target |\n|---|---:|---:|---:|---|\n'
        awk -v runs="$runs" -v all="$cold_all" -v g="$cold_rate" -v p="$pg_tps" -v gp="$cold_p99" -v pl="$pg_lat" -v bad="$cold_bad" -v gl="$cold_load" -v ql="$pg_load" 'BEGIN {
            printf "| cold tiles/s, concurrency 8 (each tile once; median of %s runs: %s; PostGIS: pgbench -c 8) | %d (p99 %s ms, %d errors; load %s) | %.0f (mean %s ms; load %s) | %.1fx | >= 5x, p99 < 20 ms |\n", runs, all, g, gp, bad, gl, p, pl, ql, g / p }'
        printf '| warm req/s, gzip (wrk %s) | %s (p50 %s, p99 %s%s; load %s) | | | >= 40000, p99 < 2 ms |\n' \
            "${wrk_args[*]}" "$rps" "$p50" "$p99" "${non2xx:+, non-2xx $non2xx}" "$warm_load"
        printf '| bytes per tile z4-z6, geoalign / PostGIS | %s | | | <= 0.25 |\n\n' "$ratio46"
        printf 'Bytes per tile (uncompressed MVT), same tiles:\n\n'
        printf '| z | tiles | geoalign KB mean | PostGIS KB mean | ratio | geoalign KB max | PostGIS KB max | geoalign cold ms (HTTP, 8 in flight) | PostGIS ms (one query at a time) |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
        printf '%s\n\n' "$sizes"
        printf 'Pyramid z0-12: %s\n\n' "$export_line"
        printf 'geoalign tiles carry territories, regions, boundaries and labels at every zoom and the units layer from z8\n'
        printf '(zip, territory, region, metrics); PostGIS tiles carry the units layer (zip, territory) at every zoom.\n'
        printf 'Server log level warn (no per-request log line). Cold: geoalign serve with the alignment prepared (TileJSON and one units tile fetched first), tile cache empty;\n'
        printf 'benches/tile_client.rs fetches each tile once over 8 keep-alive connections (gzip accepted, bodies not inflated),\n'
        printf 'over loopback on the same 2 cores; a fresh server per run. PostGIS: pgbench, 8 clients,\n'
        printf '%s s of random tiles from the list (PostGIS has no tile cache, so every query is cold).\n' "$pg_s"
    } | tee "$md"
    bench_log "wrote ${md#"$BENCH_ROOT"/}"
}
