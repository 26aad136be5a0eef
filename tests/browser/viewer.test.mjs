// The map viewer in headless Chromium: loads, gets idle, shows territory names and
// several territory colours, answers hover with the unit's owner, and logs no error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { BASE, ALIGNMENT, launch } from './common.mjs';

const SCREENSHOT = process.env.GEOALIGN_SCREENSHOT || 'viewer.png';

test('the viewer draws the alignment', { timeout: 120_000 }, async () => {
  const browser = await launch();
  const errors = [];
  try {
    const page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure()?.errorText}`));
    await page.goto(`${BASE}/?alignment=${ALIGNMENT}`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 });
    const state = await page.evaluate(() => {
      const { map } = window.geoalign;
      const labels = map.queryRenderedFeatures({ layers: ['labels-territory'] }).map((f) => f.properties.name);
      const fills = map.queryRenderedFeatures({ layers: ['territory-fill'] });
      return { labels, colours: [...new Set(fills.map((f) => f.properties.color))], zoom: map.getZoom() };
    });
    assert.ok(state.labels.length >= 5, `territory labels drawn: ${state.labels}`);
    assert.ok(state.colours.length >= 4, `colour indexes drawn: ${state.colours}`);
    const png = await page.screenshot();
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    writeFileSync(SCREENSHOT, png);
    // Hovering a territory's label point shows who owns the unit there.
    const point = await page.evaluate(() => {
      const { map } = window.geoalign;
      const label = map.queryRenderedFeatures({ layers: ['labels-territory'] })[0];
      const p = map.project(label.geometry.coordinates);
      const r = map.getCanvas().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    });
    await page.mouse.move(point.x, point.y);
    await page.waitForFunction(() => !document.getElementById('hover').hidden, null, { timeout: 10_000 });
    const hover = await page.locator('#hover').innerText();
    assert.match(hover, /unit\s+\d{5}/);
    assert.match(hover, /territory\s+T\d+/);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-hover.png') });
    // Distinct colours covering at least 1% of the picture each.
    const image = PNG.sync.read(png);
    const counts = new Map();
    for (let i = 0; i < image.data.length; i += 4) {
      const key = (image.data[i] >> 4) * 256 + (image.data[i + 1] >> 4) * 16 + (image.data[i + 2] >> 4);
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    const pixels = image.width * image.height;
    const major = [...counts.values()].filter((n) => n > pixels * 0.01).length;
    console.log(`# ${state.labels.length} territory labels, colour indexes ${state.colours.sort()}, ${major} major colours in ${SCREENSHOT}`);
    assert.ok(major >= 5, `only ${major} colours cover 1% of the screenshot`);
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await browser.close();
  }
});

test('an unknown alignment is named with the ones there are', { timeout: 60_000 }, async () => {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${BASE}/?alignment=nope`);
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('error'), null, { timeout: 30_000 });
    const status = await page.textContent('#status');
    assert.match(status, /^error: alignment 'nope' not found; available: /);
    assert.ok(status.split('available: ')[1].split(', ').includes(ALIGNMENT), status);
  } finally {
    await browser.close();
  }
});
