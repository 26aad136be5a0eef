// Select: click selects a unit, shift-click adds or removes one, shift-drag (or drag with
// the box tool on) adds every unit in the box. Selected units carry feature-state
// `selected` (the tiles' feature ids are unit indexes, stable across revisions); the
// summary panel shows the count and the sum of every unit metric before anything is
// applied. Escape discards, Enter applies (the assign tool listens for 'apply').
import { escape, formatNumber } from './api.js';

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

  function add(feature) {
    const id = feature.properties.id;
    if (id === undefined || feature.id === undefined || units.has(id)) return;
    units.set(id, { fid: feature.id, properties: feature.properties });
    state(feature.id, true);
  }

  function remove(id) {
    const unit = units.get(id);
    if (!unit) return;
    state(unit.fid, false);
    units.delete(id);
  }

  function clear() {
    if (units.size === 0) return;
    for (const id of [...units.keys()]) remove(id);
    changed();
  }

  const selection = {
    units,
    ids: () => [...units.keys()],
    clear,
    set(features) {
      for (const id of [...units.keys()]) remove(id);
      for (const f of features) add(f);
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

  function render() {
    if (units.size === 0) {
      panel.innerHTML = '<p class="hint">Click a unit to select it; shift-click adds or removes, shift-drag selects a box.</p>';
      panel.dataset.count = '0';
      return;
    }
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
      if (units.has(unit.properties.id)) remove(unit.properties.id);
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
    if (e.originalEvent.shiftKey || boxMode || boxing) return;
    clickAt(e.point, false);
  });

  // Box selection: shift-drag, or any drag while the box tool is on.
  let boxing = null;
  let boxMode = false;
  boxButton.addEventListener('click', () => {
    boxMode = !boxMode;
    boxButton.setAttribute('aria-pressed', String(boxMode));
    canvas.classList.toggle('boxing', boxMode);
  });
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return new app.maplibregl.Point(e.clientX - r.left - canvas.clientLeft, e.clientY - r.top - canvas.clientTop);
  };
  canvas.addEventListener('mousedown', (e) => {
    if (e.button !== 0 || !(e.shiftKey || boxMode)) return;
    e.preventDefault();
    e.stopPropagation();
    map.dragPan.disable();
    const start = point(e);
    const div = document.createElement('div');
    div.className = 'select-box';
    canvas.appendChild(div);
    boxing = { start, div, end: start };
    const move = (ev) => {
      const p = point(ev);
      boxing.end = p;
      const [x0, x1] = [Math.min(start.x, p.x), Math.max(start.x, p.x)];
      const [y0, y1] = [Math.min(start.y, p.y), Math.max(start.y, p.y)];
      Object.assign(div.style, { left: `${x0}px`, top: `${y0}px`, width: `${x1 - x0}px`, height: `${y1 - y0}px` });
    };
    const up = () => {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
      div.remove();
      map.dragPan.enable();
      const { end } = boxing;
      if (Math.abs(end.x - start.x) > 3 || Math.abs(end.y - start.y) > 3) {
        for (const f of unitsAt([start, end])) add(f);
        changed();
      } else {
        clickAt(end, e.shiftKey);
      }
      // The click that follows mouseup belongs to the box.
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
  render();
}
