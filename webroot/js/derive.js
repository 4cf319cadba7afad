// Derived figures of a panel (issue 14, wallboard contract section 3).
//
// One definition, two implementations: this module computes them in the page, and
// io.pulse.query.Derive computes them for GET/POST /api/v1/query. Both are held to the same
// table of cases (src/test/resources/derive-cases.json) and compared on the same stored data
// in a real Chromium (DeriveBrowserTest). Change one, change the other.
//
// Input buckets: [{start, end, value, count}] sorted by start, contiguous (one per step, as
// /series answers them; an empty bucket has count 0 and value null for a value figure).
// value: the panel's figure in that bucket (null, undefined, NaN or +-Infinity all mean "none");
// count: the events in that bucket (used by lastSeen only).
// ctx: {now (epoch ms), tzOffsetMin (minutes EAST of UTC, e.g. 60 for UTC+1; the page passes
// localTzOffsetMin()), windowMs (the bucket width, the panel's step)}.
// Output: [{start, end, value}] (value a finite number or null), one per input bucket, with
// `partial: true` kept where the input bucket had it.
//
// Definitions, per bucket b of width w seconds:
//   ratio          num(b) / den(b); null when den(b) is 0 or null, or num(b) is null, or den has
//                  no bucket starting at b.start.
//   rate           v(b) / w * perSeconds (per "1s" | "1m" | "1h"); null when v(b) is null.
//                  w = ctx.windowMs / 1000 (the nominal width, also for a partial bucket);
//                  without ctx.windowMs, the bucket's own end - start.
//   cumulative     since = "today" (local midnight of ctx.now in zone tzOffsetMin), "range"
//                  (the first bucket) or an epoch ms: buckets with start < since are null; from
//                  the first with start >= since, the running sum of the non-null v up to b,
//                  0 before any non-null value.
//   movingAverage  mean of the non-null v over buckets b-n+1 .. b (fewer at the start of the
//                  buckets: those there are); null when all of them are null. n in 2..100.
//   lastSeen       per bucket b: the end of the newest bucket up to b with count > 0 (epoch ms),
//                  or null. The series' lastSeen is that of its last bucket (lastSeen(buckets)),
//                  the age is now - lastSeen. A bucket without a count counts as seen when its
//                  value is not null.

export const OPS = Object.freeze(['ratio', 'rate', 'cumulative', 'movingAverage', 'lastSeen']);
export const FIGURES = Object.freeze(['count', 'sum', 'min', 'max', 'mean', 'p50', 'p95', 'p99']);
export const PER_SECONDS = Object.freeze({ '1s': 1, '1m': 60, '1h': 3600 });
const DAY_MS = 86400000;

/** A finite number, or null for anything else (null, undefined, NaN, Infinity, strings). */
export function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Minutes east of UTC of this browser's zone at `at` (default now): what ctx.tzOffsetMin wants. */
export function localTzOffsetMin(at) {
  const d = at === undefined ? new Date() : new Date(at);
  const off = d.getTimezoneOffset();
  return off === 0 ? 0 : -off;
}

/** Epoch ms of the local midnight starting the day of `now`, in the zone `tzOffsetMin` minutes east of UTC. */
export function startOfDay(now, tzOffsetMin) {
  const off = (tzOffsetMin || 0) * 60000;
  return Math.floor((now + off) / DAY_MS) * DAY_MS - off;
}

/**
 * Why `spec` is not a DERIVE, or null when it is one. Messages name the field as the API's 400
 * does ("derive.op: ...").
 */
export function validate(spec) {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return 'derive: must be an object';
  }
  const op = spec.op;
  if (!OPS.includes(op)) {
    return 'derive.op: one of ' + OPS.join(', ');
  }
  switch (op) {
    case 'ratio':
      if (spec.denominator === null || typeof spec.denominator !== 'object' || Array.isArray(spec.denominator)) {
        return 'derive.denominator: must be an object of the query fields that differ, e.g. {"filter": {}}';
      }
      return null;
    case 'rate':
      if (!Object.prototype.hasOwnProperty.call(PER_SECONDS, spec.per)) {
        return 'derive.per: one of 1s, 1m, 1h';
      }
      return null;
    case 'cumulative': {
      const s = spec.since;
      if (s === 'today' || s === 'range') {
        return null;
      }
      if (typeof s === 'number' && Number.isInteger(s) && s >= 0 && s <= 253402300799999) {
        return null;
      }
      return 'derive.since: "today", "range" or epoch milliseconds';
    }
    case 'movingAverage': {
      const n = spec.n;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 2 || n > 100) {
        return 'derive.n: a whole number from 2 to 100';
      }
      return null;
    }
    default:
      return null;
  }
}

function check(spec) {
  const why = validate(spec);
  if (why !== null) {
    throw new TypeError(why);
  }
}

function out(b, value) {
  const o = { start: b.start, end: b.end, value };
  if (b.partial) {
    o.partial = true;
  }
  return o;
}

function seen(b) {
  const c = num(b.count);
  return c !== null ? c > 0 : num(b.value) !== null;
}

/** The end of the newest bucket with count > 0, or null. */
export function lastSeen(buckets) {
  for (let i = buckets.length - 1; i >= 0; i--) {
    if (seen(buckets[i])) {
      return buckets[i].end;
    }
  }
  return null;
}

