#!/usr/bin/env node
'use strict';
// A simulated SMSC for the SMS channel's tests and benchmarks, on node-smpp's server (npm
// `smpp`). It speaks SMPP 3.4 to the ESME under test and JSON lines to its driver
// (tests/sms/smsc.py) on a control port; both listen on 127.0.0.1 only. The first stdout line
// is {"smpp": port, "control": port}; nothing else goes to stdout (logs go to stderr).
// This file owns the SMPP sessions, the MT record and the MO store; control.js the JSON
// lines, text.js the alphabets and UDH, flood.js the load generator's bookkeeping.
//
// Invariants: every deliver_sm (MO or receipt) lives in exactly one place: the store queue,
// a session's outstanding window, or a timer (receipt delay, 1 s retry); a closed (or
// unbound) link puts its outstanding ones back at the head of the queue (at-least-once).
// A submit_sm carrying TLV 0x1501 (our message key) is recorded once per (key, part): a
// repeat gets the first message_id back.
// `reset` bumps a generation: items of an older generation are forgotten where found.
//
// node-smpp notes: its short_message / message_payload filters decode text by guessing the
// alphabet; they are switched off here so that the raw octets are recorded, and text.js
// decodes them with node-smpp's own coders. Unknown TLVs land on the PDU as pdu[<tag>] =
// Buffer and are not re-encoded, so our vendor tags are declared with smpp.addTLV.

const net = require('net');
const crypto = require('crypto');
const { performance } = require('perf_hooks');
const smpp = require('smpp');
const text = require('./text');
const { Flood, TICK_MS } = require('./flood');
const { createControl } = require('./control');

smpp.addTLV('message_key', { id: 0x1501, type: smpp.types.tlv.string });
smpp.addTLV('mo_id', { id: 0x1502, type: smpp.types.tlv.string });
for (const c of ['submit_sm', 'deliver_sm']) smpp.commands[c].params.short_message = { type: smpp.types.buffer };
delete smpp.tlvs.message_payload.filter;

const ESME_RINVBNDSTS = 0x04;
const ESME_RALYBND = 0x05;
const ESME_RINVCMDID = 0x03;
const ESME_RINVPASWD = 0x0e;
const ESME_RINVSYSID = 0x0f;
const ESME_RTHROTTLED = 0x58;
const RETRY_MS = 1000;
const QUIET_EVENTS = new Set(['mt', 'mo_ack', 'receipt_ack']);

