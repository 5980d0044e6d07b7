// The state file: the learning engine's entries (BindingRecord, src/dataplane/learning/persist.ts)
// as bytes and back. Pure. The encoder takes records one at a time and hands out the bytes in
// chunks (a writer can yield between them); decoding never throws: a file that is not whole and
// ours is a typed error, and nothing of it is used.
//
// Layout (big-endian; times are ms since the epoch as IEEE 754 doubles):
//
//   header   0   8  magic "EVPXSTAT" (45 56 50 58 53 54 41 54)
//            8   2  version, 1
//           10   2  reserved, 0
//           12   8  saved at: when the snapshot began
//   records 20   …  `count` records, one after the other:
//                2  service: index in the service table
//                4  VTEP: index in the VTEP table
//                6  MAC
//                1  flags: 0x01 configured MAC, 0x02 announced, 0x04 frozen (a deadline follows)
//                4  MAC mobility sequence of our routes (RFC 7432 §7.7: 32 bits)
//                4  highest sequence seen
//                8  last seen
//               [8] frozen until, with flag 0x04
//                2  n, then n × 8: times of the recent moves
//                2  m, then m IP bindings: 1 length (4 or 16), the address, 8 last seen
//   tables  at `tables` (from the footer):
//                2  services, each: 2 EVI, 4 VNI, 2 name length, the name (UTF-8)
//                4  VTEPs, each: 1 length (4 or 16), the address
//   footer  the last 12 bytes: 4 count, 4 tables (offset from the start), 4 CRC-32C of every
//           byte before the CRC
//
// Everything is checked before a record is handed out: magic, version, checksum, then every
// record and table entry within bounds, every index within its table, nothing left over.

import type { BindingRecord, SavedIp } from "../dataplane/learning/persist.js";
import { formatIp, formatMac, parseIpv4Into, parseIpv6Into, parseMacInto } from "../net/addr.js";
import { crc32c } from "./crc32c.js";

export const STATE_MAGIC = Uint8Array.of(0x45, 0x56, 0x50, 0x58, 0x53, 0x54, 0x41, 0x54);
export const STATE_VERSION = 1;
const HEADER = 20;
const FOOTER = 12;
const F_CONFIGURED = 0x01;
const F_ANNOUNCED = 0x02;
const F_FROZEN = 0x04;
const U16 = 0xffff;
const U32 = 0xffffffff;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: false });

function validU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= U32;
}

/** Writes IP text as 1 length byte and the address at `o`; the end, or -1 when it is not an address. */
function putIp(b: Uint8Array, o: number, ip: string): number {
  if (ip.includes(":")) {
    b[o] = 16;
    return parseIpv6Into(ip, b, o + 1) ? o + 17 : -1;
  }
  b[o] = 4;
  return parseIpv4Into(ip, b, o + 1) ? o + 5 : -1;
}

/** Encodes a state file record by record; see the layout above. */
export class StateEncoder {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  /** File offset of buf[0]: the bytes handed out so far. */
  private offset = 0;
  private crc = 0;
  /** Service table entries by VNI (one service per VNI in a configuration; a file may hold more). */
  private readonly serviceIds = new Map<number, { name: string; evi: number; id: number }[]>();
  private readonly services: { name: string; evi: number; vni: number }[] = [];
  private readonly vtepIds = new Map<string, number>();
  private readonly vteps: string[] = [];
  /** Records encoded. */
  count = 0;
  /** Records left out: an address, sequence number or table index the layout cannot hold. */
  skipped = 0;

  constructor(savedAt: number) {
    this.buf.set(STATE_MAGIC, 0);
    this.view.setUint16(8, STATE_VERSION);
    this.view.setUint16(10, 0);
    this.view.setFloat64(12, savedAt);
    this.pos = HEADER;
  }

  /** Appends a record; false when it is left out (counted in `skipped`). */
  add(r: BindingRecord): boolean {
    const moves = Math.min(r.moves.length, U16);
    const nIps = Math.min(r.ips.length, U16);
    this.ensure(39 + moves * 8 + nIps * 25);
    const b = this.buf;
    const v = this.view;
    const start = this.pos;
    const svc = this.serviceId(r.service, r.evi, r.vni);
    const vtep = this.vtepId(r.vtep);
    if (svc < 0 || vtep < 0 || !validU32(r.seq) || !validU32(r.maxSeq) || !parseMacInto(r.mac, b, start + 6))
      return this.skip();
    v.setUint16(start, svc);
    v.setUint32(start + 2, vtep);
    const frozen = r.frozenUntil > 0;
    b[start + 12] = (r.configured ? F_CONFIGURED : 0) | (r.announced ? F_ANNOUNCED : 0) | (frozen ? F_FROZEN : 0);
    v.setUint32(start + 13, r.seq);
    v.setUint32(start + 17, r.maxSeq);
    v.setFloat64(start + 21, r.lastSeen);
    let o = start + 29;
    if (frozen) {
      v.setFloat64(o, r.frozenUntil);
      o += 8;
    }
    v.setUint16(o, moves);
    o += 2;
    // The most recent moves when there are more than the field holds.
    for (let i = r.moves.length - moves; i < r.moves.length; i++, o += 8) v.setFloat64(o, r.moves[i]!);
    v.setUint16(o, nIps);
    o += 2;
    for (let i = 0; i < nIps; i++) {
      const ip = r.ips[i]!;
      o = putIp(b, o, ip.ip);
      if (o < 0) return this.skip();
      v.setFloat64(o, ip.lastSeen);
      o += 8;
    }
    this.pos = o;
    this.count++;
    return true;
  }

