const UNITS = ['KB', 'MB', 'GB', 'TB'];

/**
 * Sizes as the reference service prints them: `2.5 MB` (1 MB = 1024² bytes,
 * one decimal). Below 1 MB it goes down to KB and bytes rather than "0.0 MB".
 */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