function parseArgs(argv) {
  const o = { systemId: null, password: null, port: 0, controlPort: 0, receiptDelayMs: 0, window: 64, parentWatch: false };
  const num = (i) => {
    const v = Number(argv[i]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${argv[i - 1]} wants a number, got ${argv[i]}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--system-id': o.systemId = argv[++i]; break;
      case '--password': o.password = argv[++i]; break;
      case '--port': o.port = num(++i); break;
      case '--control-port': o.controlPort = num(++i); break;
      case '--receipt-delay-ms': o.receiptDelayMs = num(++i); break;
      case '--window': o.window = Math.max(1, num(++i)); break;
      case '--parent-watch': o.parentWatch = true; break; // exit when stdin closes
      case '--tls-key': o.tlsKey = argv[++i]; break; // with --tls-cert: SMPP over TLS
      case '--tls-cert': o.tlsCert = argv[++i]; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (o.systemId == null || o.password == null) throw new Error('--system-id and --password are required');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`smsc.js: ${e.message}\nusage: node smsc.js --system-id ID --password PW `
    + '[--port 0] [--control-port 0] [--receipt-delay-ms 0] [--window 64] [--parent-watch] '
    + '[--tls-key KEY.pem --tls-cert CERT.pem]\n');
  process.exit(2);
}

const log = (msg) => process.stderr.write(`smsc: ${msg}\n`);
const boot = crypto.randomBytes(4).toString('hex');

class Deque {
  constructor() { this.a = []; this.h = 0; }
  get length() { return this.a.length - this.h; }
  push(x) { this.a.push(x); }
  shift() {
    if (this.h >= this.a.length) return undefined;
    const x = this.a[this.h];
    this.a[this.h++] = undefined;
    if (this.h > 4096 && this.h * 2 > this.a.length) { this.a = this.a.slice(this.h); this.h = 0; }
    return x;
  }
  unshiftAll(items) { this.a = items.concat(this.a.slice(this.h)); this.h = 0; }
  clear() { this.a = []; this.h = 0; }
}

const COUNTERS = ['binds', 'bind_failures', 'unbinds', 'enquire_links', 'submits', 'mts', 'dups_suppressed',
  'duplicate_mts', 'throttled', 'receipts_sent', 'receipts_acked', 'receipt_retries', 'mo_created', 'mo_sent',
  'mo_acked', 'mo_retries', 'mo_redelivered', 'generic_nacks', 'drops', 'bad_pdus'];

const S = {
  counters: Object.fromEntries(COUNTERS.map((k) => [k, 0])),
  gen: 0,
  mts: [],
  dedup: new Map(), // key \0 part -> message_id
  seen: new Map(), // destination \0 (key | text) \0 part -> copies
  destinations: new Set(),
  dupDestinations: new Set(),
  queue: new Deque(),
  waitingRetry: 0,
  sessions: new Set(),
  faults: { throttle: 0, rate: 0, tokens: 0, refill: 0, dropAfter: 0, slowRespMs: 0 },
  flood: null,
  nextSession: 0,
  nextMessage: 0,
  nextMo: 0,
};

// ---- writing: one cork per socket per tick, so a burst goes out as one writev

function uncork(session) {
  session.sim.corked = false;
  session.socket.uncork();
}

function write(session, pdu) {
  if (session.sim.dead || !session.socket.writable) return false;
  if (!session.sim.corked) {
    session.sim.corked = true;
    session.socket.cork();
    process.nextTick(uncork, session);
  }
  return session.send(pdu);
}

// ---- the store-and-forward queue toward the ESME (MOs and receipts)

let pumpScheduled = false;

function schedulePump() {
  if (!pumpScheduled) {
    pumpScheduled = true;
    setImmediate(pump);
  }
}

function enqueue(item) {
  if (item.gen !== S.gen) return;
  S.queue.push(item);
  schedulePump();
}

function receivers() {
  const out = [];
  for (const s of S.sessions) {
    if (s.sim.mode && s.sim.mode !== 'transmitter' && !s.sim.dead && s.socket.writable) out.push(s);
  }
  return out;
}

function pump() {
  pumpScheduled = false;
  let rx = receivers();
  while (S.queue.length && rx.length) {
    const next = [];
    for (const s of rx) {
      if (!S.queue.length) break;
      if (s.sim.outstanding.size >= opts.window) continue;
      const item = S.queue.shift();
      if (item.gen !== S.gen || sendItem(s, item)) next.push(s);
      else S.queue.unshiftAll([item]); // that link just went away: leave it out
    }
    rx = next;
  }
}

/** Writes one deliver_sm; false when the link cannot take it. */
function sendItem(session, item) {
  const pdu = new smpp.PDU('deliver_sm', item.pdu);
  if (!write(session, pdu)) return false;
  session.sim.outstanding.set(pdu.sequence_number, item);
  if (item.kind === 'receipt') {
    S.counters.receipts_sent++;
    return true;
  }
  S.counters.mo_sent++;
  if (item.dropped) {
    S.counters.mo_redelivered++;
    item.dropped = false;
  }
  if (!item.written) {
    item.written = true;
    if (item.flood) item.flood.written(item.pdu.source_addr, performance.now());
  }
  return true;
}

function retryLater(item) {
  S.waitingRetry++;
  setTimeout(() => {
    S.waitingRetry--;
    enqueue(item);
  }, RETRY_MS);
}

function onDeliverResp(session, pdu, status) {
  const item = session.sim.outstanding.get(pdu.sequence_number);
  if (!item) return;
  session.sim.outstanding.delete(pdu.sequence_number);
  schedulePump();
  if (item.gen !== S.gen) return;
  if (item.kind === 'receipt') {
    emit({ ev: 'receipt_ack', message_id: item.id, status, session: session.sim.id });
    if (status === 0) S.counters.receipts_acked++;
    else { S.counters.receipt_retries++; retryLater(item); }
    return;
  }
  emit({ ev: 'mo_ack', mo: item.id, status, session: session.sim.id });
  if (item.flood) item.flood.acknowledged(status);
  if (status === 0) S.counters.mo_acked++;
  else { S.counters.mo_retries++; retryLater(item); }
}

function addressing(addr, ton, npi) {
  if (ton !== undefined) return [ton, npi === undefined ? 1 : npi];
  if (/^\+?\d{9,}$/.test(addr)) return [1, 1]; // international MSISDN
  if (/^\d+$/.test(addr)) return [0, 1]; // short code
  return [5, 0]; // alphanumeric
}

/** Builds an MO item; spec: {src, text | hex, dst, data_coding, esm_class, *_ton, *_npi}. */
function newMo(spec, flood) {
  const id = `mo-${boot}-${++S.nextMo}`;
  let dc;
  let buf;
  if (spec.hex !== undefined) {
    dc = spec.data_coding === undefined || spec.data_coding === null ? 4 : spec.data_coding;
    buf = Buffer.from(String(spec.hex), 'hex');
  } else {
    ({ dc, buf } = text.encode(String(spec.text), spec.data_coding));
  }
  const src = String(spec.src);
  const dst = String(spec.dst === undefined ? '61234' : spec.dst);
  const [sTon, sNpi] = addressing(src, spec.source_ton, spec.source_npi);
  const [dTon, dNpi] = addressing(dst, spec.dest_ton, spec.dest_npi);
  const pdu = {
    source_addr_ton: sTon, source_addr_npi: sNpi, source_addr: src,
    dest_addr_ton: dTon, dest_addr_npi: dNpi, destination_addr: dst,
    esm_class: spec.esm_class || 0, data_coding: dc, short_message: buf, mo_id: id,
  };
  if (buf.length > 254) {
    pdu.short_message = Buffer.alloc(0);
    pdu.message_payload = buf;
  }
  S.counters.mo_created++;
  return { kind: 'mo', id, gen: S.gen, pdu, flood: flood || null, written: false, dropped: false };
}

function newReceipt(rec, submittedAt) {
  const now = Date.now();
  const body = `id:${rec.message_id} sub:001 dlvrd:001 submit date:${text.receiptDate(submittedAt)}`
    + ` done date:${text.receiptDate(now)} stat:DELIVRD err:000 text:${(rec.text || '').slice(0, 20)}`;
  const { dc, buf } = text.encode(text.gsmSafe(body), 0);
  const [sTon, sNpi] = addressing(rec.destination);
  const [dTon, dNpi] = addressing(rec.source);
  const pdu = {
    source_addr_ton: sTon, source_addr_npi: sNpi, source_addr: rec.destination,
    dest_addr_ton: dTon, dest_addr_npi: dNpi, destination_addr: rec.source,
    esm_class: 0x04, data_coding: dc, short_message: buf,
    receipted_message_id: rec.message_id, message_state: 2,
  };
  return { kind: 'receipt', id: rec.message_id, gen: S.gen, pdu };
}

// ---- submit_sm: faults, dedup, record

function takeToken() {
  const f = S.faults;
  const now = performance.now();
  f.tokens = Math.min(f.rate, f.tokens + ((now - f.refill) * f.rate) / 1000);
  f.refill = now;
  if (f.tokens >= 1) {
    f.tokens -= 1;
    return true;
  }
  return false;
}

function vendorTlvs(pdu) {
  let out = null;
  for (const k of Object.keys(pdu)) {
    if (k.charCodeAt(0) <= 57 && /^\d+$/.test(k) && Buffer.isBuffer(pdu[k])) {
      if (out === null) out = {};
      out[`0x${Number(k).toString(16).padStart(4, '0')}`] = pdu[k].toString('hex');
    }
  }
  return out;
}

/** Records an accepted submit_sm (or finds its first copy by key); returns its message_id. */
function accept(session, pdu) {
  const esm = pdu.esm_class | 0;
  const dc = pdu.data_coding | 0;
  const sm = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
  const payload = Buffer.isBuffer(pdu.message_payload) ? pdu.message_payload : null;
  const { udh, body } = text.splitUdh(esm, sm.length === 0 && payload ? payload : sm);
  const sar = pdu.sar_segment_seqnum !== undefined
    ? { ref: pdu.sar_msg_ref_num, total: pdu.sar_total_segments, seq: pdu.sar_segment_seqnum } : null;
  const part = udh && udh.seq !== null ? `${udh.seq}/${udh.total}` : sar ? `${sar.seq}/${sar.total}` : '';
  const key = typeof pdu.message_key === 'string' ? pdu.message_key : null;
  const ident = key === null ? null : `${key}\0${part}`;
  if (ident !== null) {
    const prior = S.dedup.get(ident);
    if (prior !== undefined) {
      S.counters.dups_suppressed++;
      emit({ ev: 'dup', key, message_id: prior, destination: pdu.destination_addr, session: session.sim.id });
      return prior;
    }
  }
  const messageId = boot + (++S.nextMessage).toString(16).padStart(8, '0');
  if (ident !== null) S.dedup.set(ident, messageId);
  const decoded = text.decode(dc, body);
  const dest = pdu.destination_addr;
  const rec = {
    i: S.mts.length, t: Date.now(), session: session.sim.id, message_id: messageId,
    source: pdu.source_addr, source_ton: pdu.source_addr_ton, source_npi: pdu.source_addr_npi,
    destination: dest, dest_ton: pdu.dest_addr_ton, dest_npi: pdu.dest_addr_npi,
    service_type: pdu.service_type, esm_class: esm, data_coding: dc,
    registered_delivery: pdu.registered_delivery | 0,
    sm_hex: sm.toString('hex'), payload_hex: payload ? payload.toString('hex') : null,
    udh, sar, text: decoded, key, tlvs: vendorTlvs(pdu),
  };
  S.mts.push(rec);
  S.counters.mts++;
  S.destinations.add(dest);
  const seenKey = `${dest}\0${key !== null ? `k:${key}` : `t:${decoded === null ? rec.sm_hex : decoded}`}\0${part}`;
  const copies = (S.seen.get(seenKey) || 0) + 1;
  S.seen.set(seenKey, copies);
  if (copies > 1) {
    S.counters.duplicate_mts++;
    S.dupDestinations.add(dest);
  }
  const first = !(udh && udh.seq > 1) && !(sar && sar.seq > 1);
  if (S.flood && first) S.flood.mt(dest, performance.now());
  emit(Object.assign({ ev: 'mt' }, rec));
  if (rec.registered_delivery & 1) {
    const item = newReceipt(rec, rec.t);
    if (opts.receiptDelayMs > 0) setTimeout(enqueue, opts.receiptDelayMs, item);
    else enqueue(item);
  }
  return messageId;
}

function respond(session, pdu, options) {
  const resp = pdu.response(options);
  if (S.faults.slowRespMs > 0) setTimeout(write, S.faults.slowRespMs, session, resp);
  else write(session, resp);
}

function onSubmit(session, pdu) {
  S.counters.submits++;
  const f = S.faults;
  const dropNow = f.dropAfter > 0 && --f.dropAfter === 0;
  if (!dropNow) {
    if (f.throttle > 0 || (f.rate > 0 && !takeToken())) {
      if (f.throttle > 0) f.throttle--;
      S.counters.throttled++;
      respond(session, pdu, { command_status: ESME_RTHROTTLED });
      return;
    }
  }
  const messageId = accept(session, pdu);
  if (dropNow) {
    // the ESME cannot know whether this one was taken: close before the resp goes out
    session.sim.dead = true;
    if (session.sim.corked) uncork(session);
    session.socket.destroySoon();
    emit({ ev: 'dropping', session: session.sim.id, reason: 'drop_after_submits', message_id: messageId });
    return;
  }
  respond(session, pdu, { message_id: messageId });
}

// ---- the SMPP side

function onBind(session, pdu) {
  const sim = session.sim;
  if (sim.mode) {
    write(session, pdu.response({ command_status: ESME_RALYBND }));
    return;
  }
  let status = 0;
  if (pdu.system_id !== opts.systemId) status = ESME_RINVSYSID;
  else if (pdu.password !== opts.password) status = ESME_RINVPASWD;
  if (status) {
    S.counters.bind_failures++;
    write(session, pdu.response({ command_status: status }));
    emit({ ev: 'bind_failed', session: sim.id, system_id: pdu.system_id, status });
    return;
  }
  sim.mode = pdu.command.slice('bind_'.length);
  S.counters.binds++;
  write(session, pdu.response({ system_id: 'SMSCSIM' }));
  emit({ ev: 'bind', session: sim.id, mode: sim.mode, system_id: pdu.system_id });
  schedulePump();
}

function onPdu(session, pdu) {
  const sim = session.sim;
  if (sim.dead) return;
  switch (pdu.command) {
    case 'bind_transceiver':
    case 'bind_transmitter':
    case 'bind_receiver':
      onBind(session, pdu);
      return;
    case 'enquire_link':
      S.counters.enquire_links++;
      write(session, pdu.response());
      return;
    case 'deliver_sm_resp':
      onDeliverResp(session, pdu, pdu.command_status);
      return;
    case 'generic_nack':
      S.counters.generic_nacks++;
      emit({ ev: 'generic_nack', session: sim.id, status: pdu.command_status, seq: pdu.sequence_number });
      onDeliverResp(session, pdu, pdu.command_status || ESME_RINVCMDID);
      return;
    case 'unknown':
      write(session, pdu.response()); // generic_nack, ESME_RINVCMDID
      return;
    default:
  }
  if (pdu.isResponse()) return;
  if (!sim.mode) {
    write(session, pdu.response({ command_status: ESME_RINVBNDSTS }));
    return;
  }
  if (pdu.command === 'unbind') {
    S.counters.unbinds++;
    sim.mode = null;
    write(session, pdu.response());
    emit({ ev: 'unbind', session: sim.id, requeued: requeueOutstanding(sim) });
  } else if (pdu.command === 'submit_sm') {
    if (sim.mode === 'receiver') write(session, pdu.response({ command_status: ESME_RINVBNDSTS }));
    else onSubmit(session, pdu);
  } else {
    write(session, pdu.response({ command_status: ESME_RINVCMDID }));
  }
}

/** Puts a link's unacknowledged deliver_sm back at the head of the store (at-least-once). */
function requeueOutstanding(sim) {
  const back = [];
  for (const item of sim.outstanding.values()) {
    if (item.gen !== S.gen) continue;
    if (item.kind === 'mo') item.dropped = true;
    back.push(item);
  }
  sim.outstanding.clear();
  if (back.length) S.queue.unshiftAll(back);
  schedulePump();
  return back.length;
}

function onClose(session) {
  const sim = session.sim;
  sim.dead = true;
  S.sessions.delete(session);
  const requeued = requeueOutstanding(sim);
  emit({ ev: 'closed', session: sim.id, was_bound: sim.mode !== null, requeued });
}

const tlsOptions = opts.tlsKey && opts.tlsCert
  ? { key: require('fs').readFileSync(opts.tlsKey), cert: require('fs').readFileSync(opts.tlsCert) }
  : {};
const server = smpp.createServer(tlsOptions, (session) => {
  session.sim = { id: ++S.nextSession, mode: null, dead: false, corked: false, outstanding: new Map() };
  S.sessions.add(session);
  session.socket.setNoDelay(true);
  session.on('pdu', (pdu) => onPdu(session, pdu));
  session.on('close', () => onClose(session));
  session.on('error', (e) => {
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') {
      S.counters.bad_pdus++;
      log(`session ${session.sim.id}: ${e.message}`);
    }
    session.destroy();
  });
  emit({ ev: 'connect', session: session.sim.id });
});

