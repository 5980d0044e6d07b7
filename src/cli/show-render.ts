// `evpn-proxy show …` as text: the API's JSON (src/api/schemas.ts) in aligned tables with the
// columns operators know from FRR and SR Linux, and detail views as "key: value" lines. Pure:
// JSON in, text out (golden tests).

import type { ApiJson } from "../api/schemas.js";

/** Columns padded to their widest cell (the last one unpadded), two spaces apart. */
export function table(head: string[], rows: string[][], widths: number[] = []): string {
  const w = head.map((h, i) => Math.max(widths[i] ?? 0, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}

/** FRR's Up/Down column: "never", else 00:05:10 below a day, 2d03h04m above. */
export function upDown(seconds: number | null): string {
  if (seconds === null) return "never";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return d > 0 ? `${d}d${two(h)}h${two(m)}m` : `${two(h)}:${two(m)}:${two(s)}`;
}

/** Seconds since a time, from the answer's own clock-free fields when there are none. */
function since(at: string | null, now: number): number | null {
  return at === null ? null : Math.max(0, Math.floor((now - Date.parse(at)) / 1000));
}

const yn = (b: boolean) => (b ? "yes" : "no");

export function bgpSummary(n: ApiJson<"Neighbors">, now: number): string {
  return table(
    ["Neighbor", "AS", "State", "Up/Down", "PfxRcd", "PfxSnt", "MsgRcvd", "MsgSent", "Flaps", "LastError"],
    n.neighbors.map((x) => [
      x.address,
      String(x.peerAs),
      x.state,
      upDown(x.state === "Established" ? x.uptimeSeconds : since(x.lastStateChangeAt, now)),
      String(x.routes.received.total),
      String(x.routes.advertised.total),
      String(x.messages.received.total),
      String(x.messages.sent.total),
      String(x.flaps),
      x.lastError === null ? "-" : `${x.lastError.direction} ${x.lastError.reason}`,
    ]),
  );
}

function byType(b: ApiJson<"Neighbor">["routes"]["received"]["byType"]): string {
  return `type 1 ${b.ethernetAutoDiscovery}, type 2 ${b.macIp}, type 3 ${b.inclusiveMulticast}, type 4 ${b.ethernetSegment}, type 5 ${b.ipPrefix}`;
}

export function bgpNeighbor(x: ApiJson<"Neighbor">): string {
  const c = x.capabilities;
  const t = x.timers;
  const lines: [string, string][] = [
    ["Neighbor", `${x.address}, remote AS ${x.peerAs}${x.description ? `, "${x.description}"` : ""}`],
    ["State", `${x.state}${x.uptimeSeconds !== null ? `, up ${upDown(x.uptimeSeconds)}` : ""}`],
    ["Last state change", x.lastStateChangeAt ?? "never"],
    ["Sessions", `${x.established} established, ${x.flaps} flaps; End-of-RIB sent: ${yn(x.endOfRibSent)}`],
    [
      "Timers",
      `hold ${t.holdTimeSeconds} s configured, ${t.negotiatedHoldTimeSeconds ?? "-"} s negotiated; keepalive ${t.keepaliveSeconds ?? "-"} s; connect retry ${t.connectRetrySeconds} s`,
    ],
  ];
  if (c !== null)
    lines.push(
      ["Peer router ID", `${c.peerRouterId}${c.ebgp ? " (eBGP)" : " (iBGP)"}`],
      [
        "Capabilities",
        [
          ...c.families,
          c.fourOctetAs ? "4-octet AS" : "",
          c.routeRefresh ? "route refresh" : "",
          c.enhancedRouteRefresh ? "enhanced route refresh" : "",
          c.extendedMessage ? `extended message (${c.maxMessageSize})` : "",
          c.gracefulRestart.peer ? `graceful restart (peer ${c.gracefulRestart.peerRestartTimeSeconds} s)` : "",
        ]
          .filter((s) => s !== "")
          .join(", "),
      ],
    );
  const m = x.messages;
  const msgs = (k: typeof m.sent) =>
    `${k.total} (open ${k.open}, update ${k.update}, keepalive ${k.keepalive}, notification ${k.notification}, route refresh ${k.routeRefresh})`;
  lines.push(
    ["Messages received", msgs(m.received)],
    ["Messages sent", msgs(m.sent)],
    ["Routes received", `${x.routes.received.total}: ${byType(x.routes.received.byType)}`],
    ["Routes advertised", `${x.routes.advertised.total}: ${byType(x.routes.advertised.byType)}`],
    [
      "Route counters",
      `accepted ${x.routes.accepted}, withdrawn ${x.routes.withdrawn}, loops ${x.routes.rejectedLoop}, stale ${x.routes.stale}, treated as withdraw ${x.routes.treatedAsWithdraw}, pending ${x.routes.pending}, not sent ${x.routes.notSent}`,
    ],
    [
      "Last error",
      x.lastError === null
        ? "none"
        : `${x.lastError.direction} ${x.lastError.code}/${x.lastError.subcode} ${x.lastError.reason}${x.lastError.communication ? ` "${x.lastError.communication}"` : ""} at ${x.lastError.at}`,
    ],
    ["Last down", x.lastDown === null ? "never" : `${x.lastDown.cause}: ${x.lastDown.reason} at ${x.lastDown.at}`],
  );
  const w = Math.max(...lines.map(([k]) => k.length)) + 1;
  let out = lines.map(([k, v]) => `${`${k}:`.padEnd(w)} ${v}`).join("\n") + "\n";
  if (x.notifications.length > 0)
    out +=
      "\nNOTIFICATIONs\n" +
      table(
        ["Direction", "Code", "Subcode", "Count", "Reason"],
        x.notifications.map((n) => [n.direction, String(n.code), String(n.subcode), String(n.count), n.reason]),
      );
  if (x.transitions.length > 0)
    out +=
      "\nLast state transitions\n" +
      table(
        ["Time", "From", "To", "Reason"],
        x.transitions.map((t) => [t.at, t.from, t.to, t.reason]),
      );
  return out;
}

export function evpnServices(s: ApiJson<"Services">): string {
  return table(
    ["Service", "VNI", "EVI", "RT", "Replication", "VTEPs", "Flood", "StaticMACs", "LearnedMACs"],
    s.services.map((x) => [
      x.name,
      String(x.vni),
      String(x.evi),
      x.routeTargets.join(","),
      x.replication.mode === "proxy"
        ? `proxy (${x.replication.forwarding ? "forwarding" : x.replication.elected === null ? "none elected" : `elected ${x.replication.elected}`})`
        : "ingress",
      String(x.vteps.length),
      String(x.floodList.length),
      String(x.macs.static),
      String(x.macs.learned),
    ]),
  );
}

export function evpnFloodList(x: ApiJson<"Service">): string {
  return (
    `Service ${x.name}: VNI ${x.vni}, EVI ${x.evi}, RT ${x.routeTargets.join(",")}, replication ${x.replication.mode}\n` +
    table(
      ["VTEP", "Origin", "State", "Flooded", "StaticMACs", "LearnedMACs"],
      x.vteps.map((v) => [
        v.address,
        v.origin,
        v.state,
        yn(v.inFloodList),
        String(v.configuredMacs),
        String(v.learnedMacs),
      ]),
    )
  );
}

export const MAC_HEAD = ["MAC", "IP", "VTEP", "Source", "Seq", "Sticky", "Dup", "Age"];

export function macRow(m: ApiJson<"Mac">): string[] {
  return [
    m.mac,
    m.ips.length === 0 ? "-" : m.ips.join(","),
    m.vtep,
    m.source,
    String(m.sequence),
    yn(m.sticky),
    yn(m.duplicate),
    m.ageSeconds === null ? "-" : upDown(m.ageSeconds),
  ];
}

/** Widths of the MAC table that every page keeps (MAC, IPv4, IPv4 VTEP): pages print as they come. */
export const MAC_WIDTHS = [17, 15, 15, 7, 3, 6, 3, 8];

export function evpnMac(x: ApiJson<"MacDetail">): string {
  let out = `MAC ${x.mac}\n`;
  out +=
    x.entries.length === 0
      ? "not in the table now\n"
      : table(
          ["Service", "VNI", ...MAC_HEAD.slice(1), "LastMove"],
          x.entries.map((m) => [
            m.service,
            String(m.vni),
            ...macRow(m).slice(1),
            m.lastMove === null ? "-" : `${m.lastMove.vtep} ${m.lastMove.at}`,
          ]),
        );
  for (const h of x.history)
    out +=
      `\nHistory in VNI ${h.vni}\n` +
      table(
        ["Time", "Event", "VTEP"],
        h.steps.map((s) => [s.at, s.event, s.vtep ?? "-"]),
      );
  return out;
}

export const ROUTE_HEAD = ["Type", "RD", "Prefix", "NextHop", "From", "Best", "Seq", "RT"];

export function routeRow(r: ApiJson<"Route">): string[] {
  return [
    String(r.routeType),
    r.rd ?? "-",
    r.prefix,
    r.nextHop,
    r.from,
    r.best ? (r.stale ? "stale" : "yes") : "no",
    r.sequence === null ? "-" : `${r.sequence}${r.sticky ? " sticky" : ""}`,
    r.routeTargets.join(","),
  ];
}

export function learning(c: ApiJson<"LearningCounters">): string {
  if (!c.enabled) return "learning is off (no learning.vxlan-listen or capture-interfaces)\n";
  const rows: string[][] = [
    ["frames", String(c.frames)],
    ["MACs learned", String(c.learned.macs)],
    ["addresses learned", String(c.learned.ips)],
    ["moves", String(c.learned.moves)],
    ["address moves", String(c.learned.ipMoves)],
    ["VTEPs discovered", String(c.learned.discovered)],
    ["refreshed", String(c.refreshed)],
    ["aged MACs", String(c.aged.macs)],
    ["aged addresses", String(c.aged.ips)],
    ["duplicates", String(c.duplicates)],
    ...Object.entries(c.skipped).map(([k, v]) => [`skipped: ${k}`, String(v)]),
    ...Object.entries(c.limits).map(([k, v]) => [`limit: ${k}`, String(v)]),
  ];
  if (c.source !== null)
    rows.push(
      ["datagrams", String(c.source.datagrams)],
      ["datagrams truncated", String(c.source.truncated)],
      ["kernel drops", String(c.source.kernelDrops)],
      ...Object.entries(c.source.skipped).map(([k, v]) => [`datagrams skipped: ${k}`, String(v)]),
    );
  rows.push(
    ["replication: datagrams", String(c.replication.datagrams)],
    ["replication: flooded", String(c.replication.flooded)],
    ["replication: unicast", String(c.replication.unicast)],
    ["replication: copies", String(c.replication.copies)],
    ...Object.entries(c.replication.dropped).map(([k, v]) => [`replication dropped: ${k}`, String(v)]),
  );
  return table(["Counter", "Value"], rows);
}

export function reloadText(r: ApiJson<"Reload">): string {
  if (r.result !== "applied" || r.changes === null)
    return (
      `reload ${r.result}; the running configuration is kept\n` +
      r.errors.map((e) => `${e.path === "" ? "" : `${e.path}: `}${e.message}\n`).join("")
    );
  const c = r.changes;
  const parts: string[] = [];
  const list = (what: string, l: string[]) => (l.length > 0 ? [`${what} ${l.join(", ")}`] : []);
  if (c.global) parts.push("router-id, local-as, listen or graceful-restart changed: every session restarted");
  parts.push(
    ...list("neighbors added:", c.neighbors.added),
    ...list("neighbors removed:", c.neighbors.removed),
    ...list("neighbors changed (session restarted):", c.neighbors.changed),
    ...list("services added:", c.services.added),
    ...list("services removed:", c.services.removed),
    ...list("services changed:", c.services.changed),
  );
  if (c.learning) parts.push(`learning settings changed${c.learningSources ? " (sources reopened)" : ""}`);
  if (c.management) parts.push("management settings changed: listeners take them at the next start");
  return parts.length === 0
    ? "reload applied: nothing changed\n"
    : `reload applied:\n${parts.map((p) => `  ${p}\n`).join("")}`;
}
