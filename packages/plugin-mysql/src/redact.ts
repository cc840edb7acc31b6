/** Replaces every secret in the text with `***`, longest first so no fragment of a longer one survives. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of [...secrets].filter(Boolean).sort((a, b) => b.length - a.length)) result = result.split(secret).join('***');
  return result;
}

/** How many of a tool's last stderr lines an error carries. */
const STDERR_TAIL_LINES = 20;
/** A longer stderr line is cut (the client echoes a failing statement, which may hold megabytes of a row). */
const MAX_LINE = 500;

/** `text` cut to `max` characters, with `...` and how much was left out. */
export function clipLine(text: string, max = MAX_LINE): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}

/**
 * Collects a child's stderr line by line (secrets redacted): each line goes
 * to `onLine`, the last ones are kept for an error message.
 */
export function stderrTail(stream: NodeJS.ReadableStream | null, secrets: readonly string[], onLine: (line: string) => void): { text(): string; closed: Promise<void> } {
  const tail: string[] = [];
  let partial = '';
  const take = (raw: string): void => {
    const line = clipLine(redact(raw.replace(/\r$/, ''), secrets));
    if (line.trim() === '') return;
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
    onLine(line);
  };
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(take);
  });
  const closed = new Promise<void>((resolve) => {
    if (!stream) return resolve();
    const end = () => {
      if (partial !== '') take(partial);
      partial = '';
      resolve();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', end);
  });
  return { text: () => tail.join('\n'), closed };
}
