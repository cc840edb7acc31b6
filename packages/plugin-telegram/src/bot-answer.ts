// The Bot API answers every call with JSON: { ok: true, result } when it
// sent, { ok: false, error_code, description } when it did not, with a 4xx
// status mostly, but it is `ok` that says, whatever the status.

/** Why the Bot API did not send, from its answer's body; undefined when it sent. */
export function refusalOf(body: string): string | undefined {
  const answer = parse(body);
  if (answer === undefined) return 'the Bot API answered with something other than JSON';
  if (answer.ok === true) return undefined;
  return `the Bot API refused the message${typeof answer.description === 'string' ? `: ${answer.description}` : ''}`;
}

/** What the Bot API said in a refused request's answer ("Bad Request: chat not found"), when it said anything. */
export function descriptionOf(body: string | undefined): string | undefined {
  const description = body === undefined ? undefined : parse(body)?.description;
  return typeof description === 'string' && description !== '' ? description : undefined;
}

function parse(body: string): { ok?: unknown; description?: unknown } | undefined {
  try {
    const answer: unknown = JSON.parse(body);
    return answer !== null && typeof answer === 'object' ? answer : undefined;
  } catch {
    return undefined;
  }
}
