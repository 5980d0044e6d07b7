// A child process of the crash scenario (crash-lab.ts): sends, from a static VTEP's address to
// the proxy's VXLAN port, ARP requests inside VXLAN (bench/vxlan-arp.ts), each from a new MAC
// (index 0, 1, 2, …): rate/100 every 10 ms, with no catching up after a pause (the scenario
// stops and continues it with SIGSTOP and SIGCONT). After each batch it prints "<next index>
// <epoch ms>": every MAC below that index was sent by then.
// Usage: node crash-sender.js <from address> <proxy address> <vni> <MACs per second>
import dgram from "node:dgram";
import { arpDatagram } from "../../bench/vxlan-arp.js";

const [from, to, vniText, rateText] = process.argv.slice(2);
const vni = Number(vniText);
const rate = Number(rateText);
const sock = dgram.createSocket("udp4");
await new Promise<void>((r) => sock.bind({ address: from, port: 0 }, () => r()));
const perTick = rate / 100;
let next = 0;
let owed = 0;
setInterval(() => {
  owed += perTick;
  for (; owed >= 1; owed--, next++) sock.send(arpDatagram(vni, next, 1 + (next % 250)), 4789, to);
  process.stdout.write(`${next} ${Date.now()}\n`);
}, 10);