// ---- the control channel

function dropAll(rst) {
  let n = 0;
  for (const s of S.sessions) {
    n++;
    if (rst) s.socket.resetAndDestroy();
    else s.socket.destroy();
  }
  S.counters.drops += n;
  return n;
}

function reset() {
  S.gen++;
  for (const k of COUNTERS) S.counters[k] = 0;
  S.mts = [];
  S.dedup.clear();
  S.seen.clear();
  S.destinations.clear();
  S.dupDestinations.clear();
  S.queue.clear();
  S.faults = { throttle: 0, rate: 0, tokens: 0, refill: 0, dropAfter: 0, slowRespMs: 0 };
  if (S.flood) finishFlood(performance.now());
}

function stats() {
  let bound = 0;
  let outstanding = 0;
  for (const s of S.sessions) {
    if (s.sim.mode) bound++;
    outstanding += s.sim.outstanding.size;
  }
  return Object.assign({}, S.counters, {
    unique_destinations: S.destinations.size,
    destinations_with_more_than_one_mt: S.dupDestinations.size,
    sessions: S.sessions.size,
    bound,
    queued: S.queue.length,
    outstanding,
    waiting_retry: S.waitingRetry,
    flood_running: S.flood !== null,
  });
}

function floodTick() {
  const f = S.flood;
  const now = performance.now();
  for (const m of f.due(now)) enqueue(newMo({ src: m.src, text: m.text, dst: f.dst, data_coding: f.dataCoding }, f));
  if (f.done(now)) finishFlood(now);
}

