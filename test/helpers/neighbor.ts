// Neighbour settings for tests and benchmarks that build speakers: a neighbour as the
// configuration file writes it (kebab-case) goes through the configuration loader, so that the
// schema's defaults (port, hold time, connect retry, …) apply exactly as in the daemon.
import { parseConfig } from "../../src/config/load.js";
import type { NeighborSettings } from "../../src/config/model.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { ProxyError } from "../../src/errors.js";

export type NeighborInput = ConfigInput["neighbors"][number];

/** Full NeighborSettings of a neighbour written as in the configuration file. */
export function neighbor(input: NeighborInput): NeighborSettings {
  // JSON is YAML; the router ID only has to differ from the neighbour's address.
  const routerId = input.address === "198.18.0.1" ? "198.18.0.2" : "198.18.0.1";
  const file = {
    "router-id": routerId,
    "local-as": 65000,
    neighbors: [input],
    services: [{ name: "s", evi: 1, vni: 1 }],
  };
  const r = parseConfig(JSON.stringify(file), "test neighbour");
  if (!r.ok) throw new ProxyError("ERR_TEST_NEIGHBOR", r.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  return r.config.neighbors[0]!;
}
