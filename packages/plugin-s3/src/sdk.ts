import { createRequire } from 'node:module';
import type * as S3Sdk from '@aws-sdk/client-s3';

let loaded: typeof S3Sdk | undefined;

/**
 * The AWS SDK's S3 client package, loaded on the first request rather than
 * when a sink is created: ~80 ms of module loading that a backup then spends
 * while pg_dump starts (its connection and catalog queries), instead of
 * before pg_dump is spawned.
 *
 * With require() rather than import(): the package is CommonJS, and
 * importing CommonJS from an ES module makes Node first scan the entry file
 * and every package it re-exports for their export names
 * (cjs-module-lexer): 155 ms against 80 ms with require() on Node 20.
 */
export function s3Sdk(): typeof S3Sdk {
  loaded ??= createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof S3Sdk;
  return loaded;
}