function finishFlood(now) {
  const f = S.flood;
  clearInterval(f.timer);
  S.flood = null;
  const report = f.report(now);
  f.reply({ report });
  emit({ ev: 'flood_done', report });
}

const OPS = {
  stats: () => stats(),
  mts(req) {
    const since = req.since | 0;
    const end = req.limit ? Math.min(S.mts.length, since + req.limit) : S.mts.length;
    return { mts: S.mts.slice(since, end), next: end, total: S.mts.length };
  },
  sessions: () => ({ sessions: [...S.sessions].map((s) => ({ id: s.sim.id, mode: s.sim.mode, outstanding: s.sim.outstanding.size })) }),
  reset() { reset(); return { ok: true }; },
  mo(req) {
    if (req.src === undefined || (req.text === undefined && req.hex === undefined)) throw new Error('mo needs src and text (or hex)');
    const item = newMo(req, null);
    enqueue(item);
    return { mo: item.id };
  },
  flood(req, c, reply) {
    if (S.flood) throw new Error('a flood is already running');
    const f = new Flood(req, S.counters, performance.now());
    for (const t of f.texts) text.encode(t, f.dataCoding); // refuse now, not mid-flood
    f.reply = reply;
    S.flood = f;
    f.timer = setInterval(floodTick, TICK_MS);
    floodTick();
    return undefined; // replied when the flood ends
  },
  throttle(req) { S.faults.throttle = req.n | 0; return { ok: true }; },
  rate(req) {
    const f = S.faults;
    f.rate = Number(req.r || 0);
    f.tokens = f.rate;
    f.refill = performance.now();
    return { ok: true };
  },
  drop(req) { return { dropped: dropAll(!!req.rst) }; },
  drop_after_submits(req) { S.faults.dropAfter = req.n | 0; return { ok: true }; },
  raw(req) {
    const bytes = Buffer.from(String(req.hex || ''), 'hex');
    let n = 0;
    for (const s of S.sessions) {
      if (!s.sim.mode || s.sim.dead || !s.socket.writable) continue;
      if (s.sim.corked) uncork(s);
      s.socket.write(bytes);
      n++;
    }
    return { written: n };
  },
  slow_resp_ms(req) { S.faults.slowRespMs = Number(req.ms || 0); return { ok: true }; },
};

const control = createControl(OPS);
const emit = (ev) => {
  if (!(S.flood && S.flood.quiet && QUIET_EVENTS.has(ev.ev))) control.emit(ev);
};

server.on('error', (e) => { log(`SMPP listener: ${e.message}`); process.exit(1); });
control.server.on('error', (e) => { log(`control listener: ${e.message}`); process.exit(1); });
server.listen(opts.port, '127.0.0.1', () => {
  control.server.listen(opts.controlPort, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ smpp: server.address().port, control: control.server.address().port }) + '\n');
  });
});

if (opts.parentWatch) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
