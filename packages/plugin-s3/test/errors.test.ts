import { NoSuchBucket, NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { BackupctlError } from '@backupctl/plugin-api';
import { describe, expect, it } from 'vitest';
import { isNoSuchKey, isRefusal, sanitizeCause, toS3Error, type S3ErrorContext } from '../src/errors.js';

const endpoint = 'https://s3.wasabisys.com';
const writeContext: S3ErrorContext = { operation: 'write', bucket: 'clara-backups', key: 'backups/clara/x.sql.gz', endpoint };
const listContext: S3ErrorContext = { operation: 'list', bucket: 'clara-backups', key: 'backups/clara/', endpoint };

function serviceError(name: string, status: number, message = `${name} message`, extra: Record<string, unknown> = {}): S3ServiceException {
  return Object.assign(new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message }), extra);
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code, syscall: 'connect' });
}

describe('toS3Error', () => {
  it('says a missing bucket does not exist, and where to fix it', () => {
    const error = toS3Error(new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } }), writeContext);
    expect(error).toBeInstanceOf(BackupctlError);
    expect(error).toMatchObject({
      code: 'SINK_FAILED',
      plugin: 's3',
      hook: 'write',
      message: 'bucket clara-backups does not exist at https://s3.wasabisys.com',
      hint: expect.stringContaining('S3_BUCKET'),
    });
  });

  it('reads a bare 404 from HeadBucket as a missing bucket', () => {
    const error = toS3Error(serviceError('NotFound', 404, 'UnknownError'), { operation: 'check', bucket: 'nope', endpoint });
    expect(error).toMatchObject({ code: 'STORE_FAILED', message: 'bucket nope does not exist at https://s3.wasabisys.com' });
  });

  it.each(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken'])('points at the credentials on %s', (name) => {
    const error = toS3Error(serviceError(name, 403), listContext);
    expect(error).toMatchObject({
      code: 'STORE_FAILED',
      message: `https://s3.wasabisys.com rejected the S3 credentials for bucket clara-backups (${name})`,
      hint: expect.stringContaining('S3_SECRET_KEY'),
    });
  });

  it('points at credentials and permissions on AccessDenied or a bare 403', () => {
    expect(toS3Error(serviceError('AccessDenied', 403), writeContext)).toMatchObject({
      message: 'access denied to bucket clara-backups at https://s3.wasabisys.com (AccessDenied)',
      hint: expect.stringContaining('S3_ACCESS_KEY'),
    });
    expect(toS3Error(serviceError('Forbidden', 403, 'UnknownError'), { operation: 'check', bucket: 'b', endpoint })).toMatchObject({
      message: 'access denied to bucket b at https://s3.wasabisys.com (Forbidden)',
    });
  });

  it('never carries the access key id or the string to sign that S3 sends back', () => {
    const raw = serviceError('SignatureDoesNotMatch', 403, 'The request signature we calculated does not match', {
      AWSAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      StringToSign: 'AWS4-HMAC-SHA256\n20260201T030000Z',
      SignatureProvided: 'deadbeef',
    });
    const error = toS3Error(raw, writeContext);
    const everything = JSON.stringify({ ...error, message: error.message, cause: { ...(error.cause as object) } });
    expect(everything).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(everything).not.toContain('deadbeef');
    expect(error.cause).toMatchObject({ name: 'SignatureDoesNotMatch', statusCode: 403 });
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT'])('says the endpoint cannot be reached on %s', (code) => {
    const error = toS3Error(networkError(code), writeContext);
    expect(error).toMatchObject({
      code: 'SINK_FAILED',
      message: `cannot reach S3 endpoint https://s3.wasabisys.com (${code})`,
      hint: expect.stringContaining('S3_ENDPOINT_URL'),
    });
  });

  it('finds the network code inside an AggregateError (Node tries IPv4 and IPv6)', () => {
    const aggregate = new AggregateError([networkError('ECONNREFUSED'), networkError('ECONNREFUSED')], '');
    expect(toS3Error(aggregate, { ...listContext, endpoint: 'http://localhost:9000' }).message).toBe(
      'cannot reach S3 endpoint http://localhost:9000 (ECONNREFUSED)',
    );
  });

  it('names AWS and the region when no endpoint is configured', () => {
    expect(toS3Error(networkError('ENOTFOUND'), { ...listContext, endpoint: 'AWS S3 (eu-west-1)' }).message).toBe(
      'cannot reach S3 endpoint AWS S3 (eu-west-1) (ENOTFOUND)',
    );
  });

  it('suggests the region when S3 redirects', () => {
    expect(toS3Error(serviceError('PermanentRedirect', 301), listContext)).toMatchObject({
      message: expect.stringContaining('bucket clara-backups is not in region'),
      hint: expect.stringContaining('S3_REGION'),
    });
  });

  it('names the missing object of a get, and how to list what exists', () => {
    const getContext: S3ErrorContext = { operation: 'get', bucket: 'clara-backups', key: 'backups/clara/x.sql.gz', endpoint };
    const expected = {
      code: 'STORE_FAILED',
      hook: 'get',
      message: 'no object backups/clara/x.sql.gz in bucket clara-backups',
      hint: 'List what exists with `backupctl ls`.',
    };
    expect(toS3Error(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }), getContext)).toMatchObject(expected);
    expect(toS3Error(serviceError('NotFound', 404, 'UnknownError'), getContext)).toMatchObject(expected);
  });

  it('marks an aborted request as ABORTED', () => {
    const abort = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    expect(toS3Error(abort, listContext)).toMatchObject({ code: 'ABORTED' });
  });

  it('keeps anything else on one line, with what, where and the status', () => {
    const error = toS3Error(serviceError('SlowDown', 503, 'Please reduce your request rate.\nMore text'), writeContext);
    expect(error.message).toBe(
      's3 write of s3://clara-backups/backups/clara/x.sql.gz at https://s3.wasabisys.com failed: SlowDown: Please reduce your request rate. (HTTP 503)',
    );
    expect(error.hint).toBeUndefined();
  });

  it('passes a BackupctlError through unchanged', () => {
    const original = new BackupctlError('SOURCE_FAILED', 'pg_dump exited with code 1');
    expect(toS3Error(original, writeContext)).toBe(original);
  });
});

