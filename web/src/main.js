// geoalign map editor: draws an alignment from the server's default style and lets a
// planner select units, reassign them, undo, and see other planners' commits live.
// One module per tool (hover, select, assign, history, live, balance, search, scenarios,
// exports), each plugging
// into `app`: the map, the alignment, its revision and territories, and a small event
// bus (`app.on(name, fn)`, `app.emit(name, detail)`):
//   'territories'  the territory list (with metrics) of a new revision arrived
//   'drawn'        the map shows the tiles of `app.drawnRevision`
//   'selection'    the selection changed
//   'metric'       the chosen metric changed
//   'level'        the level being edited changed (`app.editLevel`)
import * as maplibregl from '/web/vendor/maplibre-gl/maplibre-gl.mjs';
import { alignmentPath, escape, getJSON, transformRequest } from './api.js';
import { installHover } from './hover.js';
import { installSelect } from './select.js';
import { installAssign } from './assign.js';
import { installHistory } from './history.js';
import { installLive } from './live.js';
import { installBalance } from './balance.js';
import { installSearch } from './search.js';
import { installScenarios } from './scenarios.js';
import { installExports } from './exports.js';
import { installSheet } from './sheet.js';
import { installRebalance } from './rebalance.js';
import { installBuild } from './build.js';

const params = new URLSearchParams(window.location.search);
const status = document.getElementById('status');

// The alignment of `?alignment=`, else the first; one that does not exist is named with
// the ones that do.
async function pickAlignment() {
  const body = await getJSON('/api/alignments');
  const names = (body.alignments || []).map((a) => a.name);
  if (!names.length) throw new Error('no alignment in this store: import a sheet or build one (see docs/tutorial.md)');
  const wanted = params.get('alignment');
  if (wanted === null) return names[0];
  if (!names.includes(wanted)) {
    throw new Error(`alignment '${wanted}' not found; available: ${names.join(', ')}`);
  }
  return wanted;
}

function bus() {
  const handlers = new Map();
  return {
    on(name, fn) {
      if (!handlers.has(name)) handlers.set(name, []);
      handlers.get(name).push(fn);
    },
    emit(name, detail) {
      for (const fn of handlers.get(name) || []) {
        try {
          fn(detail);
        } catch (e) {
          console.error(e);
        }
      }
    },
  };
}

// The line shown under the editor's buttons: refusals, conflicts, notices.
function messenger(element) {
  let timer = null;
  return (text, kind = 'info') => {
    clearTimeout(timer);
    element.textContent = text || '';
    element.dataset.kind = kind;
    element.hidden = !text;
    if (text && kind === 'info') timer = setTimeout(() => { element.hidden = true; }, 6000);
  };
}

// Editor layers over the style's units: the optimistic owner colour of units just
// reassigned (feature-state `pending` = the territory's colour index) and the selection.
function addEditorLayers(map) {
  const palette = map.getLayer('territory-fill') ? map.getPaintProperty('territory-fill', 'fill-color') : null;
  const pendingIndex = ['coalesce', ['feature-state', 'pending'], -1];
  const colour = Array.isArray(palette) && palette[0] === 'match'
    ? ['match', pendingIndex, ...palette.slice(2)]
    : '#7f8c8d';
  const before = map.getLayer('unit-line') ? 'unit-line' : undefined;
  map.addLayer({
    id: 'editor-pending',
    type: 'fill',
    source: 'alignment',
    'source-layer': 'units',
    paint: { 'fill-color': colour, 'fill-opacity': ['case', ['>=', pendingIndex, 0], 0.9, 0] },
  }, before);
  map.addLayer({
    id: 'editor-selected',
    type: 'fill',
    source: 'alignment',
    'source-layer': 'units',
    paint: {
      'fill-color': '#1565c0',
      'fill-opacity': ['case', ['boolean', ['feature-state', 'selected'], false], 0.4, 0],
    },
  });
  map.addLayer({
    id: 'editor-selected-items',
    type: 'fill',
    source: 'alignment',
    'source-layer': 'units',
    filter: ['in', ['get', 'id'], ['literal', []]],
    paint: { 'fill-color': '#1565c0', 'fill-opacity': 0.4 },
  });
  map.addLayer({
    id: 'editor-selected-line',
    type: 'line',
    source: 'alignment',
    'source-layer': 'units',
    paint: {
      'line-color': '#0d3c78',
      'line-width': ['case', ['boolean', ['feature-state', 'selected'], false], 2, 0],
    },
  });
}

