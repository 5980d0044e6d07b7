// OPEN message (RFC 4271 §4.2) and capabilities (RFC 5492).
//
//   version(1) | my AS(2) | hold time(2) | BGP identifier(4) | opt param len(1) | opt params
//   optional parameter: type(1) | length(1) | value; type 2 = capabilities (RFC 5492 §4)
//   RFC 9072 extended form: opt param len = 255, then type 255 (marker), length(2), and
//   each parameter as type(1) | length(2) | value.
//   capability: code(1) | length(1) | value

import { formatIpv4, parseIpv4Into } from "../net/addr.js";
import { u16, u32, type Writer } from "./bytes.js";
import { AS_TRANS, CapCode, ErrCode, OpenSub } from "./constants.js";
import { protocolError } from "./decode-errors.js";
import { type BgpError, EncodeError } from "./errors.js";

export interface AfiSafi {
  afi: number;
  safi: number;
}

export interface GracefulRestartFamily extends AfiSafi {
  /** Flags octet per family; 0x80 = forwarding state preserved (RFC 4724 §3). */
  flags: number;
}

export type Capability =
  | { code: 1; afi: number; safi: number; reserved?: number } // RFC 4760 §8
  | { code: 2 } // RFC 2918
  | { code: 6 } // RFC 8654
  | {
      code: 64; // RFC 4724 §3
      /** High 4 bits of the first octet: 0x8 = Restart State (R), 0x4 = Notification (N, RFC 8538). */
      restartFlags: number;
      /** 12-bit restart time in seconds. */
      restartTime: number;
      families: GracefulRestartFamily[];
    }
  | { code: 65; asn: number } // RFC 6793
  | { code: 70 } // RFC 7313
  | { code: "unknown"; type: number; value: Uint8Array };

export const GR_RESTART_STATE = 0x8;
export const GR_NOTIFICATION = 0x4;
export const GR_FORWARDING_PRESERVED = 0x80;

export type OptionalParameter =
  { type: 2; capabilities: Capability[] } | { type: "unknown"; code: number; value: Uint8Array };

export interface OpenMessage {
  type: 1;
  version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  bgpId: string;
  params: OptionalParameter[];
  /** RFC 9072 extended optional parameters encoding. */
  extendedParams?: boolean;
}

/** An OPEN Message Error (RFC 4271 §6.2): always a session reset. */
export function openError(subcode: number, code: string, message: string, data?: Uint8Array): BgpError {
  return protocolError("session-reset", ErrCode.OPEN_MESSAGE, subcode, code, message, { data });
}

function decodeCapabilities(b: Uint8Array, start: number, end: number): Capability[] {
  const caps: Capability[] = [];
  let p = start;
  while (p < end) {
    if (end - p < 2)
      throw openError(
        OpenSub.UNSPECIFIC,
        "ERR_OPEN_CAPABILITY_TRUNCATED",
        `capability header truncated: ${end - p} byte(s) left`,
      );
    const code = b[p]!;
    const len = b[p + 1]!;
    const v = p + 2;
    if (v + len > end)
      throw openError(
        OpenSub.UNSPECIFIC,
        "ERR_OPEN_CAPABILITY_OVERRUN",
        `capability ${code} length ${len} overruns its parameter`,
      );
    p = v + len;
    const bad = (expected: string) =>
      openError(
        OpenSub.UNSPECIFIC,
        "ERR_OPEN_CAPABILITY_LENGTH",
        `capability ${code} length ${len}, expected ${expected}`,
        b.slice(v - 2, v + len),
      );
    switch (code) {
      case CapCode.MULTIPROTOCOL:
        if (len !== 4) throw bad("4");
        caps.push({ code: 1, afi: u16(b, v), safi: b[v + 3]!, reserved: b[v + 2]! });
        break;
      case CapCode.ROUTE_REFRESH:
      case CapCode.EXTENDED_MESSAGE:
      case CapCode.ENHANCED_ROUTE_REFRESH:
        if (len !== 0) throw bad("0");
        caps.push({ code });
        break;
      case CapCode.GRACEFUL_RESTART: {
        if (len < 2 || (len - 2) % 4 !== 0) throw bad("2 + 4 per address family");
        const families: GracefulRestartFamily[] = [];
        for (let q = v + 2; q < v + len; q += 4) families.push({ afi: u16(b, q), safi: b[q + 2]!, flags: b[q + 3]! });
        caps.push({
          code: 64,
          restartFlags: b[v]! >>> 4,
          restartTime: u16(b, v) & 0x0fff,
          families,
        });
        break;
      }
      case CapCode.FOUR_OCTET_AS:
        if (len !== 4) throw bad("4");
        caps.push({ code: 65, asn: u32(b, v) });
        break;
      default:
        caps.push({ code: "unknown", type: code, value: b.slice(v, v + len) });
    }
  }
  return caps;
}

