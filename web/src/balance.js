// Balance panel: every territory's value of the chosen metric as a bar against the level
// mean (the line) with the tolerance band shaded, coloured by deviation; the summary
// (mean, CV, max |deviation|, unassigned units); the open selection's effect when a
// territory is picked (the value after, per territory it touches). Click a bar to fly there.
import { authFetch, escape, flyToTerritory, formatNumber, geometryBounds, getJSON, metricValue } from './api.js';

export function installBalance(app) {
  const panel = document.querySelector('[data-testid="balance-panel"]');
  const select = document.getElementById('metric');
  const tolerance = document.getElementById('tolerance');
  const bars = document.getElementById('balance-bars');
  const summary = document.getElementById('balance-summary');

  let chosen = false;
  function metrics() {
    const keys = Object.keys(app.levelSummaries[app.editLevel] || app.summary || {});
    if (!keys.includes(app.metric) && keys.length) app.metric = keys[0];
    if (!chosen && keys.length) {
      // First view: the population-like metric most territories have (sample data
      // often fills only some of them), else the unit count.
      chosen = true;
      const filled = (k) => app.territories.filter((t) => metricValue(t, k) > 0).length;
      const candidates = keys.filter((k) => /population/i.test(k)).sort((a, b) => filled(b) - filled(a));
      const first = candidates[0] || (keys.includes('units') ? 'units' : keys[0]);
      if (!app.metricFromUrl && first !== app.metric) {
        app.metric = first;
        app.emit('metric', app.metric);
      }
    }
    const options = keys.map((k) => `<option value="${escape(k)}"${k === app.metric ? ' selected' : ''}>${escape(k)}</option>`).join('');
    if (select.dataset.options !== options) {
      select.innerHTML = options;
      select.dataset.options = options;
    }
    select.value = app.metric;
  }

  // The selection's effect: value moved out of each owner and into the picked territory.
  function deltas() {
    const out = new Map();
    const target = app.target;
    if (!target || !app.selection || app.editLevel > 0 || app.selection.units.size === 0) return out;
    const leaf = app.levels[0];
    for (const { properties } of app.selection.units.values()) {
      const owner = properties[leaf];
      if (owner === target) continue;
      const v = app.metric === 'units' ? 1 : (typeof properties[app.metric] === 'number' ? properties[app.metric] : 0);
      if (owner) out.set(owner, (out.get(owner) || 0) - v);
      out.set(target, (out.get(target) || 0) + v);
    }
    return out;
  }

  const levelLabel = document.getElementById('balance-level');
  function render() {
    levelLabel.textContent = `· ${app.levels[app.editLevel]}`;
    metrics();
    const metric = app.metric;
    const s = (app.levelSummaries[app.editLevel] || app.summary || {})[metric];
    const tol = Math.max(0, Number(tolerance.value) || 0) / 100;
    if (!s) {
      bars.innerHTML = '';
      summary.textContent = '';
      return;
    }
    // Rule territories holding no unit have no deviation: they are listed apart, with
    // their accounts, and have no part in the units' balance.
    const all = app.levelItems[app.editLevel] || app.territories;
    const byRule = all.filter((t) => t.rules && t.rules.length && !t.deviation);
    const items = all.filter((t) => !byRule.includes(t)).sort((a, b) => metricValue(b, metric) - metricValue(a, metric));
    const change = deltas();
    const max = Math.max(s.max, s.mean * (1 + tol), ...items.map((t) => metricValue(t, metric) + (change.get(t.code) || 0)), 1e-9);
    const pct = (v) => `${Math.max(0, Math.min(100, (v / max) * 100)).toFixed(2)}%`;
    const band = s.mean > 0
      ? `left:${pct(s.mean * (1 - tol))};width:calc(${pct(s.mean * (1 + tol))} - ${pct(s.mean * (1 - tol))})` : 'display:none';
    bars.innerHTML = items.map((t) => {
      const v = metricValue(t, metric);
      const d = s.mean > 0 ? (v - s.mean) / s.mean : 0;
      const level = Math.abs(d) <= tol ? 'ok' : Math.abs(d) <= 2 * tol ? 'warn' : 'bad';
      const delta = change.get(t.code);
      const after = delta ? ` → <b>${escape(formatNumber(v + delta))}</b>` : '';
      return `<button type="button" class="bar-row" data-code="${escape(t.code)}" data-deviation="${level}" title="${escape(t.name)}: ${escape(formatNumber(v))} (${(d * 100).toFixed(1)}% from the mean); ${t.metrics.parts} part(s), Polsby-Popper ${(t.metrics.polsby_popper ?? 0).toFixed(2)}">
        <span class="bar-label">${escape(t.code)}${t.metrics.parts > 1 ? `<span class="parts" title="${t.metrics.parts} parts: not contiguous">⚠${t.metrics.parts}</span>` : ''}</span>
        <span class="bar-track"><span class="band" style="${band}"></span>
          <span class="bar" style="width:${pct(v)}"></span>
          ${delta ? `<span class="bar-after" style="width:${pct(v + delta)}"></span>` : ''}
          <span class="mean" style="left:${pct(s.mean)}"></span></span>
        <span class="bar-value" data-value="${v}">${escape(formatNumber(v))}${after}</span></button>`;
    }).join('') + (byRule.length ? `<h4 class="rule-heading">By account rule</h4>${byRule.map((t) => {
      const v = metricValue(t, metric);
      return `<button type="button" class="bar-row rule-row" data-code="${escape(t.code)}" data-testid="rule-territory"
        title="${escape(t.name)}: accounts placed by rule ${escape(t.rules.join(', '))}">
        <span class="bar-label">${escape(t.code)}</span>
        <span class="rule-what">rule ${escape(t.rules.join(', '))} · ${escape(formatNumber(t.metrics.accounts))} accounts</span>
        <span class="bar-value" data-value="${v}">${escape(formatNumber(v))}</span></button>`;
    }).join('')}` : '');
    const o = app.overview || {};
    summary.innerHTML = `mean <b>${escape(formatNumber(s.mean))}</b> · CV <b>${escape(formatNumber(s.cv))}</b>
      · max |dev| <b>${escape((s.max_abs_deviation * 100).toFixed(1))}%</b>
      · unassigned units <b>${escape(formatNumber(o.unassigned_units ?? 0))}</b>
      · non-contiguous <b>${app.territories.filter((t) => t.metrics.parts > 1).length}</b>`;
  }

  select.addEventListener('change', () => {
    app.metric = select.value;
    app.emit('metric', app.metric);
  });
  tolerance.addEventListener('input', render);
  bars.addEventListener('click', async (e) => {
    const row = e.target.closest('.bar-row');
    if (!row || row.classList.contains('rule-row')) return;
    try {
      const feature = await flyToTerritory(app, row.dataset.code, app.levels[app.editLevel]);
      if (!feature.geometry) app.message(`${row.dataset.code} has no outline`);
    } catch (err) {
      app.message(err.message, 'error');
    }
  });
  // Hundreds of rows: rebuilt at most once a frame (a brush stroke changes the selection
  // on every mouse move).
  let frame = null;
  const schedule = () => {
    if (frame === null) frame = requestAnimationFrame(() => { frame = null; render(); });
  };
  for (const name of ['territories', 'metric', 'selection', 'target', 'level']) app.on(name, schedule);

  // Navigator: step through the detached parts of non-contiguous territories (every part
  // but the largest) and through the unassigned units.
  const partButton = document.getElementById('next-part');
  const unassignedButton = document.getElementById('next-unassigned');
  const where = document.getElementById('navigator-at');
  let partIndex = -1;
  let unassignedIndex = -1;
  const ringArea = (ring) => {
    let a = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]);
    return Math.abs(a / 2);
  };
  const fly = (geometry) => {
    const [w, so, e, n] = geometryBounds(geometry);
    app.map.fitBounds([[w, so], [e, n]], { padding: 120, maxZoom: 14 });
  };
  partButton.addEventListener('click', async () => {
    try {
      const split = app.territories.filter((t) => t.metrics.parts > 1);
      const parts = [];
      for (const t of split) {
        const feature = await getJSON(`${app.path}/${encodeURIComponent(app.levels[0])}/${encodeURIComponent(t.code)}`);
        if (!feature.geometry || feature.geometry.type !== 'MultiPolygon') continue;
        const polygons = feature.geometry.coordinates.map((c) => ({ c, area: ringArea(c[0]) })).sort((a, b) => b.area - a.area);
        polygons.slice(1).forEach((p, i) => parts.push({ code: t.code, n: i + 2, of: polygons.length, geometry: { type: 'Polygon', coordinates: p.c } }));
      }
      if (parts.length === 0) {
        where.textContent = 'every territory is contiguous';
        return;
      }
      partIndex = (partIndex + 1) % parts.length;
      const part = parts[partIndex];
      fly(part.geometry);
      where.textContent = `${part.code}: detached part ${part.n - 1} of ${part.of - 1} (${partIndex + 1}/${parts.length})`;
      where.dataset.code = part.code;
    } catch (err) {
      app.message(err.message, 'error');
    }
  });
  unassignedButton.addEventListener('click', async () => {
    try {
      const res = await authFetch(`${app.path}/export/unit.csv`);
      const lines = (await res.text()).split('\n').slice(1).filter(Boolean);
      const ids = lines.map((l) => l.split(',')).filter((cells) => cells[1] === '').map((cells) => cells[0].replace(/^"|"$/g, ''));
      if (ids.length === 0) {
        where.textContent = 'no unit is unassigned';
        return;
      }
      unassignedIndex = (unassignedIndex + 1) % ids.length;
      const id = ids[unassignedIndex];
      const unit = await getJSON(`/api/datasets/${encodeURIComponent(app.overview.dataset)}/units/${encodeURIComponent(id)}`);
      if (unit.geometry) fly(unit.geometry);
      where.textContent = `unassigned unit ${id} (${unassignedIndex + 1}/${ids.length})`;
      where.dataset.unit = id;
    } catch (err) {
      app.message(err.message, 'error');
    }
  });
  panel.hidden = false;
  render();
}
