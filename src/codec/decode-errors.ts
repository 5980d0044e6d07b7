// The BgpErrors the decoders raise, and the RFC 7606 approach for a malformed path attribute.
// Internal to the codec: index.ts does not re-export this module.

import { attrName } from "./attr-model.js";
import { AttrType, ErrCode, UpdateSub } from "./constants.js";
import { BgpError, type BgpErrorInit, type ErrorAction } from "./errors.js";

type ErrorExtra = Pick<BgpErrorInit, "data" | "attrType" | "afi" | "safi">;

/** An error whose NOTIFICATION is notifyCode/notifySubcode. */
export function protocolError(
  action: ErrorAction,
  notifyCode: number,
  notifySubcode: number,
  code: string,
  message: string,
  extra?: ErrorExtra,
): BgpError {
  return new BgpError({ code, message, action, notifyCode, notifySubcode, ...extra });
}

/** An UPDATE Message Error (RFC 4271 §6.3). */
export function updateError(
  action: ErrorAction,
  subcode: number,
  code: string,
  message: string,
  extra?: ErrorExtra,
): BgpError {
  return protocolError(action, ErrCode.UPDATE_MESSAGE, subcode, code, message, extra);
}

/**
 * The RFC 7606 approach for a malformed instance of each attribute: §7.1–§7.14, RFC 6793 §6 for
 * AS4_*, RFC 8092 §6 for LARGE_COMMUNITIES. PMSI_TUNNEL (RFC 6514 is silent) follows the
 * treat-as-withdraw default of RFC 7606 §3, as FRR does.
 */
const MALFORMED_ACTION: Record<number, ErrorAction> = {
  [AttrType.ATOMIC_AGGREGATE]: "attribute-discard",
  [AttrType.AGGREGATOR]: "attribute-discard",
  [AttrType.AS4_PATH]: "attribute-discard",
  [AttrType.AS4_AGGREGATOR]: "attribute-discard",
};

export function malformedAction(type: number): ErrorAction {
  return MALFORMED_ACTION[type] ?? "treat-as-withdraw";
}

/** One received attribute. */
export interface AttrSpan {
  b: Uint8Array;
  /** Offset of the flags octet. */
  start: number;
  /** Value span. */
  v: number;
  end: number;
  flags: number;
  type: number;
}

/** An error in one attribute; its NOTIFICATION data is the attribute as sent (flags, type, length, value). */
export function attrError(
  s: AttrSpan,
  code: string,
  subcode: number,
  message: string,
  action = malformedAction(s.type),
  family?: { afi: number; safi: number },
): BgpError {
  return updateError(action, subcode, code, `${attrName(s.type)}: ${message}`, {
    data: s.b.slice(s.start, s.end),
    attrType: s.type,
    ...family,
  });
}

export function lengthError(s: AttrSpan, expected: string): BgpError {
  return attrError(s, "ERR_ATTR_LENGTH", UpdateSub.ATTRIBUTE_LENGTH, `length ${s.end - s.v}, expected ${expected}`);
}
