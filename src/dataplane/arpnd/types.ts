// The proxy table's interface: entry sources and flags, the decisions request() returns, the
// actions and events it emits, its counters and management rows.

/** RFC 9047 §2 ARP/ND extended community flags, bit values as on the wire. */
export const FLAG_ROUTER = 0x01;
export const FLAG_OVERRIDE = 0x02;
export const FLAG_IMMUTABLE = 0x08; // bit 4 of the flags octet (bits numbered 0–7 from the most significant)

/** RFC 9161 §3: static (configured), EVPN (from MAC/IP routes), dynamic (snooped ARP/NA). */
export type EntrySource = "static" | "evpn" | "dynamic";

/**
 * What learn() did with a binding:
 *  - "learned": a new dynamic entry (or a dynamic one took over an EVPN entry);
 *  - "refreshed": seen again as it is (last-seen time moved; R/O flags and sequence updated);
 *  - "relocated": the same MAC at another VTEP (a host move, not an IP move);
 *  - "moved": the IP now belongs to another MAC (counted for duplicate detection);
 *  - "static": the binding is the static entry's own (nothing to learn);
 *  - "spoofed": it contradicts a static or immutable entry: refused and counted; the frame that
 *    carried it should not be flooded either (it would poison the other hosts' caches);
 *  - "evpn-newer": an EVPN entry with a higher MAC mobility sequence holds the IP;
 *  - "duplicate": the IP is in duplicate state (RFC 9161 §3.7), or this move made it one;
 *  - "limit": the service is full; "unknown-vni": no such service.
 */
export type LearnResult =
  | "learned"
  | "refreshed"
  | "relocated"
  | "moved"
  | "static"
  | "spoofed"
  | "evpn-newer"
  | "duplicate"
  | "limit"
  | "unknown-vni";

/** The proxy answers: the caller builds the ARP reply / NA from these fields before its next call. */
export interface ReplyDecision {
  readonly kind: "reply";
  readonly ip: string;
  readonly mac: string;
  /** Where the MAC sits: the reply's outer source. Undefined: a static entry not located yet. */
  readonly vtep: string | undefined;
  /** NA flags (RFC 4861 §4.4), from the entry: R from RFC 9047's router flag, O its override flag. */
  readonly router: boolean;
  readonly override: boolean;
  readonly source: EntrySource;
}

/** Not answered, replicated to the VNI's VTEPs. */
export interface FloodDecision {
  readonly kind: "flood";
  readonly reason: "unknown" | "duplicate" | "self" | "gratuitous";
}

export type DropReason =
  | "unknown" // no entry and flood-unknown is off
  | "duplicate" // the IP is in duplicate state and flood-unknown is off
  | "self" // the requester asks for its own address and flood-unknown is off
  | "local" // the target sits behind the requesting VTEP: it answers there itself
  | "rate" // the source is over its request rate
  | "unknown-vni"
  | "spoofed" // a gratuitous frame contradicting a static or immutable entry
  | "gratuitous"; // flood-gratuitous is off

export interface DropDecision {
  readonly kind: "drop";
  readonly reason: DropReason;
}

/**
 * request() and gratuitous() return one of a few frozen objects, or the one reply object the
 * table reuses (valid until its next call).
 */
export type Decision = ReplyDecision | FloodDecision | DropDecision;

export type ArpNdEventKind =
  | "duplicate" // RFC 9161 §3.7: the IP's MAC changed more than max-moves times in the window
  | "duplicate-released"
  | "rate-limited" // a source over its request rate (throttled per source)
  | "static-override-refused" // a binding contradicting a static or immutable entry (throttled per VNI)
  | "limit"; // the service's entry limit refused a new entry (throttled per VNI)

export type ArpNdAction =
  /**
   * One unicast ARP request / NS for `ip` to `mac`, encapsulated towards `vtep`. "refresh": the
   * dynamic entry was not seen for half the ageing time (RFC 9161 §3.5); "confirm": the IP moved
   * to another MAC and this asks the former owner whether it still holds it (RFC 9161 §3.7): a
   * reply from it is learned like any other and counts as a further move.
   */
  | { type: "refresh"; reason: "refresh" | "confirm"; vni: number; ip: string; mac: string; vtep: string }
  /**
   * A static or EVPN entry appeared or changed (RFC 9161 §3.2): a gratuitous ARP / unsolicited NA
   * (R and O from the entry) to the service's static VTEPs, from `vtep` (undefined: the proxy's own).
   */
  | {
      type: "garp";
      vni: number;
      ip: string;
      mac: string;
      vtep: string | undefined;
      router: boolean;
      override: boolean;
    }
  /** To count and log; `suppressed`: throttled occurrences since the previous event of its key. */
  | {
      type: "event";
      event: ArpNdEventKind;
      vni: number;
      ip?: string;
      mac?: string;
      vtep?: string;
      /** The source of the refused binding (static-override-refused) or of the refused entry (limit). */
      source?: EntrySource;
      /** duplicate: the claim whose move made the IP a duplicate (mac/vtep: the binding held). */
      claimMac?: string;
      claimVtep?: string;
      suppressed?: number;
    };

