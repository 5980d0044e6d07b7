// BGP message framing (RFC 4271 §4.1): marker(16, all ones) | length(2) | type(1) | body.
// decodeMessage/encodeMessage convert whole messages; MessageFramer splits a byte stream into
// messages without touching any socket.

import { type CodecContext, DEFAULT_CONTEXT } from "./attributes.js";
import { u16, Writer } from "./bytes.js";
import {
  ErrCode,
  HEADER_LENGTH,
  HeaderSub,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MsgType,
  RouteRefreshSub,
} from "./constants.js";
import { protocolError } from "./decode-errors.js";
import { BgpError, type ErrorAction } from "./errors.js";
import { decodeNotification, encodeNotificationBody, type NotificationMessage } from "./notification.js";
import { decodeOpen, encodeOpenBody, type OpenMessage } from "./open.js";
import { decodeUpdateBody, encodeUpdateBody, type UpdateMessage } from "./update.js";

export interface KeepaliveMessage {
  type: 4;
}

/** ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3): AFI(2) | subtype(1) | SAFI(1) [| ORF entries, RFC 5291]. */
export interface RouteRefreshMessage {
  type: 5;
  afi: number;
  safi: number;
  /** 0 normal request, 1 BoRR, 2 EoRR (RFC 7313 §3); others are ignored on receipt. */
  subtype: number;
  /** Bytes after SAFI (ORF entries of RFC 5291), kept as is. */
  rest?: Uint8Array;
}

export const RouteRefreshSubtype = { REQUEST: 0, BORR: 1, EORR: 2 } as const;

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export const KEEPALIVE: KeepaliveMessage = { type: 4 };

/** Minimum total length per message type, RFC 4271 §4 and RFC 2918 §3. */
const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

function headerError(subcode: number, code: string, message: string, data?: Uint8Array): BgpError {
  return protocolError("session-reset", ErrCode.MESSAGE_HEADER, subcode, code, message, { data });
}

/**
 * Checks the header at b[o..o+19): marker, length, type (RFC 4271 §6.1). Returns the message
 * length or throws BgpError. `maxLength` is 4096, or 65535 with RFC 8654 extended messages (OPEN
 * and KEEPALIVE stay limited to 4096, RFC 8654 §3).
 */
export function checkHeader(b: Uint8Array, o: number, maxLength: number = MAX_MESSAGE_LENGTH): number {
  for (let i = 0; i < 16; i++)
    if (b[o + i] !== 0xff)
      throw headerError(HeaderSub.NOT_SYNCHRONIZED, "ERR_HEADER_MARKER", "marker is not all ones", new Uint8Array(0));
  const length = u16(b, o + 16);
  const type = b[o + 18]!;
  const lenData = b.slice(o + 16, o + 18);
  const min = MIN_LENGTH[type];
  if (min === undefined)
    throw headerError(HeaderSub.BAD_TYPE, "ERR_HEADER_TYPE", `unknown message type ${type}`, Uint8Array.of(type));
  const max = type === MsgType.OPEN || type === MsgType.KEEPALIVE ? MAX_MESSAGE_LENGTH : maxLength;
  if (length < min || length > max || (type === MsgType.KEEPALIVE && length !== HEADER_LENGTH))
    throw headerError(
      HeaderSub.BAD_LENGTH,
      "ERR_HEADER_LENGTH",
      `length ${length} invalid for message type ${type} (${min}..${max})`,
      lenData,
    );
  return length;
}

export type MessageDecode =
  { ok: true; message: BgpMessage; action: ErrorAction | null; errors: BgpError[] } | { ok: false; error: BgpError };

/**
 * Decodes one complete message (header included). Never throws for any input: problems come back
 * as BgpError values, and an UPDATE carries its RFC 7606 approach.
 */
