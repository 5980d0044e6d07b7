// The floor of the end-to-end learning latency (bench/learning-e2e.ts): the same path as the
// proxy — a VXLAN datagram in on UDP, something out on a TCP connection to the peer at the end
// of the event-loop turn — with no work in between. It reads datagrams on UDP port 4790 of the
// proxy's address and writes each one's MAC index (bytes 16–19: the low 32 bits of the inner
// source MAC) to the peer's TCP port 7000. What this relay measures is what the machine, the
// namespaces and Node's event loop cost before evpn-proxy does anything.
//   node learning-floor.js '{"local":"192.0.2.2","peer":"192.0.2.1"}'
import dgram from "node:dgram";
import net from "node:net";

const o = JSON.parse(process.argv[2] ?? "{}") as { local: string; peer: string };
const tcp = net.connect({ host: o.peer, port: 7000, noDelay: true });
const pending: Buffer[] = [];
let scheduled = false;
const flush = (): void => {
  scheduled = false;
  tcp.write(Buffer.concat(pending.splice(0)));
};
const udp = dgram.createSocket("udp4");
udp.on("message", (b) => {
  pending.push(b.subarray(16, 20));
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
udp.bind(4790, o.local);
tcp.on("error", () => process.exit(1));
