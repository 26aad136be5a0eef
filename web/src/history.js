// History: the change log (who, when, what), newest first, with Undo and Redo.
//
// The server undoes a change set by appending its inverse (`undoes` = the revision
// undone), and an undo can itself be undone. Reading the log newest first, a change set
// is *live* when no live later one undoes it. It *does* something when it is an original
// change or the undo of an undo (a redo), and *undoes* something otherwise.
//   Undo: undo the newest live change set that does something.
//   Redo: undo the newest live undo, unless an original change set came after it.
// Both name the revision explicitly (`POST /undo` with `revision`), so they never
// depend on the server's default choice.
import { escape, getJSON, postJSON } from './api.js';

export function plan(changes) {
  const byRevision = new Map(changes.map((c) => [c.revision, c]));
  const live = new Map();
  const undoneBy = new Map();
  for (const c of [...changes].reverse()) {
    live.set(c.revision, !undoneBy.has(c.revision));
    if (c.undoes !== undefined && live.get(c.revision)) undoneBy.set(c.undoes, c.revision);
  }
  const kind = new Map();
  for (const c of changes) {
    const target = c.undoes === undefined ? null : byRevision.get(c.undoes);
    kind.set(c.revision, c.undoes === undefined ? 'do' : (target && kind.get(target.revision) === 'undo' ? 'do' : 'undo'));
  }
  let undo = null;
  let redo = null;
  for (const c of [...changes].reverse()) {
    if (!live.get(c.revision)) continue;
    if (undo === null && kind.get(c.revision) === 'do') undo = c.revision;
    if (redo === null) {
      if (kind.get(c.revision) === 'undo') redo = c.revision;
      else if (c.undoes === undefined) redo = -1; // an original change: nothing to redo
    }
  }
  return { live, kind, undo, redo: redo > 0 ? redo : null };
}

export function installHistory(app) {
  const undoButton = document.querySelector('[data-testid="undo"]');
  const redoButton = document.querySelector('[data-testid="redo"]');
  const list = document.querySelector('[data-testid="history"]');
  let current = { undo: null, redo: null };
  let loadedAt = null;
  let busy = false;

  function render(changes, p) {
    current = p;
    undoButton.disabled = busy || p.undo === null;
    redoButton.disabled = busy || p.redo === null;
    undoButton.title = p.undo === null ? 'nothing to undo' : `undo revision ${p.undo}`;
    redoButton.title = p.redo === null ? 'nothing to redo' : `redo (undo revision ${p.redo})`;
    list.innerHTML = [...changes].reverse().map((c) => {
      const when = new Date(c.created_at);
      const undone = !p.live.get(c.revision);
      const tag = c.undoes !== undefined && p.kind.get(c.revision) === 'do' ? '<span class="tag">redo</span> ' : '';
      const undoThis = !undone && p.kind.get(c.revision) === 'do'
        ? `<button type="button" class="link" data-undo="${c.revision}" title="undo this change set">undo</button>` : '';
      return `<li data-revision="${c.revision}"${undone ? ' data-undone="true"' : ''}>
        <div class="what" title="${escape(c.summary)}">${tag}${escape(c.summary || '(no change)')}</div>
        <div class="meta">r${c.revision} · ${escape(c.author || 'anonymous')} · <time datetime="${escape(c.created_at)}">${escape(when.toLocaleString())}</time> ${undoThis}</div></li>`;
    }).join('');
  }

  async function load() {
    const body = await getJSON(`${app.path}/history?limit=200`);
    loadedAt = app.revision;
    render(body.changes, plan(body.changes));
  }

  // `pick` chooses the revision from the plan; the log is reloaded first when it is older
  // than the revision on display, so Undo never acts on a plan from before a commit.
  async function undo(pick, verb) {
    if (busy) return;
    busy = true;
    undoButton.disabled = redoButton.disabled = true;
    try {
      if (loadedAt !== app.revision) await load();
      const revision = pick(current);
      if (revision === null) return;
      const outcome = await postJSON(`${app.path}/undo`, { expected_revision: app.revision, revision, author: app.author });
      app.message(`${verb} revision ${revision} (now revision ${outcome.revision}).`);
      app.emit('committed', outcome);
      await app.committed(outcome);
    } catch (e) {
      app.refused(e);
    } finally {
      busy = false;
      undoButton.disabled = current.undo === null;
      redoButton.disabled = current.redo === null;
    }
  }

  const undoLatest = () => undo((p) => p.undo, 'Undid');
  const redoLatest = () => undo((p) => p.redo, 'Redid (undid the undo)');
  undoButton.addEventListener('click', undoLatest);
  redoButton.addEventListener('click', redoLatest);
  list.addEventListener('click', (e) => {
    const b = e.target.closest('[data-undo]');
    if (b) undo(() => Number(b.dataset.undo), 'Undid');
  });
  document.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.target instanceof HTMLInputElement) return;
    if (e.key === 'z' && !e.shiftKey) { e.preventDefault(); undoLatest(); }
    if (e.key === 'y' || (e.key === 'Z' && e.shiftKey)) { e.preventDefault(); redoLatest(); }
  });
  app.on('territories', () => {
    if (loadedAt !== app.revision) load().catch((e) => app.message(e.message, 'error'));
  });
}