describe('isNoSuchKey', () => {
  it('recognises GetObject NoSuchKey and a HEAD 404, nothing else', () => {
    expect(isNoSuchKey(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }))).toBe(true);
    expect(isNoSuchKey(serviceError('NotFound', 404))).toBe(true);
    expect(isNoSuchKey(new NoSuchBucket({ message: 'no bucket', $metadata: { httpStatusCode: 404 } }))).toBe(false);
    expect(isNoSuchKey(networkError('ECONNREFUSED'))).toBe(false);
  });
});

describe('isRefusal', () => {
  const attempt = (error: S3ServiceException, attempts: number): S3ServiceException => Object.assign(error, { $metadata: { ...error.$metadata, attempts } });

  it.each([
    ['SignatureDoesNotMatch', 403],
    ['InvalidAccessKeyId', 403],
    ['AccessDenied', 403],
    ['NoSuchBucket', 404],
  ])('is true for %s answered to the one attempt: S3 refused the request, nothing changed', (name, status) => {
    expect(isRefusal(attempt(serviceError(name, status), 1))).toBe(true);
    // Without the retry middleware's count, the one attempt there was.
    expect(isRefusal(serviceError(name, status))).toBe(true);
  });

  it('is false when the request may have taken effect: no answer, a 5xx, or an answer to a retry', () => {
    expect(isRefusal(networkError('ECONNRESET'))).toBe(false);
    // The SDK gives a network error that exhausted its retries $metadata without a status.
    expect(isRefusal(Object.assign(networkError('ECONNRESET'), { $metadata: { attempts: 3 } }))).toBe(false);
    expect(isRefusal(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))).toBe(false);
    expect(isRefusal(attempt(serviceError('InternalError', 500), 1))).toBe(false);
    // A Complete retried after its first attempt committed (the answer lost) finds no upload.
    expect(isRefusal(attempt(serviceError('NoSuchUpload', 404), 2))).toBe(false);
    expect(isRefusal('plain string')).toBe(false);
  });
});

describe('sanitizeCause', () => {
  it('keeps name, first message line, status and network code only', () => {
    const cause = sanitizeCause(serviceError('InternalError', 500, 'We encountered an internal error.', { $response: { body: 'x' } }));
    expect(cause).toBeInstanceOf(Error);
    expect({ ...cause, name: cause.name, message: cause.message }).toEqual({
      name: 'InternalError',
      message: 'We encountered an internal error.',
      statusCode: 500,
    });
    expect(sanitizeCause(networkError('ECONNREFUSED'))).toMatchObject({ code: 'ECONNREFUSED' });
    expect(sanitizeCause('plain string').message).toBe('plain string');
  });
});