/** now - lastSeen in ms, or null when never seen. */
export function ageMs(lastSeenMs, now) {
  return lastSeenMs === null || lastSeenMs === undefined ? null : now - lastSeenMs;
}

/**
 * The DERIVE `spec` applied to one series' buckets. For "ratio" use deriveRatio (this throws).
 * Throws TypeError with the reason for an invalid spec.
 */
export function derive(spec, buckets, ctx) {
  check(spec);
  const c = ctx || {};
  const list = buckets || [];
  switch (spec.op) {
    case 'rate': {
      const per = PER_SECONDS[spec.per];
      return list.map((b) => {
        const v = num(b.value);
        const wMs = num(c.windowMs) !== null && c.windowMs > 0 ? c.windowMs : b.end - b.start;
        return out(b, v === null || !(wMs > 0) ? null : v / (wMs / 1000) * per);
      });
    }
    case 'cumulative': {
      let since;
      if (spec.since === 'today') {
        since = startOfDay(num(c.now) !== null ? c.now : Date.now(), num(c.tzOffsetMin) || 0);
      } else if (spec.since === 'range') {
        since = list.length ? list[0].start : 0;
      } else {
        since = spec.since;
      }
      let total = 0;
      return list.map((b) => {
        if (b.start < since) {
          return out(b, null);
        }
        const v = num(b.value);
        if (v !== null) {
          total += v;
        }
        return out(b, total);
      });
    }
    case 'movingAverage': {
      const n = spec.n;
      return list.map((b, i) => {
        let sum = 0;
        let k = 0;
        for (let j = Math.max(0, i - n + 1); j <= i; j++) {
          const v = num(list[j].value);
          if (v !== null) {
            sum += v;
            k++;
          }
        }
        return out(b, k === 0 ? null : sum / k);
      });
    }
    case 'lastSeen': {
      let last = null;
      return list.map((b) => {
        if (seen(b)) {
          last = b.end;
        }
        return out(b, last);
      });
    }
    case 'ratio':
      throw new TypeError('derive: op "ratio" needs two series: use deriveRatio(spec, numBuckets, denBuckets, ctx)');
    default:
      throw new TypeError('derive.op: one of ' + OPS.join(', '));
  }
}

/**
 * ratio: numBuckets' values over denBuckets' values, bucket by bucket (matched by start), one
 * output per numerator bucket. `spec` is {"op": "ratio", "denominator": {...}}; ctx is unused
 * (kept for the same signature as derive).
 */
export function deriveRatio(spec, numBuckets, denBuckets, ctx) { // eslint-disable-line no-unused-vars
  check(spec);
  if (spec.op !== 'ratio') {
    throw new TypeError('derive.op: deriveRatio takes op "ratio"');
  }
  const den = new Map();
  for (const b of denBuckets || []) {
    den.set(b.start, b.value);
  }
  return (numBuckets || []).map((b) => {
    const n = num(b.value);
    const d = num(den.get(b.start));
    return out(b, n === null || d === null || d === 0 ? null : n / d);
  });
}

/**
 * A panel figure of one /series point ({count, values: {name: {count, sum, ...}}}): "count"
 * without a metric is the point's count (0 when empty); "count" with a metric is that value's
 * count (0 when absent); any other figure is values[metric][figure], null when absent.
 */
export function figureOf(point, metric, figure) {
  const f = figure || 'count';
  const p = point || {};
  if (f === 'count') {
    if (metric === undefined || metric === null) {
      return num(p.count) === null ? 0 : p.count;
    }
    const v = p.values && p.values[metric];
    return v && num(v.count) !== null ? v.count : 0;
  }
  const v = p.values && p.values[metric];
  return v ? num(v[f]) : null;
}

/**
 * One /series series' points ([[ts, point], ...]) as derive buckets of width stepMs, with the
 * figure picked by figureOf and `partial` kept.
 */
export function bucketsFromPoints(points, stepMs, metric, figure) {
  return (points || []).map(([ts, p]) => {
    const b = { start: ts, end: ts + stepMs, value: figureOf(p, metric, figure), count: num(p && p.count) === null ? 0 : p.count };
    if (p && p.partial) {
      b.partial = true;
    }
    return b;
  });
}

/**
 * A spec applied to buckets, ratio included: for "ratio" pass the denominator's buckets as
 * `denBuckets` (same series key, matched by the caller).
 */
export function apply(spec, buckets, ctx, denBuckets) {
  if (spec && spec.op === 'ratio') {
    return deriveRatio(spec, buckets, denBuckets, ctx);
  }
  return derive(spec, buckets, ctx);
}

/** A stable key of a series' dims ({dim: value}): their JSON with the names sorted. */
export function dimsKey(dims) {
  const d = dims || {};
  const sorted = {};
  for (const k of Object.keys(d).sort()) {
    sorted[k] = d[k];
  }
  return JSON.stringify(sorted);
}

/**
 * The dims of the denominator series a numerator series (dims `dims`) divides by, as
 * /api/v1/query matches them: its dims restricted to the denominator's groupBy (the same series
 * when both group alike; the total, {}, when the denominator does not group).
 */
export function denominatorDims(dims, denGroupBy) {
  const out = {};
  for (const g of denGroupBy || []) {
    if (dims && Object.prototype.hasOwnProperty.call(dims, g)) {
      out[g] = dims[g];
    }
  }
  return out;
}
