// The layering rule: the protocol core under src/codec does no I/O and depends on nothing outside
// itself (no node:net, node:dgram, timers, fs, or modules from other layers).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const CODEC = new URL("../../../src/codec/", import.meta.url);

test("src/codec imports only its own modules", () => {
  const files = readdirSync(CODEC).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length > 5);
  for (const f of files) {
    const src = readFileSync(new URL(f, CODEC), "utf8");
    for (const m of src.matchAll(/\bfrom\s+"([^"]+)"|\bimport\s*\(\s*"([^"]+)"/g)) {
      const spec = m[1] ?? m[2]!;
      assert.match(spec, /^\.\/[a-z0-9-]+\.js$/, `${f} imports "${spec}"`);
    }
    assert.doesNotMatch(
      src,
      /\b(setTimeout|setInterval|setImmediate|process\.|require\()/,
      `${f} uses timers or process state`,
    );
  }
});

for (const file of ["packet.ts", "learn.ts", "pcap-file.ts"])
  test(`src/dataplane/${file} is pure: codec helpers and its own modules only`, () => {
    const src = readFileSync(new URL(`../../../src/dataplane/${file}`, import.meta.url), "utf8");
    for (const m of src.matchAll(/\bfrom\s+"([^"]+)"/g))
      assert.match(m[1]!, /^(\.\.\/codec\/[a-z0-9-]+|\.\/packet)\.js$/, `imports "${m[1]}"`);
    assert.doesNotMatch(src, /\b(setTimeout|setInterval|process\.|require\()/);
  });
