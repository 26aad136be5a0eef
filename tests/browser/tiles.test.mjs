// Every tile of the alignment at zooms 0-10, fetched over HTTP (gzip) and decoded with
// @mapbox/vector-tile: layer version 2, extent 4096, polygons with exterior rings of
// positive area in tile coordinates (clockwise, y down), holes negative, closed rings
// of at least 3 distinct points, no repeated points, no self-intersection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { BASE, ALIGNMENT } from './common.mjs';

const MAXZOOM = Number(process.env.GEOALIGN_MAXZOOM || 10);

function lonLatToTile(lon, lat, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return [Math.min(Math.max(x, 0), n - 1), Math.min(Math.max(y, 0), n - 1)];
}

const area2 = (ring) => {
  let s = 0;
  for (let i = 0; i < ring.length - 1; i++) s += ring[i].x * ring[i + 1].y - ring[i + 1].x * ring[i].y;
  return s;
};

function cross(o, a, b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Whether closed segments ab and cd have any point in common.
function segmentsIntersect(a, b, c, d) {
  const d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  const on = (p, q, r) => Math.min(p.x, q.x) <= r.x && r.x <= Math.max(p.x, q.x) && Math.min(p.y, q.y) <= r.y && r.y <= Math.max(p.y, q.y);
  return (d1 === 0 && on(c, d, a)) || (d2 === 0 && on(c, d, b)) || (d3 === 0 && on(a, b, c)) || (d4 === 0 && on(a, b, d));
}

// Segments of one ring that cross or touch each other (not neighbours in the ring).
function selfIntersections(ring) {
  const segs = [];
  for (let i = 0; i < ring.length - 1; i++) segs.push([ring[i], ring[i + 1], i]);
  const n = segs.length;
  const cell = 64;
  const grid = new Map();
  segs.forEach((s, k) => {
    const [a, b] = s;
    for (let gx = Math.floor(Math.min(a.x, b.x) / cell); gx <= Math.floor(Math.max(a.x, b.x) / cell); gx++) {
      for (let gy = Math.floor(Math.min(a.y, b.y) / cell); gy <= Math.floor(Math.max(a.y, b.y) / cell); gy++) {
        const key = `${gx},${gy}`;
        if (!grid.has(key)) grid.set(key, []);
        grid.get(key).push(k);
      }
    }
  });
  const found = [];
  const seen = new Set();
  for (const list of grid.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const [p, q] = list[i] < list[j] ? [list[i], list[j]] : [list[j], list[i]];
        if (q === p + 1 || (p === 0 && q === n - 1)) continue; // neighbours share an end
        const key = p * n + q;
        if (seen.has(key)) continue;
        seen.add(key);
        const [a, b] = segs[p], [c, d] = segs[q];
        if (segmentsIntersect(a, b, c, d)) found.push([p, q]);
      }
    }
  }
  return found;
}

test(`every tile of ${ALIGNMENT} at zooms 0-${MAXZOOM} decodes into valid geometry`, async () => {
  const tilejson = await (await fetch(`${BASE}/tiles/${ALIGNMENT}.json`)).json();
  const [west, south, east, north] = tilejson.bounds;
  const template = tilejson.tiles[0];
  let tiles = 0, features = 0, polygons = 0;
  for (let z = 0; z <= MAXZOOM; z++) {
    const [x0, y0] = lonLatToTile(west, north, z);
    const [x1, y1] = lonLatToTile(east, south, z);
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const url = template.replace('{z}', z).replace('{x}', x).replace('{y}', y);
        const res = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
        if (res.status === 204) continue;
        assert.equal(res.status, 200, url);
        tiles++;
        const tile = new VectorTile(new PbfReader(new Uint8Array(await res.arrayBuffer())));
        for (const [name, layer] of Object.entries(tile.layers)) {
          assert.equal(layer.version, 2, `${url} ${name} version`);
          assert.equal(layer.extent, 4096, `${url} ${name} extent`);
          for (let i = 0; i < layer.length; i++) {
            const f = layer.feature(i);
            features++;
            const where = `${z}/${x}/${y} ${name} ${f.properties.id ?? f.id}`;
            const geometry = f.loadGeometry();
            assert.ok(geometry.length > 0, `${where}: empty geometry`);
            if (f.type !== 3) continue;
            let sawExterior = false;
            for (const ring of geometry) {
              assert.ok(ring.length >= 4, `${where}: ring of ${ring.length} points`);
              for (let k = 1; k < ring.length - 1; k++) {
                assert.ok(ring[k].x !== ring[k - 1].x || ring[k].y !== ring[k - 1].y, `${where}: repeated point`);
              }
              const a = area2(ring);
              assert.notEqual(a, 0, `${where}: zero-area ring`);
              if (a > 0) { sawExterior = true; polygons++; }
              assert.ok(sawExterior, `${where}: hole (negative ring) before any exterior`);
              const bad = selfIntersections(ring);
              assert.deepEqual(bad, [], `${where}: ring crosses or touches itself`);
            }
            const geojson = f.toGeoJSON(x, y, z);
            assert.ok(['Polygon', 'MultiPolygon'].includes(geojson.geometry.type), where);
          }
        }
      }
    }
  }
  assert.ok(tiles > 15 && polygons > 1000, `${tiles} tiles, ${polygons} polygons`);
  console.log(`# ${tiles} tiles, ${features} features, ${polygons} polygons valid`);
});
