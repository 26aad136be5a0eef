// Rebalance: the server proposes the fewest moves it finds that bring the territories
// within the balance panel's tolerance on its metric, moving at most "max moved" units
// (`POST /api/alignments/{a}/rebalance`, a background job). The proposal is shown first:
// the balance before and after and what each territory gives and takes; Accept posts its
// change set (one revision, undone by Undo), Discard drops it. Nothing changes before.
import { escape, formatNumber, postJSON } from './api.js';
import { runJob } from './jobs.js';

export function installRebalance(app) {
  const propose = document.getElementById('rebalance-propose');
  const cancel = document.getElementById('rebalance-cancel');
  const maxMoved = document.getElementById('rebalance-max-moved');
  const status = document.getElementById('rebalance-status');
  const result = document.getElementById('rebalance-result');
  const accept = document.getElementById('rebalance-accept');
  const discard = document.getElementById('rebalance-discard');
  let proposal = null;

  const show = (p) => {
    proposal = p;
    accept.hidden = discard.hidden = !p;
    accept.disabled = !p || !p.changes.length;
    if (!p) {
      result.innerHTML = '';
      return;
    }
    const dev = (q) => `${(q.metrics[0].max_abs_deviation * 100).toFixed(1)}%`;
    const rows = p.transfers.slice(0, 12).map((t) => {
      const values = Object.entries(t.values).map(([k, v]) => `${escape(k)} ${escape(formatNumber(v))}`).join(', ');
      return `<li>${escape(t.from)} → ${escape(t.to)}: ${t.units.length} unit(s), ${values}</li>`;
    }).join('');
    const more = p.transfers.length > 12 ? `<li>… ${p.transfers.length - 12} more</li>` : '';
    result.innerHTML = `<p data-testid="rebalance-summary">${p.moved_units} unit(s) to move (at most ${p.max_moved}):
      max |deviation| ${dev(p.before)} → ${dev(p.after)}, within tolerance ${p.before.metrics[0].within_tolerance} → ${p.after.metrics[0].within_tolerance} of ${p.after.territories}${p.locked_units ? `; ${p.locked_units} locked unit(s) kept` : ''}</p><ul>${rows}${more}</ul>`;
  };

  propose.addEventListener('click', async () => {
    show(null);
    const tolerance = Number(document.getElementById('tolerance').value) / 100;
    const body = { balance: app.metric, tolerance, max_moved: maxMoved.value.trim() || '10%' };
    const job = await runJob(app, `${app.path}/rebalance`, body, { button: propose, cancelButton: cancel, status });
    if (job?.state === 'succeeded') show(job.result);
  });

  discard.addEventListener('click', () => show(null));

  accept.addEventListener('click', async () => {
    if (!proposal) return;
    accept.disabled = true;
    try {
      const outcome = await postJSON(`${app.path}/changes`, {
        expected_revision: proposal.expected_revision,
        changes: proposal.changes,
        author: app.author,
      });
      app.message(`Rebalanced: ${proposal.moved_units} unit(s) moved, revision ${outcome.revision}. Undo takes it back.`);
      show(null);
      await app.committed(outcome);
    } catch (e) {
      accept.disabled = false;
      app.refused(e);
    }
  });
}
