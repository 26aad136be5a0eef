// Scenarios: switch between the alignments of this dataset, copy the current one as a
// what-if (`POST /api/alignments` with `copy_of`), and compare it with another: the units
// whose owner differs are outlined on the map (`editor-compare` layer) and listed as
// transfers (from -> to, units), with each territory's change of the chosen metric.
import { escape, formatNumber, getJSON, metricValue, postJSON } from './api.js';

export function installScenarios(app) {
  const { map } = app;
  const select = document.querySelector('[data-testid="scenario-select"]');
  const copyName = document.getElementById('scenario-name');
  const copyButton = document.getElementById('scenario-copy');
  const against = document.getElementById('compare-with');
  const compareButton = document.querySelector('[data-testid="compare"]');
  const result = document.getElementById('compare-result');
  let comparing = null;

  map.addLayer({
    id: 'editor-compare',
    type: 'line',
    source: 'alignment',
    'source-layer': 'units',
    filter: ['in', ['get', 'id'], ['literal', []]],
    paint: { 'line-color': '#e8590c', 'line-width': 3, 'line-dasharray': [2, 1] },
  });

  async function listScenarios() {
    const { alignments } = await getJSON('/api/alignments');
    const same = alignments.filter((a) => a.dataset === app.overview.dataset);
    select.innerHTML = same.map((a) => `<option value="${escape(a.name)}"${a.name === app.alignment ? ' selected' : ''}>${escape(a.name)} (r${a.revision})</option>`).join('');
    const others = same.filter((a) => a.name !== app.alignment);
    against.innerHTML = others.map((a) => `<option value="${escape(a.name)}">${escape(a.name)}</option>`).join('');
    compareButton.disabled = others.length === 0;
    let n = 1;
    while (same.some((a) => a.name === `${app.alignment}-whatif-${n}`)) n += 1;
    if (!copyName.value) copyName.value = `${app.alignment}-whatif-${n}`;
  }

  select.addEventListener('change', () => {
    const params = new URLSearchParams(window.location.search);
    params.set('alignment', select.value);
    window.location.search = params.toString();
  });

  copyButton.addEventListener('click', async () => {
    const name = copyName.value.trim();
    if (!name) return app.message('Name the what-if first.');
    try {
      await postJSON('/api/alignments', { name, copy_of: app.alignment });
      const params = new URLSearchParams(window.location.search);
      params.set('alignment', name);
      window.location.search = params.toString();
    } catch (e) {
      app.refused(e);
    }
  });

  async function compare() {
    const other = comparing;
    if (!other) return;
    const [diff, theirs] = await Promise.all([
      getJSON(`${app.path}/diff?against=${encodeURIComponent(other)}`),
      getJSON(`/api/alignments/${encodeURIComponent(other)}/${encodeURIComponent(app.levels[0])}`),
    ]);
    if (comparing !== other) return;
    map.setFilter('editor-compare', ['in', ['get', 'id'], ['literal', diff.units.map((u) => u.unit)]]);
    const transfers = new Map();
    for (const u of diff.units) {
      const key = `${u.against || '(unassigned)'} → ${u.territory || '(unassigned)'}`;
      if (!transfers.has(key)) transfers.set(key, []);
      transfers.get(key).push(u.unit);
    }
    const metric = app.metric;
    const mine = new Map(app.territories.map((t) => [t.code, metricValue(t, metric)]));
    const before = new Map(theirs.items.map((t) => [t.code, metricValue(t, metric)]));
    const codes = [...new Set([...mine.keys(), ...before.keys()])].sort();
    const changes = codes
      .map((c) => [c, (mine.get(c) || 0) - (before.get(c) || 0)])
      .filter(([, d]) => Math.abs(d) > 1e-9);
    result.innerHTML = `<p><b>${diff.units.length}</b> ${diff.units.length === 1 ? 'unit differs' : 'units differ'} from ${escape(other)} (r${diff.against_revision}; this: r${diff.revision})</p>
      <table class="transfers"><thead><tr><th>from ${escape(other)} → here</th><th>units</th></tr></thead><tbody>
      ${[...transfers].map(([k, units]) => `<tr data-transfer="${escape(k)}"><td>${escape(k)}</td><td title="${escape(units.join(', '))}">${units.length}: ${escape(units.slice(0, 5).join(', '))}${units.length > 5 ? '…' : ''}</td></tr>`).join('')}
      </tbody></table>
      ${changes.length ? `<table class="transfers"><thead><tr><th>territory</th><th>Δ ${escape(metric)}</th></tr></thead><tbody>
      ${changes.map(([c, d]) => `<tr><td>${escape(c)}</td><td>${d > 0 ? '+' : ''}${escape(formatNumber(d))}</td></tr>`).join('')}</tbody></table>` : ''}
      <button type="button" class="link" id="compare-clear">clear comparison</button>`;
    result.hidden = false;
  }

  compareButton.addEventListener('click', () => {
    comparing = against.value || null;
    compare().catch((e) => app.message(e.message, 'error'));
  });
  result.addEventListener('click', (e) => {
    if (e.target.id !== 'compare-clear') return;
    comparing = null;
    result.hidden = true;
    map.setFilter('editor-compare', ['in', ['get', 'id'], ['literal', []]]);
  });
  app.on('territories', () => {
    if (comparing) compare().catch((e) => console.warn(e));
  });
  app.on('metric', () => {
    if (comparing) compare().catch((e) => console.warn(e));
  });
  listScenarios().catch((e) => app.message(e.message, 'error'));
}
