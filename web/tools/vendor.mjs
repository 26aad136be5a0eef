// Copies MapLibre GL JS from node_modules (npm ci) into web/vendor, where the server
// serves it: the map works offline and without a CDN. Run: npm ci && npm run vendor.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(web, 'node_modules', 'maplibre-gl');
const out = join(web, 'vendor', 'maplibre-gl');
mkdirSync(out, { recursive: true });
for (const file of ['dist/maplibre-gl.mjs', 'dist/maplibre-gl-worker.mjs', 'dist/maplibre-gl.css', 'LICENSE.txt']) {
  copyFileSync(join(pkg, file), join(out, file.replace('dist/', '')));
}
const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
writeFileSync(join(out, 'VERSION'), `${version}\n`);
console.log(`vendored maplibre-gl ${version} into ${out}`);
