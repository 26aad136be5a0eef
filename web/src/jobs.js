// Background jobs (`/api/jobs/{id}`: a build or a rebalance) as the dialogs run them:
// post, show the progress, let Cancel stop it, and hand back the finished job.
import { ApiError, deleteJSON, getJSON, postJSON } from './api.js';

// Polls a job until it has finished, telling `onProgress` each state seen; resolves
// with the finished job, or rejects with the job's problem when it failed.
export async function waitForJob(href, onProgress) {
  for (;;) {
    const job = await getJSON(href);
    onProgress(job);
    if (job.state === 'succeeded' || job.state === 'cancelled') return job;
    if (job.state === 'failed') throw new ApiError(job.error?.status || 500, job.error || {});
    await new Promise((r) => setTimeout(r, 150));
  }
}

// Posts `body` to `path` (which answers with a job), shows its progress in `status`,
// keeps `button` disabled and `cancelButton` shown meanwhile (a click cancels the job).
// Resolves with the finished job (succeeded or cancelled), or null when the request was
// refused or the job failed (the reason shown by `app.refused`).
export async function runJob(app, path, body, { button, cancelButton, status }) {
  let href = null;
  const cancel = () => {
    if (href) deleteJSON(href).catch((e) => app.refused(e));
  };
  button.disabled = true;
  cancelButton.hidden = false;
  cancelButton.addEventListener('click', cancel);
  status.textContent = '';
  try {
    href = (await postJSON(path, body)).href;
    const job = await waitForJob(href, (j) => {
      const dev = j.max_deviation === undefined ? '' : `, max |deviation| ${(j.max_deviation * 100).toFixed(1)}%`;
      status.textContent = `${j.state}${j.phase ? ` (${j.phase})` : ''}: ${Math.round(j.progress * 100)}%${dev}`;
    });
    status.textContent = job.state === 'cancelled' ? 'cancelled' : '';
    return job;
  } catch (e) {
    status.textContent = '';
    app.refused(e);
    return null;
  } finally {
    cancelButton.removeEventListener('click', cancel);
    button.disabled = false;
    cancelButton.hidden = true;
  }
}
