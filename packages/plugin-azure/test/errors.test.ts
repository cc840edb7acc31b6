import { describe, expect, it } from 'vitest';
import { isNotFound, isRefusal, sanitizeCause, toAzureError, type AzureErrorContext } from '../src/errors.js';

const CONTEXT: AzureErrorContext = { operation: 'write', container: 'clara-backups', key: 'backups/clara/x.sql.gz', endpoint: 'https://clarabackups.blob.core.windows.net' };

/** A RestError as @azure/storage-blob throws it: the request with its SharedKey header, a multi-line message. */
function restError(statusCode: number | undefined, code: string, message = 'Server failed to authenticate the request.'): Error {
  return Object.assign(new Error(`${message}\nRequestId:8a1c\nTime:2026-02-01T03:00:00Z`), {
    name: 'RestError',
    code,
    statusCode,
    request: { url: 'https://clarabackups.blob.core.windows.net/c?sv=1&sig=SECRETSIG', headers: { authorization: 'SharedKey clarabackups:SECRETSIGNATURE' } },
  });
}

describe('toAzureError', () => {
  it('a wrong key or SAS is one line saying the credential was rejected, with a hint and nothing secret', () => {
    for (const code of ['AuthenticationFailed', 'AuthorizationFailure']) {
      const error = toAzureError(restError(403, code), CONTEXT);
      expect(error.code).toBe('SINK_FAILED');
      expect(error.message).toBe(`https://clarabackups.blob.core.windows.net rejected the Azure credential for container clara-backups (${code})`);
      expect(error.hint).toMatch(/accountKey, sasToken or connectionString/);
      expect(JSON.stringify({ ...error, cause: { ...(error.cause as object), message: (error.cause as Error).message } })).not.toMatch(/SECRET/);
    }
  });

  it('tells a missing permission, a missing container, a missing blob and an unreachable service apart', () => {
    const read = { ...CONTEXT, operation: 'get' as const };
    expect(toAzureError(restError(403, 'AuthorizationPermissionMismatch'), CONTEXT).message).toMatch(/^access denied to container clara-backups/);
    expect(toAzureError(restError(404, 'ContainerNotFound'), CONTEXT).message).toBe(
      'container clara-backups does not exist at https://clarabackups.blob.core.windows.net',
    );
    const missing = toAzureError(restError(404, 'BlobNotFound'), read);
    expect([missing.code, missing.message]).toEqual(['STORE_FAILED', 'no blob backups/clara/x.sql.gz in container clara-backups']);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'RestError', code: 'ECONNREFUSED' });
    expect(toAzureError(refused, read).message).toBe('cannot reach Azure Blob Storage at https://clarabackups.blob.core.windows.net (ECONNREFUSED)');
    expect(toAzureError(Object.assign(new Error('x'), { name: 'AbortError' }), CONTEXT).code).toBe('ABORTED');
    expect(toAzureError(Object.assign(new Error('x'), { name: 'IdentityNotInstalled' }), CONTEXT).hint).toMatch(/npm install @azure\/identity/);
    expect(toAzureError(restError(500, 'InternalError', 'Boom'), CONTEXT).message).toBe(
      'azure write of clara-backups/backups/clara/x.sql.gz at https://clarabackups.blob.core.windows.net failed: InternalError: Boom (HTTP 500)',
    );
  });

  it('keeps name, code, status and the first line of the message only', () => {
    const cause = sanitizeCause(restError(403, 'AuthenticationFailed'));
    expect(cause).toMatchObject({ name: 'RestError', message: 'Server failed to authenticate the request.', statusCode: 403, code: 'AuthenticationFailed' });
    expect(Object.keys(cause)).not.toContain('request');
  });
});

describe('classifying', () => {
  it('a 4xx is a refusal (nothing changed); no answer or a 5xx may have taken effect', () => {
    expect(isRefusal(restError(400, 'InvalidBlockList'))).toBe(true);
    expect(isRefusal(restError(500, 'InternalError'))).toBe(false);
    expect(isRefusal(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
  });

  it('a missing blob is not found; a missing container is not', () => {
    expect(isNotFound(restError(404, 'BlobNotFound'))).toBe(true);
    expect(isNotFound(restError(404, 'ContainerNotFound'))).toBe(false);
  });
});
