import { formatSize, isProblem, templateValues, type Notification } from '@backupctl/plugin-api';

/** What one email says. `html` is the same as `text`, laid out; absent when `message:` replaced the text. */
export interface EmailContent {
  subject: string;
  text: string;
  html?: string;
}

export interface ComposeOptions {
  subjectPrefix: string;
  /** The user's `subject:` filled in (masked); absent: the default. */
  subject?: string;
  /** The user's `message:` filled in (masked); absent: the default body. */
  message?: string;
}

/** Subject and body for one notification (already masked by the caller). */
export function composeEmail(notification: Notification, options: ComposeOptions): EmailContent {
  // A header is one line: an error message in a `{error}` field must not start another.
  const subject = [options.subjectPrefix, options.subject ?? headline(notification)].filter(Boolean).join(' ').replace(/\s+/g, ' ').trim();
  if (options.message !== undefined) return { subject, text: `${options.message}\n` };
  const rows = detailRows(notification);
  const tail = notification.logTail ?? [];
  return { subject, text: plainText(notification.summary, rows, tail), html: html(notification, rows, tail) };
}

/** The default subject: what happened to which job, short enough for a phone's inbox. */
export function headline(notification: Notification): string {
  const { title } = notification;
  switch (notification.event) {
    case 'start':
      return `${title} backup started`;
    case 'success':
      return `${title} backup complete`;
    case 'failure':
      return `${title} backup failed`;
    case 'skipped':
      return `${title} backup skipped`;
    case 'copy-failed':
      return notification.copy ? `${title} copy ${notification.copy} failed` : `${title}: a copy failed`;
    case 'anomaly':
      return `${title} backup flagged as an anomaly`;
    case 'verified':
      return `${title} backup verified`;
    case 'verify-failed':
      return `${title} backup verification failed`;
    case 'stale':
      return `${title} backups are stale`;
    case 'recovered':
      return `${title} backups are fresh again`;
    case 'test':
      return `${title}: test email`;
  }
}

type Row = [label: string, value: string];

/** The facts the notification carries, labelled, in the order a reader wants them; absent or empty ones left out. */
function detailRows(notification: Notification): Row[] {
  const values = templateValues(notification);
  const { error, sourceSize, sha256, copies, reasons, differences, lastBackupAt, staleAfterHours } = notification;
  const stale = lastBackupAt !== undefined || staleAfterHours !== undefined;
  const rows: [string, string | undefined][] = [
    ['Job', notification.job === notification.title ? notification.job : `${notification.job} (${notification.title})`],
    ['Event', `${notification.event} (${values.result})`],
    ['At', notification.at],
    ['Error', error && `${error.message} (${error.code})`],
    ['Hint', values.hint],
    ['Reason', notification.reason],
    ['Anomaly', reasons?.join('; ')],
    ['Differing tables', differences?.length ? values.tables : undefined],
    ['Key', values.key],
    ['Size', values.size && sourceSize !== undefined ? `${values.size} (${formatSize(sourceSize)} before transforms)` : values.size],
    ['Duration', values.duration],
    ['SHA-256', sha256],
    ['Tables', differences?.length ? undefined : values.tables],
    ['Copy', values.copy],
    ['Copies', copies?.map(({ name, status, required }) => `${name} ${status}${required ? '' : ' (not required)'}`).join(', ')],
    ['Newest backup', stale ? (lastBackupAt ?? 'none') : undefined],
    ['Stale after', staleAfterHours === undefined ? undefined : `${staleAfterHours} h`],
  ];
  return rows.filter((row): row is Row => Boolean(row[1]));
}

function plainText(summary: string, rows: Row[], tail: string[]): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = [summary, ''];
  // A value's later lines line up under its first.
  for (const [label, value] of rows) lines.push(`${`${label}:`.padEnd(width)}${value.split('\n').join(`\n${' '.repeat(width)}`)}`);
  if (tail.length) lines.push('', 'Last log lines:', ...tail.map((line) => `  ${line}`));
  lines.push('', '-- ', 'Sent by backupctl');
  return `${lines.join('\n')}\n`;
}

function html(notification: Notification, rows: Row[], tail: string[]): string {
  const colour = isProblem(notification.event) ? '#b42318' : '#1a7f37';
  const cells = rows.map(([label, value]) => `<tr><th align="left" valign="top" style="padding:2px 12px 2px 0">${escape(label)}</th><td style="white-space:pre-wrap">${escape(value)}</td></tr>`);
  return [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px">',
    `<p style="font-weight:bold;color:${colour}">${escape(notification.summary)}</p>`,
    `<table cellspacing="0">${cells.join('')}</table>`,
    ...(tail.length ? ['<p style="font-weight:bold">Last log lines</p>', `<pre style="font-size:12px">${escape(tail.join('\n'))}</pre>`] : []),
    '<p style="color:#666;font-size:12px">Sent by backupctl</p>',
    '</body></html>',
  ].join('\n');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
