// A pre-encoded BGP sender for benchmarks: encodes N type-2 routes into UPDATEs of 90 routes
// before it connects, brings up a session, and on "go" writes them all as fast as TCP takes them.
// Runs inside a lab namespace; talks JSON lines on stdout, reads commands on stdin.
//   node bgp-blaster.js '{"peer":"192.0.2.2","localAs":65000,"routerId":"192.0.2.1","routes":100000}'
import net from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import {
  ceaseNotification,
  encapsulation,
  encodeMessage,
  endOfRib,
  KEEPALIVE,
  MessageFramer,
  macIpRoute,
  makeOpen,
  routeTarget,
} from "../src/codec/index.js";

const o = JSON.parse(process.argv[2] ?? "{}") as {
  peer: string;
  localAs: number;
  routerId: string;
  routes: number;
  perUpdate?: number;
};
const per = o.perUpdate ?? 90;
const clock = (): number => performance.timeOrigin + performance.now();
const say = (x: object): void => void process.stdout.write(`${JSON.stringify(x)}\n`);

const hex = (v: number) => v.toString(16).padStart(2, "0");
const updates: Uint8Array[] = [];
for (let i = 0; i < o.routes; i += per) {
  const routes = [];
  for (let k = i; k < Math.min(i + per, o.routes); k++)
    routes.push(
      macIpRoute({
        rd: `${o.routerId}:10`,
        mac: `02:${hex((k >>> 24) & 255)}:${hex((k >>> 16) & 255)}:${hex((k >>> 8) & 255)}:${hex(k & 255)}:02`,
        ip: `198.51.100.${k & 255}`,
        label1: 10,
      }),
    );
  updates.push(
    encodeMessage({
      type: 2,
      withdrawn: [],
      nlri: [],
      attributes: [
        { kind: "origin", origin: 0 },
        { kind: "as-path", segments: [] },
        { kind: "local-pref", localPref: 100 },
        { kind: "mp-reach", afi: 25, safi: 70, nextHop: [o.routerId], nlri: { family: "evpn", routes } },
        { kind: "ext-communities", communities: [routeTarget(`${o.localAs}:10`), encapsulation()] },
      ],
    }),
  );
}
updates.push(encodeMessage(endOfRib(25, 70)));
say({ event: "ready", updates: updates.length, bytes: updates.reduce((n, u) => n + u.length, 0) });

const sock = net.connect({ host: o.peer, port: 179, localAddress: o.routerId, noDelay: true });
const framer = new MessageFramer();
let established = false;
sock.on("connect", () =>
  sock.write(
    encodeMessage(
      makeOpen({
        asn: o.localAs,
        holdTime: 180,
        bgpId: o.routerId,
        capabilities: [{ code: 1, afi: 25, safi: 70 }, { code: 2 }, { code: 65, asn: o.localAs }],
      }),
    ),
  ),
);
sock.on("data", (b: Buffer) => {
  framer.push(b);
  for (let f = framer.next(); f; f = framer.next()) {
    if (!f.ok) throw f.error;
    const type = f.frame[18];
    if (type === 1) sock.write(encodeMessage(KEEPALIVE));
    if (type === 4 && !established) {
      established = true;
      say({ event: "established", t: clock() });
    }
    if (type === 3) {
      say({ event: "notification", code: f.frame[19], subcode: f.frame[20] });
      process.exit(1);
    }
  }
});
sock.on("error", (e) => {
  say({ event: "error", message: e.message });
  process.exit(1);
});
setInterval(() => established && sock.write(encodeMessage(KEEPALIVE)), 30_000).unref();

async function blast(): Promise<void> {
  const t0 = clock();
  for (const u of updates) if (!sock.write(u)) await new Promise((r) => sock.once("drain", r));
  say({ event: "written", t0, t1: clock() });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "go") void blast();
  if (line === "stop") {
    sock.end(encodeMessage(ceaseNotification(2)));
    setTimeout(() => process.exit(0), 200);
  }
});
