// geoalign map viewer: draws an alignment from the server's default style and shows
// who owns the unit under the pointer. Seed of the web editor: one module per concern
// (map setup here, hover in hover.js); more tools plug in through `app`.
import * as maplibregl from '/web/vendor/maplibre-gl/maplibre-gl.mjs';
import { installHover } from './hover.js';

const params = new URLSearchParams(window.location.search);
const status = document.getElementById('status');

async function pickAlignment() {
  if (params.get('alignment')) return params.get('alignment');
  const res = await fetch('/api/alignments');
  if (!res.ok) throw new Error(`GET /api/alignments: ${res.status}`);
  const body = await res.json();
  const first = (body.alignments || [])[0];
  if (!first) throw new Error('no alignment in this store');
  return first.name;
}

async function start() {
  const alignment = await pickAlignment();
  const style = params.get('style') || 'default';
  const tilejson = await (await fetch(`/tiles/${encodeURIComponent(alignment)}.json`)).json();
  const [west, south, east, north] = tilejson.bounds;
  const map = new maplibregl.Map({
    container: 'map',
    style: `/styles/${encodeURIComponent(style)}.json?alignment=${encodeURIComponent(alignment)}`,
    bounds: [[west, south], [east, north]],
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    hash: params.has('hash'),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  const app = { map, alignment, tilejson };
  window.geoalign = app;
  installHover(app, document.getElementById('hover'));
  status.textContent = `${alignment} · revision ${tilejson.revision}`;
  map.once('idle', () => {
    document.body.dataset.ready = 'true';
  });
}

start().catch((e) => {
  status.textContent = `error: ${e.message}`;
  console.error(e);
});
