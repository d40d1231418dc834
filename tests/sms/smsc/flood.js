'use strict';
// The load generator of the simulated SMSC: `count` MOs at `rate` per second, and the time
// from writing each MO's deliver_sm to the first MT (submit_sm) addressed back to its source.
// Owns only bookkeeping: smsc.js puts the MOs in its store-and-forward queue, tells this
// object when each deliver_sm is first written, acknowledged, and when an MT is recorded.
// Matching keeps one FIFO of write times per source: an MT to S answers S's oldest
// unanswered MO. `ambiguous` counts MOs written while an older MO of the same source was
// still unanswered (then an out-of-order answer would be attributed to the wrong MO).

const TICK_MS = 5;

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[k] * 1000) / 1000;
}

/** sources: a list of MSISDNs, or {base, n}, or source_base + source_count (n MSISDNs from
 * base on; n defaults to count, so that every MO has its own source). */
function sourceList(spec) {
  if (Array.isArray(spec.sources) && spec.sources.length > 0) return spec.sources.map(String);
  const range = spec.sources && typeof spec.sources === 'object' ? spec.sources : {};
  const base = String(range.base !== undefined ? range.base : spec.source_base !== undefined ? spec.source_base : '33600000000');
  const n = range.n !== undefined ? range.n : spec.source_count !== undefined ? spec.source_count : spec.count;
  if (!/^\d+$/.test(base)) throw new Error('source_base must be digits');
  const out = [];
  let b = BigInt(base);
  for (let i = 0; i < n; i++) out.push(String(b + BigInt(i)));
  return out;
}

class Flood {
  /** spec: {count, rate, sources | source_base + source_count, texts, dst, grace_ms,
   * data_coding, quiet}. counters: the SMSC's live counters (deltas are reported). */
  constructor(spec, counters, now) {
    this.count = spec.count | 0;
    if (this.count <= 0) throw new Error('flood needs count > 0');
    this.rate = Number(spec.rate || 0);
    this.sources = sourceList(spec);
    if (this.sources.length === 0) throw new Error('flood needs at least one source');
    this.texts = Array.isArray(spec.texts) && spec.texts.length ? spec.texts.map(String) : ['RESULTAT'];
    this.dst = String(spec.dst || '61234');
    this.dataCoding = spec.data_coding === undefined ? null : spec.data_coding;
    this.graceMs = spec.grace_ms === undefined ? 5000 : Number(spec.grace_ms);
    this.quiet = spec.quiet === undefined ? true : !!spec.quiet;
    this.counters = counters;
    this.base = Object.assign({}, counters);
    this.start = now;
    this.enqueued = 0;
    this.sent = 0;
    this.acked = 0;
    this.nacked = 0;
    this.answered = 0;
    this.ambiguous = 0;
    this.firstWrite = null;
    this.lastWrite = null;
    this.lastProgress = now;
    this.latencies = new Float64Array(this.count);
    this.pending = new Map(); // source -> {q: [write times], h: head}
  }

  /** The MOs due by `now` that are not yet enqueued, as [{src, text}]. */
  due(now) {
    const target = this.rate > 0
      ? Math.min(this.count, Math.floor(((now - this.start) * this.rate) / 1000) + 1)
      : this.count;
    const out = [];
    while (this.enqueued < target) {
      const i = this.enqueued++;
      out.push({ src: this.sources[i % this.sources.length], text: this.texts[i % this.texts.length] });
    }
    if (out.length) this.lastProgress = now;
    return out;
  }

  written(src, now) {
    this.sent++;
    if (this.firstWrite === null) this.firstWrite = now;
    this.lastWrite = now;
    this.lastProgress = now;
    let p = this.pending.get(src);
    if (!p) {
      p = { q: [], h: 0 };
      this.pending.set(src, p);
    }
    if (p.q.length > p.h) this.ambiguous++;
    p.q.push(now);
  }

  acknowledged(status) {
    if (status === 0) this.acked++;
    else this.nacked++;
  }

  /** An MT to `dest` was recorded at `now`; true when it answered one of this flood's MOs. */
  mt(dest, now) {
    const p = this.pending.get(dest);
    if (!p || p.q.length <= p.h) return false;
    const t = p.q[p.h++];
    if (p.h === p.q.length) {
      p.q.length = 0;
      p.h = 0;
    }
    this.latencies[this.answered++] = now - t;
    this.lastProgress = now;
    return true;
  }

  done(now) {
    if (this.answered >= this.count) return true;
    return this.enqueued >= this.count && now - this.lastProgress > this.graceMs;
  }

  report(now) {
    const lat = Array.from(this.latencies.subarray(0, this.answered)).sort((a, b) => a - b);
    const sum = lat.reduce((a, b) => a + b, 0);
    const span = this.firstWrite === null ? 0 : (this.lastWrite - this.firstWrite) / 1000;
    const delta = (k) => this.counters[k] - (this.base[k] || 0);
    return {
      count: this.count,
      rate_asked: this.rate,
      sources: this.sources.length,
      sent: this.sent,
      acked: this.acked,
      nacked: this.nacked,
      answered: this.answered,
      unanswered: this.count - this.answered,
      ambiguous: this.ambiguous,
      send_duration_s: Math.round(span * 1000) / 1000,
      rate_achieved: span > 0 ? Math.round((this.sent - 1) / span) : null,
      elapsed_s: Math.round(now - this.start) / 1000,
      latency_ms: {
        p50: percentile(lat, 0.5),
        p90: percentile(lat, 0.9),
        p99: percentile(lat, 0.99),
        max: lat.length ? Math.round(lat[lat.length - 1] * 1000) / 1000 : null,
        mean: lat.length ? Math.round((sum / lat.length) * 1000) / 1000 : null,
      },
      throttled: delta('throttled'),
      dups_suppressed: delta('dups_suppressed'),
      mo_retries: delta('mo_retries'),
      mo_redelivered: delta('mo_redelivered'),
      mts: delta('mts'),
    };
  }
}

module.exports = { Flood, TICK_MS };
