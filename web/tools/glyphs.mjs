// Generates MapLibre SDF glyph ranges (web/fonts/<font>/<start>-<end>.pbf) for the
// map labels from a system font, rendered by headless Chromium with @mapbox/tiny-sdf at
// the parameters MapLibre's own glyphs use (24 px, buffer 3, radius 8, cutoff 0.25).
// The output is committed; run again only to change fonts or ranges:
//   npm ci && npm run glyphs   (needs Debian's chromium and fonts-dejavu-core)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { PbfWriter } from 'pbf';
import { chromium } from 'playwright-core';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const FONT = process.env.GLYPH_FONT || 'DejaVu Sans';
// Basic Latin + Latin-1, Latin Extended-A/B, General Punctuation.
const RANGES = [0, 256, 8192];

const tinySdf = readFileSync(require.resolve('@mapbox/tiny-sdf'), 'utf8').replace('export default class', 'class');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.setContent('<html><body></body></html>');
  for (const start of RANGES) {
    const glyphs = await page.evaluate(({ source, font, start }) => {
      // eslint-disable-next-line no-new-func
      const TinySDF = new Function(`${source}; return TinySDF;`)();
      const sdf = new TinySDF({ fontSize: 24, buffer: 3, radius: 8, cutoff: 0.25, fontFamily: `"${font}"` });
      const out = [];
      for (let id = start; id < start + 256; id++) {
        if (id < 32 || (id >= 127 && id < 160)) continue;
        const ch = String.fromCharCode(id);
        const g = sdf.draw(ch);
        out.push({ id, width: g.glyphWidth, height: g.glyphHeight, left: g.glyphLeft, top: g.glyphTop, advance: g.glyphAdvance, data: Array.from(g.data) });
      }
      return out;
    }, { source: tinySdf, font: FONT, start });
    const pbf = new PbfWriter();
    const range = `${start}-${start + 255}`;
    pbf.writeMessage(1, (_, p) => {
      p.writeStringField(1, FONT);
      p.writeStringField(2, range);
      for (const g of glyphs) {
        p.writeMessage(3, (__, q) => {
          q.writeVarintField(1, g.id);
          if (g.width > 0 && g.height > 0) q.writeBytesField(2, Uint8Array.from(g.data));
          q.writeVarintField(3, g.width);
          q.writeVarintField(4, g.height);
          // Metrics as MapLibre derives them for its own TinySDF glyphs.
          q.writeSVarintField(5, Math.round(g.left + 0.5));
          q.writeSVarintField(6, Math.round(g.top - 27.5));
          q.writeVarintField(7, Math.round(g.advance));
        });
      }
    });
    const dir = join(web, 'fonts', FONT);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${range}.pbf`), pbf.finish());
    console.log(`${FONT} ${range}: ${glyphs.length} glyphs`);
  }
} finally {
  await browser.close();
}
