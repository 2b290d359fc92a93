// The upstream's own verdicts, for scorepipe's tests: V8's Date.parse and the
// upstream message_queue's zod TransactionSchema (docs/architecture.md,
// "Accepted messages"). Run it with TZ=UTC: Date.parse reads a date-time
// without a zone as local time, and scorepipe reads it as UTC.
//
//   TZ=UTC node tests/support/upstream_oracle/oracle.mjs --date
//   TZ=UTC node tests/support/upstream_oracle/oracle.mjs --message
//
// Protocol: the input is one JSON-encoded string per line (a JSON string
// literal, so that any text, with newlines or odd bytes, fits on one line);
// the output is one JSON object per input line, in order, flushed per line.
//   --date:    the string is a timestamp; out: {"ms":<Date.parse(s)>|null}
//              (null for NaN).
//   --message: the string is the raw text of a queue message; out:
//              {"valid":true|false,"date_ms":<number>|null}
//              valid: JSON.parse(text) succeeds and TransactionSchema
//              .safeParse() accepts it, as the upstream's POST /push-n
//              checks a transaction; date_ms: Date.parse of its `timestamp`
//              when the text is a JSON object with a string timestamp, else
//              null.
// A line that is not a JSON string gives {"error":"<why>"}.
//
// zod comes from node_modules beside this file (scripts/setup.sh runs
// `npm ci` here); --date needs nothing but node.
import { createInterface } from "node:readline";

const mode = process.argv[2] ?? "--date";
if (mode !== "--date" && mode !== "--message") {
  process.stderr.write(`usage: oracle.mjs --date|--message\n`);
  process.exit(2);
}

let TransactionSchema = null;
if (mode === "--message") {
  const { z } = await import("zod");
  // Written from the upstream's rules: unknown keys are stripped (zod's
  // default for z.object), not refused.
  TransactionSchema = z.object({
    id: z.number().min(1),
    customer_id: z.number().min(1),
    vendor_id: z.number().min(1),
    timestamp: z.string().refine((val) => !isNaN(Date.parse(val))),
    status: z.enum(["accepted", "rejected", "pending"]),
    amount: z.number().min(0),
  });
}

function dateMs(s) {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}

function judgeMessage(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { valid: false, date_ms: null };
  }
  const isObject = value !== null && typeof value === "object" && !Array.isArray(value);
  const date_ms = isObject && typeof value.timestamp === "string" ? dateMs(value.timestamp) : null;
  return { valid: TransactionSchema.safeParse(value).success, date_ms };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let input;
  try {
    input = JSON.parse(line);
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String(e) }) + "\n");
    continue;
  }
  if (typeof input !== "string") {
    process.stdout.write(JSON.stringify({ error: "not a JSON string" }) + "\n");
    continue;
  }
  const out = mode === "--date" ? { ms: dateMs(input) } : judgeMessage(input);
  process.stdout.write(JSON.stringify(out) + "\n");
}
