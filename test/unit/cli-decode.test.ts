// `evpn-proxy decode`: text and JSON output, and bad input reported per line without throwing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeHexLines } from "../../src/cli/decode.js";
import { hex, updateWithAttrs } from "../helpers/hex.js";

const T3 = "03 11 0001c0000201000a 00000000 20 c0000201";

test("decodes UPDATEs to FRR notation and reports errors by line", () => {
  const good = hex(updateWithAttrs(`40 01 01 00 40 02 00 90 0e 001c 0019 46 04 c0000201 00 ${T3}`));
  const lines = decodeHexLines(`# comment\n${good}\nzz\n${"ff".repeat(16)}0013 09\n`, {
    as4: true,
  });
  assert.equal(lines.length, 3);
  assert.ok(lines[0]!.ok);
  assert.match(lines[0]!.text, /192\.0\.2\.1:10 \[3\]:\[0\]:\[32\]:\[192\.0\.2\.1\]/);
  assert.deepEqual(lines[1], {
    ok: false,
    text: "line 3: not hex",
    json: { line: 3, error: "not hex" },
  });
  assert.equal(lines[2]!.ok, false);
  assert.match(lines[2]!.text, /ERR_HEADER_TYPE.*Bad Message Type/);
});