export function decodeMessage(b: Uint8Array, ctx: CodecContext = DEFAULT_CONTEXT): MessageDecode {
  try {
    if (b.length < HEADER_LENGTH)
      throw headerError(
        HeaderSub.BAD_LENGTH,
        "ERR_HEADER_TRUNCATED",
        `message of ${b.length} bytes is shorter than the header`,
        new Uint8Array(0),
      );
    const max = ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
    const length = checkHeader(b, 0, max);
    if (length !== b.length)
      throw headerError(
        HeaderSub.BAD_LENGTH,
        "ERR_HEADER_LENGTH",
        `length field ${length} but ${b.length} bytes given`,
        b.slice(16, 18),
      );
    const type = b[18]!;
    switch (type) {
      case MsgType.OPEN:
        return {
          ok: true,
          message: decodeOpen(b, HEADER_LENGTH, length),
          action: null,
          errors: [],
        };
      case MsgType.UPDATE: {
        const r = decodeUpdateBody(b, HEADER_LENGTH, length, ctx);
        return { ok: true, message: r.update, action: r.action, errors: r.errors };
      }
      case MsgType.NOTIFICATION:
        return {
          ok: true,
          message: decodeNotification(b, HEADER_LENGTH, length),
          action: null,
          errors: [],
        };
      case MsgType.KEEPALIVE:
        return { ok: true, message: KEEPALIVE, action: null, errors: [] };
      default: {
        const afi = u16(b, 19);
        const subtype = b[21]!;
        // RFC 7313 §5: BoRR/EoRR must be exactly 4 bytes of body.
        if ((subtype === 1 || subtype === 2) && length !== 23)
          throw protocolError(
            "session-reset",
            ErrCode.ROUTE_REFRESH,
            RouteRefreshSub.INVALID_LENGTH,
            "ERR_ROUTE_REFRESH_LENGTH",
            `ROUTE-REFRESH subtype ${subtype} of length ${length}, expected 23`,
            { data: b.slice() },
          );
        const m: RouteRefreshMessage = { type: 5, afi, safi: b[22]!, subtype };
        if (length > 23) m.rest = b.slice(23, length);
        return { ok: true, message: m, action: null, errors: [] };
      }
    }
  } catch (e) {
    if (e instanceof BgpError) return { ok: false, error: e };
    // A decoder bug must not take the daemon down: report it as an unspecific session error.
    return {
      ok: false,
      error: headerError(0, "ERR_DECODER_INTERNAL", `internal decoder error: ${String(e)}`),
    };
  }
}

/** Encodes a message with its header into `w` (appending). */
export function writeMessage(w: Writer, m: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): void {
  const start = w.pos;
  w.ensure(HEADER_LENGTH);
  w.buf.fill(0xff, start, start + 16);
  w.pos += 16;
  w.u16(0);
  w.u8(m.type);
  switch (m.type) {
    case 1:
      encodeOpenBody(w, m);
      break;
    case 2:
      encodeUpdateBody(w, m, ctx);
      break;
    case 3:
      encodeNotificationBody(w, m);
      break;
    case 4:
      break;
    case 5:
      w.u16(m.afi);
      w.u8(m.subtype);
      w.u8(m.safi);
      if (m.rest) w.bytes(m.rest);
      break;
  }
  const length = w.pos - start;
  w.setU16(start + 16, length);
}

/** Encodes one message. The caller checks the size against the negotiated maximum (messageFits). */
export function encodeMessage(m: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): Uint8Array {
  const w = new Writer(m.type === 2 ? 4096 : 128);
  writeMessage(w, m, ctx);
  return w.finish();
}

/** Whether an encoded message respects the negotiated maximum size (RFC 4271 §4.1, RFC 8654). */
export function messageFits(encoded: Uint8Array, ctx: CodecContext): boolean {
  const type = encoded[18];
  const max =
    ctx.extendedMessage && type !== MsgType.OPEN && type !== MsgType.KEEPALIVE
      ? MAX_EXTENDED_MESSAGE_LENGTH
      : MAX_MESSAGE_LENGTH;
  return encoded.length <= max;
}

/**
 * Splits a TCP byte stream into whole messages. push() the received chunks, then call next()
 * until it returns null. A header error is returned once; the stream is then unusable (the
 * session must close, RFC 4271 §6.1).
 */
export class MessageFramer {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed: BgpError | null = null;
  maxLength: number;

  constructor(maxLength: number = MAX_MESSAGE_LENGTH) {
    this.maxLength = maxLength;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The next whole message, a header error, or null when more bytes are needed. */
  next(): { ok: true; frame: Uint8Array } | { ok: false; error: BgpError } | null {
    if (this.failed) return null;
    if (this.buffered < HEADER_LENGTH) return null;
    const head = this.peek(HEADER_LENGTH);
    let length: number;
    try {
      length = checkHeader(head, 0, this.maxLength);
    } catch (e) {
      this.failed = e as BgpError;
      return { ok: false, error: this.failed };
    }
    if (this.buffered < length) return null;
    return { ok: true, frame: this.take(length) };
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (o === n) break;
    }
    return out;
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    this.buffered -= n;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
