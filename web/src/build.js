// Build: a new what-if alignment of k contiguous, compact territories balanced on the
// balance panel's metric and tolerance (and, if asked, districts of whole territories),
// built by the server in the background (`POST /api/alignments/{name}/build`, a job). Progress shows as it runs; the result's
// quality report is shown with a link that opens the new alignment. It never overwrites.
import { alignmentPath, escape } from './api.js';
import { runJob } from './jobs.js';

export function installBuild(app) {
  const name = document.getElementById('build-name');
  const count = document.getElementById('build-territories');
  const districts = document.getElementById('build-districts');
  const start = document.getElementById('build-start');
  const cancel = document.getElementById('build-cancel');
  const status = document.getElementById('build-status');
  if (!count.value) count.value = String(Math.max(2, app.territories.length));
  if (!name.value) name.value = `${app.alignment}-built`;

  start.addEventListener('click', async () => {
    const alignment = name.value.trim();
    if (!alignment) return app.message('Name the new alignment first.');
    const tolerance = Number(document.getElementById('tolerance').value) / 100;
    const body = { dataset: app.overview.dataset, territories: Number(count.value), balance: app.metric, tolerance };
    if (districts.value) body.districts = Number(districts.value);
    const job = await runJob(app, `${alignmentPath(alignment)}/build`, body, { button: start, cancelButton: cancel, status });
    if (job?.state !== 'succeeded') return;
    const q = job.result.quality;
    const m = q.metrics[0];
    const d = job.result.districts;
    const grouped = d ? ` in ${d.territories} districts (max |deviation| ${(d.metrics[0].max_abs_deviation * 100).toFixed(1)}%)` : '';
    const open = new URLSearchParams(window.location.search);
    open.set('alignment', alignment);
    status.innerHTML = `<p data-testid="build-summary">${q.territories} territories${grouped}: max |deviation| ${(m.max_abs_deviation * 100).toFixed(1)}%,
      ${m.within_tolerance} within tolerance, ${q.non_contiguous} in several parts, Polsby-Popper ${q.mean_polsby_popper.toFixed(2)}.
      <a href="?${escape(open.toString())}" data-testid="build-open">Open ${escape(alignment)}</a></p>`;
  });
}
