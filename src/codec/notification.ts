// NOTIFICATION message (RFC 4271 §4.5): error code(1) | subcode(1) | data.
// For Cease / Administrative Shutdown and Administrative Reset the data may hold a shutdown
// communication (RFC 9003 §2): length(1) | UTF-8 text of up to 255 bytes.

import type { Writer } from "./bytes.js";
import { CeaseSub, ErrCode, notificationName } from "./constants.js";
import { EncodeError } from "./errors.js";

export interface NotificationMessage {
  type: 3;
  code: number;
  subcode: number;
  data: Uint8Array;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8enc = new TextEncoder();

/** Decodes a NOTIFICATION body; any data is accepted as is (a NOTIFICATION is never answered). */
export function decodeNotification(b: Uint8Array, start: number, end: number): NotificationMessage {
  return { type: 3, code: b[start]!, subcode: b[start + 1]!, data: b.slice(start + 2, end) };
}

export function encodeNotificationBody(w: Writer, m: NotificationMessage): void {
  w.u8(m.code);
  w.u8(m.subcode);
  w.bytes(m.data);
}

function carriesCommunication(code: number, subcode: number): boolean {
  return code === ErrCode.CEASE && (subcode === CeaseSub.ADMIN_SHUTDOWN || subcode === CeaseSub.ADMIN_RESET);
}

/**
 * The RFC 9003 shutdown communication, or undefined if absent. A malformed one (length past the
 * data, invalid UTF-8) yields undefined too; RFC 9003 §4 says to log the data as is.
 */
export function shutdownCommunication(m: NotificationMessage): string | undefined {
  if (!carriesCommunication(m.code, m.subcode) || m.data.length === 0) return undefined;
  const len = m.data[0]!;
  if (len === 0 || 1 + len > m.data.length) return undefined;
  try {
    return utf8.decode(m.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

/** A Cease NOTIFICATION with an optional shutdown communication (RFC 9003 §2, at most 255 bytes). */
export function ceaseNotification(subcode: number, communication?: string): NotificationMessage {
  if (communication === undefined || communication === "")
    return { type: 3, code: ErrCode.CEASE, subcode, data: new Uint8Array(0) };
  if (!carriesCommunication(ErrCode.CEASE, subcode))
    throw new EncodeError(
      "ERR_ENCODE_NOTIFICATION",
      "a shutdown communication goes only with Administrative Shutdown or Reset",
    );
  const text = utf8enc.encode(communication);
  if (text.length > 255)
    throw new EncodeError("ERR_ENCODE_NOTIFICATION", `shutdown communication of ${text.length} bytes exceeds 255`);
  const data = new Uint8Array(1 + text.length);
  data[0] = text.length;
  data.set(text, 1);
  return { type: 3, code: ErrCode.CEASE, subcode, data };
}

/** "Cease / Administrative Shutdown: \"maintenance\"" — for logs. */
export function describeNotification(m: NotificationMessage): string {
  const text = shutdownCommunication(m);
  return text === undefined ? notificationName(m.code, m.subcode) : `${notificationName(m.code, m.subcode)}: "${text}"`;
}
