// What the daemon's state does not keep but operators ask for, recorded from the event bus:
// each neighbour's last state transitions and why its session last went down, NOTIFICATIONs by
// code and subcode, the recent moves of MACs that moved, configuration reloads by result. Every
// record is bounded; time comes from the `now` given (ms since the epoch).

import type { SpeakerEvent } from "../bgp/events.js";
import type { DownCause, FsmState } from "../bgp/fsm.js";
import type { EvpnEvent, TraceEvent } from "../evpn/events.js";
import type { DaemonEvent, EventBus, ReloadResult } from "./events.js";

export interface Transition {
  from: FsmState;
  to: FsmState;
  reason: string;
  at: number;
}

export interface SessionDown {
  cause: DownCause;
  reason: string;
  at: number;
}

export interface NotificationCount {
  direction: "sent" | "received";
  code: number;
  subcode: number;
  count: number;
}

export type MacEventKind = "learned" | "moved" | "aged" | "duplicate" | "duplicate-released";

/** One step of a MAC's recent history: where it was seen (the VTEP it moved to, for a move). */
export interface MacStep {
  event: MacEventKind;
  vtep: string | null;
  at: number;
}

export interface HistoryLimits {
  /** Transitions kept per neighbour. */
  transitions: number;
  /** Steps kept per MAC. */
  macSteps: number;
  /** MACs whose history is kept (the least recently moved go first). */
  macs: number;
}

export const HISTORY_LIMITS: HistoryLimits = { transitions: 10, macSteps: 10, macs: 10_000 };

interface PeerRecord {
  transitions: Transition[];
  /** State changes since the start. */
  transitionCount: number;
  down: SessionDown | null;
  notifications: Map<string, NotificationCount>;
}

export class History {
  private readonly peers = new Map<string, PeerRecord>();
  /** `vni/mac` → steps, in the order MACs last moved. */
  private readonly macs = new Map<string, MacStep[]>();
  readonly reloads: Record<ReloadResult, number> = { applied: 0, rejected: 0, failed: 0 };
  lastReload: { result: ReloadResult; at: number } | null = null;
  /** Learned routes announced and withdrawn since the start. */
  readonly learnedRoutes = { announced: 0, withdrawn: 0 };
  /** Per VNI: MAC moves, duplicates, limit hits by limit (throttled events count what they suppressed). */
  readonly perVni = new Map<number, { moves: number; duplicates: number; limits: Record<string, number> }>();
  private readonly off: (() => void)[];

  constructor(
    bus: EventBus,
    private readonly now: () => number,
    private readonly limits: HistoryLimits = HISTORY_LIMITS,
  ) {
    this.off = [
      bus.subscribe("bgp", (e) => this.bgp(e)),
      bus.subscribe("evpn", (e) => this.evpn(e)),
      bus.subscribe("trace", (e) => this.trace(e)),
      bus.subscribe("daemon", (e) => this.daemon(e)),
    ];
  }

  close(): void {
    for (const f of this.off.splice(0)) f();
  }

  /** The last transitions of a neighbour, oldest first. */
  transitions(peer: string): Transition[] {
    return [...(this.peers.get(peer)?.transitions ?? [])];
  }

  transitionCount(peer: string): number {
    return this.peers.get(peer)?.transitionCount ?? 0;
  }

  lastDown(peer: string): SessionDown | null {
    return this.peers.get(peer)?.down ?? null;
  }

  /** NOTIFICATIONs sent and received per neighbour, by code and subcode. */
  notifications(peer: string): NotificationCount[] {
    return [...(this.peers.get(peer)?.notifications.values() ?? [])].map((n) => ({ ...n }));
  }

  /** Neighbours with a record (also removed ones, until the next start). */
  peerAddresses(): string[] {
    return [...this.peers.keys()];
  }

