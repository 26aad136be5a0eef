// Search: a unit id (ZIP), a territory code or name, a rep id or name, or else an address
// (`GET /api/geocode`): flies there and shows the owner. A unit found is also selected,
// ready to be reassigned.
import { ApiError, escape, flyToTerritory, geometryBounds, getJSON } from './api.js';

export function installSearch(app) {
  const { map } = app;
  const form = document.getElementById('search-form');
  const input = document.querySelector('[data-testid="search"]');
  const result = document.getElementById('search-result');
  let marker = null;

  const show = (html) => {
    result.innerHTML = html;
    result.hidden = !html;
  };

  function ownerText(owner) {
    return app.levels.map((l) => owner[l]).filter(Boolean).map(escape).join(' · ') || 'unassigned';
  }

  // Waits for the map to settle, then reads a unit's feature from the tiles on display.
  const unitFeature = (id) => new Promise((resolve) => {
    map.triggerRepaint();
    map.once('idle', () => {
      const found = map.querySourceFeatures('alignment', { sourceLayer: 'units', filter: ['==', ['get', 'id'], id] });
      resolve(found[0] || null);
    });
  });

  async function unit(q) {
    let feature;
    try {
      feature = await getJSON(`/api/datasets/${encodeURIComponent(app.overview.dataset)}/units/${encodeURIComponent(q)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return false;
      throw e;
    }
    if (feature.geometry) {
      const [w, s, e, n] = geometryBounds(feature.geometry);
      map.fitBounds([[w, s], [e, n]], { padding: 80, maxZoom: 13 });
    }
    const tile = await unitFeature(feature.id);
    if (tile) {
      app.selection.set([tile]);
      show(`unit <b>${escape(feature.id)}</b> → ${ownerText(tile.properties)}`);
    } else {
      show(`unit <b>${escape(feature.id)}</b>`);
    }
    return true;
  }

  function territory(q) {
    const lower = q.toLowerCase();
    const repNames = new Map();
    const leafLayer = app.tilejson.vector_layers.find((l) => l.description.startsWith(`${app.levels[0]} outlines`));
    for (const f of map.querySourceFeatures('alignment', { sourceLayer: leafLayer ? leafLayer.id : 'territories' })) {
      if (f.properties.rep_names) repNames.set(f.properties.id, f.properties.rep_names.toLowerCase());
    }
    const exact = app.territories.find((t) => t.code.toLowerCase() === lower || t.name.toLowerCase() === lower
      || t.reps.some((r) => r.toLowerCase() === lower) || (repNames.get(t.code) || '').split(',').map((s) => s.trim()).includes(lower));
    if (exact) return exact;
    const partial = app.territories.filter((t) => t.name.toLowerCase().includes(lower) || (repNames.get(t.code) || '').includes(lower));
    return partial.length === 1 ? partial[0] : null;
  }

  async function address(q) {
    const answer = await getJSON(`/api/geocode?alignment=${encodeURIComponent(app.alignment)}&q=${encodeURIComponent(q)}`);
    if (!answer.point) {
      show(`no place found for “${escape(q)}”${answer.note ? `: ${escape(answer.note)}` : ''}`);
      return;
    }
    const [lon, lat] = answer.point;
    map.flyTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 12) });
    if (marker) marker.remove();
    marker = new app.maplibregl.Marker({ color: '#1565c0' }).setLngLat([lon, lat]).addTo(map);
    const reps = (answer.reps || []).map((r) => r.name).join(', ');
    show(`${escape(q)} (${escape(answer.match)}) → unit <b>${escape(answer.unit || '–')}</b>, ${answer.owner ? ownerText(answer.owner) : 'no owner'}${reps ? ` · ${escape(reps)}` : ''}`);
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) return show('');
    try {
      const t = territory(q);
      if (t) {
        await flyToTerritory(app, t.code);
        show(`territory <b>${escape(t.code)}</b>${t.name !== t.code ? ` ${escape(t.name)}` : ''} · ${escape(t.parent || '')}${t.reps.length ? ` · reps ${escape(t.reps.join(', '))}` : ''}${t.locked ? ' · locked' : ''}`);
        return;
      }
      // A unit id is one word; anything else is an address.
      if (!/[\s,]/.test(q) && await unit(q)) return;
      await address(q);
    } catch (err) {
      show(escape(err.message));
    }
  });
}
