// Live: subscribes to the alignment's server-sent events. A `change` past the revision on
// display (another planner's commit, or ours arriving first) refreshes territories,
// tiles and panels; `resync` (this client fell behind) and a reconnect whose `hello`
// is ahead do the same. EventSource reconnects by itself after a dropped connection.

import { withToken } from './api.js';

export function installLive(app) {
  const events = new EventSource(withToken(`${app.path}/events`));
  const indicator = document.getElementById('live');
  // Refreshes unless this page knows of that revision already (its own commit, whose
  // refresh is under way).
  const refresh = (revision) => {
    if (revision === undefined || revision > app.knownRevision) {
      app.refresh().catch((e) => console.warn('refresh', e));
    }
  };
  events.addEventListener('hello', (e) => {
    indicator.dataset.state = 'on';
    indicator.title = 'live: commits by others appear here';
    refresh(JSON.parse(e.data).revision);
  });
  events.addEventListener('change', (e) => {
    const change = JSON.parse(e.data);
    if (change.revision <= app.knownRevision) return;
    if (change.author && change.author !== app.author) {
      app.message(`${change.author} committed revision ${change.revision}${change.summary ? `: ${change.summary}` : ''}`);
    }
    // Its tiles reload from its bbox at once; the panels follow.
    app.noteChange(change);
    app.tilesTo(change.revision);
    app.refresh().catch((err) => console.warn('refresh', err));
  });
  events.addEventListener('resync', () => refresh(undefined));
  events.addEventListener('error', () => {
    indicator.dataset.state = 'off';
    indicator.title = 'live updates disconnected; reconnecting';
  });
  app.events = events;
}
