// What a rejected or flagged operation means for the engineer, and what they can do about it.
// Codes are PROTOCOL.md §4/§9; unknown codes fall back to the server's message.
import { t } from '../i18n.js';

const KNOWN = new Set([
  'not_assigned', 'stale_transition', 'invalid_transition', 'report_signed', 'report_superseded',
  'report_hash_mismatch', 'already_signed', 'not_found', 'forbidden', 'invalid_reference',
  'duplicate_id', 'invalid_operation', 'bad_event_time', 'data_conflict',
]);
const FLAGS = new Set(['overdraw', 'overwrite', 'conflict', 'pending_blob']);

/** "why" and "what to do" for one stored answer. */
export function problemText(r) {
  if (r.status === 'rejected') {
    const code = KNOWN.has(r.code) ? r.code : null;
    const current = r.result?.status ? t(`status_${r.result.status}`) : '';
    const why = code ? t(`why_${code}`, { status: current }) : (r.message || r.code);
    return `${why} ${code ? t(`todo_${code}`) : t('todo_unknown')}`;
  }
  return (r.flags || []).filter((f) => FLAGS.has(f)).map((f) => t(`flag_${f}`)).join(' ');
}
