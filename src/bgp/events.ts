// What the speaker reports as it runs: one typed event per thing worth a log line. The speaker
// emits them through its `onEvent` option; how they are logged is src/mgmt's business.

import {
  type AfiSafi,
  type BgpError,
  describeNotification,
  type NotificationMessage,
  shutdownCommunication,
} from "../codec/index.js";
import type { DownCause, FsmState } from "./fsm.js";
import type { Family, PeerAction } from "./peer.js";

/** A NOTIFICATION as reported: its code, subcode, readable text and RFC 9003 communication. */
export interface NotificationInfo {
  code: number;
  subcode: number;
  /** "Cease / Administrative Shutdown: \"maintenance\"". */
  text: string;
  /** The shutdown communication (RFC 9003), when it carries one. */
  communication?: string;
}

export type SpeakerEvent =
  | { kind: "listening"; address: string; port: number | undefined }
  | { kind: "listener-error"; error: Error }
  /** A connection from an address that is no neighbour's was closed. */
  | { kind: "unconfigured-connection"; remote: string; remotePort: number | undefined }
  | { kind: "state"; peer: string; from: FsmState; to: FsmState; reason: string }
  | {
      kind: "established";
      peer: string;
      peerAs: number;
      holdTime: number;
      families: AfiSafi[];
      /** The peer advertised graceful restart (RFC 4724). */
      gracefulRestart: boolean;
    }
  | { kind: "session-down"; peer: string; cause: DownCause; reason: string; gracefulRestart: boolean }
  /** `error`: why we sent it, when a decoding or protocol error did. */
  | ({ kind: "notification-sent"; peer: string; error?: { code: string; message: string } } & NotificationInfo)
  | ({ kind: "notification-received"; peer: string } & NotificationInfo)
  | { kind: "end-of-rib"; peer: string; afi: number; safi: number }
  /** Graceful restart (RFC 4724 §4.2): the peer's routes of these families are kept as stale. */
  | { kind: "stale-kept"; peer: string; families: Family[] }
  /** Stale routes the peer did not announce again were removed. */
  | { kind: "stale-swept"; peer: string; removed: number; reason: string }
  /** A connection from a neighbour was refused (collision, idle hold, administratively down). */
  | { kind: "connection-refused"; peer: string; reason: string }
  /**
   * Connections closed as unconfigured-connection or connection-refused from `source` ("*": from
   * addresses past the 1,024 tracked) within `windowMs`, beyond the first, which was reported.
   */
  | { kind: "refusals-summed"; reason: "unconfigured" | "refused"; source: string; count: number; windowMs: number }
  /** RFC 7606 §2: the routes of a malformed UPDATE were withdrawn; `routes` it announced, `errors` found. */
  | { kind: "treat-as-withdraw"; peer: string; routes: number; errors: number }
  /** The peer asked for our routes again (RFC 2918). */
  | { kind: "route-refresh"; peer: string; afi: number; safi: number }
  /** A route could not be encoded for this peer and was left out. */
  | { kind: "route-not-sent"; peer: string; route: string; error: string };

export type SpeakerEventKind = SpeakerEvent["kind"];

/** Code, subcode, text and communication of a NOTIFICATION. */
export function notificationInfo(m: NotificationMessage): NotificationInfo {
  const communication = shutdownCommunication(m);
  return {
    code: m.code,
    subcode: m.subcode,
    text: describeNotification(m),
    ...(communication !== undefined ? { communication } : {}),
  };
}

function sentError(e: BgpError | undefined): { error?: { code: string; message: string } } {
  return e ? { error: { code: e.code, message: e.message } } : {};
}

/**
 * The event a peer controller's action reports by itself, or null: actions that change the RIB
 * (stale sweeps) or the sessions (established) are reported by the speaker with what it did.
 */
export function actionEvent(peer: string, a: PeerAction): SpeakerEvent | null {
  switch (a.type) {
    case "state":
      return { kind: "state", peer, from: a.from, to: a.to, reason: a.reason };
    case "down":
      return { kind: "session-down", peer, cause: a.cause, reason: a.reason, gracefulRestart: a.gracefulRestart };
    case "end-of-rib":
      return { kind: "end-of-rib", peer, afi: a.afi, safi: a.safi };
    case "notification-sent":
      return { kind: "notification-sent", peer, ...notificationInfo(a.message), ...sentError(a.error) };
    case "notification-received":
      return { kind: "notification-received", peer, ...notificationInfo(a.message) };
    case "stale":
      return { kind: "stale-kept", peer, families: a.families };
    case "connection-refused":
      return { kind: "connection-refused", peer, reason: a.reason };
    default:
      return null;
  }
}