  /**
   * The bytes encoded since the previous call (the header first): a view of the encoder's buffer,
   * valid until the encoder's next call (no copy: a save makes no file-sized garbage).
   */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    this.crc = crc32c(out, this.crc);
    this.offset += this.pos;
    this.pos = 0;
    return out;
  }

  /** The file's last bytes: records not taken yet, the tables and the footer (a view, as take()). */
  finish(): Uint8Array {
    const tables = this.offset + this.pos;
    let size = 2 + 4 + this.vteps.length * 17;
    const names = this.services.map((s) => utf8.encode(s.name));
    for (const n of names) size += 8 + n.length;
    this.ensure(size + FOOTER);
    const b = this.buf;
    const v = this.view;
    let o = this.pos;
    v.setUint16(o, this.services.length);
    o += 2;
    this.services.forEach((s, i) => {
      v.setUint16(o, s.evi);
      v.setUint32(o + 2, s.vni);
      v.setUint16(o + 6, names[i]!.length);
      b.set(names[i]!, o + 8);
      o += 8 + names[i]!.length;
    });
    v.setUint32(o, this.vteps.length);
    o += 4;
    for (const vtep of this.vteps) o = putIp(b, o, vtep);
    v.setUint32(o, this.count);
    v.setUint32(o + 4, tables);
    const crc = crc32c(b, this.crc, 0, o + 8);
    v.setUint32(o + 8, crc);
    const out = b.subarray(0, o + FOOTER);
    this.offset += out.length;
    this.pos = 0;
    return out;
  }

  private skip(): false {
    this.skipped++;
    return false;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private serviceId(name: string, evi: number, vni: number): number {
    let same = this.serviceIds.get(vni);
    if (same !== undefined) for (const x of same) if (x.evi === evi && x.name === name) return x.id;
    if (this.services.length > U16 || !(evi >= 0 && evi <= U16 && Number.isInteger(evi)) || !validU32(vni)) return -1;
    if (utf8.encode(name).length > U16) return -1;
    const id = this.services.length;
    this.services.push({ name, evi, vni });
    if (same === undefined) this.serviceIds.set(vni, (same = []));
    same.push({ name, evi, id });
    return id;
  }

  private vtepId(vtep: string): number {
    let id = this.vtepIds.get(vtep);
    if (id === undefined) {
      if (putIp(new Uint8Array(17), 0, vtep) < 0) return -1;
      id = this.vteps.length;
      this.vteps.push(vtep);
      this.vtepIds.set(vtep, id);
    }
    return id;
  }
}

