// Sheet: replace the alignment with an edited copy of its sheet (the CSV planners keep:
// unit_id,territory,district,region,rep). The upload is one change set
// (`PUT /api/alignments/{a}/sheet?expected_revision=N`, body text/csv): it shows in the
// history, Undo takes it back, and a sheet with a bad row is refused whole, naming the lines.
import { putText } from './api.js';

export function installSheet(app) {
  const input = document.getElementById('sheet-file');
  const button = document.getElementById('sheet-upload');
  input.addEventListener('change', () => { button.disabled = !input.files.length; });
  button.addEventListener('click', async () => {
    const file = input.files[0];
    if (!file) return;
    button.disabled = true;
    try {
      const path = `${app.path}/sheet?expected_revision=${app.revision}&author=${encodeURIComponent(app.author || '')}`;
      const body = await putText(path, await file.text(), 'text/csv');
      const change = body.change;
      input.value = '';
      if (change.revision === change.previous_revision) {
        app.message(`${file.name} says what the alignment says: nothing changed.`);
        return;
      }
      const unassigned = body.unassigned.length ? `; ${body.unassigned.length} units left unassigned` : '';
      app.message(`${file.name}: ${body.rows} rows read, revision ${change.revision}${unassigned}. Undo takes it back.`);
      await app.committed(change);
    } catch (e) {
      app.refused(e);
    } finally {
      button.disabled = !input.files.length;
    }
  });
}
