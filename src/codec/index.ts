// The wire codec: pure bytes ⇄ typed objects for BGP-4 with the L2VPN EVPN address family.
// No I/O: nothing under src/codec imports node:net, node:dgram or timers.
export * from "../net/addr.js";
export * from "./attributes.js";
export * from "./bytes.js";
export * from "./constants.js";
export * from "./errors.js";
export * from "./evpn.js";
export * from "./extcommunity.js";
export * from "./message.js";
export * from "./notification.js";
export * from "./open.js";
export * from "./prefix.js";
export * from "./rd.js";
export * from "./render.js";
export * from "./update.js";