  /** Recent steps of a MAC that moved or was a duplicate, oldest first; [] for others. */
  macHistory(vni: number, mac: string): MacStep[] {
    return [...(this.macs.get(`${vni}/${mac}`) ?? [])];
  }

  /** The last move of a MAC: the VTEP it moved to and when; null when none is recorded. */
  lastMove(vni: number, mac: string): { vtep: string; at: number } | null {
    const steps = this.macs.get(`${vni}/${mac}`);
    if (steps === undefined) return null;
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      if (s.event === "moved" && s.vtep !== null) return { vtep: s.vtep, at: s.at };
    }
    return null;
  }

  private peer(address: string): PeerRecord {
    let r = this.peers.get(address);
    if (r === undefined)
      this.peers.set(address, (r = { transitions: [], transitionCount: 0, down: null, notifications: new Map() }));
    return r;
  }

  private bgp(e: SpeakerEvent): void {
    switch (e.kind) {
      case "state": {
        const r = this.peer(e.peer);
        r.transitionCount++;
        const t = r.transitions;
        t.push({ from: e.from, to: e.to, reason: e.reason, at: this.now() });
        if (t.length > this.limits.transitions) t.shift();
        return;
      }
      case "session-down":
        this.peer(e.peer).down = { cause: e.cause, reason: e.reason, at: this.now() };
        return;
      case "notification-sent":
      case "notification-received": {
        const direction = e.kind === "notification-sent" ? "sent" : "received";
        const m = this.peer(e.peer).notifications;
        const key = `${direction}/${e.code}/${e.subcode}`;
        const n = m.get(key);
        if (n) n.count++;
        else m.set(key, { direction, code: e.code, subcode: e.subcode, count: 1 });
        return;
      }
      default:
        return;
    }
  }

  private vni(vni: number) {
    let v = this.perVni.get(vni);
    if (v === undefined) this.perVni.set(vni, (v = { moves: 0, duplicates: 0, limits: {} }));
    return v;
  }

  private evpn(e: EvpnEvent): void {
    if (e.type === "learning" && e.event === "duplicate") this.vni(e.vni).duplicates++;
    if (e.type === "learning" && e.event.startsWith("limit-")) {
      const l = this.vni(e.vni).limits;
      const kind = e.event.slice(6);
      l[kind] = (l[kind] ?? 0) + 1 + (e.suppressed ?? 0);
    }
    if (e.type === "learning" && e.mac !== undefined && (e.event === "duplicate" || e.event === "duplicate-released"))
      this.mac(e.vni, e.mac, { event: e.event, vtep: e.vtep ?? null, at: this.now() }, e.event === "duplicate");
  }

  private trace(e: TraceEvent): void {
    if (e.type === "learned-route") {
      if (e.action === "announce") this.learnedRoutes.announced++;
      else this.learnedRoutes.withdrawn++;
    } else if (e.event === "moved") {
      this.vni(e.vni).moves++;
      this.mac(e.vni, e.mac, { event: "moved", vtep: e.vtep, at: this.now() }, true);
    } else this.mac(e.vni, e.mac, { event: e.event, vtep: e.vtep, at: this.now() }, false);
  }

  /** Records a step; only a move or a duplicate starts a MAC's history (bounded by limits.macs). */
  private mac(vni: number, mac: string, step: MacStep, starts: boolean): void {
    const key = `${vni}/${mac}`;
    let steps = this.macs.get(key);
    if (steps === undefined) {
      if (!starts) return;
      steps = [];
    }
    this.macs.delete(key);
    this.macs.set(key, steps);
    steps.push(step);
    if (steps.length > this.limits.macSteps) steps.shift();
    if (this.macs.size > this.limits.macs) this.macs.delete(this.macs.keys().next().value!);
  }

  private daemon(e: DaemonEvent): void {
    if (e.type === "config-reloaded") {
      this.reloads[e.result]++;
      this.lastReload = { result: e.result, at: this.now() };
    }
  }
}
