// The host's check of what the webview sends: a message that is not one of the protocol's requests (./protocol's
// schema) is not handled; the sidebar logs it and, when it carries an id, answers it with an error reply.
// No vscode import: unit-tested on its own.
import { checkJson, shownValue } from '../util/json';
import { errorText } from '../util/errors';
import { WebviewMessageSchema, type WebviewMessage } from './protocol';

export type CheckedMessage =
  | { ok: true; message: WebviewMessage }
  | { ok: false; /** the message's id, when it has a usable one */ id?: number; error: string };

export function checkWebviewMessage(m: unknown): CheckedMessage {
  try {
    return { ok: true, message: checkJson(m, WebviewMessageSchema, 'webview message') };
  } catch (e) {
    const raw = (m as { id?: unknown } | null)?.id;
    const id = typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : undefined;
    return { ok: false, id, error: `${errorText(e)} (message ${shownValue(m)})` };
  }
}
