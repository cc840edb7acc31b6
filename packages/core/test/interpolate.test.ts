import { describe, expect, it } from 'vitest';
import { interpolate } from '../src/config/interpolate.js';

describe('interpolate', () => {
  const env = { DATABASE_URL: 'postgres://u:p@h/db', EMPTY: '', HOURS: '12' };

  it('fills ${VAR} and ${VAR:-default} in nested strings', () => {
    const { value, missing } = interpolate(
      { url: '${DATABASE_URL}', hooks: [{ hours: '${HOURS:-23}', days: '${DAYS:-7}' }], n: 3 },
      env,
    );
    expect(missing).toEqual([]);
    expect(value).toEqual({ url: 'postgres://u:p@h/db', hooks: [{ hours: '12', days: '7' }], n: 3 });
  });

  it('treats an empty variable as unset for :- but not for plain ${VAR}', () => {
    expect(interpolate('${EMPTY:-fallback}', env).value).toBe('fallback');
    expect(interpolate('x${EMPTY}y', env).value).toBe('xy');
  });

  it('reports each missing variable with its path', () => {
    const { missing } = interpolate({ jobs: { a: { url: '${NOPE}', b: ['${ALSO_NOPE}'] } } }, env);
    expect(missing).toEqual([
      { name: 'NOPE', path: ['jobs', 'a', 'url'] },
      { name: 'ALSO_NOPE', path: ['jobs', 'a', 'b', 0] },
    ]);
  });

  it('keeps $${ as a literal ${ and leaves values with YAML punctuation alone', () => {
    expect(interpolate('$${HOME}', env).value).toBe('${HOME}');
    expect(interpolate('${P}', { P: 'a: [b], {c}' }).value).toBe('a: [b], {c}');
  });
});
