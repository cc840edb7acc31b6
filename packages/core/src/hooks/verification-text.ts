import type { Verification } from '@backupctl/plugin-api';

// How a verification reads in logs and notifications, the same wherever it ran (hook, schedule, webhook).

/** `restores in 6.5 s, all 5 tables match its manifest` (the restore time when it got that far). */
export function describePassed(verification: Verification): string {
  const restore = verification.restoreMs === undefined ? '' : `restores in ${(verification.restoreMs / 1000).toFixed(1)} s, `;
  return `${restore}all ${verification.tables} tables match ${verification.against === 'manifest' ? 'its manifest' : 'the live database'}`;
}

/** `3 of 12 tables differ: public.orders (expected 10, restored 9), ...`, or the restore's error. */
export function describeFailure(verification: Verification): string {
  if (verification.error) return verification.error.message;
  const shown = verification.differences.slice(0, 5).map((row) => `${row.table} (expected ${row.expected ?? 'no table'}, restored ${row.restored ?? 'no table'})`);
  const more = verification.differences.length > shown.length ? `, and ${verification.differences.length - shown.length} more` : '';
  return `${verification.differences.length} of ${verification.tables} tables differ: ${shown.join(', ')}${more}`;
}
