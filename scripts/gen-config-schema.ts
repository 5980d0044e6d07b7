// Writes schema/evpn-proxy.schema.json from the zod definition of the configuration
// (src/config/schema.ts), formatted as prettier formats it. With --check, writes nothing and exits
// 1 when the committed file is not current.
import { readFileSync, writeFileSync } from "node:fs";
import { format, resolveConfig } from "prettier";
import { CONFIG_SCHEMA_FILE, configJsonSchema } from "../src/config/json-schema.js";

// Compiled to <outDir>/scripts/gen-config-schema.js: the repository is two levels up.
const file = new URL(`../../${CONFIG_SCHEMA_FILE}`, import.meta.url);
const options = (await resolveConfig(file)) ?? {};
const text = await format(JSON.stringify(configJsonSchema(), null, 2), { ...options, parser: "json" });

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {
    // missing: not current
  }
  if (current !== text) {
    process.stderr.write(`${CONFIG_SCHEMA_FILE} is not current; run npm run schema\n`);
    process.exit(1);
  }
  process.stdout.write(`${CONFIG_SCHEMA_FILE} is current\n`);
} else {
  writeFileSync(file, text);
  process.stdout.write(`wrote ${CONFIG_SCHEMA_FILE}\n`);
}