/** Decodes an OPEN body b[start, end). Throws BgpError (always a session reset, RFC 4271 §6.2). */
export function decodeOpen(b: Uint8Array, start: number, end: number): OpenMessage {
  if (end - start < 10)
    throw openError(OpenSub.UNSPECIFIC, "ERR_OPEN_TRUNCATED", `OPEN body of ${end - start} bytes, need at least 10`);
  const version = b[start]!;
  if (version !== 4)
    // RFC 4271 §6.2: the data is the largest locally supported version.
    throw openError(
      OpenSub.UNSUPPORTED_VERSION,
      "ERR_OPEN_VERSION",
      `unsupported BGP version ${version}`,
      Uint8Array.of(0, 4),
    );
  const myAs = u16(b, start + 1);
  const holdTime = u16(b, start + 3);
  if (holdTime === 1 || holdTime === 2)
    throw openError(
      OpenSub.UNACCEPTABLE_HOLD_TIME,
      "ERR_OPEN_HOLD_TIME",
      `hold time ${holdTime} s (must be 0 or at least 3)`,
    );
  const idNum = u32(b, start + 5);
  if (idNum === 0) throw openError(OpenSub.BAD_BGP_IDENTIFIER, "ERR_OPEN_BGP_ID", "BGP identifier 0.0.0.0"); // RFC 6286 §2.2
  const bgpId = formatIpv4(b, start + 5);
  let optLen = b[start + 9]!;
  let p = start + 10;
  let extended = false;
  // RFC 9072 §2: length 255 and a first parameter type of 255 announce the extended encoding.
  if (optLen === 255 && end - p >= 3 && b[p] === 255) {
    extended = true;
    optLen = u16(b, p + 1);
    p += 3;
  }
  if (p + optLen !== end)
    throw openError(
      OpenSub.UNSPECIFIC,
      "ERR_OPEN_PARAM_LENGTH",
      `optional parameters length ${optLen} does not match the ${end - p} byte(s) present`,
    );
  const params: OptionalParameter[] = [];
  const hdr = extended ? 3 : 2;
  while (p < end) {
    if (end - p < hdr)
      throw openError(OpenSub.UNSPECIFIC, "ERR_OPEN_PARAM_TRUNCATED", "optional parameter header truncated");
    const type = b[p]!;
    const len = extended ? u16(b, p + 1) : b[p + 1]!;
    const v = p + hdr;
    if (v + len > end)
      throw openError(
        OpenSub.UNSPECIFIC,
        "ERR_OPEN_PARAM_OVERRUN",
        `optional parameter ${type} length ${len} overruns the message`,
      );
    if (type === 2) params.push({ type: 2, capabilities: decodeCapabilities(b, v, v + len) });
    // RFC 4271 §6.2 / RFC 5492: only the capabilities parameter is defined.
    else
      throw openError(
        OpenSub.UNSUPPORTED_OPTIONAL_PARAMETER,
        "ERR_OPEN_PARAM_UNSUPPORTED",
        `unsupported optional parameter type ${type}`,
      );
    p = v + len;
  }
  const open: OpenMessage = { type: 1, version, myAs, holdTime, bgpId, params };
  if (extended) open.extendedParams = true;
  return open;
}

