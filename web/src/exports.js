// Exports: download links for the alignment's sheet (units with owners, CSV), its rules
// sheet (`GET /api/alignments/{a}/rules`, CSV), and every level and the accounts (points with
// their owner) as CSV, FlatGeobuf, GeoJSON and GeoPackage (`GET /api/alignments/{a}/export/...`).
import { escape, withToken } from './api.js';

export function installExports(app) {
  const links = document.getElementById('export-links');
  const file = (name, label) => `<a href="${escape(withToken(`${app.path}/export/${encodeURIComponent(name)}`))}" download="${escape(`${app.alignment}-${name}`)}">${escape(label)}</a>`;
  const rules = `<a href="${escape(withToken(`${app.path}/rules`))}" download="${escape(`${app.alignment}-rules.csv`)}">rules sheet (CSV)</a>`;
  const rows = [`${file('unit.csv', 'sheet (CSV)')} ${rules}`];
  for (const level of [...app.levels, 'accounts']) {
    rows.push(`${escape(level)}: ${['fgb', 'geojson', 'gpkg', 'csv'].map((f) => file(`${level}.${f}`, f)).join(' ')}`);
  }
  links.innerHTML = rows.map((r) => `<span>${r}</span>`).join('<br>');
}
