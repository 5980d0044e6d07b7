// The RFC 9161 proxy-ARP/ND function on the replication path: ARP and ND frames of a service with
// the proxy on are decoded (wire/arpnd.ts), teach the table their bindings (dynamic entries,
// RFC 9161 §3.2.1) and, while this proxy is the elected replicator, requests for known addresses
// are answered back to the requesting VTEP instead of being replicated. Replies, gratuitous
// announcements and refresh requests are built into one scratch buffer (wire/frames.ts) and
// handed to the CopySink like copies.
//
// Outer source of what the proxy sends: a reply or an announcement for a MAC leaves with the
// address of the VTEP where that MAC sits (a flood-and-learn VTEP learns the MAC there, not at
// the proxy) unless the service uses `replication-source: proxy`; refresh requests are the
// proxy's own and leave from its address.

import { ipBytes, ipv4Number, parseMacInto } from "../../net/addr.js";
import type { ArpNdProxy } from "../arpnd/proxy.js";
import { type ArpNdAction, FLAG_OVERRIDE, FLAG_ROUTER } from "../arpnd/types.js";
import { type ArpNdMessage, decodeArpNdInto, NA_OVERRIDE, NA_ROUTER, newArpNdMessage } from "../../wire/arpnd.js";
import {
  buildArpRefresh,
  buildArpReply,
  buildGratuitousArp,
  buildNaReply,
  buildNsRefresh,
  buildUnsolicitedNa,
  buildVxlanHeader,
  type ProxyIdentity,
  proxyIdentity,
  proxyMacFromAddress,
  VXLAN_HEADER_LENGTH,
} from "../../wire/frames.js";
import type { CopySink } from "./engine.js";
import type { FloodList, VtepRole } from "./flood.js";

/**
 * What the replication path does with a frame after the responder saw it: "pass", not an ARP/ND
 * message of interest, forwarded as any other frame; "flood", a request or announcement the
 * table says to replicate; "done", answered or dropped (counted).
 */
export type Verdict = "pass" | "flood" | "done";

/** Decoder skip reasons that mean "some other frame", forwarded as usual. */
const PASS_REASONS = new Set(["inner-not-arp-nd", "arp-unsupported", "truncated-inner-ipv6", "bad-inner-ipv6"]);

export interface ResponderCounters {
  /** ARP replies and NAs sent for known addresses. */
  answered: number;
  /** Malformed ARP/ND frames dropped, by decoder reason. */
  malformed: Record<string, number>;
  /** Requests and announcements the table said to drop, by reason (rate, local, spoofed, …). */
  dropped: Record<string, number>;
  gratuitousSent: number;
  refreshSent: number;
}

/** Longest frame built here: VXLAN header, Ethernet with two tags, IPv6, an NS/NA with an option. */
const SCRATCH = VXLAN_HEADER_LENGTH + 22 + 40 + 32;

export class Responder {
  readonly counters: ResponderCounters = {
    answered: 0,
    malformed: {},
    dropped: {},
    gratuitousSent: 0,
    refreshSent: 0,
  };
  private readonly msg: ArpNdMessage = newArpNdMessage();
  private readonly out = new Uint8Array(SCRATCH);
  private readonly mac = new Uint8Array(6);
  private identity: ProxyIdentity;

  constructor(
    readonly table: ArpNdProxy,
    private readonly sink: CopySink,
    private self: string,
  ) {
    this.identity = identityOf(self);
  }

  setSelf(address: string): void {
    this.self = address;
    this.identity = identityOf(address);
  }

