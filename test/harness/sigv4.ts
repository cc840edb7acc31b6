import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// s3rver checks that the access key id exists but never checks a Signature
// Version 4 signature, so any secret would do. Tests of "wrong secret key"
// need a server that says no, as S3 does: this recomputes the signature of
// each request signed in its Authorization header (what the SDK sends) with
// the known secret. Presigned URLs (query-string auth) are not checked.

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** The parts of an HTTP request a SigV4 signature covers. */
export interface SignedRequest {
  method?: string;
  /** Path and query exactly as sent (`IncomingMessage.url`). */
  url?: string;
  headers: IncomingHttpHeaders;
}

/** Why a request was refused; `undefined` from {@link checkSignatureV4} means it may pass. */
export interface SignatureProblem {
  code: 'SignatureDoesNotMatch' | 'AuthorizationHeaderMalformed';
  message: string;
}

interface SignatureParts {
  accessKeyId: string;
  /** date/region/service/aws4_request */
  scope: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
}

/**
 * Checks a request's SigV4 signature against `secretFor(accessKeyId)`.
 * Requests without SigV4 (anonymous, V2) and unknown key ids pass untouched:
 * the server behind answers those itself.
 */
export function checkSignatureV4(
  request: SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
): SignatureProblem | undefined {
  const parts = signatureFromHeader(request.headers);
  if (parts === undefined) return undefined;
  if ('code' in parts) return parts;
  const secret = secretFor(parts.accessKeyId);
  if (secret === undefined) return undefined;

  const url = request.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = parseQuery(queryStart === -1 ? '' : url.slice(queryStart + 1));

  const canonicalRequest = [
    (request.method ?? 'GET').toUpperCase(),
    path,
    canonicalQuery(query),
    ...parts.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}`),
    '',
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
  const stringToSign = [ALGORITHM, parts.amzDate, parts.scope, sha256Hex(canonicalRequest)].join('\n');
  const [date = '', region = '', service = ''] = parts.scope.split('/');
  let key: Buffer = hmac(`AWS4${secret}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  if (hmac(key, stringToSign).toString('hex') === parts.signature) return undefined;
  return {
    code: 'SignatureDoesNotMatch',
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  };
}

function signatureFromHeader(headers: IncomingHttpHeaders): SignatureParts | SignatureProblem | undefined {
  const authorization = headers.authorization;
  if (!authorization?.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const field of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const [name, ...value] = field.trim().split('=');
    if (name) fields.set(name, value.join('='));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const amzDate = headerValue(headers['x-amz-date']);
  if (!credential || !signedHeaders || !signature || !amzDate) {
    return { code: 'AuthorizationHeaderMalformed', message: 'The authorization header is malformed.' };
  }
  return {
    ...splitCredential(credential),
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate,
    payloadHash: headerValue(headers['x-amz-content-sha256']) ?? 'UNSIGNED-PAYLOAD',
  };
}

/** `AKID/20260201/us-east-1/s3/aws4_request` -> key id and scope. */
function splitCredential(credential: string): Pick<SignatureParts, 'accessKeyId' | 'scope'> {
  const slash = credential.indexOf('/');
  return { accessKeyId: credential.slice(0, slash), scope: credential.slice(slash + 1) };
}

/** Decoded query parameters, repeated names kept. */
function parseQuery(raw: string): Map<string, string[]> {
  const query = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const equals = pair.indexOf('=');
    const name = safeDecode(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : safeDecode(pair.slice(equals + 1));
    query.set(name, [...(query.get(name) ?? []), value]);
  }
  return query;
}

/** A malformed escape stays as sent; the signature then simply will not match. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Names and values URI-encoded the SigV4 way, sorted by name, then value. */
function canonicalQuery(query: Map<string, string[]>): string {
  return [...query]
    .flatMap(([name, values]) => values.map((value) => [escapeUri(name), escapeUri(value)] as const))
    .sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** RFC 3986 encoding: encodeURIComponent leaves !'()* alone; SigV4 does not. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').trim();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
