// The composition root: builds the BGP speaker, the EVPN controller, the learning engine and the
// data-plane sources, routes events between them and owns the timers. It decides nothing: what
// to announce is the controller's, what a reload changes is config/diff.ts's.

import { ManagementApi, type ReloadOutcome } from "../api/index.js";
import { DeadlineTimer } from "../bgp/io/deadline-timer.js";
import { Speaker } from "../bgp/io/speaker.js";
import { type ConfigDiff, diffConfig } from "../config/diff.js";
import { formatConfigError, loadConfig } from "../config/load.js";
import type { ProxyConfig } from "../config/model.js";
import { type CaptureCounters, CaptureSource } from "../dataplane/io/capture-source.js";
import { SenderSink } from "../dataplane/io/copy-sink.js";
import type { SourceStateEvent } from "../dataplane/io/reopen.js";
import { type ReceiverChoice, VxlanUdpSource } from "../dataplane/io/udp-source.js";
import { type SenderChoice, VxlanSender } from "../dataplane/io/vxlan-sender.js";
import { Learner } from "../dataplane/learning/learner.js";
import { changeStamp } from "../dataplane/learning/persist.js";
import { type CopySink, ReplicationEngine } from "../dataplane/replication/engine.js";
import { senderModes } from "../config/replication.js";
import { Controller } from "../evpn/controller.js";
import { EventBus } from "../mgmt/events.js";
import { logEvents } from "../mgmt/log-events.js";
import { type DaemonState, type Views, views } from "../mgmt/views.js";
import { StateSaver } from "../state/io/saver.js";
import { StateStore } from "../state/io/store.js";
import { restoreFrom, saveTiming } from "../state/policy.js";
import type { LearnedFrame } from "../wire/packet.js";
import type { Logger } from "./log.js";

export interface DaemonOptions {
  /** Receiver of the VXLAN socket (`run --vxlan-receiver`). */
  receiver?: ReceiverChoice;
  /** Sender of replicated copies (`run --vxlan-sender`). */
  sender?: SenderChoice;
  /** The configuration file: reloads (SIGHUP, the API) read it again. */
  file?: string;
  /** Reported by the API. */
  version?: string;
}

/** Receive slots big enough for jumbo frames when the proxy replicates: a frame is copied whole or not at all. */
const REPLICATION_SLOT_BYTES = 9216;

export class Daemon {
  private config: ProxyConfig;
  readonly events = new EventBus();
  private speaker: Speaker;
  private readonly controller: Controller;
  private unsubscribe: () => void = () => undefined;
  private source: VxlanUdpSource | undefined;
  private readonly captures: CaptureSource[] = [];
  private readonly replication: ReplicationEngine;
  /** Where the replication engine's copies go: the senders while they are open, else nowhere. */
  private sink: SenderSink | undefined;
  private readonly senders: VxlanSender[] = [];
  private settleQueued = false;
  /** Saves the learned table under state-directory (none with state-directory: false). */
  private saver: StateSaver | undefined;
  private readonly timer = new DeadlineTimer(
    Date.now,
    () => {
      this.controller.tick(Date.now());
      this.sink?.flush();
      this.afterInput();
    },
    true,
  );
  /** Typed read models of everything the daemon knows. */
  readonly views: Views;
  /** The management API (socket, optional TCP listener). */
  private readonly api: ManagementApi;
  /** Reloads run one after the other. */
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(
    config: ProxyConfig,
    log: Logger,
    private readonly opts: DaemonOptions = {},
  ) {
    this.config = config;
    logEvents(this.events, log);
    this.speaker = this.makeSpeaker();
    const copies: CopySink = {
      stage: (buf, off, len) => this.sink?.stage(buf, off, len) ?? 0,
      copy: (h, src, dst) => this.sink?.copy(h, src, dst),
    };
    this.replication = new ReplicationEngine(config.learning.vxlanListen ?? config.routerId, copies, (vni, b, o) =>
      this.controller.locate(vni, b, o),
    );
    this.controller = new Controller(config, {
      sink: this.speaker,
      rib: this.speaker.rib,
      events: this.events.evpnEvents(),
      newLearner: (cfg, fabric) => new Learner(cfg, fabric),
      replication: this.replication,
    });
    const state: DaemonState = {
      config: () => this.config,
      neighbors: () => this.speaker.status(),
      rib: () => this.speaker.rib,
      controller: () => this.controller,
      sources: () => this.source?.counters,
      replication: () => this.replication,
      senders: () => this.senders.map((x) => ({ mode: x.mode, counters: x.counters })),
      now: () => Date.now(),
    };
    this.views = views(state);
    this.api = new ManagementApi({
      settings: config.management,
      version: opts.version ?? "unknown",
      state,
      views: this.views,
      events: this.events,
      configFile: opts.file ?? null,
      actions: {
        resetNeighbor: (ip) => this.speaker.resetNeighbor(ip),
        refreshNeighbor: (ip) => this.speaker.requestRefresh(ip),
        clearDuplicates: () => {
          const n = this.controller.clearDuplicates();
          this.afterInput();
          return n;
        },
        reload: () =>
          opts.file === undefined ? Promise.reject(new Error("no configuration file")) : this.reloadFile(opts.file),
      },
    });
  }

