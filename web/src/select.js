// Select: click selects a unit, shift-click adds or removes one, shift-drag (or drag with
// the box tool on) adds every unit in the box, the brush paints units along a drag, the
// lasso adds those inside a drawn shape. Selected units carry feature-state
// `selected` (the tiles' feature ids are unit indexes, stable across revisions); the
// summary panel shows the count and the sum of every unit metric before anything is
// applied. Escape discards, Enter applies (the assign tool listens for 'apply').
//
// Editing an upper level (`app.editLevel` k > 0), a click or stroke selects the item of
// level k - 1 that owns the unit (a whole territory when editing districts): the items
// are outlined by the `editor-selected-items` layer (a filter on the units' owner code)
// and summed from the level's metrics.
import { escape, formatNumber, metricValue } from './api.js';

export function installSelect(app) {
  const { map } = app;
  const units = new Map(); // unit id -> { fid, properties }
  const panel = document.querySelector('[data-testid="selection-summary"]');
  const boxButton = document.getElementById('tool-box');
  const canvas = map.getCanvasContainer();
  const state = (fid, value) => map.setFeatureState({ source: 'alignment', sourceLayer: 'units', id: fid }, { selected: value });

  function changed() {
    render();
    app.emit('selection', selection);
  }

  const items = new Set(); // codes of level editLevel - 1, when editLevel > 0
  const itemLevel = () => app.levels[app.editLevel - 1];
  const keyOf = (feature) => (app.editLevel > 0 ? feature.properties[itemLevel()] : feature.properties.id);
  const count = () => (app.editLevel > 0 ? items.size : units.size);
  function showItems() {
    const filter = app.editLevel > 0
      ? ['in', ['get', itemLevel()], ['literal', [...items]]]
      : ['in', ['get', 'id'], ['literal', []]];
    map.setFilter('editor-selected-items', filter);
  }

  function add(feature) {
    if (app.editLevel > 0) {
      const code = keyOf(feature);
      if (code !== undefined && !items.has(code)) {
        items.add(code);
        showItems();
      }
      return;
    }
    const id = feature.properties.id;
    if (id === undefined || feature.id === undefined || units.has(id)) return;
    units.set(id, { fid: feature.id, properties: feature.properties });
    state(feature.id, true);
  }

  function remove(id) {
    if (items.delete(id)) showItems();
    const unit = units.get(id);
    if (!unit) return;
    state(unit.fid, false);
    units.delete(id);
  }

  function clear() {
    if (units.size === 0 && items.size === 0) return;
    for (const id of [...units.keys()]) remove(id);
    items.clear();
    showItems();
    changed();
  }

  const selection = {
    units,
    items,
    // Unit ids, or item codes when an upper level is edited.
    ids: () => (app.editLevel > 0 ? [...items] : [...units.keys()]),
    count,
    clear,
    set(features) {
      for (const id of [...units.keys()]) remove(id);
      items.clear();
      for (const f of features) add(f);
      showItems();
      changed();
    },
    // Unit properties change with their owner: re-read them from the tiles on display.
    reread() {
      if (units.size === 0) return;
      const fresh = map.querySourceFeatures('alignment', { sourceLayer: 'units' });
      for (const f of fresh) {
        const unit = units.get(f.properties.id);
        if (unit) unit.properties = f.properties;
      }
      render();
    },
  };
  app.selection = selection;

  function renderItems() {
    const level = app.editLevel - 1;
    const byCode = new Map((app.levelItems[level] || []).map((t) => [t.code, t]));
    const metrics = ['units', ...app.unitMetrics];
    const sums = Object.fromEntries(metrics.map((m) => [m, 0]));
    const parents = new Map();
    for (const code of items) {
      const t = byCode.get(code);
      if (!t) continue;
      for (const m of metrics) sums[m] += metricValue(t, m);
      const parent = t.parent || '(none)';
      parents.set(parent, (parents.get(parent) || 0) + 1);
    }
    const rows = [[app.levels[level], formatNumber(items.size)], ...metrics.map((m) => [m, formatNumber(sums[m])])];
    panel.dataset.count = String(items.size);
    panel.innerHTML = `<h2>Selection</h2>
      <dl>${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd data-metric="${escape(k)}">${escape(v)}</dd>`).join('')}</dl>
      <p class="owners">${escape([...items].join(', '))} from ${escape([...parents].map(([o, n]) => `${o} (${n})`).join(', '))}</p>
      <p class="hint">Enter moves them to the picked ${escape(app.levels[app.editLevel])} · Esc discards</p>`;
  }

  function render() {
    if (count() === 0) {
      const what = app.editLevel > 0 ? `a unit to select its ${app.levels[app.editLevel - 1]}` : 'a unit to select it';
      panel.innerHTML = `<p class="hint">Click ${escape(what)}; shift-click adds or removes, shift-drag selects a box.</p>`;
      panel.dataset.count = '0';
      return;
    }
    if (app.editLevel > 0) return renderItems();
    const sums = {};
    const owners = new Map();
    const leaf = app.levels[0];
    for (const { properties } of units.values()) {
      for (const m of app.unitMetrics) {
        if (typeof properties[m] === 'number') sums[m] = (sums[m] || 0) + properties[m];
      }
      const owner = properties[leaf] || '(unassigned)';
      owners.set(owner, (owners.get(owner) || 0) + 1);
    }
    const rows = [['units', formatNumber(units.size)]];
    for (const m of app.unitMetrics) rows.push([m, formatNumber(sums[m] || 0)]);
    const from = [...owners].map(([o, n]) => `${o} (${n})`).join(', ');
    panel.dataset.count = String(units.size);
    panel.innerHTML = `<h2>Selection</h2>
      <dl>${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd data-metric="${escape(k)}">${escape(v)}</dd>`).join('')}</dl>
      <p class="owners">from ${escape(from)}</p>
      <p class="hint">Enter assigns to the picked territory · Esc discards</p>`;
  }

  const unitsAt = (geometry) => {
    const seen = new Map();
    for (const f of map.queryRenderedFeatures(geometry, { layers: ['unit-fill'] })) {
      if (!seen.has(f.properties.id)) seen.set(f.properties.id, f);
    }
    return [...seen.values()];
  };

  function clickAt(p, shift) {
    const unit = unitsAt(p)[0];
    app.lastClick = map.unproject(p);
    if (shift) {
      if (!unit) return;
      const key = keyOf(unit);
      if (units.has(key) || items.has(key)) remove(key);
      else add(unit);
      changed();
    } else if (unit) {
      selection.set([unit]);
    } else {
      clear();
    }
  }

  // Plain clicks come from MapLibre (no click after a pan); shift-clicks and the box
  // tool's clicks from the box handler below, which takes those mouse-downs.
  map.on('click', (e) => {
    if (e.originalEvent.shiftKey || painting() || boxing) return;
    clickAt(e.point, false);
  });

  // Painting tools: box (also shift-drag in any mode), brush (a circle of the set size
  // painted along the drag) and lasso (a free shape; units whose centre is inside). They
  // add to the selection, through the filters "only unassigned" and "stay inside the
  // parent" (one level up, of the first unit painted into an empty selection).
  let boxing = null;
  let mode = 'click';
  const tools = { box: boxButton, brush: document.getElementById('tool-brush'), lasso: document.getElementById('tool-lasso') };
  const brushSize = document.getElementById('brush-size');
  const onlyUnassigned = document.getElementById('only-unassigned');
  const stayInside = document.getElementById('stay-inside');
  let anchorParent = null;
  for (const [name, button] of Object.entries(tools)) {
    button.addEventListener('click', () => {
      mode = mode === name ? 'click' : name;
      for (const [n, b] of Object.entries(tools)) b.setAttribute('aria-pressed', String(n === mode));
      canvas.classList.toggle('boxing', mode !== 'click');
    });
  }
  const painting = () => mode !== 'click';

  function admit(feature) {
    const p = feature.properties;
    // One level up from what is painted: units' territories, territories' districts...
    const ownLevel = app.levels[app.editLevel];
    if (onlyUnassigned.checked && p[ownLevel] !== undefined) return false;
    const parentLevel = app.levels[app.editLevel + 1];
    if (stayInside.checked && parentLevel) {
      if (count() === 0 && anchorParent === null) anchorParent = p[parentLevel] ?? '';
      if ((p[parentLevel] ?? '') !== anchorParent) return false;
    }
    return true;
  }
  const paint = (features) => {
    if (count() === 0) anchorParent = null;
    for (const f of features) if (admit(f)) add(f);
  };

  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return new app.maplibregl.Point(e.clientX - r.left - canvas.clientLeft, e.clientY - r.top - canvas.clientTop);
  };

  // A unit's centre on screen: the mean of its outer ring's vertices (tile-clipped parts
  // give nearly the same point for small units).
  function centre(feature) {
    const g = feature.geometry;
    const ring = g.type === 'Polygon' ? g.coordinates[0] : g.type === 'MultiPolygon' ? g.coordinates[0][0] : null;
    if (!ring || ring.length === 0) return null;
    let [x, y] = [0, 0];
    for (const [lon, lat] of ring) { x += lon; y += lat; }
    return map.project([x / ring.length, y / ring.length]);
  }
  function inside(p, polygon) {
    let hit = false;
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [a, b] = [polygon[i], polygon[j]];
      if ((a.y > p.y) !== (b.y > p.y) && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) hit = !hit;
    }
    return hit;
  }

  canvas.addEventListener('mousedown', (e) => {
    if (e.button !== 0 || !(e.shiftKey || painting())) return;
    e.preventDefault();
    e.stopPropagation();
    map.dragPan.disable();
    const tool = e.shiftKey ? 'box' : mode;
    const start = point(e);
    const div = document.createElement('div');
    div.className = tool === 'brush' ? 'select-brush' : 'select-box';
    let svg = null;
    if (tool === 'lasso') {
      svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.setAttribute('class', 'select-lasso');
      svg.innerHTML = '<polyline points=""/>';
      canvas.appendChild(svg);
    } else {
      canvas.appendChild(div);
    }
    const radius = Math.max(2, Number(brushSize.value) || 12);
    const path = [start];
    boxing = { start, end: start };
    const brushAt = (p) => {
      Object.assign(div.style, { left: `${p.x - radius}px`, top: `${p.y - radius}px`, width: `${2 * radius}px`, height: `${2 * radius}px` });
      const near = unitsAt([[p.x - radius, p.y - radius], [p.x + radius, p.y + radius]]).filter((f) => {
        const c = centre(f);
        return !c || c.dist(p) <= radius * 1.5 || unitsAt(p).some((u) => u.properties.id === f.properties.id);
      });
      paint(near);
      changed();
    };
    if (tool === 'brush') brushAt(start);
    const move = (ev) => {
      const p = point(ev);
      boxing.end = p;
      if (tool === 'box') {
        const [x0, x1] = [Math.min(start.x, p.x), Math.max(start.x, p.x)];
        const [y0, y1] = [Math.min(start.y, p.y), Math.max(start.y, p.y)];
        Object.assign(div.style, { left: `${x0}px`, top: `${y0}px`, width: `${x1 - x0}px`, height: `${y1 - y0}px` });
      } else if (tool === 'brush') {
        brushAt(p);
      } else {
        path.push(p);
        svg.firstChild.setAttribute('points', path.map((q) => `${q.x},${q.y}`).join(' '));
      }
    };
    const up = () => {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
      div.remove();
      if (svg) svg.remove();
      map.dragPan.enable();
      const { end } = boxing;
      const dragged = Math.abs(end.x - start.x) > 3 || Math.abs(end.y - start.y) > 3 || path.length > 3;
      if (tool === 'box' && dragged) {
        paint(unitsAt([start, end]));
        changed();
      } else if (tool === 'lasso' && path.length > 2) {
        const xs = path.map((q) => q.x);
        const ys = path.map((q) => q.y);
        const candidates = unitsAt([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]]);
        paint(candidates.filter((f) => {
          const c = centre(f);
          return c && inside(c, path);
        }));
        changed();
      } else if (!dragged && tool !== 'brush') {
        clickAt(end, e.shiftKey);
      }
      // The click that follows mouseup belongs to the tool.
      setTimeout(() => { boxing = null; }, 0);
    };
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
  }, true);

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      clear();
    } else if (e.key === 'Enter' && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLButtonElement)) {
      e.preventDefault();
      app.emit('apply');
    }
  });
  app.on('drawn', () => selection.reread());
  app.on('territories', () => { if (app.editLevel > 0) render(); });
  app.on('level', render);
  render();
}
