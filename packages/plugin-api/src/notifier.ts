import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { BackupctlError, ErrorCodes } from './errors.js';
import { MESSAGE_TEMPLATE_PATTERN, TEMPLATE_FIELDS, renderTemplate } from './message-template.js';
import { NOTIFICATION_EVENTS, type Notification, type NotificationEvent } from './notification.js';
import { API_VERSION, type OptionsSchema, type PluginDefinition } from './plugin.js';
import { sendHttp, type HttpAnswer, type HttpRequest } from './send-http.js';
import type { PluginContext } from './context.js';

/** The options every notifier takes beside its channel's own. */
export function notifierProperties(defaultOn: readonly NotificationEvent[], aliases: Record<string, readonly NotificationEvent[]> = {}) {
  const names = [...NOTIFICATION_EVENTS, ...Object.keys(aliases)];
  return {
    on: Type.Array(Type.Union(names.map((event) => Type.Literal(event))), {
      minItems: 1,
      uniqueItems: true,
      default: [...defaultOn],
      description:
        `The events to send: ${NOTIFICATION_EVENTS.join(', ')} (see docs/notifications.md)` +
        Object.entries(aliases).map(([alias, events]) => `; ${alias} stands for ${events.join(' and ')}`).join('') +
        '. `notify-test` always sends.',
    }),
    message: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: MESSAGE_TEMPLATE_PATTERN,
        errorMessage: `may only use the fields ${TEMPLATE_FIELDS.map((field) => `{${field}}`).join(', ')}`,
        description: `Replaces the default text: ${TEMPLATE_FIELDS.map((field) => `{${field}}`).join(', ')} are filled in; a field the event lacks is empty.`,
      }),
    ),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'Time allowed for each attempt.' }),
    retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 2,
      description: 'Attempts after the first when sending fails for a reason that may pass: a network error, a timeout, a rate limit, a server error.',
    }),
  };
}

/** The common options as a notifier receives them, defaults filled in. */
export interface CommonNotifierOptions {
  on: NotificationEvent[];
  message?: string;
  timeoutSeconds: number;
  retries: number;
}

export type NotifierOptions<P extends TProperties> = Static<TObject<P>> & CommonNotifierOptions;

/** What a notifier's `send` is given for one notification. */
export interface Delivery<Options> {
  options: Options;
  /** The event as this notifier sends it (a run failed by its verification is `verify-failed` to a notifier listening for it). */
  event: NotificationEvent;
  /** The user's `message:` filled in, masked; absent: the channel's default text. */
  message?: string;
  /** Masks every secret the pipeline knows (use it on any text that leaves the process). */
  redact(text: string): string;
  /** sendHttp with this notifier's timeout and retries, stopped with the caller's signal. */
  http(url: string, request: HttpRequest): Promise<HttpAnswer>;
  signal: AbortSignal;
}

export interface NotifierDefinition<P extends TProperties> {
  name: string;
  description: string;
  /** The channel's own options (a URL, a token, a recipient); `on`, `message`, `timeoutSeconds` and `retries` are added. */
  options: P;
  /** Events sent when `on:` is not given. */
  defaultOn: readonly NotificationEvent[];
  /** Older names `on:` still accepts, each standing for events (the webhook's `error` and `success`). */
  aliases?: Record<string, readonly NotificationEvent[]>;
  /** Values to mask everywhere (tokens, passwords, webhook URLs, which are credentials). */
  secrets(options: NotifierOptions<P>): (string | undefined)[];
  /** False turns the notifier off (e.g. an empty URL from an unset variable). Default: on. */
  enabled?(options: NotifierOptions<P>): boolean;
  /** A problem with options the schema cannot see, as one line: checked when the pipeline loads (exit 2) and again at create. */
  check?(options: NotifierOptions<P>): string | undefined;
  /** Where it sends, for log lines: never a credential (an origin, a host). */
  target(options: NotifierOptions<P>): string;
  /** Sends one notification; rejects (without any secret in the message) when it could not. */
  send(notification: Notification, delivery: Delivery<NotifierOptions<P>>): Promise<void>;
}

/**
 * Declares a notifier: a hook plugin whose `notify` filters the events by
 * `on:`, fills the `message:` template, and hands the rest to `send`. The
 * caller (backupctl) bounds the time it waits and turns a rejection into a
 * warning, so a notifier never changes a backup's result.
 */
export function defineNotifier<P extends TProperties>(definition: NotifierDefinition<P>): PluginDefinition<'hook', NotifierOptions<P>> {
  // Built without definePlugin: TypeBox cannot infer through a generic merge of properties.
  const schema = Type.Object({ ...definition.options, ...notifierProperties(definition.defaultOn, definition.aliases) }, { additionalProperties: false }) as unknown as OptionsSchema;
  return {
    apiVersion: API_VERSION,
    name: definition.name,
    kind: 'hook',
    description: definition.description,
    schema,
    checkOptions: (options: NotifierOptions<P>) => (definition.enabled && !definition.enabled(options) ? undefined : definition.check?.(options)),
    create(options: NotifierOptions<P>, context: PluginContext) {
      if (definition.enabled && !definition.enabled(options)) return {};
      for (const secret of definition.secrets(options)) context.secrets.add(secret);
      const problem = definition.check?.(options);
      if (problem) throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `${context.use}: ${problem}`, { plugin: context.use, job: context.job });
      const redact = (text: string) => context.secrets.redact?.(text) ?? text;
      const on = options.on.flatMap((event) => definition.aliases?.[event] ?? [event]);
      return {
        target: definition.target(options),
        async notify(notification: Notification, signal: AbortSignal): Promise<boolean> {
          const event = eventFor(notification, on);
          if (!event) return false;
          const sent = { ...notification, event };
          await definition.send(sent, {
            options,
            event,
            message: options.message ? redact(renderTemplate(options.message, sent)) : undefined,
            redact,
            http: (url, request) => sendHttp(url, request, { timeoutMs: options.timeoutSeconds * 1000, retries: options.retries, signal }),
            signal,
          });
          return true;
        },
      };
    },
  };
}

/** The event this notifier sends for `notification`, or undefined when `on:` leaves it out. */
export function eventFor(notification: Notification, on: readonly NotificationEvent[]): NotificationEvent | undefined {
  const { event } = notification;
  if (event === 'test') return event;
  // A run failed by its verification is one problem: told once, as what it is, to whoever listens for that.
  if (event === 'failure' && notification.error?.code === ErrorCodes.VERIFY_FAILED && on.includes('verify-failed')) return 'verify-failed';
  return on.includes(event) ? event : undefined;
}
