import { clipText, isProblem, notificationHeadline, type Notification, type NotificationEvent } from '@backupctl/plugin-api';

// ntfy turns a message over 4096 bytes into an attachment; a title is one line.
const MESSAGE_MAX_BYTES = 4096;
const TITLE_MAX = 250;

/** The JSON form of a publish (POST to the server's root): ntfy's own fields. */
export interface NtfyMessage {
  topic: string;
  title: string;
  message: string;
  /** 1 (min) to 5 (max); 3 is ntfy's default, 4 "high" (a longer vibration, a pop-over). */
  priority: 3 | 4;
  /** Tags naming an emoji are shown as that emoji before the title; the others below the message. */
  tags: string[];
}

/**
 * One push notification: the headline as title, the user's `message:` or
 * the summary (with the hint, when there is one) as the text; high
 * priority for a problem.
 */
export function ntfyMessage(notification: Notification, topic: string, message?: string): NtfyMessage {
  const hint = notification.error?.hint;
  const text = message ?? (hint ? `${notification.summary}\nHint: ${hint}` : notification.summary);
  return {
    topic,
    title: clipText(notificationHeadline(notification), TITLE_MAX),
    message: clipBytes(text, MESSAGE_MAX_BYTES),
    priority: isProblem(notification.event) ? 4 : 3,
    tags: [emojiOf(notification.event), notification.job],
  };
}

function emojiOf(event: NotificationEvent): string {
  if (isProblem(event)) return 'rotating_light';
  return event === 'success' || event === 'verified' || event === 'recovered' ? 'white_check_mark' : 'information_source';
}

/** `text` cut (with an ellipsis) to at most `max` bytes of UTF-8. */
function clipBytes(text: string, max: number): string {
  let clipped = text;
  for (let excess = Buffer.byteLength(clipped) - max; excess > 0; excess = Buffer.byteLength(clipped) - max) {
    // A character is at most 4 bytes: cut at least a quarter of the excess in characters, plus the ellipsis's 3 bytes.
    clipped = clipText(clipped, clipped.length - Math.ceil(excess / 4) - 1);
  }
  return clipped;
}