  /**
   * An ARP/ND frame (inner Ethernet at `inner`) of VNI `vni` from `from`. Learns always (also a
   * proxy that is not elected, so that it takes over with a warm table); answers only when
   * `forwarding`. `viaProxy`: replies leave from the proxy's address.
   */
  frame(
    vni: number,
    buf: Uint8Array,
    inner: number,
    end: number,
    from: string,
    role: VtepRole,
    forwarding: boolean,
    viaProxy: boolean,
    now: number,
  ): Verdict {
    const m = this.msg;
    const skip = decodeArpNdInto(m, buf, inner, end);
    if (skip !== null) {
      if (PASS_REASONS.has(skip)) return "pass";
      this.counters.malformed[skip] = (this.counters.malformed[skip] ?? 0) + 1;
      return "done";
    }
    const t = this.table;
    const kind = m.kind;
    // RFC 9161 §3.2.1: dynamic entries from ARP (not probes) and from NA with the target
    // link-layer address, never from NS; only the static VTEPs' hosts (EVPN VTEPs announce theirs).
    if (role === "static") {
      if (kind === "arp-request" || kind === "arp-reply") {
        const r = t.learn(vni, m.ipAt(m.senderIp)!, m.macAt(m.senderMac)!, from, 0, 0, now);
        if (r === "spoofed") return this.dropped("spoofed");
      } else if (kind === "na" && m.targetMac >= 0 && (m.naFlags & 0x40) !== 0) {
        const r = t.learn(vni, m.targetIpText(), m.macAt(m.targetMac)!, from, naToEntry(m.naFlags), 0, now);
        if (r === "spoofed") return this.dropped("spoofed");
      }
    }
    const gratuitous = kind === "garp" || (kind === "na" && (m.naFlags & 0x40) === 0);
    if (gratuitous) {
      if (role !== "static") return forwarding ? "pass" : "done";
      const ip = kind === "garp" ? m.ipAt(m.senderIp)! : m.targetIpText();
      const mac = kind === "garp" ? m.macAt(m.senderMac)! : (m.macAt(m.targetMac) ?? m.ethSrcText());
      const d = t.gratuitous(vni, ip, mac, from, kind === "na" ? naToEntry(m.naFlags) : 0, 0, now);
      if (!forwarding) return "done";
      return d.kind === "flood" ? "flood" : d.kind === "drop" ? this.dropped(d.reason) : "pass";
    }
    if (!m.isRequest() || !forwarding) return "pass";
    const d = t.request(vni, m.targetIpText(), from, m.ethSrcText(), now);
    if (d.kind === "flood") return "flood";
    if (d.kind === "drop") return this.dropped(d.reason);
    // RFC 9161 §3.3 / RFC 4861 §7.2.4: the reply, back to the requesting VTEP.
    parseMacInto(d.mac, this.mac, 0);
    const out = this.out;
    buildVxlanHeader(out, 0, vni);
    const n =
      m.ipLength === 4
        ? buildArpReply(out, VXLAN_HEADER_LENGTH, m, this.mac, 0)
        : buildNaReply(
            out,
            VXLAN_HEADER_LENGTH,
            m,
            this.mac,
            0,
            (d.router ? NA_ROUTER : 0) | (d.override ? NA_OVERRIDE : 0),
          );
    const src = viaProxy || d.vtep === undefined ? this.self : d.vtep;
    this.sink.copy(this.sink.stage(out, 0, VXLAN_HEADER_LENGTH + n), src, from);
    this.counters.answered++;
    return "done";
  }

  /**
   * Sends what the table asks for: refresh requests towards a silent host's VTEP (RFC 9161 §3.5)
   * and gratuitous ARP / unsolicited NA for new static and EVPN entries towards the static VTEPs
   * of the service (RFC 9161 §3.2) when `floods` gives a list for them (it holds back or drops
   * those of VNIs this proxy does not forward). Returns the table's events, for the log.
   */
  act(
    actions: readonly ArpNdAction[],
    floods: (a: Extract<ArpNdAction, { type: "garp" }>) => FloodList | undefined,
    viaProxy: (vni: number) => boolean,
  ) {
    const events: Extract<ArpNdAction, { type: "event" }>[] = [];
    const out = this.out;
    for (const a of actions) {
      if (a.type === "event") {
        events.push(a);
        continue;
      }
      parseMacInto(a.mac, this.mac, 0);
      buildVxlanHeader(out, 0, a.vni);
      const v4 = !a.ip.includes(":");
      if (a.type === "refresh") {
        const n = v4
          ? buildArpRefresh(out, VXLAN_HEADER_LENGTH, this.identity, this.mac, 0, ipv4Number(a.ip))
          : buildNsRefresh(out, VXLAN_HEADER_LENGTH, this.identity, this.mac, 0, ipBytes(a.ip)!, 0);
        this.sink.copy(this.sink.stage(out, 0, VXLAN_HEADER_LENGTH + n), this.self, a.vtep);
        this.counters.refreshSent++;
        continue;
      }
      const list = floods(a);
      if (!list) continue;
      const n = v4
        ? buildGratuitousArp(out, VXLAN_HEADER_LENGTH, this.mac, 0, ipv4Number(a.ip))
        : buildUnsolicitedNa(
            out,
            VXLAN_HEADER_LENGTH,
            this.mac,
            0,
            ipBytes(a.ip)!,
            0,
            (a.router ? NA_ROUTER : 0) | (a.override ? NA_OVERRIDE : 0),
          );
      const src = viaProxy(a.vni) || a.vtep === undefined ? this.self : a.vtep;
      const h = this.sink.stage(out, 0, VXLAN_HEADER_LENGTH + n);
      for (const v of list.statics)
        if (v !== a.vtep && list.role.get(v) === "static") {
          this.sink.copy(h, src, v);
          this.counters.gratuitousSent++;
        }
    }
    return events;
  }

  private dropped(reason: string): Verdict {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    return "done";
  }
}

/** NA R and O bits as the table's entry flags (RFC 9047 §2 values). */
function naToEntry(naFlags: number): number {
  return ((naFlags & NA_ROUTER) !== 0 ? FLAG_ROUTER : 0) | ((naFlags & NA_OVERRIDE) !== 0 ? FLAG_OVERRIDE : 0);
}

/** The proxy's MAC (derived from its VXLAN address) and link-local address: the source of refresh requests. */
function identityOf(address: string): ProxyIdentity {
  const mac = new Uint8Array(6);
  proxyMacFromAddress(ipBytes(address) ?? new Uint8Array(4), mac, 0);
  return proxyIdentity(mac, 0);
}
