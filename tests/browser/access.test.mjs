// Sign-in in headless Chromium against a server whose store holds tokens: the editor
// asks for a token when the API answers 401, asks again for a wrong one, and then
// draws the map with the token on every request (tiles included). A viewer token gets
// no editing tools; an editor token gets them, its name as the author.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ALIGNMENT, launchBrowser } from './common.mjs';

const VIEWER = process.env.GEOALIGN_VIEWER_TOKEN;
const EDITOR = process.env.GEOALIGN_EDITOR_TOKEN;
const WAIT = { timeout: 30_000 };
// The browser logs every 401 it gets as a console error of its own.
const EXPECTED = /status of 401/;

async function signIn(page, token) {
  await page.waitForSelector('[data-testid=sign-in]:not([hidden])', WAIT);
  await page.fill('[data-testid=token]', token);
  await page.click('#sign-in button[type=submit]');
}

async function ready(page) {
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 90_000 });
}

async function open(browser, errors) {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !EXPECTED.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/?alignment=${ALIGNMENT}`);
  return page;
}

test('a viewer signs in and sees the map without editing tools', { timeout: 120_000 }, async () => {
  assert.ok(VIEWER && EDITOR, 'GEOALIGN_VIEWER_TOKEN and GEOALIGN_EDITOR_TOKEN');
  const browser = await launchBrowser();
  const errors = [];
  try {
    // Without a token the tiles themselves are refused.
    const tile = await fetch(`${BASE}/tiles/${ALIGNMENT}/10/301/385.mvt`);
    assert.equal(tile.status, 401);
    const page = await open(browser, errors);
    await signIn(page, 'ga_not-a-token');
    await page.waitForFunction(() => /not accepted/.test(document.querySelector('#sign-in .reason').textContent), null, WAIT);
    await signIn(page, VIEWER);
    await ready(page);
    const state = await page.evaluate(() => ({
      role: document.body.dataset.role,
      canEdit: document.body.dataset.canEdit,
      fills: window.geoalign.map.queryRenderedFeatures({ layers: ['territory-fill'] }).length,
    }));
    assert.deepEqual([state.role, state.canEdit], ['viewer', 'false']);
    assert.ok(state.fills > 0, 'tiles drawn with the token');
    for (const selector of ['[data-testid=assign]', '#tool-box', '#tool-brush', '[data-testid=undo]', '#scenario-copy']) {
      assert.equal(await page.isVisible(selector), false, `${selector} hidden for a viewer`);
    }
    // The history list has height once its entries arrive (a fetch after the map is ready).
    await page.waitForSelector('[data-testid=history] li', { state: 'visible', ...WAIT });
    assert.equal(await page.isVisible('[data-testid=history]'), true, 'the history is still shown');
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await browser.close();
  }
});

test('an editor signs in and gets the editing tools', { timeout: 120_000 }, async () => {
  const browser = await launchBrowser();
  const errors = [];
  try {
    const page = await open(browser, errors);
    await signIn(page, EDITOR);
    await ready(page);
    const state = await page.evaluate(() => ({
      role: document.body.dataset.role,
      canEdit: document.body.dataset.canEdit,
      author: document.getElementById('author').value,
      authorLocked: document.getElementById('author').disabled,
    }));
    assert.deepEqual(state, { role: 'editor', canEdit: 'true', author: 'eddie', authorLocked: true });
    for (const selector of ['[data-testid=assign]', '#tool-box', '[data-testid=undo]']) {
      assert.equal(await page.isVisible(selector), true, `${selector} shown for an editor`);
    }
    // The live stream connects with the token (EventSource carries it as access_token).
    await page.waitForFunction(() => document.getElementById('live').dataset.state === 'on', null, WAIT);
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await browser.close();
  }
});
