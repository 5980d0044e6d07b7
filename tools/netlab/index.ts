// Network-namespace labs as a library: namespaces, links, bridges, VXLAN devices, FRR, gobgpd,
// tcpdump, and topologies described as data. See lab.ts for naming, ownership and cleanup.
export { Capture } from "./capture.js";
export { type ArpAnswer, type ArpingOptions, arping, gratuitousArp, ndisc } from "./neighbor.js";
export * from "./frr-config.js";
export * from "./frr-json.js";
export { Frr, type FrrOptions } from "./frr.js";
export { GoBgp, type GoBgpOptions, type GobgpNeighbor, type GobgpPath } from "./gobgp.js";
export { type BridgeOptions, Lab, type LabOptions, type LinkOptions, type VxlanOptions } from "./lab.js";
export * from "./process.js";
export { LAB_ENV, isAlive, markedPids, sleep, tailFile } from "./proc.js";
export { FRR_BIN, type Leftovers } from "./system.js";
export * from "./topology.js";
export { type WaitOptions, WaitTimeoutError, waitFor } from "./wait.js";
export { type LabTestContext, withLab } from "./with-lab.js";
