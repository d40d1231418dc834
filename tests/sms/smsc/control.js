'use strict';
// The control channel of the simulated SMSC: JSON lines over TCP. A request
// {"op": name, "id": n, ...} gets one reply line {"reply": n, ...} (or {"reply": n, "error":
// text}); an op may reply later through the `reply` function it is handed (flood does).
// Events are pushed only to clients that subscribed, each with its own filter; a line is
// serialised once per event, and writes are corked so that one tick goes out as one writev.

const net = require('net');

function write(sock, line) {
  if (!sock.writable) return;
  if (!sock.corkedTick) {
    sock.corkedTick = true;
    sock.cork();
    process.nextTick(() => {
      sock.corkedTick = false;
      sock.uncork();
    });
  }
  sock.write(line);
}

/** ops: {name(req, client, reply) -> reply body | undefined (replied later)}.
 * The `subscribe` op is built in: {"events": true | false | [names]}. */
function createControl(ops) {
  const clients = new Set();

  function handleLine(c, line) {
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      write(c, JSON.stringify({ reply: null, error: `bad JSON: ${e.message}` }) + '\n');
      return;
    }
    const id = req.id === undefined ? null : req.id;
    const reply = (body) => write(c, JSON.stringify(Object.assign({ reply: id }, body)) + '\n');
    if (req.op === 'subscribe') {
      const ev = req.events === undefined ? true : req.events;
      c.sub = ev === true ? true : ev === false ? null : new Set(ev);
      reply({ ok: true });
      return;
    }
    const op = Object.prototype.hasOwnProperty.call(ops, req.op) ? ops[req.op] : null;
    if (!op) {
      reply({ error: `unknown op ${JSON.stringify(req.op)}` });
      return;
    }
    try {
      const out = op(req, c, reply);
      if (out !== undefined) reply(out);
    } catch (e) {
      reply({ error: e.message });
    }
  }

  const server = net.createServer((c) => {
    c.sub = null;
    c.setNoDelay(true);
    c.setEncoding('utf8');
    clients.add(c);
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) handleLine(c, line);
      }
    });
    c.on('close', () => clients.delete(c));
    c.on('error', () => clients.delete(c));
  });

  /** Pushes an event to every client whose subscription takes it. */
  function emit(ev) {
    let line = null;
    for (const c of clients) {
      if (c.sub === null || (c.sub !== true && !c.sub.has(ev.ev))) continue;
      if (line === null) line = JSON.stringify(ev) + '\n';
      write(c, line);
    }
  }

  return { server, emit };
}

module.exports = { createControl };
