// Packet source 3 of data-plane learning: replaying a classic libpcap capture file. Pure like the
// decoders: functions over the file's bytes, no I/O, and no exceptions for anything a file can
// contain; a malformed file yields a typed error (with the records read before it).
//
// Format (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a 24-byte file header (magic
// 0xa1b2c3d4 for microsecond or 0xa1b23c4d for nanosecond timestamps, written in the byte order
// of the writer, which every other field follows; version; snap length; link type), then records
// of a 16-byte header (seconds, fraction, captured length, original length) and the captured
// bytes. pcapng (a different format, magic 0x0a0d0d0a) is refused with a hint.
//
// Link types and where the outer headers start:
//   1    Ethernet          the outer Ethernet header (decodeEthernetInto at 0)
//   101  raw IP            the outer IPv4/IPv6 header (decodeIpInto at 0)
//   113  Linux cooked SLL  16-byte header whose last two bytes are the EtherType: it reads as an
//                          Ethernet header starting at 2 (decodeEthernetInto at 2, tags included)
//   276  Linux cooked SLL2 20-byte header with the EtherType first; the payload at 20

import { u16 } from "../codec/bytes.js";
import {
  decodeEthernetInto,
  decodeIpInto,
  type DecodeOptions,
  type LearnedFrame,
  newLearnedFrame,
  type SkipReason,
} from "./packet.js";

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
export const SUPPORTED_LINK_TYPES: readonly number[] = [
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
];

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;
/** libpcap's largest snap length; a captured length above it (and the snap length) is corrupt. */
const MAX_SNAPLEN = 262144;

export interface PcapHeader {
  /** The writer's byte order, which all header fields follow. */
  littleEndian: boolean;
  /** Timestamp fractions are nanoseconds (magic 0xa1b23c4d), else microseconds. */
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snapLength: number;
  /** LINKTYPE_* (the low 16 bits of the header's link-type field; the FCS bits are dropped). */
  linkType: number;
}

export interface PcapRecord {
  /** Capture time in milliseconds since the epoch (fractional below a millisecond). */
  timestampMs: number;
  linkType: number;
  /** The captured bytes: a view into the file's buffer, not a copy. */
  data: Uint8Array;
  /** Length of the packet on the wire; more than data.length when the snap length cut it. */
  originalLength: number;
}

export type PcapErrorKind =
  | "truncated-header" // shorter than the 24-byte file header
  | "unknown-magic"
  | "pcapng"
  | "truncated-record" // a record header or its data runs past the end of the file
  | "bad-record-length"; // captured length above the snap length and libpcap's maximum

export interface PcapError {
  kind: PcapErrorKind;
  /** Byte offset in the file where the problem is. */
  offset: number;
  message: string;
}

export type PcapParse =
  | { ok: true; header: PcapHeader; records: PcapRecord[] }
  /** `records`: those read before the error (a capture cut short keeps its complete records). */
  | { ok: false; error: PcapError; header: PcapHeader | null; records: PcapRecord[] };

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function fail(kind: PcapErrorKind, offset: number, message: string): PcapError {
  return { kind, offset, message };
}

/** The 24-byte file header, or what is wrong with it. */
export function parsePcapHeader(b: Uint8Array): { ok: true; header: PcapHeader } | { ok: false; error: PcapError } {
  if (b.length >= 4 && u32be(b, 0) === MAGIC_PCAPNG)
    return {
      ok: false,
      error: fail("pcapng", 0, "pcapng is not supported, convert with `tshark -F pcap -r IN.pcapng -w OUT.pcap`"),
    };
  if (b.length < 4) return { ok: false, error: fail("truncated-header", 0, `${b.length} bytes: no pcap file header`) };
  const be = u32be(b, 0);
  const le = u32le(b, 0);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (be === MAGIC_US || be === MAGIC_NS) {
    littleEndian = false;
    nanosecond = be === MAGIC_NS;
  } else if (le === MAGIC_US || le === MAGIC_NS) {
    littleEndian = true;
    nanosecond = le === MAGIC_NS;
  } else
    return {
      ok: false,
      error: fail("unknown-magic", 0, `magic 0x${be.toString(16).padStart(8, "0")} is not a pcap file`),
    };
  if (b.length < FILE_HEADER)
    return { ok: false, error: fail("truncated-header", 0, `${b.length} bytes: the pcap file header has 24`) };
  const r16 = littleEndian ? (o: number) => b[o] | (b[o + 1] << 8) : (o: number) => u16(b, o);
  const r32 = littleEndian ? (o: number) => u32le(b, o) : (o: number) => u32be(b, o);
  return {
    ok: true,
    header: {
      littleEndian,
      nanosecond,
      versionMajor: r16(4),
      versionMinor: r16(6),
      snapLength: r32(16),
      linkType: r32(20) & 0xffff,
    },
  };
}