function encodeCapability(w: Writer, c: Capability): void {
  if (c.code === "unknown") {
    w.u8(c.type);
    w.u8(c.value.length);
    w.bytes(c.value);
    return;
  }
  w.u8(c.code);
  switch (c.code) {
    case 1:
      w.u8(4);
      w.u16(c.afi);
      w.u8(c.reserved ?? 0);
      w.u8(c.safi);
      return;
    case 2:
    case 6:
    case 70:
      w.u8(0);
      return;
    case 64:
      w.u8(2 + 4 * c.families.length);
      w.u16(((c.restartFlags & 0xf) << 12) | (c.restartTime & 0x0fff));
      for (const f of c.families) {
        w.u16(f.afi);
        w.u8(f.safi);
        w.u8(f.flags);
      }
      return;
    case 65:
      w.u8(4);
      w.u32(c.asn);
      return;
  }
}

export function encodeOpenBody(w: Writer, m: OpenMessage): void {
  w.u8(m.version);
  w.u16(m.myAs);
  w.u16(m.holdTime);
  w.ensure(4);
  if (!parseIpv4Into(m.bgpId, w.buf, w.pos))
    throw new EncodeError("ERR_ENCODE_OPEN", `invalid BGP identifier "${m.bgpId}"`);
  w.pos += 4;
  const ext = m.extendedParams === true;
  const lenAt = w.pos;
  if (ext) {
    w.u8(255);
    w.u8(255);
    w.u16(0);
  } else w.u8(0);
  const start = w.pos;
  for (const prm of m.params) {
    const type = prm.type === "unknown" ? prm.code : 2;
    w.u8(type);
    const plenAt = w.pos;
    if (ext) w.u16(0);
    else w.u8(0);
    const v = w.pos;
    if (prm.type === "unknown") w.bytes(prm.value);
    else for (const c of prm.capabilities) encodeCapability(w, c);
    setParamLength(w, plenAt, w.pos - v, ext, "optional parameter");
  }
  setParamLength(w, ext ? lenAt + 2 : lenAt, w.pos - start, ext, "optional parameters field");
}

/** Fills a length field written as 0: 2 bytes with the RFC 9072 extended encoding, else 1 byte (RFC 4271 §4.2). */
function setParamLength(w: Writer, at: number, len: number, ext: boolean, what: string): void {
  if (ext) w.setU16(at, len);
  else if (len <= 255) w.setU8(at, len);
  else throw new EncodeError("ERR_ENCODE_OPEN", `${what} of ${len} bytes needs the RFC 9072 extended encoding`);
}

/** All capabilities of an OPEN, in order, across its optional parameters. */
export function capabilitiesOf(open: OpenMessage): Capability[] {
  const out: Capability[] = [];
  for (const p of open.params) if (p.type === 2) out.push(...p.capabilities);
  return out;
}

/** The speaker's AS: the 4-octet AS capability when present (RFC 6793 §4.1), else My AS. */
export function peerAsOf(open: OpenMessage): number {
  for (const c of capabilitiesOf(open)) if (c.code === 65) return c.asn;
  return open.myAs;
}

/** Builds an OPEN with all capabilities in one optional parameter, as FRR and GoBGP do. */
export function makeOpen(f: { asn: number; holdTime: number; bgpId: string; capabilities: Capability[] }): OpenMessage {
  return {
    type: 1,
    version: 4,
    myAs: f.asn > 0xffff ? AS_TRANS : f.asn,
    holdTime: f.holdTime,
    bgpId: f.bgpId,
    params: [{ type: 2, capabilities: f.capabilities }],
  };
}
