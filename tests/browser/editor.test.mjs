// The map editor in headless Chromium, end to end against the API: a unit is selected
// and its summary shown, reassigned through the UI (the API's revision and the unit's
// owner change, and so does the tile under it), undone and redone; a second browser
// context sees the first one's commit without reloading; a locked territory refuses
// with its reason shown; a stale view gets the 409 explained and is refreshed.
// Every wait is for a condition; the tests leave the owners as they found them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ALIGNMENT, launchBrowser } from './common.mjs';

const API = `${BASE}/api/alignments/${encodeURIComponent(ALIGNMENT)}`;
const WAIT = { timeout: 30_000 };

async function get(path) {
  const res = await fetch(`${API}${path}`);
  assert.ok(res.ok, `GET ${path}: ${res.status}`);
  return res.json();
}

async function post(path, body) {
  const res = await fetch(`${API}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const revision = async () => (await get('')).revision;

async function ownerAt(lngLat) {
  const res = await fetch(`${BASE}/api/lookup?alignment=${encodeURIComponent(ALIGNMENT)}&lon=${lngLat.lng}&lat=${lngLat.lat}`);
  const body = await res.json();
  return { unit: body.unit, territory: body.owner && body.owner.territory, revision: body.revision };
}

// Waits until `check` returns something truthy (polling the API), and returns it.
async function until(check, what, timeout = 15_000) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeout) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The browser logs a failed fetch ("Failed to load resource: ... 409") as a console
// error of its own; the refusal tests expect exactly those.
const EXPECTED_REFUSAL = /Failed to load resource: the server responded with a status of (409|422)/;

async function openEditor(context, errors) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/?alignment=${ALIGNMENT}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 });
  return page;
}

// A unit in the middle of a territory's label (the label point lies inside the
// territory's largest part): its id, owner, screen point and coordinates; one where the
// API's point lookup finds the same unit (not one beside it on a simplified edge).
async function unitOnScreen(page, skip = []) {
  const candidates = await page.evaluate((skipCodes) => {
    const { map } = window.geoalign;
    const r = map.getCanvas().getBoundingClientRect();
    const out = [];
    for (const label of map.queryRenderedFeatures({ layers: ['labels-territory'] })) {
      if (skipCodes.includes(label.properties.id)) continue;
      const p = map.project(label.geometry.coordinates);
      if (p.x < 320 || p.x > r.width - 310 || p.y < 40 || p.y > r.height - 60) continue; // under a panel
      const unit = map.queryRenderedFeatures(p, { layers: ['unit-fill'] })[0];
      if (!unit || unit.properties.territory !== label.properties.id) continue;
      // Well inside the unit: the same unit 3 px around the point.
      const around = [[-3, 0], [3, 0], [0, -3], [0, 3]].map(([dx, dy]) => map.queryRenderedFeatures([p.x + dx, p.y + dy], { layers: ['unit-fill'] })[0]);
      if (around.some((f) => !f || f.properties.id !== unit.properties.id)) continue;
      const lngLat = map.unproject(p);
      out.push({
        id: unit.properties.id, fid: unit.id, owner: label.properties.id,
        x: r.left + p.x, y: r.top + p.y, lngLat: { lng: lngLat.lng, lat: lngLat.lat },
      });
    }
    return out;
  }, skip);
  for (const c of candidates) {
    const found = await ownerAt(c.lngLat);
    if (found.unit === c.id && found.territory === c.owner) return c;
  }
  return null;
}

// The owner the tiles on display give the unit at a point.
const tileOwner = (page, unit) => page.evaluate(({ x, y }) => {
  const { map } = window.geoalign;
  const r = map.getCanvas().getBoundingClientRect();
  const f = map.queryRenderedFeatures([x - r.left, y - r.top], { layers: ['unit-fill'] })[0];
  return f && f.properties.territory;
}, unit);

// Waits until the page shows (panels and tiles) the API's current revision.
async function showsCurrent(page) {
  const current = await revision();
  await page.waitForFunction((r) => document.body.dataset.apiRevision === String(r)
    && document.body.dataset.revision === String(r), current, WAIT);
  return current;
}

async function select(page, unit) {
  await page.mouse.click(unit.x, unit.y);
  await page.waitForFunction(() => document.querySelector('[data-testid="selection-summary"]').dataset.count === '1', null, WAIT);
  assert.deepEqual(await page.evaluate(() => window.geoalign.selection.ids()), [unit.id], 'the clicked unit is selected');
}

async function pickAndAssign(page, code) {
  await page.fill('[data-testid="territory-search"]', code);
  await page.click(`#territory-list [role="option"][data-code="${code}"]`);
  await page.click('[data-testid="assign"]');
}

let chromium;
let territories;
before(async () => {
  chromium = await launchBrowser();
  territories = (await get('/territory')).items;
  assert.ok(territories.length >= 3, 'the sample has territories');
});
after(async () => { await chromium.close(); });

test('the editor loads with its panels and no console errors', { timeout: 120_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  for (const id of ['selection-summary', 'territory-search', 'assign', 'undo', 'redo', 'history', 'balance-panel']) {
    assert.equal(await page.locator(`[data-testid="${id}"]`).count(), 1, `${id} present`);
  }
  const options = await page.locator('#territory-list [role="option"]').count();
  assert.equal(options, territories.length, 'every territory in the picker');
  await page.fill('[data-testid="territory-search"]', territories[1].code);
  assert.ok(await page.locator('#territory-list [role="option"]').count() < options, 'search filters the list');
  await page.waitForFunction((n) => document.querySelectorAll('#balance-bars .bar-row').length === n, territories.length, WAIT); // one bar per territory
  assert.ok(await page.locator('[data-testid="history"] li').count() >= 1, 'history lists the log');
  assert.equal(await page.evaluate(() => typeof window.geoalign.map.getStyle), 'function', 'window.geoalign.map is the map');
  // Balance: a bar's click flies to its territory; the navigator visits detached parts
  // and unassigned units.
  const zoom = await page.evaluate(() => window.geoalign.map.getZoom());
  await page.click(`#balance-bars .bar-row[data-code="${territories[0].code}"]`);
  await page.waitForFunction((z) => window.geoalign.map.getZoom() > z + 0.5 && !window.geoalign.map.isMoving(), zoom, WAIT);
  const split = territories.filter((t) => t.metrics.parts > 1);
  await page.click('#next-part');
  await page.waitForFunction(() => document.getElementById('navigator-at').textContent !== '', null, WAIT);
  if (split.length) {
    const code = await page.locator('#navigator-at').getAttribute('data-code');
    assert.ok(split.some((t) => t.code === code), `a detached part of a split territory: ${code}`);
  }
  const sheet = (await (await fetch(`${API}/export/unit.csv`)).text()).split('\n').slice(1).filter(Boolean).map((l) => l.split(','));
  const unassigned = sheet.filter((c) => c[1] === '').map((c) => c[0]);
  await page.click('#next-unassigned');
  await page.waitForFunction(() => /unassigned unit|no unit/.test(document.getElementById('navigator-at').textContent), null, WAIT);
  if (unassigned.length) assert.equal(await page.locator('#navigator-at').getAttribute('data-unit'), unassigned[0]);
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('search finds a ZIP, a territory and an address and shows the owner', { timeout: 120_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const sheet = await (await fetch(`${API}/export/unit.csv`)).text();
  const [zip, owner] = sheet.split('\n')[1].split(',');
  const search = async (q) => {
    const before = await page.locator('#search-result').innerText().catch(() => '');
    await page.fill('[data-testid="search"]', q);
    await page.press('[data-testid="search"]', 'Enter');
    await page.waitForFunction((b) => { const r = document.getElementById('search-result'); return !r.hidden && r.innerText !== b; }, before, WAIT);
    return page.locator('#search-result').innerText();
  };
  assert.match(await search(zip), new RegExp(`unit ${zip} → ${owner}`));
  assert.deepEqual(await page.evaluate(() => window.geoalign.selection.ids()), [zip], 'the unit found is selected');
  const t = territories[2];
  assert.match(await search(t.code.toLowerCase()), new RegExp(`territory ${t.code}`));
  await page.waitForFunction(() => !window.geoalign.map.isMoving(), null, WAIT);
  const geocoded = await (await fetch(`${BASE}/api/geocode?alignment=${ALIGNMENT}&q=${encodeURIComponent('350 5th Ave New York')}`)).json();
  assert.match(await search('350 5th Ave New York'), new RegExp(`unit ${geocoded.unit}, ${geocoded.owner.territory}`));
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('a unit is selected, reassigned through the UI, undone and redone', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const start = await showsCurrent(page);
  const unit = await unitOnScreen(page);
  assert.ok(unit, 'a unit under a territory label');
  assert.deepEqual(await ownerAt(unit.lngLat), { unit: unit.id, territory: unit.owner, revision: start });

  // Select: the summary shows the unit before anything is applied.
  await select(page, unit);
  const summary = await page.locator('[data-testid="selection-summary"]').innerText();
  assert.match(summary, /units\s+1\b/);
  assert.match(summary, new RegExp(`from ${unit.owner}`));
  const metrics = await page.evaluate(() => window.geoalign.unitMetrics);
  for (const m of metrics) assert.ok(summary.includes(m), `summary sums ${m}`);
  assert.equal(await revision(), start, 'selecting commits nothing');
  // Escape discards, a click selects again.
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.querySelector('[data-testid="selection-summary"]').dataset.count === '0', null, WAIT);
  await select(page, unit);

  // Reassign to another unlocked territory.
  const target = territories.find((t) => t.code !== unit.owner && !t.locked).code;
  const posted = page.waitForResponse((r) => r.url().endsWith('/changes') && r.request().method() === 'POST');
  await pickAndAssign(page, target);
  const response = await posted;
  assert.equal(response.status(), 200);
  const outcome = await response.json();
  assert.equal(outcome.previous_revision, start);
  // Optimistic recolour or already the new tiles: either way the unit shows the target.
  await page.waitForFunction(({ fid, target: t, revision: r }) => {
    const { map } = window.geoalign;
    const s = map.getFeatureState({ source: 'alignment', sourceLayer: 'units', id: fid });
    return s.pending !== undefined || Number(document.body.dataset.revision) >= r;
  }, { fid: unit.fid, target, revision: outcome.revision }, WAIT);
  assert.equal(await revision(), outcome.revision, 'the API revision moved');
  assert.ok(outcome.revision > start);
  assert.equal((await ownerAt(unit.lngLat)).territory, target, 'the API gives the unit its new owner');
  await showsCurrent(page);
  const timing = await page.evaluate(() => window.geoalign.lastAssign);
  console.log(`# assign (in the page, from the click): recoloured ${timing.recoloured?.toFixed(0)} ms, committed ${timing.committed?.toFixed(0)} ms, tiles of revision ${timing.revision} drawn ${timing.drawn?.toFixed(0)} ms`);
  assert.equal(await tileOwner(page, unit), target, 'the tile under the unit shows the new owner');
  // The history reloads after the territories do: wait for the new change set on top.
  await page.waitForFunction((r) => document.querySelector('[data-testid="history"] li')?.dataset.revision === String(r), outcome.revision, WAIT);
  const latest = page.locator('[data-testid="history"] li').first();
  assert.match(await latest.innerText(), new RegExp(`assign 1 unit\\(s\\) to ${target}[\\s\\S]*r${outcome.revision} · planner`));
  assert.equal(await page.locator('[data-testid="selection-summary"]').getAttribute('data-count'), '0', 'applied selection is cleared');
  // The balance panel shows the new numbers of the chosen metric.
  const metric = await page.evaluate(() => window.geoalign.metric);
  const after = (await get('/territory')).items.find((t) => t.code === target);
  const expected = metric in after.metrics.sums ? after.metrics.sums[metric] : after.metrics[metric];
  await page.waitForFunction(({ code, value }) => Number(document.querySelector(`#balance-bars [data-code="${code}"] .bar-value`)?.dataset.value) === value,
    { code: target, value: expected }, WAIT);

  // Undo restores the owner; redo re-applies; undo again restores.
  await page.click('[data-testid="undo"]');
  await until(async () => (await ownerAt(unit.lngLat)).territory === unit.owner, 'undo to restore the owner');
  await showsCurrent(page);
  assert.equal(await tileOwner(page, unit), unit.owner, 'the tile shows the owner again');
  await page.waitForFunction(() => !document.querySelector('[data-testid="redo"]').disabled, null, WAIT);
  await page.click('[data-testid="redo"]');
  await until(async () => (await ownerAt(unit.lngLat)).territory === target, 'redo to re-apply');
  await showsCurrent(page);
  await page.waitForFunction(() => !document.querySelector('[data-testid="undo"]').disabled, null, WAIT);
  await page.click('[data-testid="undo"]');
  await until(async () => (await ownerAt(unit.lngLat)).territory === unit.owner, 'the second undo');
  await showsCurrent(page);
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('a box selection goes to a new territory, and undo removes it', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  await showsCurrent(page);
  const unit = await unitOnScreen(page);
  await page.click('#tool-box');
  await page.mouse.move(unit.x - 20, unit.y - 20);
  await page.mouse.down();
  await page.mouse.move(unit.x, unit.y, { steps: 3 });
  await page.mouse.move(unit.x + 20, unit.y + 20, { steps: 3 });
  await page.mouse.up();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="selection-summary"]').dataset.count) >= 1, null, WAIT);
  const count = Number(await page.locator('[data-testid="selection-summary"]').getAttribute('data-count'));
  const ids = await page.evaluate(() => window.geoalign.selection.ids());
  assert.ok(ids.includes(unit.id), `the box holds the unit under its centre (${ids})`);
  assert.match(await page.locator('[data-testid="selection-summary"]').innerText(), new RegExp(`units\\s+${count}\\b`));
  await page.click('#tool-box');
  const code = `TX${Date.now() % 1_000_000}`;
  try {
    await page.fill('[data-testid="territory-search"]', code);
    await page.click(`#territory-list [data-new="true"][data-code="${code}"]`);
    // Enter applies (focus off the search field).
    await page.locator('#status').click();
    await page.keyboard.press('Enter');
    const created = await until(async () => (await get('/territory')).items.find((t) => t.code === code), `territory ${code}`);
    assert.ok(created.metrics.units >= count, `the new territory holds the box (${created.metrics.units} units: point units inside follow their polygon)`);
    assert.equal((await ownerAt(unit.lngLat)).territory, code);
    await showsCurrent(page);
    assert.equal(await page.locator(`#territory-list [role="option"][data-code="${code}"]:not([data-new])`).count(), 1, 'the picker lists it');
    await page.click('[data-testid="undo"]');
    await until(async () => !(await get('/territory')).items.some((t) => t.code === code), `undo to remove ${code}`);
    assert.equal((await ownerAt(unit.lngLat)).territory, unit.owner);
  } finally {
    // Leave no territory behind, even when an assertion failed half-way.
    if ((await get('/territory')).items.some((t) => t.code === code)) {
      await post('/changes', { expected_revision: await revision(), changes: [{ op: 'delete_territory', code, reassign_to: unit.owner }], author: 'test' });
    }
  }
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('brush and lasso paint a selection, through the painting filters', { timeout: 120_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const unit = await unitOnScreen(page);
  const count = () => page.locator('[data-testid="selection-summary"]').getAttribute('data-count').then(Number);
  const ids = () => page.evaluate(() => window.geoalign.selection.ids());
  const drag = async (points) => {
    await page.mouse.move(...points[0]);
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(...p, { steps: 2 });
    await page.mouse.up();
  };
  const square = (r) => [[-r, -r], [r, -r], [r, r], [-r, r], [-r, -r + 1]].map(([dx, dy]) => [unit.x + dx, unit.y + dy]);
  // Brush: a short stroke over the unit.
  await page.click('#tool-brush');
  await drag([[unit.x - 2, unit.y], [unit.x + 2, unit.y]]);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="selection-summary"]').dataset.count) >= 1, null, WAIT);
  assert.ok((await ids()).includes(unit.id), 'the brush painted the unit under it');
  await page.keyboard.press('Escape');
  // Lasso: a square around the unit holds no unit the same box would not.
  await page.click('#tool-lasso');
  await drag(square(60));
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="selection-summary"]').dataset.count) >= 1, null, WAIT);
  const lassoed = await ids();
  await page.keyboard.press('Escape');
  await page.click('#tool-box');
  await drag([[unit.x - 60, unit.y - 60], [unit.x + 60, unit.y + 60]]);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="selection-summary"]').dataset.count) >= 1, null, WAIT);
  const boxed = await ids();
  assert.ok(lassoed.every((id) => boxed.includes(id)), `lasso ${lassoed} inside box ${boxed}`);
  await page.keyboard.press('Escape');
  // Stay inside the parent: a wide box keeps to the first unit's district.
  await page.check('#stay-inside');
  await drag([[unit.x - 150, unit.y - 150], [unit.x + 150, unit.y + 150]]);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="selection-summary"]').dataset.count) >= 1, null, WAIT);
  const parents = await page.evaluate(() => {
    const { selection, levels } = window.geoalign;
    return [...new Set([...selection.units.values()].map((u) => u.properties[levels[1]]))];
  });
  assert.equal(parents.length, 1, `one parent: ${parents}`);
  await page.keyboard.press('Escape');
  await page.uncheck('#stay-inside');
  // Only unassigned: painting over assigned units selects none of them.
  await page.check('#only-unassigned');
  await drag([[unit.x - 30, unit.y - 30], [unit.x + 30, unit.y + 30]]);
  const assigned = await page.evaluate(() => [...window.geoalign.selection.units.values()].filter((u) => u.properties[window.geoalign.levels[0]] !== undefined).length);
  assert.equal(assigned, 0, 'no assigned unit painted');
  assert.equal(await count(), await page.evaluate(() => window.geoalign.selection.units.size));
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('editing districts moves a whole territory to another district', { timeout: 120_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  await showsCurrent(page);
  const unit = await unitOnScreen(page);
  const districts = (await get('/district')).items;
  const parentOf = async (code) => (await get('/territory')).items.find((t) => t.code === code).parent;
  const from = await parentOf(unit.owner);
  const to = districts.find((d) => d.code !== from && !d.locked).code;
  await page.selectOption('#edit-level', '1');
  await page.mouse.click(unit.x, unit.y);
  await page.waitForFunction(() => document.querySelector('[data-testid="selection-summary"]').dataset.count === '1', null, WAIT);
  assert.deepEqual(await page.evaluate(() => window.geoalign.selection.ids()), [unit.owner], 'the click selects the unit\'s territory');
  assert.match(await page.locator('[data-testid="selection-summary"]').innerText(), new RegExp(`${unit.owner} from ${from}`));
  assert.equal(await page.locator('#territory-list [role="option"]').count(), districts.length, 'the picker lists districts');
  await pickAndAssign(page, to);
  await until(async () => (await parentOf(unit.owner)) === to, `${unit.owner} in ${to}`);
  assert.equal((await ownerAt(unit.lngLat)).territory, unit.owner, 'its units stay with it');
  await showsCurrent(page);
  await page.click('[data-testid="undo"]');
  await until(async () => (await parentOf(unit.owner)) === from, `${unit.owner} back in ${from}`);
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('a what-if copy is edited and compared with the original', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const name = `${ALIGNMENT}-test-${Date.now() % 1_000_000}`;
  await page.click('#scenarios summary');
  await page.fill('#scenario-name', name);
  await Promise.all([page.waitForURL((u) => u.searchParams.get('alignment') === name, WAIT), page.click('#scenario-copy')]);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 });
  assert.equal(await page.locator('[data-testid="scenario-select"]').inputValue(), name);
  assert.match(await page.locator('#status').innerText(), new RegExp(name));
  const unit = await unitOnScreen(page);
  const target = territories.find((t) => t.code !== unit.owner && !t.locked).code;
  await select(page, unit);
  const posted = page.waitForResponse((r) => r.url().endsWith(`/${name}/changes`) && r.request().method() === 'POST');
  await pickAndAssign(page, target);
  assert.equal((await posted).status(), 200, 'the what-if takes the change');
  const whatIf = await (await fetch(`${BASE}/api/lookup?alignment=${name}&lon=${unit.lngLat.lng}&lat=${unit.lngLat.lat}`)).json();
  assert.equal(whatIf.owner.territory, target);
  assert.equal((await ownerAt(unit.lngLat)).territory, unit.owner, 'the original is untouched');
  if (!(await page.locator('#scenarios').evaluate((d) => d.open))) await page.click('#scenarios summary');
  await page.selectOption('#compare-with', ALIGNMENT);
  await page.click('[data-testid="compare"]');
  await page.waitForFunction(() => !document.getElementById('compare-result').hidden, null, WAIT);
  // The unit moved (with any point units inside it, which follow their polygon).
  const diff = await (await fetch(`${BASE}/api/alignments/${name}/diff?against=${ALIGNMENT}`)).json();
  assert.ok(diff.units.some((u) => u.unit === unit.id && u.territory === target && u.against === unit.owner), 'the API diff has the unit');
  const table = await page.locator('#compare-result').innerText();
  assert.match(table, new RegExp(`^${diff.units.length} units? differ`));
  const moved = await page.locator(`#compare-result tr[data-transfer="${unit.owner} → ${target}"] td[title]`).getAttribute('title');
  assert.ok(moved.split(', ').includes(unit.id), `transfers list the unit: ${moved}`);
  const filter = await page.evaluate(() => window.geoalign.map.getFilter('editor-compare'));
  assert.deepEqual(filter[2][1].sort(), diff.units.map((u) => u.unit).sort(), 'the moved units are outlined');
  await Promise.all([page.waitForURL((u) => u.searchParams.get('alignment') === ALIGNMENT, WAIT), page.selectOption('[data-testid="scenario-select"]', ALIGNMENT)]);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 });
  assert.match(await page.locator('#status').innerText(), new RegExp(`^${ALIGNMENT} ·`));
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('a second browser context sees the commit without reloading', { timeout: 180_000 }, async () => {
  const [one, two] = [await chromium.newContext(), await chromium.newContext()];
  const errors = [];
  const first = await openEditor(one, errors);
  const second = await openEditor(two, errors);
  await showsCurrent(first);
  const start = await showsCurrent(second);
  const navigations = [];
  second.on('framenavigated', (f) => { if (f === second.mainFrame()) navigations.push(f.url()); });
  const unit = await unitOnScreen(first);
  const target = territories.find((t) => t.code !== unit.owner && !t.locked).code;
  // The second page's history is slow to come (checked at its Undo below).
  await second.route('**/history?*', async (route) => { await new Promise((r) => setTimeout(r, 4000)); await route.continue(); });
  await select(first, unit);
  const posted = first.waitForResponse((r) => r.url().endsWith('/changes') && r.request().method() === 'POST');
  await pickAndAssign(first, target);
  const outcome = await (await posted).json();
  const committed = Date.now();
  await second.waitForFunction((r) => document.body.dataset.apiRevision === String(r), outcome.revision, WAIT);
  const panels = Date.now() - committed;
  await second.waitForFunction((r) => document.body.dataset.revision === String(r), outcome.revision, WAIT);
  const tiles = Date.now() - committed;
  console.log(`# second context: panels at revision ${outcome.revision} ${panels} ms after the commit, tiles ${tiles} ms`);
  assert.ok(panels < 1000, `the second context saw the commit after ${panels} ms`);
  assert.ok(outcome.revision > start);
  assert.equal(await tileOwner(second, unit), target, "the second context's tiles show the new owner");
  assert.deepEqual(navigations, [], 'the second page did not reload');
  // Undone from the second context as soon as it shows the commit, before its history
  // has come: Undo takes back that commit, not the one before it.
  await second.click('[data-testid="undo"]');
  await until(async () => (await ownerAt(unit.lngLat)).territory === unit.owner, 'undo from the second context');
  const log = (await get('/history?limit=200')).changes;
  assert.equal(log.at(-1).undoes, outcome.revision, 'the undo took back the commit the page had just seen');
  await second.unroute('**/history?*');
  await second.waitForFunction((r) => document.querySelector('[data-testid="history"] li')?.dataset.revision === String(r), log.at(-1).revision, WAIT);
  assert.match(await second.locator('[data-testid="history"] li:nth-child(2)').innerText(), new RegExp(`to ${target}`));
  await showsCurrent(first);
  assert.equal(await tileOwner(first, unit), unit.owner);
  assert.deepEqual(errors, [], 'console errors');
  await one.close();
  await two.close();
});

test('a locked territory refuses with its reason shown', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  await showsCurrent(page);
  const unit = await unitOnScreen(page);
  const target = territories.find((t) => t.code !== unit.owner && !t.locked).code;
  await post('/changes', { expected_revision: await revision(), changes: [{ op: 'lock', territories: [target] }], author: 'test' });
  try {
    const locked = await showsCurrent(page); // the page learnt of the lock from the event stream
    await page.waitForFunction((code) => document.querySelector(`#territory-list [data-code="${code}"]`)?.dataset.locked === 'true', target, WAIT);
    await select(page, unit);
    const posted = page.waitForResponse((r) => r.url().endsWith('/changes') && r.request().method() === 'POST');
    await pickAndAssign(page, target);
    const response = await posted;
    assert.equal(response.status(), 422);
    const problem = await response.json();
    await page.waitForFunction(() => !document.getElementById('message').hidden, null, WAIT);
    const message = await page.locator('[data-testid="message"]').innerText();
    assert.equal(message, problem.detail, 'the problem detail is shown');
    assert.match(message, new RegExp(`territory '${target}' is locked`));
    assert.match(await page.locator('.refusal').innerText(), /is locked/, 'and on the map');
    assert.equal(await revision(), locked, 'nothing committed');
    assert.equal((await ownerAt(unit.lngLat)).territory, unit.owner);
    assert.equal(await page.locator('[data-testid="selection-summary"]').getAttribute('data-count'), '1', 'the selection is kept');
    await page.waitForFunction((fid) => window.geoalign.map.getFeatureState({ source: 'alignment', sourceLayer: 'units', id: fid }).pending === undefined, unit.fid, WAIT);
  } finally {
    await post('/changes', { expected_revision: await revision(), changes: [{ op: 'lock', territories: [target], locked: false }], author: 'test' });
  }
  assert.deepEqual(errors.filter((e) => !EXPECTED_REFUSAL.test(e)), [], 'console errors');
  await context.close();
});

test('a stale view gets the 409 explained and is refreshed', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const seen = await showsCurrent(page);
  // Deafen the page to the event stream, then commit elsewhere: its view is now stale.
  await page.evaluate(() => window.geoalign.events.close());
  const other = territories.find((t) => !t.locked).code;
  const elsewhere = await post('/changes', { expected_revision: seen, changes: [{ op: 'rename_territory', code: other, name: `${other} renamed ${Date.now()}` }], author: 'someone' });
  const unit = await unitOnScreen(page);
  const target = territories.find((t) => t.code !== unit.owner && !t.locked).code;
  await select(page, unit);
  const posted = page.waitForResponse((r) => r.url().endsWith('/changes') && r.request().method() === 'POST');
  await pickAndAssign(page, target);
  assert.equal((await posted).status(), 409);
  await page.waitForFunction(() => !document.getElementById('message').hidden, null, WAIT);
  assert.match(await page.locator('[data-testid="message"]').innerText(), /someone changed this alignment; your view was refreshed/i);
  await page.waitForFunction((r) => document.body.dataset.apiRevision === String(r), elsewhere.revision, WAIT);
  assert.equal((await ownerAt(unit.lngLat)).territory, unit.owner, 'nothing applied');
  assert.equal(await page.locator('[data-testid="selection-summary"]').getAttribute('data-count'), '1', 'nothing lost: the selection is kept');
  // Applying again now succeeds, and is undone.
  await page.click('[data-testid="assign"]');
  await until(async () => (await ownerAt(unit.lngLat)).territory === target, 'the retried assign');
  await post('/undo', { expected_revision: await revision(), author: 'test' });
  await post('/undo', { expected_revision: await revision(), author: 'test' });
  assert.equal((await ownerAt(unit.lngLat)).territory, unit.owner);
  assert.deepEqual(errors.filter((e) => !EXPECTED_REFUSAL.test(e)), [], 'console errors');
  await context.close();
});

