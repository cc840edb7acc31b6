/** UTC `YYYYMMDD_HHMMSS`, as `{timestamp}` fills object names (the reference service's format). */
export function formatTimestamp(date: Date): string {
  const iso = date.toISOString(); // 2026-02-01T03:00:05.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}