/** Every record of a classic pcap file; never throws. */
export function parsePcap(b: Uint8Array): PcapParse {
  const h = parsePcapHeader(b);
  if (!h.ok) return { ok: false, error: h.error, header: null, records: [] };
  const header = h.header;
  const r32 = header.littleEndian ? u32le : u32be;
  const fraction = header.nanosecond ? 1e-6 : 1e-3;
  const maxLen = Math.max(header.snapLength, MAX_SNAPLEN);
  const records: PcapRecord[] = [];
  for (let o = FILE_HEADER; o < b.length;) {
    if (o + RECORD_HEADER > b.length)
      return {
        ok: false,
        error: fail("truncated-record", o, `record ${records.length + 1}: header cut short at byte ${o}`),
        header,
        records,
      };
    const incl = r32(b, o + 8);
    if (incl > maxLen)
      return {
        ok: false,
        error: fail("bad-record-length", o, `record ${records.length + 1}: captured length ${incl} at byte ${o}`),
        header,
        records,
      };
    const start = o + RECORD_HEADER;
    if (start + incl > b.length)
      return {
        ok: false,
        error: fail(
          "truncated-record",
          o,
          `record ${records.length + 1}: ${incl} bytes captured, ${b.length - start} in the file`,
        ),
        header,
        records,
      };
    records.push({
      timestampMs: r32(b, o) * 1000 + r32(b, o + 4) * fraction,
      linkType: header.linkType,
      data: b.subarray(start, start + incl),
      originalLength: r32(b, o + 12),
    });
    o = start + incl;
  }
  return { ok: true, header, records };
}

// ---- replay ---------------------------------------------------------------------------------

/** Skip reasons of the replay besides the packet decoder's. */
export type ReplaySkipReason = SkipReason | "unsupported-link-type";

export interface ReplayCounters {
  /** Records in the file (up to an error). */
  records: number;
  /** Records cut by the snap length (captured < original length). */
  snapped: number;
  /** Records that decoded to a learnable frame (passed to onFrame). */
  frames: number;
  skipped: Partial<Record<ReplaySkipReason, number>>;
}

export interface ReplayResult {
  header: PcapHeader | null;
  counters: ReplayCounters;
  /** The file's error; the records before it were replayed. */
  error?: PcapError;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const SLL2_HEADER = 20;

/** SLL2: EtherType at 0, payload at 20; 802.1Q/802.1ad tags (when not offloaded) follow the header. */
function sll2Into(out: LearnedFrame, b: Uint8Array, end: number, opts: DecodeOptions): SkipReason | null {
  if (end < SLL2_HEADER) return "truncated-outer-ethernet";
  let type = u16(b, 0);
  let p = SLL2_HEADER;
  for (let tags = 0; type === 0x8100 || type === 0x88a8;) {
    if (++tags > 2) return "outer-too-many-tags";
    if (p + 4 > end) return "truncated-outer-vlan";
    type = u16(b, p + 2);
    p += 4;
  }
  if (type !== ETH_IPV4 && type !== ETH_IPV6) return "outer-not-ip";
  if (p < end && b[p] >>> 4 !== (type === ETH_IPV4 ? 4 : 6)) return "bad-outer-ip";
  return decodeIpInto(out, b, p, end, opts);
}

/** Decodes one record of the given link type into `out`. */
export function decodeRecordInto(
  out: LearnedFrame,
  linkType: number,
  data: Uint8Array,
  opts: DecodeOptions = {},
): ReplaySkipReason | null {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return decodeEthernetInto(out, data, 0, data.length, opts);
    case LINKTYPE_RAW:
      return decodeIpInto(out, data, 0, data.length, opts);
    case LINKTYPE_LINUX_SLL:
      return decodeEthernetInto(out, data, 2, data.length, opts);
    case LINKTYPE_LINUX_SLL2:
      return sll2Into(out, data, data.length, opts);
    default:
      return "unsupported-link-type";
  }
}

/**
 * Decodes every record of a capture (VXLAN on UDP 4789 unless `opts.udpPort` says otherwise) and
 * calls `onFrame` with each learnable frame — its `vtep` is the outer source IP — and the capture
 * time in ms, which never decreases (a capture merged from several interfaces may step back; the
 * time then stays where it was). The frame object is reused: copy what you keep.
 */
export function replayPcap(
  bytes: Uint8Array,
  onFrame: (f: LearnedFrame, nowMs: number) => void,
  opts: DecodeOptions = {},
): ReplayResult {
  const parsed = parsePcap(bytes);
  const counters: ReplayCounters = { records: 0, snapped: 0, frames: 0, skipped: {} };
  const frame = newLearnedFrame();
  let now = -Infinity;
  for (const r of parsed.records) {
    counters.records++;
    if (r.data.length < r.originalLength) counters.snapped++;
    if (r.timestampMs > now) now = r.timestampMs;
    const skip = decodeRecordInto(frame, r.linkType, r.data, opts);
    if (skip !== null) {
      counters.skipped[skip] = (counters.skipped[skip] ?? 0) + 1;
      continue;
    }
    counters.frames++;
    onFrame(frame, now);
  }
  return parsed.ok ? { header: parsed.header, counters } : { header: parsed.header, counters, error: parsed.error };
}
