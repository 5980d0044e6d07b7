// V8 flags evpn-proxy runs with. A small young generation keeps the resident size of a large
// table near its heap size (measured: 464 instead of 816 bytes of RSS per received type-2 route,
// see BENCHMARKS.md). The shebang of main.ts carries the same flags; a unit test keeps them equal.
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
