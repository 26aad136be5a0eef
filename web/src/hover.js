// Hover: highlights the unit under the pointer and lists its owners up the levels
// and its metrics (from the `units` layer, whose features carry the owning code at every
// level and the unit's metrics) with
// the territory's name and reps (from the `territories` layer).

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function installHover(app, panel) {
  const { map } = app;
  let hovered = null;

  function clear() {
    if (hovered !== null) map.setFeatureState({ source: 'alignment', sourceLayer: 'units', id: hovered }, { hover: false });
    hovered = null;
    panel.hidden = true;
    map.getCanvas().style.cursor = '';
  }

  map.on('mousemove', (e) => {
    const layers = ['unit-fill', 'territory-fill'].filter((id) => map.getLayer(id));
    const features = map.queryRenderedFeatures(e.point, { layers });
    const unit = features.find((f) => f.sourceLayer === 'units');
    const territory = features.find((f) => f.sourceLayer === 'territories');
    if (!unit && !territory) return clear();
    if (unit && unit.id !== hovered) {
      clear();
      hovered = unit.id;
      map.setFeatureState({ source: 'alignment', sourceLayer: 'units', id: hovered }, { hover: true });
    }
    map.getCanvas().style.cursor = 'pointer';
    const rows = [];
    if (unit) {
      rows.push(['unit', unit.properties.id]);
      const levels = (app.tilejson.vector_layers.find((l) => l.id === 'units') || { fields: {} }).fields;
      for (const key of Object.keys(levels)) {
        if (key !== 'id' && levels[key].startsWith('owning') && unit.properties[key] !== undefined) {
          rows.push([key, unit.properties[key]]);
        }
      }
      for (const key of Object.keys(levels)) {
        if (levels[key] === 'unit metric' && typeof unit.properties[key] === 'number') {
          rows.push([key, unit.properties[key].toLocaleString('en-US')]);
        }
      }
    }
    if (territory) {
      const t = territory.properties;
      if (!unit) rows.push(['territory', t.id]);
      if (t.name && t.name !== t.id) rows.push(['name', t.name]);
      if (t.rep_names) rows.push(['reps', t.rep_names]);
    }
    panel.innerHTML = `<dl>${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('')}</dl>`;
    panel.hidden = false;
  });
  map.getCanvas().addEventListener('mouseleave', clear);
}
