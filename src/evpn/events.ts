// What the EVPN controller reports: typed events for the logger, the API and metrics. Payloads
// are plain data; the controller never formats text.

import type { ArpNdEventKind } from "../dataplane/arpnd/types.js";
import type { LearnEventKind } from "../dataplane/learning/learner.js";

export type EvpnEvent =
  /** The proxy's routes after start or a reload: how many were announced and withdrawn. */
  | {
      type: "routes-synced";
      reason: "start" | "reload";
      announced: number;
      withdrawn: number;
      routes: number;
      before: number;
    }
  /** A static VTEP announces its own IMET route for the service (RFC 7432 §11.1): no longer proxied. */
  | { type: "vtep-suppressed"; service: string; vtep: string }
  /** It stopped doing so: proxied again. */
  | { type: "vtep-proxied"; service: string; vtep: string }
  /** An unconfigured VTEP inside allowed-vtep-prefixes was seen: it gets its IMET route. */
  | { type: "vtep-discovered"; service: string; vni: number; vtep: string }
  /** A learning event (duplicate, limit hit, unknown VTEP, sticky MAC seen elsewhere, …). */
  | { type: "learning"; event: LearnEventKind; vni: number; vtep?: string; mac?: string; suppressed?: number }
  /** A proxy-ARP/ND event: a duplicate IP (RFC 9161 §3.7) and its release, a rate limit, a refused override. */
  | {
      type: "arp-nd";
      event: ArpNdEventKind;
      vni: number;
      ip?: string;
      mac?: string;
      vtep?: string;
      source?: string;
      claimMac?: string;
      claimVtep?: string;
      suppressed?: number;
    };

/** One learned route announced or withdrawn (published only while someone traces them). */
export interface LearnedRouteEvent {
  type: "learned-route";
  action: "announce" | "withdraw";
  vni: number;
  vtep: string;
  mac: string;
  ip: string | null;
}

/** A MAC learned, moved to another VTEP (RFC 7432 §15.1) or aged out (published only while traced). */
export interface MacEvent {
  type: "mac";
  event: "learned" | "moved" | "aged";
  vni: number;
  vtep: string;
  mac: string;
}

export type TraceEvent = LearnedRouteEvent | MacEvent;

export interface EvpnEvents {
  emit(e: EvpnEvent): void;
  /** Per-route and per-MAC events cost an object each: the controller asks before building one. */
  readonly tracing: boolean;
  trace(e: TraceEvent): void;
}

/** Drops every event (tests that do not read them). */
export const NO_EVENTS: EvpnEvents = { emit: () => undefined, tracing: false, trace: () => undefined };
