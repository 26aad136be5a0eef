// The JSON API as the editor uses it: GET and POST helpers that turn an RFC 9457
// problem (`application/problem+json`) into an ApiError carrying status and detail.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// Sign-in: once the store holds a token the server answers 401 without one. The token
// is asked for in the sign-in form, kept in sessionStorage (this tab only), and sent as
// `Authorization: Bearer` on every request (tiles too: see `transformRequest`), or as
// `access_token` where a request cannot carry headers (EventSource, download links).
const TOKEN_KEY = 'geoalign.token';

export const token = () => sessionStorage.getItem(TOKEN_KEY);

export function authHeaders(headers = {}) {
  const t = token();
  return t ? { ...headers, authorization: `Bearer ${t}` } : headers;
}

// `url` with the token as a query parameter, for EventSource and <a download>.
export function withToken(url) {
  const t = token();
  if (!t) return url;
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(t)}`;
}

// MapLibre's transformRequest: the token on requests to this server only.
export function transformRequest(url) {
  const own = url.startsWith('/') || url.startsWith(window.location.origin);
  return own && token() ? { url, headers: authHeaders() } : { url };
}

let signingIn = null;

// Shows the sign-in form and resolves once a token was entered (one form for every
// request refused meanwhile).
export function signIn(reason) {
  if (signingIn) return signingIn;
  const form = document.getElementById('sign-in');
  const input = form.querySelector('input');
  form.querySelector('.reason').textContent = reason || '';
  form.hidden = false;
  input.focus();
  signingIn = new Promise((resolve) => {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      input.value = '';
      form.hidden = true;
      signingIn = null;
      resolve();
    }, { once: true });
  });
  return signingIn;
}

// Sends a request; on 401 asks for a token and sends it again (until one is accepted).
async function send(path, init) {
  for (;;) {
    const res = await fetch(path, { ...init, headers: authHeaders(init.headers) });
    if (res.status !== 401) return res;
    const problem = await res.json().catch(() => ({}));
    await signIn(token() ? `That token was not accepted: ${problem.detail || 'HTTP 401'}` : 'This server needs an access token.');
  }
}

export const authFetch = (path, init = {}) => send(path, init);

async function answer(res, what) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { detail: text };
  }
  if (!res.ok) throw new ApiError(res.status, body || { title: `${what}: HTTP ${res.status}` });
  return body;
}

export async function getJSON(path) {
  const res = await send(path, { headers: { accept: 'application/json' }, cache: 'no-cache' });
  return answer(res, `GET ${path}`);
}

export async function postJSON(path, body) {
  const res = await send(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return answer(res, `POST ${path}`);
}

// A PUT of a text body (a CSV sheet) answered with JSON.
export async function putText(path, body, contentType) {
  const res = await send(path, {
    method: 'PUT',
    headers: { 'content-type': contentType, accept: 'application/json' },
    body,
  });
  return answer(res, `PUT ${path}`);
}

export const alignmentPath = (alignment) => `/api/alignments/${encodeURIComponent(alignment)}`;

export const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Numbers as a planner reads them: integers grouped, others with two decimals at most.
export function formatNumber(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  const abs = Math.abs(v);
  const digits = Number.isInteger(v) || abs >= 1000 ? 0 : 2;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

// A territory's value of a metric: a unit metric's sum (or weighted mean, for a field the
// dataset averages), an account metric's sum, or one of the shape's own (units, accounts,
// area_km2, parts, polsby_popper).
export function metricValue(item, metric) {
  const m = item.metrics || {};
  if (m.sums && metric in m.sums) return m.sums[metric];
  if (m.means && metric in m.means) return m.means[metric];
  if (m.account_sums && metric in m.account_sums) return m.account_sums[metric];
  return typeof m[metric] === 'number' ? m[metric] : 0;
}

// `[west, south, east, north]` of a GeoJSON geometry.
export function geometryBounds(geometry) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return b;
}

// Flies the map to a territory's (or district's...) dissolved outline; resolves to its GeoJSON feature.
export async function flyToTerritory(app, code, level = app.levels[0]) {
  const feature = await getJSON(`${app.path}/${encodeURIComponent(level)}/${encodeURIComponent(code)}`);
  if (feature.geometry) {
    const [w, s, e, n] = geometryBounds(feature.geometry);
    app.map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom: 13 });
  }
  return feature;
}

export async function deleteJSON(path) {
  const res = await send(path, { method: 'DELETE', headers: { accept: 'application/json' } });
  return answer(res, `DELETE ${path}`);
}

