// The logger as one subscriber of the event bus: the lines the daemon writes (pino JSON; readable
// on a terminal). Levels: warn for what an operator should look at (duplicates, limits, a static
// VTEP that announces itself), debug for one line per learned route.

import type { Logger } from "pino";
import type { EvpnEvent } from "../evpn/events.js";
import { bgpEventLogger } from "./bgp-log.js";
import type { DaemonEvent, EventBus } from "./events.js";

function logEvpn(log: Logger, e: EvpnEvent): void {
  switch (e.type) {
    case "routes-synced":
      if (e.reason === "reload")
        log.info(
          { announced: e.announced, withdrawn: e.withdrawn, routes: e.routes, before: e.before },
          "configuration reloaded",
        );
      return;
    case "vtep-suppressed":
      log.warn(
        { service: e.service, vtep: e.vtep },
        `static VTEP ${e.vtep} announces its own IMET route for service ${e.service}: no longer proxied there`,
      );
      return;
    case "vtep-proxied":
      log.info(
        { service: e.service, vtep: e.vtep },
        `static VTEP ${e.vtep} no longer announces itself for service ${e.service}: proxied again`,
      );
      return;
    case "vtep-discovered":
      log.info({ action: "discover-vtep", vni: e.vni, vtep: e.vtep }, "learning: discover-vtep");
      return;
    case "learning": {
      const level = e.event === "duplicate" || e.event.startsWith("limit") ? "warn" : "info";
      log[level](
        { event: e.event, vni: e.vni, vtep: e.vtep, mac: e.mac, suppressed: e.suppressed },
        `learning: ${e.event}`,
      );
      return;
    }
    case "arp-nd": {
      const level = e.event === "duplicate-released" ? "info" : "warn";
      log[level](
        {
          event: e.event,
          vni: e.vni,
          ip: e.ip,
          mac: e.mac,
          vtep: e.vtep,
          claimMac: e.claimMac,
          claimVtep: e.claimVtep,
          source: e.source,
          suppressed: e.suppressed,
        },
        `arp-nd: ${e.event}${e.ip !== undefined ? ` ${e.ip}` : ""}`,
      );
      return;
    }
  }
}

function logDaemon(log: Logger, e: DaemonEvent): void {
  switch (e.type) {
    case "started":
      log.info(
        { routerId: e.routerId, localAs: e.localAs, neighbors: e.neighbors, services: e.services },
        `evpn-proxy ${e.routerId} AS ${e.localAs}: ${e.neighbors} neighbor(s), ${e.services} service(s), ${e.routes} route(s)`,
      );
      return;
    case "stopping":
      log.info({ signal: e.signal }, `${e.signal}: stopping`);
      return;
    case "config-reloading":
      log.info({ file: e.file }, "reloading the configuration");
      return;
    case "config-rejected":
      log.error({ file: e.file, path: e.path }, `configuration rejected, running one kept: ${e.message}`);
      return;
    case "config-reload-failed":
      log.error(`reload failed: ${e.message}`);
      return;
    case "config-reloaded":
      return; // said by the events before it
    case "management-listening":
      log.info({ socket: e.socket, http: e.http }, "management API listening");
      return;
    case "management-unavailable":
      log.error(`management API: ${e.message}`);
      return;
    case "sessions-restarting":
      log.warn("router-id, local-as, listen or graceful-restart changed: restarting every session");
      return;
    case "neighbor-changed":
      log.info(
        { peer: e.peer },
        e.change === "changed"
          ? `neighbor ${e.peer} changed: session restarts`
          : `neighbor ${e.peer} ${e.change === "added" ? "added" : "removed"}`,
      );
      return;
    case "learning-source":
      if (e.source === "vxlan")
        log.info(
          { address: e.address, port: e.port, receiver: e.receiver, receiveBuffer: e.receiveBuffer },
          "learning from VXLAN datagrams",
        );
      else log.info({ device: e.device, capturing: e.capturing }, `learning from a live capture on ${e.device}`);
      return;
    case "learning-source-down":
      log.warn(
        { source: e.source, name: e.name, code: e.code, downs: e.downs, retryInMs: e.retryInMs },
        `${e.source === "capture" ? `capture on ${e.name}` : `VXLAN socket ${e.name}`} stopped: ${e.reason}; opening it again`,
      );
      return;
    case "learning-source-up":
      log.info(
        { source: e.source, name: e.name, downMs: e.downMs, attempts: e.attempts },
        `${e.source === "capture" ? `capture on ${e.name}` : `VXLAN socket ${e.name}`} reads again`,
      );
      return;
    case "state-none":
      log.info({ file: e.file }, "no saved learned table: learning from scratch");
      return;
    case "state-ignored":
      log.error({ file: e.file }, `saved learned table ignored, learning from scratch: ${e.reason}`);
      return;
    case "state-restored": {
      const dropped = Object.values(e.dropped).reduce((a, b) => a + b, 0);
      log.info(
        {
          file: e.file,
          savedAt: new Date(e.savedAt).toISOString(),
          restored: e.restored,
          restoredIps: e.restoredIps,
          dropped: e.dropped,
          droppedIps: e.droppedIps,
        },
        `restored ${e.restored} learned MAC(s) and ${e.restoredIps} IP(s) of ${e.records} saved; ${dropped} dropped`,
      );
      return;
    }
    case "state-saved": {
      const fields = {
        file: e.file,
        records: e.records,
        skipped: e.skipped,
        bytes: e.bytes,
        ms: Math.round(e.ms),
        longestSliceMs: e.longestSliceMs,
      };
      if (e.ms > e.intervalMs)
        log.warn(fields, `saving the learned table took ${Math.round(e.ms)} ms, longer than state-save-seconds`);
      else log.debug(fields, "learned table saved");
      return;
    }
    case "state-save-failed":
      log.error({ file: e.file }, `cannot save the learned table: ${e.message}`);
      return;
    case "replication-sender":
      log.info(
        { mode: e.mode, local: e.local, sender: e.sender },
        e.mode === "preserve"
          ? "replicating with the outer source address of the sending VTEP"
          : "replicating from the proxy's own address",
      );
      return;
  }
}

/** Subscribes `log` to every topic of `bus`; learned-route traces only at debug level. */
export function logEvents(bus: EventBus, log: Logger): () => void {
  const off = [
    bus.subscribe("bgp", bgpEventLogger(log)),
    bus.subscribe("evpn", (e) => logEvpn(log, e)),
    bus.subscribe("daemon", (e) => logDaemon(log, e)),
  ];
  if (log.isLevelEnabled("debug"))
    off.push(
      bus.subscribe("trace", (e) => {
        if (e.type === "learned-route")
          log.debug({ action: e.action, vni: e.vni, vtep: e.vtep, mac: e.mac, ip: e.ip }, `learning: ${e.action}`);
      }),
    );
  return () => off.forEach((f) => f());
}