  /** The live captures' counters, by device. */
  captureCounters(): { device: string; counters: CaptureCounters }[] {
    return this.captures.map((c) => ({ device: c.device, counters: c.counters }));
  }

  private makeSpeaker(): Speaker {
    const c = this.config;
    const s = new Speaker({
      routerId: c.routerId,
      localAs: c.localAs,
      listen: c.listen,
      // A start after a crash is a restart: the Restart State bit asks peers that kept our routes
      // to wait for our End-of-RIB (RFC 4724 §4.1); after a clean stop they kept nothing.
      gracefulRestart: c.gracefulRestart,
      restarting: true,
      neighbors: c.neighbors,
      onEvent: (e) => this.events.publish("bgp", e),
    });
    this.unsubscribe = s.subscribe((changes) => {
      this.controller.ribChanged(changes);
      this.afterInput();
    });
    return s;
  }

  async start(): Promise<void> {
    // The saved table first, then the routes: both leave with the initial table, before
    // End-of-RIB, so that peers keeping our routes stale across a crash refresh them (RFC 4724 §4.2).
    const store = this.config.state ? await this.openState(this.config.state.directory) : undefined;
    if (store) await this.restore(store);
    this.controller.start(Date.now());
    await this.speaker.start();
    await this.startSources();
    this.saver?.start();
    const c = this.config;
    this.events.publish("daemon", {
      type: "started",
      routerId: c.routerId,
      localAs: c.localAs,
      neighbors: c.neighbors.length,
      services: c.services.length,
      routes: this.controller.plannedCount,
    });
    await this.startApi();
  }

  /** The API's listeners; one that cannot open is reported, and the daemon runs on without it. */
  private async startApi(): Promise<void> {
    const m = this.config.management;
    if (m.socket === null && m.http === null) return;
    try {
      const { httpPort } = await this.api.start();
      this.events.publish("daemon", {
        type: "management-listening",
        socket: m.socket,
        http: m.http ? `${m.http.address}:${httpPort ?? m.http.port}` : null,
      });
    } catch (e) {
      await this.api.stop();
      this.events.publish("daemon", { type: "management-unavailable", message: (e as Error).message });
    }
  }

  /** Cease / Administrative Shutdown to every peer (RFC 4486, RFC 9003 communication). */
  async stop(communication: string): Promise<void> {
    await this.api.stop();
    this.unsubscribe();
    await this.stopSources();
    this.timer.clear();
    await Promise.all([this.saver?.stop(), this.speaker.stop(communication)]);
  }

