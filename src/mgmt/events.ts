// The daemon's events: one typed bus per daemon, topics for the BGP speaker, the EVPN controller,
// learned-route traces and the daemon itself. Subscribers (the logger, the API, metrics) read
// events; nothing they do feeds back. Each event is also published on node:diagnostics_channel
// (`evpn-proxy:<topic>`) when something outside subscribes there.

import diagnostics_channel from "node:diagnostics_channel";
import type { SpeakerEvent } from "../bgp/events.js";
import type { EvpnEvent, EvpnEvents, TraceEvent } from "../evpn/events.js";
import type { SaveEvent } from "../state/io/saver.js";
import type { RestoreOutcome } from "../state/policy.js";

/** How a reload ended: applied, the file rejected (running configuration kept), or applying it failed. */
export type ReloadResult = "applied" | "rejected" | "failed";

export type DaemonEvent =
  | { type: "started"; routerId: string; localAs: number; neighbors: number; services: number; routes: number }
  | { type: "stopping"; signal: string }
  | { type: "config-reloading"; file: string }
  | { type: "config-rejected"; file: string; path: string; message: string }
  | { type: "config-reload-failed"; message: string }
  /** The end of every reload (SIGHUP or the API), after the events above. */
  | { type: "config-reloaded"; file: string; result: ReloadResult }
  /** The management API listens: its socket, its TCP listener (address:port). */
  | { type: "management-listening"; socket: string | null; http: string | null }
  /** A listener of the management API could not open, or the token file could not be read. */
  | { type: "management-unavailable"; message: string }
  /** router-id, local-as, listen or graceful-restart changed. */
  | { type: "sessions-restarting" }
  | { type: "neighbor-changed"; peer: string; change: "added" | "removed" | "changed" }
  | {
      type: "learning-source";
      source: "vxlan";
      address: string;
      port: number | undefined;
      receiver: string | undefined;
      receiveBuffer: number | undefined;
    }
  /** `capturing` false: the interface is missing or down, and waited for (learning-source-down). */
  | { type: "learning-source"; source: "capture"; device: string; capturing: boolean }
  /**
   * A learning source's socket stopped reading: a capture's interface went down or away
   * (ENETDOWN), or is missing (ENODEV); a socket error on the VXLAN socket. It is opened again
   * after `retryInMs`, then at doubling intervals.
   */
  | {
      type: "learning-source-down";
      source: "capture" | "vxlan";
      /** The device, or the VXLAN socket's address. */
      name: string;
      code: string;
      reason: string;
      downs: number;
      retryInMs: number;
    }
  /** It reads again, `downMs` after it stopped. */
  | { type: "learning-source-up"; source: "capture" | "vxlan"; name: string; downMs: number; attempts: number }
  /** A sender of replicated copies opened: "preserve" keeps the VTEPs' source addresses, "proxy" uses ours. */
  | { type: "replication-sender"; mode: "preserve" | "proxy"; local: string; sender: string | undefined }
  /** At start: the saved learned table restored, ignored (with the reason) or not there. */
  | RestoreOutcome
  | SaveEvent;

export interface EventTopics {
  bgp: SpeakerEvent;
  evpn: EvpnEvent;
  trace: TraceEvent;
  daemon: DaemonEvent;
}

export type Topic = keyof EventTopics;
type Listener<T extends Topic> = (e: EventTopics[T]) => void;

export class EventBus {
  private readonly listeners: { [T in Topic]: Listener<T>[] } = { bgp: [], evpn: [], trace: [], daemon: [] };
  private readonly channels = {
    bgp: diagnostics_channel.channel("evpn-proxy:bgp"),
    evpn: diagnostics_channel.channel("evpn-proxy:evpn"),
    trace: diagnostics_channel.channel("evpn-proxy:trace"),
    daemon: diagnostics_channel.channel("evpn-proxy:daemon"),
  };

  publish<T extends Topic>(topic: T, e: EventTopics[T]): void {
    for (const l of this.listeners[topic]) l(e);
    const ch = this.channels[topic];
    if (ch.hasSubscribers) ch.publish(e);
  }

  /** Returns the unsubscribe function. */
  subscribe<T extends Topic>(topic: T, l: Listener<T>): () => void {
    const list = this.listeners[topic];
    list.push(l);
    this.view.tracing = this.listeners.trace.length > 0;
    return () => {
      const i = list.indexOf(l);
      if (i >= 0) list.splice(i, 1);
      this.view.tracing = this.listeners.trace.length > 0;
    };
  }

  /**
   * The controller's view of the bus. `tracing` is a plain field, read per datagram: trace
   * events (one per learned route or MAC) are built only while the bus has a trace subscriber.
   */
  private readonly view: { -readonly [K in keyof EvpnEvents]: EvpnEvents[K] } = {
    emit: (e) => this.publish("evpn", e),
    tracing: false,
    trace: (e) => this.publish("trace", e),
  };

  evpnEvents(): EvpnEvents {
    return this.view;
  }
}
