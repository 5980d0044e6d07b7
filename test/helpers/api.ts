// The management API in tests: a running daemon's configuration with the API on a private socket
// and loopback TCP port, requests over both, VXLAN ARP frames, EVPN UPDATEs from a scripted peer.
import assert from "node:assert/strict";
import type { z } from "zod";
import { apiRequest, type ApiResponse } from "../../src/cli/api-client.js";
import { encodeMessage, macIpRoute, type EvpnRoute, type PathAttribute } from "../../src/codec/index.js";
import type { Family } from "parse-prometheus-text-format";
import { h } from "./hex.js";

export const M1 = "02:00:00:00:01:05";
export const STATIC_MAC = "02:00:00:00:01:02";
export const FABRIC_MAC = "02:00:00:00:09:09";
export const VTEP_A = "127.0.0.3";
export const VTEP_B = "127.0.0.4";
export const EVPN_VTEP = "127.0.0.20";

/** GET or POST over the socket; the body validated against `schema` when given. */
export async function call<T>(
  socket: string,
  method: "GET" | "POST",
  path: string,
  status: number,
  schema?: z.ZodType<T>,
): Promise<T> {
  const r: ApiResponse = await apiRequest(socket, method, path);
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  if (schema === undefined) return r.body as T;
  const p = schema.safeParse(r.body);
  assert.ok(
    p.success,
    `${method} ${path}: the answer does not match its schema: ${p.error?.message}\n${JSON.stringify(r.body)}`,
  );
  return p.data;
}

/** VXLAN (VNI 10) carrying an ARP reply: `mac` is at `ip` (dotted quad). */
export function arpReply(mac: string, ip: string): Uint8Array {
  const m = mac.replaceAll(":", "");
  const a = ip
    .split(".")
    .map((x) => Number(x).toString(16).padStart(2, "0"))
    .join("");
  return h(`08000000 00000a00 | ffffffffffff ${m} 0806 | 0001 0800 06 04 0002 ${m} ${a} 020000000fff c6336401`);
}

function update(
  routes: EvpnRoute[],
  nextHop: string,
  extra: PathAttribute[] = [],
  ext: PathAttribute[] = [],
): Uint8Array {
  const attrs: PathAttribute[] = [
    { kind: "origin", origin: 0 },
    { kind: "as-path", segments: [] },
    { kind: "local-pref", localPref: 100 },
    ...ext,
    ...extra,
    { kind: "mp-reach", afi: 25, safi: 70, nextHop: [nextHop], nlri: { family: "evpn", routes } },
  ];
  return encodeMessage({ type: 2, withdrawn: [], nlri: [], attributes: attrs });
}

const rt = (more: { kind: "mac-mobility"; flags: number; sequence: number }[] = []): PathAttribute => ({
  kind: "ext-communities",
  communities: [{ kind: "route-target", value: "65000:10" }, { kind: "encapsulation", tunnelType: 8 }, ...more],
});

/** An EVPN VTEP's IMET route for VNI 10. */
export const imetUpdate = (vtep: string): Uint8Array =>
  update(
    [{ routeType: 3, rd: `${vtep}:10`, ethernetTag: 0, originator: vtep }],
    vtep,
    [{ kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: vtep }],
    [rt()],
  );

/** An EVPN VTEP's MAC route and MAC/IP route, MAC mobility sequence `seq`. */
export const macUpdate = (vtep: string, mac: string, ip: string, seq: number): Uint8Array =>
  update(
    [macIpRoute({ rd: `${vtep}:10`, mac, label1: 10 }), macIpRoute({ rd: `${vtep}:10`, mac, ip, label1: 10 })],
    vtep,
    [],
    [rt([{ kind: "mac-mobility", flags: 0, sequence: seq }])],
  );

/** The daemon's configuration: service vni10 with two static VTEPs, learning, the API on `socket` and TCP `httpPort`. */
export function apiYaml(o: {
  bgpPort: number;
  socket: string;
  httpPort: number;
  tokenFile: string;
  vxlan: string;
}): string {
  return `router-id: 192.0.2.4
local-as: 65000
listen:
  address: 127.0.0.1
  port: ${o.bgpPort}
neighbors:
  - address: 127.0.0.2
    peer-as: 65000
    passive: true
services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
      - address: ${VTEP_A}
        macs: ["${STATIC_MAC} 198.51.100.2"]
      - address: ${VTEP_B}
learning:
  vxlan-listen: ${o.vxlan}
  max-moves: 1
management:
  socket: ${o.socket}
  http: {address: 127.0.0.1, port: ${o.httpPort}}
  token-file: ${o.tokenFile}
`;
}

/** A sample of `/metrics` text parsed by a Prometheus text-format parser: the value with these labels. */
export function sample(families: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.find((x) => x.name === name);
  const s = f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return s?.value === undefined ? undefined : Number(s.value);
}

export interface SseEvent {
  name: string;
  data: Record<string, unknown>;
}

/** Reads server-sent events from a fetch response until `until` returns true (or `timeoutMs`). */
export async function readEvents(
  res: Response,
  until: (events: SseEvent[]) => boolean,
  timeoutMs = 5000,
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const deadline = Date.now() + timeoutMs;
  while (!until(events)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`events so far: ${events.map((e) => e.name).join(", ")}`);
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no event in time")), left).unref()),
    ]);
    if (chunk.done) break;
    buf += decoder.decode(chunk.value, { stream: true });
    for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (name !== undefined && data !== undefined)
        events.push({ name, data: JSON.parse(data) as Record<string, unknown> });
    }
  }
  reader.releaseLock();
  return events;
}
