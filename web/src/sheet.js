// Sheets: replace the alignment with an edited copy of its sheet (the CSV planners keep:
// unit_id,territory,district,region,rep), or its rule territories with an edited rules
// sheet (rule,priority,territory,district,region,condition). Each upload is one change
// set (`PUT /api/alignments/{a}/sheet|rules?expected_revision=N`, body text/csv): it shows
// in the history, Undo takes it back, and a sheet with a bad row is refused whole, naming
// the lines.
import { putText } from './api.js';

export function installSheet(app) {
  installUpload(app, 'sheet', (file, body) => {
    const unassigned = body.unassigned.length ? `; ${body.unassigned.length} units left unassigned` : '';
    return [body.change, `${file.name}: ${body.rows} rows read, revision ${body.change.revision}${unassigned}. Undo takes it back.`];
  });
  installUpload(app, 'rules', (file, change) => [change, `${file.name}: rules replaced, revision ${change.revision}. Undo takes it back.`]);
}

// The file input `#{kind}-file` and its button `#{kind}-upload`, putting to `{kind}`.
function installUpload(app, kind, described) {
  const input = document.getElementById(`${kind}-file`);
  const button = document.getElementById(`${kind}-upload`);
  input.addEventListener('change', () => { button.disabled = !input.files.length; });
  button.addEventListener('click', async () => {
    const file = input.files[0];
    if (!file) return;
    button.disabled = true;
    try {
      const path = `${app.path}/${kind}?expected_revision=${app.revision}&author=${encodeURIComponent(app.author || '')}`;
      const [change, message] = described(file, await putText(path, await file.text(), 'text/csv'));
      input.value = '';
      if (change.revision === change.previous_revision) {
        app.message(`${file.name} says what the alignment says: nothing changed.`);
        return;
      }
      app.message(message);
      await app.committed(change);
    } catch (e) {
      app.refused(e);
    } finally {
      button.disabled = !input.files.length;
    }
  });
}
