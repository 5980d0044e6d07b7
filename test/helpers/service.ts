// The data-plane settings of a service as a configuration without them normalizes to.
import type { ServiceSettings } from "../../src/config/model.js";

export const INGRESS: Pick<ServiceSettings, "replication" | "replicationSource" | "arpNdProxy"> = {
  replication: "ingress",
  replicationSource: "vtep",
  arpNdProxy: null,
};
