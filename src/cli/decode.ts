// `evpn-proxy decode`: hex lines → decoded messages, as text for people or JSON for tools.
import {
  type BgpMessage,
  type CodecContext,
  decodeMessage,
  describeNotification,
  formatEvpnRoute,
  formatExtCommunity,
  fromHex,
  messageToJson,
  notificationName,
  type PathAttribute,
} from "../codec/index.js";

export interface DecodedLine {
  ok: boolean;
  text: string;
  json: unknown;
}

function attrText(a: PathAttribute): string[] {
  switch (a.kind) {
    case "mp-reach":
    case "mp-unreach": {
      const verb = a.kind === "mp-reach" ? `reach via ${a.nextHop.join(", ") || "?"}` : "withdraw";
      const head = `  ${a.kind === "mp-reach" ? "MP_REACH_NLRI" : "MP_UNREACH_NLRI"} afi ${a.afi} safi ${a.safi} ${verb}`;
      if (a.nlri.family === "evpn") return [head, ...a.nlri.routes.map((r) => `    ${formatEvpnRoute(r)}`)];
      if (a.nlri.family === "raw") return [`${head} (${a.nlri.data.length} bytes not decoded)`];
      return [head, ...a.nlri.prefixes.map((p) => `    ${p}`)];
    }
    case "ext-communities":
      return [`  extended communities: ${a.communities.map(formatExtCommunity).join(" ")}`];
    case "pmsi-tunnel":
      return [`  PMSI tunnel type ${a.tunnelType} label ${a.label} ${a.endpoint ?? ""}`.trimEnd()];
    case "as-path":
    case "as4-path":
      return [
        `  ${a.kind === "as-path" ? "AS_PATH" : "AS4_PATH"} ${a.segments.map((s) => (s.type === 1 ? `{${s.asns.join(",")}}` : s.asns.join(" "))).join(" ") || "(empty)"}`,
      ];
    default: {
      const { kind, flags: _flags, ...rest } = a as PathAttribute & Record<string, unknown>;
      return [`  ${kind} ${JSON.stringify(messageToJsonSafe(rest))}`];
    }
  }
}

function messageToJsonSafe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString("hex") : x)));
}

function messageText(m: BgpMessage): string {
  switch (m.type) {
    case 1:
      return `OPEN AS ${m.myAs} hold ${m.holdTime} id ${m.bgpId} ${JSON.stringify(messageToJson(m))}`;
    case 2:
      return [
        "UPDATE",
        ...m.withdrawn.map((p) => `  withdrawn ${p}`),
        ...m.attributes.flatMap(attrText),
        ...m.nlri.map((p) => `  nlri ${p}`),
      ].join("\n");
    case 3:
      return `NOTIFICATION ${describeNotification(m)}`;
    case 4:
      return "KEEPALIVE";
    case 5:
      return `ROUTE-REFRESH afi ${m.afi} safi ${m.safi} subtype ${m.subtype}`;
  }
}

export function decodeHexLines(input: string, ctx: CodecContext): DecodedLine[] {
  const out: DecodedLine[] = [];
  for (const [i, raw] of input.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const bytes = fromHex(line);
    if (bytes === null) {
      out.push({
        ok: false,
        text: `line ${i + 1}: not hex`,
        json: { line: i + 1, error: "not hex" },
      });
      continue;
    }
    const r = decodeMessage(bytes, ctx);
    if (!r.ok) {
      const e = r.error;
      out.push({
        ok: false,
        text: `line ${i + 1}: ${e.code}: ${e.message} (${e.action}; NOTIFICATION ${notificationName(e.notifyCode, e.notifySubcode)})`,
        json: { line: i + 1, error: e.toJSON() },
      });
      continue;
    }
    const errs = r.errors.map((e) => `  ! ${e.code}: ${e.message} (${e.action})`);
    out.push({
      ok: true,
      text: [messageText(r.message), ...errs].join("\n"),
      json: {
        line: i + 1,
        message: messageToJson(r.message),
        action: r.action,
        errors: r.errors.map((e) => e.toJSON()),
      },
    });
  }
  return out;
}
