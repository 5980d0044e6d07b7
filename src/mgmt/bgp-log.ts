// The BGP speaker's events as log lines: level, fields and message of each one. Labs and the
// daemon's operators read these lines ("peer X OpenConfirm -> Established", "End-of-RIB from X").
import type { Logger } from "pino";
import type { SpeakerEvent } from "../bgp/events.js";

/** A speaker `onEvent` that writes each event to `log`. */
export function bgpEventLogger(log: Logger): (e: SpeakerEvent) => void {
  return (e) => {
    switch (e.kind) {
      case "listening":
        return log.info({ address: e.address, port: e.port }, "listening for BGP connections");
      case "listener-error":
        return log.error({ err: e.error }, "listener error");
      case "unconfigured-connection":
        return log.warn(
          { remote: e.remote, remotePort: e.remotePort },
          "connection from an unconfigured address closed",
        );
      case "state":
        return log.info(
          { peer: e.peer, from: e.from, to: e.to, reason: e.reason },
          `peer ${e.peer} ${e.from} -> ${e.to}`,
        );
      case "established":
        return log.info(
          {
            peer: e.peer,
            peerAs: e.peerAs,
            holdTime: e.holdTime,
            families: e.families,
            gracefulRestart: e.gracefulRestart,
          },
          `session with ${e.peer} established`,
        );
      case "session-down":
        return log.warn(
          { peer: e.peer, cause: e.cause, reason: e.reason, gracefulRestart: e.gracefulRestart },
          `session with ${e.peer} down`,
        );
      case "notification-sent":
        return log.warn(
          { peer: e.peer, code: e.code, subcode: e.subcode, error: e.error?.code },
          `NOTIFICATION sent to ${e.peer}: ${e.text}${e.error ? ` (${e.error.message})` : ""}`,
        );
      case "notification-received":
        return log.warn(
          { peer: e.peer, code: e.code, subcode: e.subcode },
          `NOTIFICATION received from ${e.peer}: ${e.text}`,
        );
      case "end-of-rib":
        return log.info({ peer: e.peer, afi: e.afi, safi: e.safi }, `End-of-RIB from ${e.peer}`);
      case "stale-kept":
        return log.info(
          { peer: e.peer, families: e.families },
          `keeping routes of ${e.peer} as stale (graceful restart)`,
        );
      case "stale-swept":
        return log.info({ peer: e.peer, removed: e.removed, reason: e.reason }, `stale routes of ${e.peer} swept`);
      case "connection-refused":
        return log.info({ peer: e.peer, reason: e.reason }, `connection from ${e.peer} refused`);
      case "refusals-summed":
        return log.warn(
          { reason: e.reason, source: e.source, count: e.count, windowMs: e.windowMs },
          `${e.count} more connection(s) from ${e.source === "*" ? "other addresses" : e.source} ${e.reason === "unconfigured" ? "(unconfigured address) closed" : "refused"} within ${e.windowMs / 1000} s`,
        );
      case "treat-as-withdraw":
        return log.warn({ peer: e.peer, routes: e.routes, errors: e.errors }, "malformed UPDATE treated as withdraw");
      case "route-refresh":
        return log.info(
          { peer: e.peer, afi: e.afi, safi: e.safi },
          `ROUTE-REFRESH from ${e.peer}: re-sending our routes`,
        );
      case "route-not-sent":
        return log.error({ peer: e.peer, route: e.route, error: e.error }, "route not sent: cannot be encoded");
    }
  };
}