test('an edited sheet replaces the alignment in one change set, and a bad one is refused by line', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const before = await showsCurrent(page);
  const unit = await unitOnScreen(page);
  const target = territories.find((t) => t.code !== unit.owner && !t.locked).code;
  const res = await fetch(`${API}/sheet`);
  assert.ok(res.ok && res.headers.get('content-type').startsWith('text/csv'));
  const lines = (await res.text()).trimEnd().split('\n');
  // The unit takes the row of a unit of the target territory (its district and region too).
  const template = lines.find((l) => l.split(',')[1] === target);
  const at = lines.findIndex((l) => l.split(',')[0] === unit.id);
  assert.ok(template && at > 0, 'the sheet lists the unit and the target');
  lines[at] = [unit.id, ...template.split(',').slice(1)].join(',');
  await page.click('#sheet summary');
  const upload = async (name, text) => {
    await page.setInputFiles('#sheet-file', { name, mimeType: 'text/csv', buffer: Buffer.from(`${text}\n`) });
    const put = page.waitForResponse((r) => r.url().includes('/sheet?') && r.request().method() === 'PUT');
    await page.click('[data-testid="sheet-upload"]');
    return (await put).status();
  };

  // A sheet with an unknown unit is refused whole, naming its line; nothing changes.
  assert.equal(await upload('bad.csv', [...lines, '99998,T1000,Manhattan,North,'].join('\n')), 422);
  await page.waitForFunction(() => /line \d+: unknown unit id '99998'/.test(document.getElementById('message').textContent), null, WAIT);
  assert.equal(await revision(), before, 'a refused sheet changed the alignment');

  assert.equal(await upload('edited.csv', lines.join('\n')), 200);
  await page.waitForFunction(() => /edited\.csv: \d+ rows read, revision \d+/.test(document.getElementById('message').textContent), null, WAIT);
  assert.equal(await revision(), before + 1, 'one change set');
  assert.equal((await ownerAt(unit.lngLat)).territory, target);
  await page.waitForFunction((r) => document.body.dataset.revision === String(r), before + 1, WAIT);
  assert.equal(await tileOwner(page, unit), target, 'the map shows the replaced sheet');
  const history = await get('/history');
  assert.match(history.changes.at(-1).summary, /^replaced from a sheet: 1 unit\(s\) moved/);

  await post('/undo', { expected_revision: await revision(), author: 'test' });
  assert.equal((await ownerAt(unit.lngLat)).territory, unit.owner);

  // The rules sheet: a condition over a field no account has is refused by line; a good
  // one is one change set, listed by the rules sheet download.
  const uploadRules = async (name, text) => {
    await page.setInputFiles('#rules-file', { name, mimeType: 'text/csv', buffer: Buffer.from(`${text}\n`) });
    const put = page.waitForResponse((r) => r.url().includes('/rules?') && r.request().method() === 'PUT');
    await page.click('[data-testid="rules-upload"]');
    return (await put).status();
  };
  const account = { name: 'Big Co', lon: unit.lngLat.lng, lat: unit.lngLat.lat, metrics: { employees: 500 } };
  await post('/changes', { expected_revision: await revision(), author: 'test', changes: [{ op: 'upsert_accounts', accounts: { BIG1: account } }] });
  const ruled = await revision();
  await page.waitForFunction((r) => document.body.dataset.revision === String(r), ruled, WAIT);
  assert.equal(await uploadRules('bad-rules.csv', `rule,territory,condition\nbig,${target},industry = 'Mining'`), 422);
  await page.waitForFunction(() => /line 2: rule 'big': .*industry/.test(document.getElementById('message').textContent), null, WAIT);
  assert.equal(await uploadRules('rules.csv', `rule,territory,condition\nbig,${target},employees >= 200`), 200);
  await page.waitForFunction(() => /rules\.csv: rules replaced, revision \d+/.test(document.getElementById('message').textContent), null, WAIT);
  assert.equal(await revision(), ruled + 1, 'one change set');
  const rulesSheet = await (await fetch(new URL(await page.getAttribute('#export-links a[href*="/rules"]', 'href'), BASE))).text();
  assert.match(rulesSheet, new RegExp(`^rule,priority,territory,district,region,condition\nbig,1,${target},`));
  await post('/undo', { expected_revision: await revision(), author: 'test', revision: ruled + 1 });
  await post('/undo', { expected_revision: await revision(), author: 'test', revision: ruled });
  assert.deepEqual(errors.filter((e) => !/Failed to load resource: the server responded with a status of 422/.test(e)), [], 'console errors');
  await context.close();
});

