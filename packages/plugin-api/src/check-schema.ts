import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { BackupctlError, ErrorCodes } from './errors.js';
/** Where in the checked value a problem is: property names and array indexes. */
export type ConfigPath = ReadonlyArray<string | number>;

/** A schema violation at a path inside the checked value. */
export interface SchemaProblem {
  path: ConfigPath;
  message: string;
}

// Environment variables are strings: coerceTypes turns "23" into 23 and
// "false" into false where the schema asks for numbers and booleans, and
// useDefaults fills in every option a plugin documents a default for.
// validateSchema is off: checking a schema against JSON Schema's own
// meta-schema compiles that first (a sixth of a start-up's ajv time), so it
// is done where a schema can be wrong, for plugins found on disk
// (`schemaDefectOf`), and for the pipeline's and the built-ins' in the tests.
const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: false, verbose: true, validateSchema: false, code: { optimize: false } });
const compiled = new WeakMap<object, ValidateFunction>();

/** What makes `schema` not a JSON Schema ajv can use, or undefined when it is one. */
export function schemaDefectOf(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null) return 'it is not an object';
  if (ajv.validateSchema(schema) === true) return undefined;
  // The first error is the one that says it ("type must be equal to one of the allowed values"); the rest are anyOf's echoes.
  return ajv.errorsText(ajv.errors?.slice(0, 1), { dataVar: 'schema' });
}

/**
 * Throws PLUGIN_INVALID when the options schema of plugin `use` is not a JSON
 * Schema: once, when the plugin is loaded, rather than inside ajv when its
 * options are checked. `subject` names the plugin as the caller's other messages do.
 */
export function refuseInvalidSchema(schema: unknown, use: string, subject: string): void {
  const defect = schemaDefectOf(schema);
  if (!defect) return;
  throw new BackupctlError(ErrorCodes.PLUGIN_INVALID, `${subject} has an invalid options schema: ${defect}`, {
    plugin: use,
    hint: 'build the schema with Type from @backupctl/plugin-api (TypeBox), or fix it to be a JSON Schema (draft 7)',
  });
}

/** Validates (and fills defaults into, and coerces) value in place; returns every problem. */
export function checkSchema(schema: TSchema, value: unknown): SchemaProblem[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return dedupe((validate.errors ?? []).filter((error) => !isNoise(error)).map(toProblem));
}

function toProblem(error: ErrorObject): SchemaProblem {
  const path: (string | number)[] = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  // Inside propertyNames, the error is about a key: name it in the path.
  const { propertyName } = error as { propertyName?: unknown };
  if (typeof propertyName === 'string') path.push(propertyName);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: customMessage(error) ?? 'is required' };
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], message: `is not a known option${allowed(error)}` };
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      return { path, message: patternMessage(error) };
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/**
 * A raw regex tells users little: a schema says what it wants in
 * `errorMessage` (a custom keyword, e.g. "must be true/false, 1/0 or
 * yes/no"; on the schema holding `required` it replaces "is required");
 * without one the message still names the pattern.
 */
function patternMessage(error: ErrorObject): string {
  return customMessage(error) ?? `must match ${String((error.params as { pattern?: unknown }).pattern)}`;
}

function customMessage(error: ErrorObject): string | undefined {
  const schema = error.parentSchema as { errorMessage?: unknown } | undefined;
  return typeof schema?.errorMessage === 'string' ? schema.errorMessage : undefined;
}

function allowed(error: ErrorObject): string {
  const schema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
  const names = Object.keys(schema?.properties ?? {});
  return names.length ? ` (known: ${names.join(', ')})` : '';
}

// anyOf/oneOf report one error per branch plus a summary; keep the summary.
// propertyNames adds a summary to the error about the name itself; keep the latter.
function isNoise(error: ErrorObject): boolean {
  return error.keyword === 'if' || error.keyword === 'propertyNames' || error.schemaPath.includes('/anyOf/') || error.schemaPath.includes('/oneOf/');
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path.join('\0')}\0${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
