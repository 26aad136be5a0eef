// Reassign: a searchable list of the alignment's territories (with the chosen metric)
// and an Assign button that posts one change set (`assign`, with `expected_revision`).
// The selected units take the territory's colour at once (feature-state `pending`,
// drawn by the `editor-pending` layer); the state is dropped when the tiles of the new
// revision, with the new outlines, are on the map. Refusals leave the selection as it was.
import { escape, formatNumber, metricValue, postJSON } from './api.js';

export function installAssign(app) {
  const { map } = app;
  const search = document.querySelector('[data-testid="territory-search"]');
  const list = document.getElementById('territory-list');
  const button = document.querySelector('[data-testid="assign"]');
  let target = null;
  const pending = []; // { revision, fids }

  const setPending = (fids, value) => {
    for (const fid of fids) {
      const feature = { source: 'alignment', sourceLayer: 'units', id: fid };
      if (value === null) map.removeFeatureState(feature, 'pending');
      else map.setFeatureState(feature, { pending: value });
    }
  };

  // The colour index the tiles give a territory (-1 when none of its tiles is loaded).
  function colourOf(code) {
    for (const sourceLayer of ['territories', 'labels']) {
      const found = map.querySourceFeatures('alignment', { sourceLayer, filter: ['==', ['get', 'id'], code] });
      const hit = found.find((f) => typeof f.properties.color === 'number');
      if (hit) return hit.properties.color;
    }
    return 8;
  }

  function matches(item, words) {
    const text = `${item.code} ${item.name} ${item.reps.join(' ')}`.toLowerCase();
    return words.every((w) => text.includes(w));
  }

  // The targets: territories, or the items of the upper level being edited.
  const targets = () => (app.editLevel > 0 ? app.levelItems[app.editLevel] || [] : app.territories);
  const levelName = () => app.levels[app.editLevel];
  const movedName = (n) => (app.editLevel > 0 ? app.levels[app.editLevel - 1] : 'unit') + (n === 1 ? '' : 's');

  function renderList() {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const items = targets().filter((t) => matches(t, words));
    list.innerHTML = items.map((t) => {
      const label = t.name && t.name !== t.code ? `${t.code} · ${t.name}` : t.code;
      return `<li role="option" tabindex="-1" data-code="${escape(t.code)}" aria-selected="${t.code === target}"${t.locked ? ' data-locked="true"' : ''}>
        <span class="code">${escape(label)}${t.locked ? ' <span title="locked">🔒</span>' : ''}</span>
        <span class="value">${escape(formatNumber(metricValue(t, app.metric)))}</span></li>`;
    }).join('');
    // A code no territory has yet: offer to create it with the selection.
    const typed = search.value.trim();
    const exists = targets().some((t) => t.code.toLowerCase() === typed.toLowerCase());
    if (typed && !exists && /^[\w.-]{1,40}$/.test(typed)) {
      list.insertAdjacentHTML('beforeend', `<li role="option" tabindex="-1" class="new" data-code="${escape(typed)}" data-new="true" aria-selected="${typed === target}">
        <span class="code">+ new ${escape(levelName())} ${escape(typed)}</span></li>`);
    } else if (!items.length) {
      list.innerHTML = `<li class="empty">no ${escape(levelName())} matches</li>`;
    }
    renderButton();
  }

  function renderButton() {
    const n = app.selection.count();
    button.disabled = !(n > 0 && target);
    button.textContent = target ? `Assign ${n || ''} ${movedName(n)} to ${target}`.replace('  ', ' ') : 'Assign';
  }

  function pick(code) {
    target = code;
    app.target = code;
    app.emit('target', code);
    list.querySelectorAll('[role="option"]').forEach((li) => li.setAttribute('aria-selected', String(li.dataset.code === code)));
    renderButton();
  }

  list.addEventListener('click', (e) => {
    const li = e.target.closest('[role="option"]');
    if (li) pick(li.dataset.code);
  });
  search.addEventListener('input', renderList);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      const first = list.querySelector('[role="option"]');
      if (first) pick(first.dataset.code);
    }
  });

  // A new territory joins the parent (one level up) most of the selection is in.
  function parentOf(units) {
    const level = app.levels[1];
    if (!level) return {};
    const counts = new Map();
    for (const { properties } of units) {
      if (properties[level]) counts.set(properties[level], (counts.get(properties[level]) || 0) + 1);
    }
    const best = [...counts].sort((a, b) => b[1] - a[1])[0];
    return best ? { parent: best[0] } : {};
  }

  // Editing an upper level: each selected item gets the target as its parent
  // (`move_territory`), in one change set.
  async function moveItems() {
    const k = app.editLevel;
    const codes = app.selection.ids();
    const parent = target;
    const exists = targets().some((t) => t.code === parent);
    const current = new Map((app.levelItems[k - 1] || []).map((t) => [t.code, t.parent]));
    const moves = codes.filter((c) => current.get(c) !== parent)
      .map((c) => ({ op: 'move_territory', territory: c, parent, level: app.levels[k - 1] }));
    if (moves.length === 0) return app.message(`Already in ${parent}.`);
    button.disabled = true;
    try {
      const outcome = await postJSON(`${app.path}/changes`, {
        expected_revision: app.revision,
        changes: exists ? moves : [{ op: 'create_territory', code: parent, level: app.levels[k] }, ...moves],
        author: app.author,
      });
      app.selection.clear();
      app.message(`${moves.length} ${movedName(moves.length)} moved to ${exists ? '' : `new ${levelName()} `}${parent} (revision ${outcome.revision}).`);
      app.emit('committed', outcome);
      await app.committed(outcome);
    } catch (e) {
      app.refused(e);
    } finally {
      renderButton();
    }
  }

  async function apply() {
    const ids = app.selection.ids();
    if (ids.length === 0) return app.message('Select units on the map first.');
    if (!target) return app.message(`Pick a ${levelName()} to assign them to.`);
    if (app.editLevel > 0) return moveItems();
    const territory = target;
    const exists = app.territories.some((t) => t.code === territory);
    const fids = [...app.selection.units.values()].map((u) => u.fid);
    // Timings from the click, for the speed figures (`app.lastAssign`, ms).
    const t0 = performance.now();
    const timing = { units: ids.length };
    app.lastAssign = timing;
    setPending(fids, colourOf(territory));
    map.once('render', () => { timing.recoloured = performance.now() - t0; });
    map.triggerRepaint();
    button.disabled = true;
    try {
      const outcome = await postJSON(`${app.path}/changes`, {
        expected_revision: app.revision,
        changes: exists ? [{ op: 'assign', units: ids, territory }]
          : [{ op: 'create_territory', code: territory, ...parentOf([...app.selection.units.values()]) },
            { op: 'assign', units: ids, territory }],
        author: app.author,
      });
      timing.committed = performance.now() - t0;
      timing.revision = outcome.revision;
      pending.push({ revision: outcome.revision, fids, timing, t0 });
      // The event stream may have brought this revision's tiles before the answer came.
      if (app.drawnRevision >= outcome.revision) dropPending(app.drawnRevision);
      app.selection.clear();
      app.message(`${ids.length} ${ids.length === 1 ? 'unit' : 'units'} assigned to ${exists ? '' : 'new territory '}${territory} (revision ${outcome.revision}).`);
      app.emit('committed', outcome);
      await app.committed(outcome);
    } catch (e) {
      setPending(fids, null);
      app.refused(e);
    } finally {
      renderButton();
    }
  }

  button.addEventListener('click', apply);
  app.on('apply', apply);
  app.on('selection', renderButton);
  app.on('territories', renderList);
  app.on('metric', renderList);
  app.on('level', () => {
    target = null;
    app.target = null;
    search.value = '';
    search.placeholder = `Find a ${levelName()}: code, name${app.editLevel === 0 ? ', rep' : ''}`;
    renderList();
  });
  app.on('drawn', (revision) => dropPending(revision));
  function dropPending(revision) {
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i].revision <= revision) {
        pending[i].timing.drawn = performance.now() - pending[i].t0;
        setPending(pending[i].fids, null);
        pending.splice(i, 1);
      }
    }
  }
  renderList();
}