test('a rebalance is proposed, shown before anything changes, accepted as one change set', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const before = await showsCurrent(page);
  await page.fill('#tolerance', '25');
  await page.click('#rebalance summary');
  await page.fill('#rebalance-max-moved', '15');
  await page.click('[data-testid="rebalance-propose"]');
  await page.waitForSelector('[data-testid="rebalance-summary"]', WAIT);
  const summary = await page.textContent('[data-testid="rebalance-summary"]');
  const [, moved, worse, better] = summary.match(/(\d+) unit\(s\) to move \(at most 15\):\s+max \|deviation\| ([\d.]+)% → ([\d.]+)%/) || [];
  assert.ok(Number(moved) > 0 && Number(moved) <= 15, summary);
  assert.ok(Number(better) < Number(worse), summary);
  assert.equal(await revision(), before, 'a proposal changes nothing');

  await page.click('[data-testid="rebalance-accept"]');
  await page.waitForFunction(() => /Rebalanced: \d+ unit\(s\) moved, revision \d+/.test(document.getElementById('message').textContent), null, WAIT);
  assert.equal(await revision(), before + 1, 'one change set');
  await showsCurrent(page);
  const history = await get('/history');
  assert.equal(history.changes.at(-1).changes.length > 0, true);
  await post('/undo', { expected_revision: await revision(), author: 'test' });
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('a what-if is built in the background and opened from its report', { timeout: 180_000 }, async () => {
  const context = await chromium.newContext();
  const errors = [];
  const page = await openEditor(context, errors);
  const name = `built-${Date.now()}`;
  await page.click('#build summary');
  await page.fill('#build-name', name);
  await page.fill('#build-territories', '4');
  await page.fill('#build-districts', '2');
  await page.click('[data-testid="build-start"]');
  await page.waitForSelector('[data-testid="build-summary"]', { timeout: 60_000 });
  assert.match(await page.textContent('[data-testid="build-summary"]'),
    /^4 territories in 2 districts \(max \|deviation\| [\d.]+%\): max \|deviation\| [\d.]+%/);
  const built = await (await fetch(`${BASE}/api/alignments/${name}`)).json();
  assert.equal(built.counts.territory, 4);
  assert.equal(built.counts.district, 2);
  await page.click('[data-testid="build-open"]');
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 });
  assert.match(await page.textContent('#status'), new RegExp(`^${name} · revision`));
  const res = await fetch(`${BASE}/api/alignments/${name}?expected_revision=${built.revision}`, { method: 'DELETE' });
  assert.ok(res.ok, `DELETE: ${res.status}`);
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('the balance panel lists rule territories apart, with their accounts', { timeout: 180_000 }, async () => {
  const name = `rules-${Date.now()}`;
  const created = await fetch(`${BASE}/api/alignments`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, copy_of: ALIGNMENT }),
  });
  assert.equal(created.status, 201, await created.text());
  const copy = await (await fetch(`${BASE}/api/alignments/${name}`)).json();
  const changed = await fetch(`${BASE}/api/alignments/${name}/changes`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ expected_revision: copy.revision, changes: [
      { op: 'upsert_accounts', accounts: {
        B1: { name: 'Big 1', lon: -73.9857, lat: 40.7484, metrics: { employees: 500 } },
        B2: { name: 'Big 2', lon: -73.9442, lat: 40.6782, metrics: { employees: 350 } },
        S1: { name: 'Small 1', lon: -73.9857, lat: 40.7484, metrics: { employees: 20 } } } },
      { op: 'create_territory', code: 'RULE-BIG' },
      { op: 'create_rule', rule: 'BIG', territory: 'RULE-BIG', condition: 'employees >= 300' }] }),
  });
  assert.ok(changed.ok, await changed.text());
  const listing = await (await fetch(`${BASE}/api/alignments/${name}/territories`)).json();
  const big = listing.items.find((t) => t.code === 'RULE-BIG');
  assert.equal(big.metrics.accounts, 2, 'the rule gives the territory its accounts');

  const context = await chromium.newContext();
  const errors = [];
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/?alignment=${name}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 });
  await page.selectOption('#metric', 'accounts');
  const row = page.locator('[data-testid="rule-territory"][data-code="RULE-BIG"]');
  await row.waitFor(WAIT);
  const text = await row.textContent();
  assert.match(text, new RegExp(`rule BIG · ${big.metrics.accounts} accounts`), text);
  assert.equal(await row.locator('.bar-value').getAttribute('data-value'), String(big.metrics.accounts));
  // Not a bar of the units' balance.
  assert.equal(await page.locator('.bar-row:not(.rule-row)[data-code="RULE-BIG"]').count(), 0);
  const deleted = await fetch(`${BASE}/api/alignments/${name}?expected_revision=${(await (await fetch(`${BASE}/api/alignments/${name}`)).json()).revision}`, { method: 'DELETE' });
  assert.ok(deleted.ok, `DELETE: ${deleted.status}`);
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});
