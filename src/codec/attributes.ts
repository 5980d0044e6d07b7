// Path attributes (RFC 4271 §4.3, §5) with RFC 7606 revised error handling: the model and its
// table (attr-model.ts), decoding (attr-decode.ts, MP_REACH/MP_UNREACH in attr-mp.ts) and
// encoding (attr-encode.ts).

export { decodeAttributes, type AttributesDecode } from "./attr-decode.js";
export { encodeAttribute, encodeAttributes } from "./attr-encode.js";
export {
  type AsPathSegment,
  AsSegmentType,
  attrCode,
  attributesForPropagation,
  attrName,
  type CodecContext,
  DEFAULT_CONTEXT,
  findAttr,
  type LargeCommunity,
  type LoopIds,
  type MpNlri,
  type MpReachAttr,
  type MpUnreachAttr,
  ORIGIN_EGP,
  ORIGIN_IGP,
  ORIGIN_INCOMPLETE,
  type PathAttribute,
  type PmsiTunnelAttr,
} from "./attr-model.js";
export { encodeMpNlri } from "./attr-mp.js";
// Re-exported so that callers building attributes need one import.
export { Writer } from "./bytes.js";
