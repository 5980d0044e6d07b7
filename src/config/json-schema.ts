// The JSON Schema of the configuration file, for editors (e.g. yaml-language-server), generated
// from the zod definition in schema.ts. scripts/gen-config-schema.ts writes it to
// schema/evpn-proxy.schema.json; a unit test checks that the committed file is current.
import { z } from "zod";
import { ConfigSchema } from "./schema.js";

/** Where the generated schema is committed, relative to the repository root. */
export const CONFIG_SCHEMA_FILE = "schema/evpn-proxy.schema.json";

/** The JSON Schema (draft 2020-12) of the file as written: defaults shown, optional keys optional. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { target: "draft-2020-12", io: "input", unrepresentable: "throw" });
  // $schema first, then title and description, then the rest, as a reader expects them.
  const { $schema, title, description, ...rest } = schema as Record<string, unknown>;
  return { $schema, title, description, ...rest };
}