/** Encodes a whole state file at once (tests, small tables). */
export function encodeState(savedAt: number, records: Iterable<BindingRecord>): Uint8Array {
  const e = new StateEncoder(savedAt);
  for (const r of records) e.add(r);
  const head = e.take().slice();
  const tail = e.finish();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

// ---- decoding ----------------------------------------------------------------------------------

export type StateError =
  | { code: "truncated"; length: number }
  | { code: "magic" }
  | { code: "version"; version: number }
  | { code: "checksum"; stored: number; computed: number }
  /** The checksum holds but the content does not parse: `offset` is where it stops making sense. */
  | { code: "layout"; offset: number; reason: string };

/** One line for the log. */
export function describeStateError(e: StateError): string {
  switch (e.code) {
    case "truncated":
      return `too short for a state file (${e.length} bytes)`;
    case "magic":
      return "not a state file of evpn-proxy (no EVPXSTAT magic)";
    case "version":
      return `state file version ${e.version}, this evpn-proxy reads version ${STATE_VERSION}`;
    case "checksum":
      return `checksum mismatch (stored ${hex(e.stored)}, computed ${hex(e.computed)}): torn or corrupt`;
    case "layout":
      return `malformed at byte ${e.offset}: ${e.reason}`;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

export interface DecodedState {
  version: number;
  savedAt: number;
  count: number;
  /** The records, each a new object, in file order. */
  records(): IterableIterator<BindingRecord>;
}

export type StateResult = { ok: true; state: DecodedState } | { ok: false; error: StateError };

interface Tables {
  services: { name: string; evi: number; vni: number }[];
  vteps: string[];
}

/** Decodes a state file; see the layout above. Never throws. */
export function decodeState(b: Uint8Array): StateResult {
  const fail = (error: StateError): StateResult => ({ ok: false, error });
  if (b.length < HEADER + FOOTER) return fail({ code: "truncated", length: b.length });
  for (let i = 0; i < STATE_MAGIC.length; i++) if (b[i] !== STATE_MAGIC[i]) return fail({ code: "magic" });
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = v.getUint16(8);
  if (version !== STATE_VERSION) return fail({ code: "version", version });
  const end = b.length - FOOTER;
  const stored = v.getUint32(end + 8);
  const computed = crc32c(b, 0, 0, end + 8);
  if (stored !== computed) return fail({ code: "checksum", stored, computed });
  const count = v.getUint32(end);
  const at = v.getUint32(end + 4);
  if (at < HEADER || at > end) return fail({ code: "layout", offset: end + 4, reason: "tables outside the file" });
  const tables = readTables(b, v, at, end);
  if (typeof tables === "string") return fail({ code: "layout", offset: at, reason: tables });
  let o = HEADER;
  for (let i = 0; i < count; i++) {
    const next = recordEnd(b, v, o, at, tables);
    if (typeof next === "string") return fail({ code: "layout", offset: o, reason: `record ${i}: ${next}` });
    o = next;
  }
  if (o !== at) return fail({ code: "layout", offset: o, reason: `${at - o} bytes after the last record` });
  return {
    ok: true,
    state: { version, savedAt: v.getFloat64(12), count, records: () => readRecords(b, v, count, tables) },
  };
}

function readTables(b: Uint8Array, v: DataView, at: number, end: number): Tables | string {
  const services: Tables["services"] = [];
  const vteps: string[] = [];
  let o = at;
  if (o + 2 > end) return "service table cut short";
  const ns = v.getUint16(o);
  o += 2;
  for (let i = 0; i < ns; i++) {
    if (o + 8 > end) return `service ${i} cut short`;
    const len = v.getUint16(o + 6);
    if (o + 8 + len > end) return `service ${i}: name cut short`;
    services.push({
      evi: v.getUint16(o),
      vni: v.getUint32(o + 2),
      name: utf8Decoder.decode(b.subarray(o + 8, o + 8 + len)),
    });
    o += 8 + len;
  }
  if (o + 4 > end) return "VTEP table cut short";
  const nv = v.getUint32(o);
  o += 4;
  for (let i = 0; i < nv; i++) {
    const len = o < end ? b[o]! : 0;
    if (len !== 4 && len !== 16) return `VTEP ${i}: address length ${len}`;
    if (o + 1 + len > end) return `VTEP ${i} cut short`;
    vteps.push(formatIp(b, o + 1, len));
    o += 1 + len;
  }
  if (o !== end) return `${end - o} bytes after the tables`;
  return { services, vteps };
}

/** The end of the record at `o` (before `limit`), or why it does not parse. */
function recordEnd(b: Uint8Array, v: DataView, o: number, limit: number, t: Tables): number | string {
  if (o + 29 + 4 > limit) return "cut short";
  if (v.getUint16(o) >= t.services.length) return `service index ${v.getUint16(o)} outside the table`;
  if (v.getUint32(o + 2) >= t.vteps.length) return `VTEP index ${v.getUint32(o + 2)} outside the table`;
  const flags = b[o + 12]!;
  if ((flags & ~(F_CONFIGURED | F_ANNOUNCED | F_FROZEN)) !== 0) return `unknown flags 0x${flags.toString(16)}`;
  let p = o + 29 + (flags & F_FROZEN ? 8 : 0);
  if (p + 2 > limit) return "cut short";
  p += 2 + v.getUint16(p) * 8;
  if (p + 2 > limit) return "moves cut short";
  const n = v.getUint16(p);
  p += 2;
  for (let i = 0; i < n; i++) {
    const len = p < limit ? b[p]! : 0;
    if (len !== 4 && len !== 16) return `IP ${i}: address length ${len}`;
    p += 1 + len + 8;
    if (p > limit) return `IP ${i} cut short`;
  }
  return p;
}

function* readRecords(b: Uint8Array, v: DataView, count: number, t: Tables): IterableIterator<BindingRecord> {
  let o = HEADER;
  for (let i = 0; i < count; i++) {
    const svc = t.services[v.getUint16(o)]!;
    const flags = b[o + 12]!;
    let p = o + 29;
    let frozenUntil = 0;
    if (flags & F_FROZEN) {
      frozenUntil = v.getFloat64(p);
      p += 8;
    }
    const moves: number[] = [];
    const nm = v.getUint16(p);
    p += 2;
    for (let k = 0; k < nm; k++, p += 8) moves.push(v.getFloat64(p));
    const ips: SavedIp[] = [];
    const ni = v.getUint16(p);
    p += 2;
    for (let k = 0; k < ni; k++) {
      const len = b[p] as 4 | 16;
      ips.push({ ip: formatIp(b, p + 1, len), lastSeen: v.getFloat64(p + 1 + len) });
      p += 1 + len + 8;
    }
    yield {
      service: svc.name,
      evi: svc.evi,
      vni: svc.vni,
      vtep: t.vteps[v.getUint32(o + 2)]!,
      mac: formatMac(b, o + 6),
      ips,
      seq: v.getUint32(o + 13),
      maxSeq: v.getUint32(o + 17),
      configured: (flags & F_CONFIGURED) !== 0,
      announced: (flags & F_ANNOUNCED) !== 0,
      frozenUntil,
      moves,
      lastSeen: v.getFloat64(o + 21),
    };
    o = p;
  }
}
