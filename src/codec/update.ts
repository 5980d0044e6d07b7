// UPDATE message (RFC 4271 §4.3) with RFC 7606 error handling.
//
//   withdrawn routes length(2) | withdrawn routes | total path attribute length(2) |
//   path attributes | NLRI (IPv4 unicast prefixes to the end of the message)

import {
  type CodecContext,
  decodeAttributes,
  encodeAttributes,
  findAttr,
  type MpNlri,
  type PathAttribute,
} from "./attributes.js";
import { u16, type Writer } from "./bytes.js";
import { Afi, AttrType, Safi, UpdateSub } from "./constants.js";
import { updateError } from "./decode-errors.js";
import { BgpError, EncodeError, type ErrorAction, strongerAction } from "./errors.js";
import { decodePrefixes, encodePrefix } from "./prefix.js";

export interface UpdateMessage {
  type: 2;
  /** IPv4 unicast prefixes withdrawn in the classic field. */
  withdrawn: string[];
  attributes: PathAttribute[];
  /** IPv4 unicast prefixes announced in the classic NLRI field. */
  nlri: string[];
}

export interface UpdateDecode {
  update: UpdateMessage;
  /** The RFC 7606 approach the receiver must take: the strongest of `errors`, or null. */
  action: ErrorAction | null;
  errors: BgpError[];
}

function sessionReset(code: string, subcode: number, message: string): BgpError {
  return updateError("session-reset", subcode, code, message);
}

/**
 * Decodes an UPDATE body b[start, end). Returns the UPDATE and the approach to apply; throws
 * BgpError only for a session reset (the caller sends its NOTIFICATION).
 */
export function decodeUpdateBody(b: Uint8Array, start: number, end: number, ctx: CodecContext): UpdateDecode {
  if (end - start < 4)
    throw sessionReset(
      "ERR_UPDATE_TRUNCATED",
      UpdateSub.MALFORMED_ATTRIBUTE_LIST,
      `UPDATE body of ${end - start} bytes, need at least 4`,
    );
  const wLen = u16(b, start);
  const wStart = start + 2;
  // RFC 4271 §6.3: withdrawn/attribute lengths inconsistent with the message: Malformed Attribute List.
  if (wStart + wLen + 2 > end)
    throw sessionReset(
      "ERR_UPDATE_WITHDRAWN_LENGTH",
      UpdateSub.MALFORMED_ATTRIBUTE_LIST,
      `withdrawn routes length ${wLen} overruns the message`,
    );
  const aLen = u16(b, wStart + wLen);
  const aStart = wStart + wLen + 2;
  const aEnd = aStart + aLen;
  if (aEnd > end)
    throw sessionReset(
      "ERR_UPDATE_ATTR_LENGTH",
      UpdateSub.MALFORMED_ATTRIBUTE_LIST,
      `total path attribute length ${aLen} overruns the message by ${aEnd - end} byte(s)`,
    );

  const withdrawn: string[] = [];
  const nlri: string[] = [];
  // RFC 7606 §5.3: a withdrawn routes or NLRI field that cannot be parsed means session reset.
  let err = decodePrefixes(b, wStart, wStart + wLen, 4, withdrawn);
  if (err !== null)
    throw sessionReset("ERR_UPDATE_WITHDRAWN", UpdateSub.INVALID_NETWORK_FIELD, `withdrawn routes: ${err}`);
  err = decodePrefixes(b, aEnd, end, 4, nlri);
  if (err !== null) throw sessionReset("ERR_UPDATE_NLRI", UpdateSub.INVALID_NETWORK_FIELD, `NLRI: ${err}`);

  const { attributes, errors } = decodeAttributes(b, aStart, aEnd, ctx);
  let action: ErrorAction | null = null;
  for (const e of errors) action = strongerAction(action, e.action);
  if (action === "session-reset") throw errors.find((e) => e.action === "session-reset")!;

  // RFC 7606 §3d / RFC 4271 §6.3: missing well-known mandatory attributes, only when the UPDATE
  // carries reachability. NEXT_HOP is needed only for the classic NLRI field (RFC 4760 §3).
  const reach = findAttr(attributes, "mp-reach");
  const hasReach = nlri.length > 0 || (reach !== undefined && mpCount(reach.nlri) > 0);
  if (hasReach && (action === null || action === "attribute-discard")) {
    const missing: number[] = [];
    if (!findAttr(attributes, "origin")) missing.push(AttrType.ORIGIN);
    if (!findAttr(attributes, "as-path")) missing.push(AttrType.AS_PATH);
    if (nlri.length > 0 && !findAttr(attributes, "next-hop")) missing.push(AttrType.NEXT_HOP);
    for (const type of missing) {
      errors.push(
        updateError(
          "treat-as-withdraw",
          UpdateSub.MISSING_WELL_KNOWN,
          "ERR_ATTR_MISSING_WELL_KNOWN",
          `missing well-known attribute ${type}`,
          { data: Uint8Array.of(type), attrType: type },
        ),
      );
      action = strongerAction(action, "treat-as-withdraw");
    }
  }
  return { update: { type: 2, withdrawn, attributes, nlri }, action, errors };
}

function mpCount(n: MpNlri): number {
  return n.family === "evpn"
    ? n.routes.length + (n.ignored ?? 0)
    : n.family === "raw"
      ? n.data.length
      : n.prefixes.length;
}

export function encodeUpdateBody(w: Writer, m: UpdateMessage, ctx: CodecContext): void {
  const wAt = w.pos;
  w.u16(0);
  for (const p of m.withdrawn) encodePrefix(w, p, 4);
  w.setU16(wAt, w.pos - wAt - 2);
  const aAt = w.pos;
  w.u16(0);
  encodeAttributes(w, m.attributes, ctx);
  const aLen = w.pos - aAt - 2;
  if (aLen > 0xffff) throw new EncodeError("ERR_ENCODE_UPDATE", `path attributes of ${aLen} bytes exceed 65535`);
  w.setU16(aAt, aLen);
  for (const p of m.nlri) encodePrefix(w, p, 4);
}

/** RFC 4724 §2 End-of-RIB marker: an UPDATE with an empty MP_UNREACH_NLRI (IPv4 unicast: an empty UPDATE). */
export function endOfRib(afi: number, safi: number): UpdateMessage {
  if (afi === Afi.IPV4 && safi === Safi.UNICAST) return { type: 2, withdrawn: [], attributes: [], nlri: [] };
  const nlri: MpNlri =
    afi === Afi.L2VPN && safi === Safi.EVPN
      ? { family: "evpn", routes: [] }
      : { family: "raw", data: new Uint8Array(0) };
  return {
    type: 2,
    withdrawn: [],
    attributes: [{ kind: "mp-unreach", afi, safi, nlri }],
    nlri: [],
  };
}

/** The AFI/SAFI whose End-of-RIB this UPDATE is, or null (RFC 4724 §2). */
export function endOfRibFamily(u: UpdateMessage): { afi: number; safi: number } | null {
  if (u.withdrawn.length > 0 || u.nlri.length > 0) return null;
  if (u.attributes.length === 0) return { afi: Afi.IPV4, safi: Safi.UNICAST };
  if (u.attributes.length !== 1) return null;
  const a = u.attributes[0]!;
  if (a.kind !== "mp-unreach" || mpCount(a.nlri) !== 0) return null;
  return { afi: a.afi, safi: a.safi };
}