export type ArpNdEvent = ArpNdAction & { type: "event" };

export interface ArpNdCounters {
  requests: number;
  replies: number;
  floodUnknown: number;
  floodDuplicate: number;
  floodSelf: number;
  dropUnknown: number;
  dropDuplicate: number;
  dropSelf: number;
  dropLocal: number;
  dropRate: number;
  unknownVni: number;
  /** Rate buckets were full: the source shared the overflow bucket. */
  rateSourcesFull: number;
  gratuitous: number;
  floodGratuitous: number;
  dropGratuitous: number;
  dropSpoofed: number;
  learned: number;
  refreshed: number;
  relocated: number;
  moves: number;
  staticSeen: number;
  /** A dynamic binding refused by a static entry (a spoofed ARP / NA). */
  refusedStatic: number;
  /** A dynamic binding refused by an EVPN entry with the immutable flag (RFC 9047). */
  refusedImmutable: number;
  /** A dynamic binding refused by an EVPN entry with a higher MAC mobility sequence. */
  refusedSequence: number;
  /** A binding refused because the IP is in duplicate state. */
  refusedDuplicate: number;
  limit: number;
  evpnAdded: number;
  evpnUpdated: number;
  /** A route losing to the EVPN binding held (lower sequence, or the RFC 7432 §15.1 tie-break). */
  evpnIgnored: number;
  evpnWithdrawn: number;
  /** A withdrawal for another binding than the one held. */
  evpnWithdrawIgnored: number;
  /** An EVPN binding held under a static entry that differs from it. */
  evpnUnderStatic: number;
  duplicates: number;
  released: number;
  refreshes: number;
  confirms: number;
  aged: number;
  garps: number;
  /** Entries dropped by a reconfiguration (service or static entry gone). */
  reloadRemoved: number;
}

export function newCounters(): ArpNdCounters {
  return {
    requests: 0,
    replies: 0,
    floodUnknown: 0,
    floodDuplicate: 0,
    floodSelf: 0,
    dropUnknown: 0,
    dropDuplicate: 0,
    dropSelf: 0,
    dropLocal: 0,
    dropRate: 0,
    unknownVni: 0,
    rateSourcesFull: 0,
    gratuitous: 0,
    floodGratuitous: 0,
    dropGratuitous: 0,
    dropSpoofed: 0,
    learned: 0,
    refreshed: 0,
    relocated: 0,
    moves: 0,
    staticSeen: 0,
    refusedStatic: 0,
    refusedImmutable: 0,
    refusedSequence: 0,
    refusedDuplicate: 0,
    limit: 0,
    evpnAdded: 0,
    evpnUpdated: 0,
    evpnIgnored: 0,
    evpnWithdrawn: 0,
    evpnWithdrawIgnored: 0,
    evpnUnderStatic: 0,
    duplicates: 0,
    released: 0,
    refreshes: 0,
    confirms: 0,
    aged: 0,
    garps: 0,
    reloadRemoved: 0,
  };
}

/** One entry for management. */
export interface ProxyEntryRow {
  vni: number;
  ip: string;
  mac: string;
  vtep: string | undefined;
  source: EntrySource;
  router: boolean;
  override: boolean;
  immutable: boolean;
  /** MAC mobility sequence of the binding answered (RFC 7432 §15). */
  seq: number;
  /** Dynamic entries: when last seen (ms). */
  lastSeen: number | undefined;
  /** In duplicate state until this time (ms). */
  duplicateUntil: number | undefined;
  /** The EVPN route held for the IP when another source is answered (static, or a newer dynamic). */
  evpn: { mac: string; vtep: string; seq: number } | undefined;
}

export interface EntryCounts {
  static: number;
  evpn: number;
  dynamic: number;
  duplicate: number;
}

export interface EntryPage {
  rows: ProxyEntryRow[];
  /** Pass to entries() for the next page; undefined when this was the last one. */
  next: number | undefined;
}
