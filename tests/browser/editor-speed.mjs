// Speed of the editor in headless Chromium (issue 14's figures), not a test: against a
// server of zip5_us with the ZIP3 alignment (see docs/BENCHMARKS.md, "Editor"):
//   GEOALIGN_URL=http://127.0.0.1:8092 GEOALIGN_ALIGNMENT=zip3 node editor-speed.mjs
// Prints the first map's load time, then per reassignment the page's own timings from
// the click (`app.lastAssign`): unit recoloured (optimistic), change set committed, tiles
// of the new revision drawn. Each reassignment is undone through the UI.
import { BASE, launch } from './common.mjs';

const ALIGNMENT = process.env.GEOALIGN_ALIGNMENT || 'zip3';
const CENTER = (process.env.GEOALIGN_CENTER || '-84.39,33.75').split(',').map(Number); // Atlanta
const browser = await launch();
const page = await browser.context.newPage();
const errors = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(e.message));
const t0 = Date.now();
await page.goto(`${BASE}/?alignment=${encodeURIComponent(ALIGNMENT)}`);
await page.waitForFunction(() => window.geoalign?.map?.loaded(), null, { timeout: 120_000 });
const firstMap = Date.now() - t0;
await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
console.log(`first map loaded ${firstMap} ms, editor ready (panels filled) ${Date.now() - t0} ms`);

async function reassign(zoom, box) {
  await page.evaluate(([center, z]) => window.geoalign.map.jumpTo({ center, zoom: z }), [CENTER, zoom]);
  await page.waitForFunction(() => { const m = window.geoalign.map; return !m.isMoving() && m.loaded() && m.areTilesLoaded(); }, null, { timeout: 60_000 });
  const { width, height } = page.viewportSize();
  const [cx, cy] = [width / 2, height / 2];
  if (box) {
    await page.click('#tool-box');
    await page.mouse.move(cx - box, cy - box);
    await page.mouse.down();
    await page.mouse.move(cx + box, cy + box, { steps: 5 });
    await page.mouse.up();
    await page.click('#tool-box');
  } else {
    await page.mouse.click(cx, cy);
  }
  await page.waitForFunction(() => window.geoalign.selection.count() > 0, null, { timeout: 10_000 });
  const n = await page.evaluate(() => window.geoalign.selection.count());
  const target = await page.evaluate(() => {
    const { selection, territories, levels } = window.geoalign;
    const units = [...selection.units.values()];
    const owners = new Set(units.map((u) => u.properties[levels[0]]));
    const parent = levels[1] && units[0].properties[levels[1]];
    return (territories.find((t) => !owners.has(t.code) && !t.locked && (!parent || t.parent === parent))
      || territories.find((t) => !owners.has(t.code) && !t.locked)).code;
  });
  await page.fill('[data-testid=territory-search]', target);
  await page.click(`#territory-list [data-code="${target}"]`);
  await page.click('[data-testid=assign]');
  await page.waitForFunction(() => window.geoalign.lastAssign?.drawn !== undefined, null, { timeout: 60_000 });
  const t = await page.evaluate(() => window.geoalign.lastAssign);
  console.log(`zoom ${zoom}: ${n} units -> ${target}: recoloured ${t.recoloured?.toFixed(0)} ms, committed ${t.committed?.toFixed(0)} ms, tiles drawn ${t.drawn?.toFixed(0)} ms`);
  await page.waitForFunction(() => !document.querySelector('[data-testid=undo]').disabled, null, { timeout: 10_000 });
  await page.click('[data-testid=undo]');
  await page.waitForFunction((r) => window.geoalign.revision > r, t.revision, { timeout: 60_000 });
}

for (let i = 0; i < 3; i++) await reassign(11, 0);
// Box half-sizes stay clear of the side panels.
for (let i = 0; i < 2; i++) await reassign(9, 150);
for (let i = 0; i < 2; i++) await reassign(8.5, 180);
if (errors.length) console.log('console errors:', errors);
await browser.close();