async function start() {
  // Who this is (asks for a token when the server needs one): a viewer sees no editing tools.
  const me = await getJSON('/api/me');
  document.body.dataset.role = me.role;
  const alignment = await pickAlignment();
  const style = params.get('style') || 'default';
  const [tilejson, overview] = await Promise.all([
    getJSON(`/tiles/${encodeURIComponent(alignment)}.json`),
    getJSON(alignmentPath(alignment)),
  ]);
  const [west, south, east, north] = tilejson.bounds;
  const map = new maplibregl.Map({
    container: 'map',
    style: `/styles/${encodeURIComponent(style)}.json?alignment=${encodeURIComponent(alignment)}`,
    bounds: [[west, south], [east, north]],
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    hash: params.has('hash'),
    boxZoom: false,
    transformRequest,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  const unitLayer = tilejson.vector_layers.find((l) => l.id === 'units') || { fields: {} };
  const app = {
    ...bus(),
    maplibregl,
    map,
    alignment,
    tilejson,
    overview,
    levels: overview.levels,
    revision: tilejson.revision,
    drawnRevision: tilejson.revision,
    territories: [],
    summary: {},
    // The level being edited: 0 moves units between territories; k > 0 moves items of
    // level k - 1 (territories when editing districts) between items of level k.
    editLevel: 0,
    levelItems: [],
    levelSummaries: [],
    metric: params.get('metric') || 'population',
    metricFromUrl: params.has('metric'),
    author: me.name || localStorage.getItem('geoalign.author') || 'planner',
    me,
    canEdit: me.role !== 'viewer' && (!me.alignment || me.alignment === alignment),
    unitMetrics: Object.keys(unitLayer.fields).filter((k) => unitLayer.fields[k] === 'unit metric'),
    message: messenger(document.getElementById('message')),
    path: alignmentPath(alignment),
  };
  window.geoalign = app;

  // A refused change set or undo, explained: the problem's detail; on a stale revision
  // the view is refreshed (the selection stays, to apply again); a refusal (locked
  // territory or unit) is also shown on the map where the planner last clicked.
  let popup = null;
  app.refused = (e) => {
    const detail = (e.problem && e.problem.detail) || e.message;
    if (popup) popup.remove();
    if (e.status === 409 && e.problem && 'current_revision' in e.problem) {
      app.message(`Someone changed this alignment; your view was refreshed. Nothing was applied: check your selection and apply again. (${detail})`, 'conflict');
      app.refresh().catch((err) => console.warn(err));
      return;
    }
    app.message(detail, 'error');
    if (e.status === 422 && app.lastClick) {
      popup = new maplibregl.Popup({ closeButton: true, className: 'refusal' })
        .setLngLat(app.lastClick)
        .setText(detail)
        .addTo(map);
    }
  };

  // Loads the territories of the current revision and, when the revision moved, points
  // the tile source at the new TileJSON (tiles are per revision, so MapLibre reloads
  // them in place). Calls arriving meanwhile are folded into one more round.
  let running = null;
  let again = false;
  async function load() {
    const [info, ...levels] = await Promise.all([
      getJSON(app.path),
      ...app.levels.map((l) => getJSON(`${app.path}/${encodeURIComponent(l)}`)),
    ]);
    const level = levels[0];
    app.levelItems = levels.map((l) => l.items);
    app.levelSummaries = levels.map((l) => l.summary);
    app.territories = level.items;
    app.summary = level.summary;
    app.overview = info;
    app.revision = level.revision;
    app.knownRevision = Math.max(app.knownRevision, level.revision);
    status.textContent = `${alignment} · revision ${app.revision}`;
    document.body.dataset.apiRevision = String(app.revision);
    tilesTo(level.revision);
    // The panels' DOM (hundreds of rows) is rebuilt after the tiles are on their way.
    await new Promise((resolve) => setTimeout(resolve, 0));
    app.emit('territories', app.territories);
  }

  // Tiles are per revision. `tileRevision` is the one the source's tile URL names; moving
  // it on reloads, when every change in between is known (`app.noteChange`: its previous
  // revision and bbox), only the tiles in view that meet a changed bbox (the server
  // carries the other tiles forward unchanged); otherwise it points the source at the
  // TileJSON again and MapLibre reloads every tile in place. The revision counts as
  // drawn (`drawn`; test hook `body[data-revision]`) once the source has loaded again.
  let tileRevision = tilejson.revision;
  const known = new Map(); // revision -> { previous, bbox }
  const tileTemplate = (revision) => tilejson.tiles[0].replace(`/${tilejson.revision}/{z}/`, `/${revision}/{z}/`);
  app.knownRevision = tilejson.revision;
  app.noteChange = (change) => {
    known.set(change.revision, { previous: change.previous_revision, bbox: change.bbox });
    app.knownRevision = Math.max(app.knownRevision, change.revision);
  };

  function changedBoxes(from, to) {
    const boxes = [];
    for (let r = to; r > from;) {
      const k = known.get(r);
      if (!k || k.previous >= r) return null;
      if (k.bbox) boxes.push(k.bbox);
      r = k.previous;
      if (r < from) return null;
    }
    return boxes;
  }

  // The tiles at the zooms MapLibre may show now that meet one of `boxes`.
  function tilesIn(boxes) {
    const maxzoom = tilejson.maxzoom ?? 14;
    const z0 = Math.max(0, Math.floor(map.getZoom()) - 3);
    const z1 = Math.min(maxzoom, Math.ceil(map.getZoom()) + 1);
    const out = [];
    const tx = (lon, z) => Math.floor(((lon + 180) / 360) * 2 ** z);
    const ty = (lat, z) => {
      const r = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
      return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
    };
    for (const [w, s, e, n] of boxes) {
      for (let z = z0; z <= z1; z++) {
        const n2 = 2 ** z - 1;
        const [x0, x1] = [Math.max(0, tx(w, z)), Math.min(n2, tx(e, z))];
        const [y0, y1] = [Math.max(0, ty(n, z)), Math.min(n2, ty(s, z))];
        if ((x1 - x0 + 1) * (y1 - y0 + 1) > 4096) return null; // a huge area: reload all
        for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push({ z, x, y });
      }
    }
    return out;
  }

  function tilesTo(revision) {
    if (revision <= tileRevision) return;
    const source = map.getSource('alignment');
    if (!source) return;
    const boxes = changedBoxes(tileRevision, revision);
    const tiles = boxes && tilesIn(boxes);
    tileRevision = revision;
    let reloading = false;
    if (tiles) {
      // Point later tile requests at the new revision, reload only the changed ones.
      source.tiles = [tileTemplate(revision)];
      if (source._options) source._options.tiles = source.tiles;
      if (tiles.length) map.refreshTiles('alignment', tiles);
      reloading = true;
    } else {
      source.setUrl(`${window.location.origin}/tiles/${encodeURIComponent(alignment)}.json?revision=${revision}`);
    }
    // After setUrl the source fires `metadata` (new TileJSON), then `content`, on which
    // MapLibre starts reloading every tile; from then on "loaded" means loaded at `revision`.
    const check = (e) => {
      if (revision < app.drawnRevision) return done();
      if (!reloading) {
        const urls = source.tiles || [];
        if (!urls.some((t) => t.includes(`/${revision}/`))) return undefined;
        if (e && e.sourceId === 'alignment' && e.sourceDataType === 'content') reloading = true;
        return undefined;
      }
      if (!map.isSourceLoaded('alignment')) return undefined;
      app.drawnRevision = revision;
      document.body.dataset.revision = String(revision);
      app.emit('drawn', revision);
      return done();
    };
    // A reload whose tiles come back unchanged may end without an event or a repaint:
    // look again every 50 ms too.
    const timer = setInterval(check, 50);
    const done = () => {
      clearInterval(timer);
      map.off('sourcedata', check);
      map.off('idle', check);
    };
    map.on('sourcedata', check);
    map.on('idle', check);
    map.triggerRepaint();
  }

  app.tilesTo = tilesTo;
  // A change set this page committed: its tiles start reloading at once, the panels follow.
  app.committed = (outcome) => {
    app.noteChange(outcome);
    tilesTo(outcome.revision);
    return app.refresh();
  };

  app.refresh = () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await load();
      } while (again);
    })().finally(() => { running = null; });
    return running;
  };

  const author = document.getElementById('author');
  author.value = app.author;
  // A token names the author of its change sets.
  author.disabled = Boolean(me.name);
  document.body.dataset.canEdit = String(app.canEdit);
  author.addEventListener('change', () => {
    app.author = author.value.trim() || 'planner';
    localStorage.setItem('geoalign.author', app.author);
  });

  const levelSelect = document.getElementById('edit-level');
  levelSelect.innerHTML = app.levels.map((l, i) => `<option value="${i}">${i === 0 ? 'units → territory' : `${escape(app.levels[i - 1])} → ${escape(l)}`}</option>`.replace('territory', escape(app.levels[0]))).join('');
  levelSelect.addEventListener('change', () => {
    app.editLevel = Number(levelSelect.value);
    if (app.selection) app.selection.clear();
    app.emit('level', app.editLevel);
  });

  installHover(app, document.getElementById('hover'));
  status.textContent = `${alignment} · revision ${tilejson.revision}`;
  document.body.dataset.revision = String(tilejson.revision);
  const idle = new Promise((resolve) => map.once('idle', resolve));
  await new Promise((resolve) => map.once('load', resolve));
  addEditorLayers(map);
  installSelect(app);
  installAssign(app);
  installHistory(app);
  installBalance(app);
  installLive(app);
  installSearch(app);
  installScenarios(app);
  installExports(app);
  installSheet(app);
  await app.refresh();
  installRebalance(app);
  installBuild(app);
  await idle;
  // Test hook: the map is drawn and every panel has its first data.
  document.body.dataset.ready = 'true';
}

start().catch((e) => {
  status.textContent = `error: ${e.message}`;
  console.error(e);
});
