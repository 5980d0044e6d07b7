// The capture's kernel BPF programs (src/dataplane/io/capture-filter.ts): tcpdump compiles their
// expressions to exactly the checked-in instructions, and the programs, run by a small classic
// BPF interpreter over byte vectors, pass VXLAN-carried ARP and ND (outer IPv4 or IPv6, outer or
// inner 802.1Q tag) and nothing else.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { ANY_FRAME_FILTER, ARP_ND_FILTER, filterProgram } from "../../src/dataplane/io/capture-filter.js";
import { requireTools } from "../helpers/env.js";
import { h } from "../helpers/hex.js";

for (const [name, f] of [
  ["ARP/ND", ARP_ND_FILTER],
  ["any frame", ANY_FRAME_FILTER],
] as const)
  test(`${name}: tcpdump -dd -y EN10MB compiles the expression to the checked-in program`, (t) => {
    if (!requireTools(t, ["tcpdump"])) return;
    const out = execFileSync("tcpdump", ["-dd", "-y", "EN10MB", f.expression], { encoding: "utf8" });
    assert.deepEqual(filterProgram(out), filterProgram(f.dd));
  });

/** Classic BPF (the opcodes tcpdump emits here); a load past the end rejects, as in the kernel. */
function run(prog: Uint32Array, p: Uint8Array): number {
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < prog.length / 4; pc++) {
    const [code, jt, jf, k] = prog.subarray(pc * 4, pc * 4 + 4) as unknown as [number, number, number, number];
    const at = code === 0x48 || code === 0x50 ? x + k : k;
    const size = code === 0x28 || code === 0x48 ? 2 : 1;
    if ((code === 0x28 || code === 0x30 || code === 0x48 || code === 0x50 || code === 0xb1) && at + size > p.length)
      return 0;
    if (code === 0x28 || code === 0x48) a = (p[at]! << 8) | p[at + 1]!;
    else if (code === 0x30 || code === 0x50) a = p[at]!;
    else if (code === 0xb1) x = (p[k]! & 0xf) * 4;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x45) pc += (a & k) !== 0 ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`opcode 0x${code.toString(16)} not interpreted`);
  }
  return 0;
}

const ETH = "020000000002 020000000001";
const VXLAN = "08000000 00000a00";
const ARP = "ffffffffffff 020000000101 0806 | 0001 0800 06 04 0001 020000000101 c6336401 000000000000 c6336402";
/** Inner IPv6 with ICMPv6 of `type` (the program looks no further than the type). */
const icmp6 = (type: string): string =>
  `333300000001 020000000101 86dd | 60000000 0020 3a ff fe800000000000000000000000000001 ff020000000000000000000000000001 | ${type} 00 0000 00000000 20010db8000000000000000000000001`;
const NS = icmp6("87");
const NA = icmp6("88");
const ECHO = icmp6("80");
const INNER_IPV4 = "020000000102 020000000101 0800 | 45000014 00004000 4001 0000 c6336401 c6336402";
/** Inner frame with an 802.1Q tag (VLAN 5) after its MAC addresses. */
const innerTagged = (inner: string): string => `${inner.slice(0, 26)} 8100 0005 ${inner.slice(26)}`;

function v4(inner: string, o: { port?: string; frag?: string; proto?: string; tag?: boolean } = {}): Uint8Array {
  const udp = `c000 ${o.port ?? "12b5"} 0000 0000 | ${VXLAN} | ${inner}`;
  const ip = `45000000 0000 ${o.frag ?? "4000"} 40 ${o.proto ?? "11"} 0000 c0000201 c0000202`;
  return h(`${ETH} ${o.tag ? "8100 0064" : ""} 0800 | ${ip} | ${udp}`);
}

function v6(inner: string, o: { port?: string; tag?: boolean } = {}): Uint8Array {
  const udp = `c000 ${o.port ?? "12b5"} 0000 0000 | ${VXLAN} | ${inner}`;
  const ip = `60000000 0000 11 40 20010db8000000000000000000000001 20010db8000000000000000000000002`;
  return h(`${ETH} ${o.tag ? "8100 0064" : ""} 86dd | ${ip} | ${udp}`);
}

const PASS = 0x40000;

test("the ARP/ND program passes VXLAN ARP and ND, tagged or not, over IPv4 and IPv6", () => {
  const prog = filterProgram(ARP_ND_FILTER.dd);
  const cases: [string, Uint8Array, number][] = [
    ["IPv4 ARP", v4(ARP), PASS],
    ["IPv4 NS", v4(NS), PASS],
    ["IPv4 NA", v4(NA), PASS],
    ["IPv6 ARP", v6(ARP), PASS],
    ["IPv6 NS", v6(NS), PASS],
    ["IPv4 ARP, outer tag", v4(ARP, { tag: true }), PASS],
    ["IPv6 NA, outer tag", v6(NA, { tag: true }), PASS],
    ["IPv4 ARP, inner tag", v4(innerTagged(ARP)), PASS],
    ["IPv6 NS, inner tag", v6(innerTagged(NS)), PASS],
    ["IPv4 NA, both tags", v4(innerTagged(NA), { tag: true }), PASS],
    ["inner IPv4", v4(INNER_IPV4), 0],
    ["inner ICMPv6 echo", v4(ECHO), 0],
    ["inner ICMPv6 echo, tagged", v6(innerTagged(ECHO)), 0],
    ["UDP 4790", v4(ARP, { port: "12b6" }), 0],
    ["IPv6 UDP 4790", v6(ARP, { port: "12b6" }), 0],
    ["IPv4 later fragment", v4(ARP, { frag: "0010" }), 0],
    ["IPv4 TCP", v4(ARP, { proto: "06" }), 0],
    ["cut short", v4(NS).subarray(0, 100), 0],
  ];
  for (const [name, frame, want] of cases) assert.equal(run(prog, frame), want, name);
});

test("the any-frame program passes every VXLAN datagram on UDP 4789", () => {
  const prog = filterProgram(ANY_FRAME_FILTER.dd);
  assert.equal(run(prog, v4(INNER_IPV4)), PASS);
  assert.equal(run(prog, v6(ECHO, { tag: true })), PASS);
  assert.equal(run(prog, v4(ARP, { port: "12b6" })), 0);
  assert.equal(run(prog, v4(ARP, { frag: "0010" })), 0);
});

test("filterProgram reads tcpdump -dd lines and refuses anything else", () => {
  assert.deepEqual(
    [...filterProgram("{ 0x28, 0, 0, 0x0000000c },\n{ 0x6, 0, 0, 0x00040000 },\n")],
    [0x28, 0, 0, 12, 6, 0, 0, 0x40000],
  );
  assert.throws(() => filterProgram("(000) ldh [12]"), { code: "ERR_CAPTURE_FILTER" });
});
