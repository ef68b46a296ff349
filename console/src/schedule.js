// A pipeline's schedule in words (cronstrue) and its next runs (croner), from AWS's
// expressions: cron(min hour day-of-month month day-of-week year), days of week 1-7 from
// Sunday, with ? L W #; or rate(n minutes|hours|days). kiln answers the next run itself
// (dateNextRun); the runs after it are computed here with the same rules.
import { Cron } from "croner";
import cronstrue from "cronstrue";

const RATE = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/i;
const CRON = /^cron\((.*)\)$/i;
const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86400 };

const MAX = [59, 59, 23, 31, 12, 7, 9999];

/** AWS's six cron fields with seconds first, as cronstrue reads them (Quartz's order). */
function cronFields(body) {
  const f = body.trim().split(/\s+/);
  return f.length === 6 ? ["0", ...f] : null;
}

/** The same for croner: "6L" (last Friday) is its "6#L", "0/30" its "0-59/30". */
function cronerPattern(fields) {
  return fields.map((f, i) => f
    .replace(/^([0-9A-Za-z]+)L$/, i === 5 ? "$1#L" : "$&")
    .replace(/^(\d+)\/(\d+)$/, (_, a, b) => `${a}-${MAX[i]}/${b}`)).join(" ");
}

export function parseSchedule(expression) {
  const text = (expression || "").trim();
  let m = RATE.exec(text);
  if (m) {
    const unit = m[2].toLowerCase().replace(/s$/, "");
    return { kind: "rate", every: Number(m[1]) * UNIT_SECONDS[unit], value: Number(m[1]), unit };
  }
  m = CRON.exec(text);
  if (m) {
    const fields = cronFields(m[1]);
    if (fields) return { kind: "cron", fields };
  }
  return null;
}

/** "At 09:00, Monday through Friday (UTC)" or "Every 1 day". */
export function describe(expression, timezone = "UTC") {
  const s = parseSchedule(expression);
  if (!s) return expression || "No schedule";
  if (s.kind === "rate") return `Every ${s.value} ${s.unit}${s.value === 1 ? "" : "s"}`;
  try {
    const words = cronstrue.toString(s.fields.join(" "), { dayOfWeekStartIndexZero: false, use24HourTimeFormat: true });
    return `${words} (${timezone || "UTC"})`;
  } catch {
    return expression;
  }
}

/** The next `n` runs as Dates: from `first` (kiln's dateNextRun) when given, else from `after`. */
export function nextRuns(expression, timezone, n, first, after) {
  const s = parseSchedule(expression);
  const start = first ? new Date(first) : new Date(after);
  if (!s) return first ? [start] : [];
  if (s.kind === "rate") {
    // A rate's first run is kiln's to say (it counts from the pipeline's creation); then every `every` seconds.
    if (!first) return [];
    return Array.from({ length: n }, (_, i) => new Date(start.getTime() + i * s.every * 1000));
  }
  try {
    const job = new Cron(cronerPattern(s.fields), { timezone: timezone || "UTC", alternativeWeekdays: true, mode: "7-part", paused: true });
    if (first) return [start, ...job.nextRuns(n - 1, start)];
    return job.nextRuns(n, start);
  } catch {
    return first ? [start] : [];
  }
}
