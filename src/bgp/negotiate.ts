// Capability negotiation from the two OPEN messages (RFC 4271 §4.2, RFC 5492, RFC 4760 §8,
// RFC 6793, RFC 2918, RFC 7313, RFC 8654, RFC 4724). Pure.

import {
  type AfiSafi,
  BgpError,
  type Capability,
  CapCode,
  GR_FORWARDING_PRESERVED,
  GR_RESTART_STATE,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  OpenSub,
  type OpenMessage,
  capabilitiesOf,
  makeOpen,
  openError,
  peerAsOf,
} from "../codec/index.js";

export interface GracefulRestartConfig {
  /** Seconds the peer should keep our routes while we restart (RFC 4724 §3, 12 bits). */
  restartTime: number;
  /** Set the Restart State bit: this OPEN follows a restart of the speaker (RFC 4724 §3). */
  restarting: boolean;
}

export interface LocalSpeaker {
  localAs: number;
  routerId: string;
  /** Hold time we propose (RFC 4271 §4.2: 0 or ≥ 3). */
  holdTime: number;
  families: AfiSafi[];
  gracefulRestart?: GracefulRestartConfig;
  /** Offer RFC 8654 extended messages (default true). */
  extendedMessage?: boolean;
}

export interface PeerGracefulRestart {
  restartTime: number;
  /** The peer restarted and expects us to keep its stale routes until its End-of-RIB. */
  restartState: boolean;
  /** Families the peer preserves, with their forwarding-state bit (RFC 4724 §3). */
  families: { afi: number; safi: number; forwardingPreserved: boolean }[];
}

export interface Negotiated {
  peerAs: number;
  peerRouterId: string;
  ebgp: boolean;
  /** RFC 4271 §4.2: the smaller of the two hold times; 0 disables keepalives and the hold timer. */
  holdTime: number;
  families: AfiSafi[];
  as4: boolean;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  maxMessageSize: number;
  /** The peer's graceful restart capability, if it sent one. */
  peerGracefulRestart?: PeerGracefulRestart;
  /** We advertised graceful restart ourselves. */
  localGracefulRestart: boolean;
}

/** The OPEN we send: every capability this speaker implements. */
export function buildLocalOpen(local: LocalSpeaker): OpenMessage {
  const caps: Capability[] = local.families.map((f) => ({ code: 1, afi: f.afi, safi: f.safi }));
  caps.push({ code: 2 }, { code: 70 });
  if (local.extendedMessage !== false) caps.push({ code: 6 });
  caps.push({ code: 65, asn: local.localAs });
  if (local.gracefulRestart)
    caps.push({
      code: 64,
      restartFlags: local.gracefulRestart.restarting ? GR_RESTART_STATE : 0,
      restartTime: Math.min(local.gracefulRestart.restartTime, 0xfff),
      // Forwarding state preserved: the static VTEPs keep forwarding while the proxy restarts.
      families: local.families.map((f) => ({ afi: f.afi, safi: f.safi, flags: GR_FORWARDING_PRESERVED })),
    });
  // RFC 4724 §3: without families the capability still says we are a receiving speaker: the
  // peer then sends End-of-RIB after a restart, which ends our wait for its stale routes.
  else caps.push({ code: 64, restartFlags: 0, restartTime: 0, families: [] });
  return makeOpen({ asn: local.localAs, holdTime: local.holdTime, bgpId: local.routerId, capabilities: caps });
}

/**
 * Checks the peer's OPEN against the configuration and derives the session parameters.
 * Returns a BgpError (OPEN Message Error) when the session must not come up.
 */
export function negotiate(local: LocalSpeaker, expectedPeerAs: number, remote: OpenMessage): Negotiated | BgpError {
  const caps = capabilitiesOf(remote);
  const has = (code: number) => caps.some((c) => c.code === code);
  const as4 = has(CapCode.FOUR_OCTET_AS);
  const peerAs = peerAsOf(remote);
  // RFC 4271 §6.2 Bad Peer AS; RFC 6793 §4.1: the 4-octet AS capability carries the real AS.
  if (peerAs !== expectedPeerAs)
    return openError(OpenSub.BAD_PEER_AS, "ERR_OPEN_BAD_PEER_AS", `peer AS ${peerAs}, expected ${expectedPeerAs}`);
  const ebgp = peerAs !== local.localAs;
  // RFC 6286 §2.2: on iBGP the identifiers must differ.
  if (!ebgp && remote.bgpId === local.routerId)
    return openError(
      OpenSub.BAD_BGP_IDENTIFIER,
      "ERR_OPEN_BGP_ID_COLLISION",
      `peer uses our BGP identifier ${remote.bgpId}`,
    );

  // RFC 4760 §8: a peer that sends no multiprotocol capability supports IPv4 unicast only.
  const mp = caps.filter((c): c is Extract<Capability, { code: 1 }> => c.code === 1);
  const offered = mp.length > 0 ? mp.map((c) => ({ afi: c.afi, safi: c.safi })) : [{ afi: 1, safi: 1 }];
  const families = local.families.filter((f) => offered.some((o) => o.afi === f.afi && o.safi === f.safi));
  if (families.length === 0) {
    // RFC 5492 §3: the data lists the capabilities we need (multiprotocol, RFC 4760 §8).
    const data = Uint8Array.from(local.families.flatMap((f) => [1, 4, f.afi >>> 8, f.afi & 0xff, 0, f.safi]));
    return openError(OpenSub.UNSUPPORTED_CAPABILITY, "ERR_OPEN_NO_COMMON_FAMILY", "no address family in common", data);
  }

  const holdTime = Math.min(local.holdTime, remote.holdTime);
  const extendedMessage = local.extendedMessage !== false && has(CapCode.EXTENDED_MESSAGE);
  const n: Negotiated = {
    peerAs,
    peerRouterId: remote.bgpId,
    ebgp,
    holdTime,
    families,
    as4,
    routeRefresh: has(CapCode.ROUTE_REFRESH),
    enhancedRouteRefresh: has(CapCode.ENHANCED_ROUTE_REFRESH),
    extendedMessage,
    maxMessageSize: extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    localGracefulRestart: local.gracefulRestart !== undefined,
  };
  const gr = caps.find((c): c is Extract<Capability, { code: 64 }> => c.code === 64);
  if (gr)
    n.peerGracefulRestart = {
      restartTime: gr.restartTime,
      restartState: (gr.restartFlags & GR_RESTART_STATE) !== 0,
      families: gr.families.map((f) => ({
        afi: f.afi,
        safi: f.safi,
        forwardingPreserved: (f.flags & GR_FORWARDING_PRESERVED) !== 0,
      })),
    };
  return n;
}
