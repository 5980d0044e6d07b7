// The daemon's V8 flags are stated twice (the bin's shebang, and NODE_FLAGS for processes we spawn):
// keep them equal.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { NODE_FLAGS } from "../../src/cli/node-flags.js";

test("the bin's shebang runs node with NODE_FLAGS", () => {
  const first = readFileSync(new URL("../../../src/cli/main.ts", import.meta.url), "utf8").split("\n")[0];
  assert.equal(first, `#!/usr/bin/env -S node ${NODE_FLAGS.join(" ")}`);
});
