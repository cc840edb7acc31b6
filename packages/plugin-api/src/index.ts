/**
 * @backupctl/plugin-api: the contract every backupctl plugin is written
 * against (definePlugin, the four kinds, the store, the context, errors),
 * and how backupctl checks a plugin's options and masks its secrets. It
 * depends on nothing but the schema libraries (TypeBox to write a schema,
 * Ajv to check options against it), so a plugin pulls in nothing heavier.
 * The test kit is `@backupctl/plugin-api/testing`.
 */
export * from './context.js';
export * from './errors.js';
// A database engine's connection retries: doubling waits, one line per failure.
export * from './connect-with-retry.js';
// The parts of a whole-server source, alike for every engine.
export * from './server-parts.js';
export * from './plugin.js';
export * from './store.js';
export * from './notification.js';
export { defineNotifier, eventFor, notifierProperties, type CommonNotifierOptions, type Delivery, type NotifierDefinition, type NotifierOptions } from './notifier.js';
export { notificationFacts, notificationHeadline, type NotificationFact } from './notification-facts.js';
export { clipText, fitTexts } from './clip-text.js';
export { formatDuration, MESSAGE_TEMPLATE_PATTERN, renderTemplate, TEMPLATE_FIELDS, templateValues, type TemplateField } from './message-template.js';
export { HttpError, sendHttp, type HttpAnswer, type HttpRequest, type SendOptions } from './send-http.js';
export { formatSize } from './format-size.js';
export { formatTimestamp } from './format-timestamp.js';
export { shellWord } from './shell-word.js';
export { PART_SIZE_SAFETY_FACTOR, planUploadParts, type PartLimits, type PartPlan, type PartPlanInput } from './part-plan.js';
export { abortedError, callPlugin, FAILURE_CODE, wrapError, type ErrorOrigin } from './wrap-error.js';
export { Secrets } from './secrets.js';
export { checkSchema, refuseInvalidSchema, schemaDefectOf, type ConfigPath, type SchemaProblem } from './check-schema.js';
export { formatOptionsReference, type OptionsReferenceSection } from './options-reference.js';
// One TypeBox for backupctl and every plugin, so schemas built by a plugin
// are the same kind of object backupctl validates.
export { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
