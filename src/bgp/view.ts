// The neighbour view: what Speaker.status() reports of each neighbour, and the record of its
// session history the speaker keeps from its own events. Pure: times come in as arguments.

import type { SpeakerEvent, NotificationInfo } from "./events.js";
import type { FsmState } from "./fsm.js";
import type { Negotiated } from "./negotiate.js";
import type { NeighborSettings } from "../config/model.js";
import type { AdjRibOut } from "./adj-rib-out.js";
import type { Peer, PeerCounters } from "./peer.js";
import type { PeerCounters as RibCounters } from "./rib.js";

/** The last NOTIFICATION of a neighbour's sessions, either way. */
export interface LastError extends NotificationInfo {
  direction: "sent" | "received";
  /** When (ms since the epoch). */
  at: number;
}

export interface NeighborStatus {
  address: string;
  peerAs: number;
  description?: string;
  /** RFC 4271 §8 state of the session. */
  state: FsmState;
  /** Milliseconds since the session became Established; null when it is not. */
  uptimeMs: number | null;
  /** When the state last changed (ms since the epoch); null before the first change. */
  lastStateChange: number | null;
  /** Hold time, families and capabilities of the Established session. */
  negotiated?: Negotiated;
  /** Messages in and out by type, sessions established, flaps, refused connections. */
  counters: PeerCounters;
  /** Routes from the peer. */
  rib: {
    /** Paths held now. */
    received: number;
    /** Announcements accepted, cumulative. */
    accepted: number;
    withdrawn: number;
    /** Announcements that carried our own identifiers (AS_PATH, ORIGINATOR_ID, CLUSTER_LIST). */
    rejectedLoop: number;
    /** Paths kept as stale by graceful restart. */
    stale: number;
    /** UPDATEs treated as withdraw (RFC 7606). */
    treatedAsWithdraw: number;
  };
  /** Routes in our Adj-RIB-Out towards the peer. */
  advertised: number;
  /** Routes waiting to be sent. */
  pendingUpdates: number;
  /** The session is Established and our initial table went out, End-of-RIB last (RFC 4724 §2). */
  endOfRibSent: boolean;
  /** Routes left out because they could not be encoded for this session. */
  notSent: number;
  lastError: LastError | null;
}

/** A neighbour's session history, as its events tell it (times in ms since the epoch). */
export class NeighborRecord {
  establishedAt: number | null = null;
  lastStateChange: number | null = null;
  lastError: LastError | null = null;
  treatedAsWithdraw = 0;
  notSent = 0;

  observe(e: SpeakerEvent, at: number): void {
    switch (e.kind) {
      case "state":
        this.lastStateChange = at;
        this.establishedAt = e.to === "Established" ? at : null;
        return;
      case "notification-sent":
      case "notification-received": {
        const { code, subcode, text, communication } = e;
        const direction = e.kind === "notification-sent" ? "sent" : "received";
        this.lastError = { direction, code, subcode, text, ...(communication ? { communication } : {}), at };
        return;
      }
      case "treat-as-withdraw":
        this.treatedAsWithdraw++;
        return;
      case "route-not-sent":
        this.notSent++;
        return;
      default:
        return;
    }
  }

  uptimeMs(now: number): number | null {
    return this.establishedAt === null ? null : Math.max(0, now - this.establishedAt);
  }
}

/** A neighbour's status from its settings, controller, RIB counters, Adj-RIB-Out and record. */
export function neighborStatus(
  cfg: Pick<NeighborSettings, "address" | "peerAs" | "description">,
  peer: Pick<Peer, "state" | "negotiated" | "counters">,
  rib: Readonly<RibCounters> | undefined,
  adjOut: Pick<AdjRibOut, "size" | "pendingCount"> | undefined,
  record: NeighborRecord,
  now: number,
  endOfRibSent = false,
): NeighborStatus {
  const neg = peer.negotiated;
  return {
    address: cfg.address,
    peerAs: cfg.peerAs,
    ...(cfg.description ? { description: cfg.description } : {}),
    state: peer.state,
    uptimeMs: record.uptimeMs(now),
    lastStateChange: record.lastStateChange,
    ...(neg ? { negotiated: neg } : {}),
    counters: peer.counters,
    rib: {
      received: rib?.paths ?? 0,
      accepted: rib?.accepted ?? 0,
      withdrawn: rib?.withdrawn ?? 0,
      rejectedLoop: rib?.rejectedLoop ?? 0,
      stale: rib?.stale ?? 0,
      treatedAsWithdraw: record.treatedAsWithdraw,
    },
    advertised: adjOut?.size ?? 0,
    pendingUpdates: adjOut?.pendingCount ?? 0,
    endOfRibSent,
    notSent: record.notSent,
    lastError: record.lastError,
  };
}
