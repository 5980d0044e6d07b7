// Writes schema/evpn-proxy.schema.json from the zod definition of the configuration
// (src/config/schema.ts) and schema/api.schema.json from the API's response definitions
// (src/api/schemas.ts), formatted as prettier formats them. With --check, writes nothing and
// exits 1 when a committed file is not current.
import { readFileSync, writeFileSync } from "node:fs";
import { format, resolveConfig } from "prettier";
import { API_SCHEMA_FILE, apiJsonSchema } from "../src/api/schemas.js";
import { CONFIG_SCHEMA_FILE, configJsonSchema } from "../src/config/json-schema.js";

let stale = false;
for (const [name, schema] of [
  [CONFIG_SCHEMA_FILE, configJsonSchema()],
  [API_SCHEMA_FILE, apiJsonSchema()],
] as const) {
  // Compiled to <outDir>/scripts/gen-config-schema.js: the repository is two levels up.
  const file = new URL(`../../${name}`, import.meta.url);
  const options = (await resolveConfig(file)) ?? {};
  const text = await format(JSON.stringify(schema, null, 2), { ...options, parser: "json" });
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(file, "utf8");
    } catch {
      // missing: not current
    }
    if (current !== text) {
      process.stderr.write(`${name} is not current; run npm run schema\n`);
      stale = true;
    } else process.stdout.write(`${name} is current\n`);
  } else {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${name}\n`);
  }
}
if (stale) process.exit(1);