  /**
   * SIGHUP and the API: reads `file` again; an invalid file is reported and the running
   * configuration kept. Reloads run one after the other.
   */
  reloadFile(file: string): Promise<ReloadOutcome> {
    const run = this.reloading.then(() => this.reloadNow(file));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(file: string): Promise<ReloadOutcome> {
    const next = loadConfig(file);
    const end = (o: ReloadOutcome): ReloadOutcome => {
      this.events.publish("daemon", { type: "config-reloaded", file, result: o.result });
      return o;
    };
    if (!next.ok) {
      for (const e of next.errors)
        this.events.publish("daemon", { type: "config-rejected", file, path: e.path, message: formatConfigError(e) });
      return end({ result: "rejected", errors: next.errors });
    }
    this.events.publish("daemon", { type: "config-reloading", file });
    try {
      const diff = await this.reload(next.config);
      const token = this.api.reloaded(Date.now());
      if (token !== null) this.events.publish("daemon", { type: "management-unavailable", message: token });
      return end({ result: "applied", diff });
    } catch (e) {
      // e.g. a new listen address that cannot be bound: say so and keep running
      const message = e instanceof Error ? e.message : String(e);
      this.events.publish("daemon", { type: "config-reload-failed", message });
      return end({ result: "failed", errors: [{ path: "", message }] });
    }
  }

  /** Applies a new configuration as a difference: only changed neighbours are reset, learned state stays. */
  async reload(next: ProxyConfig): Promise<ConfigDiff> {
    const d = diffConfig(this.config, next);
    // A state directory that cannot be used fails the reload before anything changed.
    const store = d.state && next.state ? await this.openState(next.state.directory) : undefined;
    if (d.state) await this.saver?.stop();
    this.config = next;
    if (d.state) this.saver = store && this.makeSaver(store);
    this.saver?.retime(this.saveTiming());
    this.saver?.start();
    if (d.learningSources) await this.stopSources();
    if (d.global) {
      this.events.publish("daemon", { type: "sessions-restarting" });
      this.unsubscribe();
      await this.speaker.stop("configuration change");
      this.speaker = this.makeSpeaker();
      this.controller.restart(this.speaker, this.speaker.rib, next, Date.now());
      await this.speaker.start();
    } else {
      for (const n of [...d.neighbors.removed, ...d.neighbors.changed]) this.speaker.removeNeighbor(n.address);
      for (const n of d.neighbors.removed)
        this.events.publish("daemon", { type: "neighbor-changed", peer: n.address, change: "removed" });
      for (const n of d.neighbors.changed)
        this.events.publish("daemon", { type: "neighbor-changed", peer: n.address, change: "changed" });
      for (const n of [...d.neighbors.changed, ...d.neighbors.added]) {
        this.speaker.addNeighbor(n);
        this.speaker.startNeighbor(n.address);
      }
      for (const n of d.neighbors.added)
        this.events.publish("daemon", { type: "neighbor-changed", peer: n.address, change: "added" });
      this.controller.reconfigure(next, Date.now(), d);
    }
    if (d.learningSources) await this.startSources();
    this.afterInput();
    return d;
  }

  /** The state directory, ready (created, writable; a ProxyError with the reason if not). */
  private async openState(directory: string): Promise<StateStore> {
    const store = new StateStore(directory);
    await store.prepare();
    return store;
  }

  /** Restores the saved table into the learning engine (before anything was learned), and saves from then on. */
  private async restore(store: StateStore): Promise<void> {
    const engine = this.controller.learner;
    if (engine) this.events.publish("daemon", restoreFrom(store.file, await store.read(), engine, Date.now()));
    this.saver = this.makeSaver(store);
  }

  private saveTiming() {
    return saveTiming(this.config.state?.saveSeconds ?? 1, this.config.learning.ageingSeconds);
  }

  private makeSaver(store: StateStore): StateSaver {
    return new StateSaver({
      store,
      source: () => {
        const l = this.controller.learner;
        return l ? { records: () => l.records(), stamp: () => changeStamp(l.counters()) } : null;
      },
      timing: this.saveTiming(),
      clock: Date.now,
      onEvent: (e) => this.events.publish("daemon", e),
    });
  }

  /** After any input: the controller's pending work runs once, outside the speaker's inbound processing. */
  private afterInput(): void {
    if (this.controller.pending && !this.settleQueued) {
      this.settleQueued = true;
      queueMicrotask(() => {
        this.settleQueued = false;
        this.controller.settle(Date.now());
        this.sink?.flush();
        this.armTimer();
      });
    }
    this.armTimer();
  }

  /** Keeps a timer for the controller's next deadline (an earlier one replaces it). */
  private armTimer(): void {
    this.timer.arm(this.controller.nextDeadline());
  }

  private readonly onFrame = (f: LearnedFrame): void => {
    if (this.controller.frame(f, Date.now())) this.afterInput();
  };

  private async startSources(): Promise<void> {
    const l = this.config.learning;
    if (!this.controller.learner) return;
    if (l.vxlanListen) {
      const replicating = await this.startSenders(l.vxlanListen);
      const src = new VxlanUdpSource(
        {
          address: l.vxlanListen,
          anyFrame: l.anyFrame,
          ...(this.opts.receiver ? { receiver: this.opts.receiver } : {}),
          onState: (e) => this.sourceState("vxlan", l.vxlanListen!, e),
          ...(replicating
            ? {
                slotBytes: REPLICATION_SLOT_BYTES,
                onDatagram: (buf, off, end, from) => this.replication.datagram(buf, off, end, from, Date.now()),
                onBatchEnd: () => {
                  this.controller.drainReplication();
                  this.sink?.flush();
                },
              }
            : {}),
        },
        this.onFrame,
      );
      await src.start();
      this.source = src;
      this.events.publish("daemon", {
        type: "learning-source",
        source: "vxlan",
        address: l.vxlanListen,
        port: src.port,
        receiver: src.receiver,
        receiveBuffer: src.receiveBufferBytes,
      });
    }
    for (const device of l.captureInterfaces) {
      const onState = (e: SourceStateEvent): void => this.sourceState("capture", device, e);
      const c = new CaptureSource({ device, anyFrame: l.anyFrame, onState }, this.onFrame);
      c.start(); // no addon or no CAP_NET_RAW fails the start; a missing interface is waited for
      this.captures.push(c);
      this.events.publish("daemon", { type: "learning-source", source: "capture", device, capturing: c.capturing });
    }
  }

  /** A source's socket stopped reading or reads again (it reopens itself). */
  private sourceState(source: "capture" | "vxlan", name: string, e: SourceStateEvent): void {
    if (e.state === "down") {
      const { code, reason, downs, retryInMs } = e;
      this.events.publish("daemon", { type: "learning-source-down", source, name, code, reason, downs, retryInMs });
    } else
      this.events.publish("daemon", {
        type: "learning-source-up",
        source,
        name,
        downMs: e.downMs,
        attempts: e.attempts,
      });
  }

  private async stopSources(): Promise<void> {
    for (const c of this.captures.splice(0)) c.stop();
    const src = this.source;
    this.source = undefined;
    await src?.stop();
    this.sink = undefined;
    for (const s of this.senders.splice(0)) await s.stop();
  }

  /**
   * Opens the senders the services need (none when no service replicates); returns whether the
   * proxy replicates. A raw sender that cannot open (no native addon, no CAP_NET_RAW) fails the
   * start with the reason.
   */
  private async startSenders(local: string): Promise<boolean> {
    const need = senderModes(this.config);
    if (!need.proxy) return false;
    const open = async (mode: "preserve" | "proxy"): Promise<VxlanSender> => {
      const s = new VxlanSender({ mode, local, ...(this.opts.sender ? { sender: this.opts.sender } : {}) });
      await s.start();
      this.senders.push(s);
      this.events.publish("daemon", { type: "replication-sender", mode, local, sender: s.kind });
      return s;
    };
    const proxy = await open("proxy");
    const preserve = need.preserve ? await open("preserve") : undefined;
    this.sink = new SenderSink(local, preserve, proxy);
    return true;
  }
}
