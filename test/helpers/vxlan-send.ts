// Sends VXLAN datagrams (UDP 4789) given as JSON on argv, then exits: lab tests run it inside a
// namespace with `node vxlan-send.js '[{"to":"192.0.2.3","hex":"08000000 00000a00 ..."}]'`.
import dgram from "node:dgram";

const list = JSON.parse(process.argv[2] ?? "[]") as { to: string; hex: string }[];
for (const d of list) {
  const s = dgram.createSocket(d.to.includes(":") ? "udp6" : "udp4");
  const bytes = Buffer.from(d.hex.replace(/[\s|]/g, ""), "hex");
  await new Promise<void>((resolve, reject) => s.send(bytes, 4789, d.to, (e) => (e ? reject(e) : resolve())));
  s.close();
}
