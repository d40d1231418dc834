// The browser Minitel: draws a Videotex.Terminal on a 320x250 canvas with the emulator's
// 8x10 glyphs and palette (font.js, generated from terminal_emu), talks to the server's
// WebSocket (text frames, one character per videotex byte, latin-1), and maps the on-page
// and physical keyboards to Minitel keys. Exposes window.minitel for scripts and tests.
"use strict";

(function () {
  const { COLS, ROWS, Terminal, resolveScreen, screenText } = window.Videotex;
  const FONT = window.MINITEL_FONT;
  const CW = FONT.width, CH = FONT.height;
  const BANDS = [[0, 3], [3, 7], [7, 10]];
  const BLINK_MS = 500;

  // ---- drawing (same rules as terminal_emu/render/png.py) ----------------------------

  function glyphRows(ch) {
    if (ch === "\x7f") ch = "█";
    return FONT.glyphs[ch] || FONT.unknown;
  }

  function mosaicRows(c) {
    const rows = Array(CH).fill(0);
    BANDS.forEach(([top, bottom], band) => {
      for (let half = 0; half < 2; half++) {
        if (!((c.sext >> (band * 2 + half)) & 1)) continue;
        let bits = half === 0 ? 0xf0 : 0x0f, last = bottom;
        if (c.sep) { bits &= half === 0 ? 0x70 : 0x07; last = bottom - 1; }
        for (let y = top; y < last; y++) rows[y] |= bits;
      }
    });
    return rows;
  }

  function charRows(c, ul, dx, dy) {
    let rows = glyphRows(c.ch || " ").slice();
    if (c.size === "tall" || c.size === "double") {
      rows = rows.map((_, y) => rows[Math.floor((y + CH * dy) / 2)]);
    }
    if (c.size === "wide" || c.size === "double") {
      rows = rows.map((r) => {
        let out = 0;
        for (let x = 0; x < CW; x++) {
          if ((r >> (7 - Math.floor((x + CW * dx) / 2))) & 1) out |= 0x80 >> x;
        }
        return out;
      });
    }
    const bottomPart = c.size === "normal" || c.size === "wide" || dy === 1;
    if (ul && bottomPart) rows[CH - 1] = 0xff;
    return rows;
  }

  class Display {
    constructor(canvas) {
      this.canvas = canvas;
      canvas.width = COLS * CW; canvas.height = ROWS * CH;
      this.ctx = canvas.getContext("2d");
      this.image = this.ctx.createImageData(canvas.width, canvas.height);
      this.grey = false;
    }
    draw(screen, blinkOn, cursorOn) {
      const palette = this.grey ? FONT.greys : FONT.colours;
      const data = this.image.data, width = COLS * CW;
      const hide = !screen.revealed;
      resolveScreen(screen.cells).forEach((line, r) => {
        line.forEach(({ c, bg: zoneBg, ul, mask, dx, dy }, col) => {
          let fg = c.fg, bg = zoneBg, rows;
          if (mask && hide) rows = null;
          else if (c.kind === "mosaic") rows = mosaicRows(c);
          else { rows = charRows(c, ul, dx, dy); if (c.inv) [fg, bg] = [bg, fg]; }
          if (c.blink && !blinkOn) rows = null;          // blink: the off phase shows background
          let invert = cursorOn && screen.cursorVisible && r === screen.row && col === screen.col - 1;
          for (let y = 0; y < CH; y++) {
            const bits = rows ? rows[y] : 0;
            let p = ((r * CH + y) * width + col * CW) * 4;
            for (let x = 0; x < CW; x++, p += 4) {
              let on = (bits >> (7 - x)) & 1;
              if (invert) on ^= 1;                       // the cursor is a blinking block
              const rgb = palette[on ? fg : bg];
              data[p] = rgb[0]; data[p + 1] = rgb[1]; data[p + 2] = rgb[2]; data[p + 3] = 255;
            }
          }
        });
      });
      this.ctx.putImageData(this.image, 0, 0);
    }
  }

  // ---- the line to the server -------------------------------------------------------

  function endpoint() {
    const asked = new URLSearchParams(location.search).get("ws");
    if (asked) return asked;
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  }

  class Minitel {
    constructor(root) {
      this.root = root;
      this.term = new Terminal();
      this.display = new Display(root.querySelector("canvas.screen"));
      this.status = root.querySelector(".line-status");
      this.ws = null; this.url = endpoint();
      this.received = 0; this.sent = 0; this.blinkOn = true; this.dirty = true;
      this.term.onBell = () => this.flash();
      this.term.onHangup = () => this.disconnect();
      setInterval(() => { this.blinkOn = !this.blinkOn; this.dirty = true; }, BLINK_MS);
      const frame = () => { if (this.dirty) this.paint(); requestAnimationFrame(frame); };
      requestAnimationFrame(frame);
      this.paint();
    }
    paint() { this.dirty = false; this.display.draw(this.term.screen, this.blinkOn, this.blinkOn); }
    get connected() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }
    setStatus(text) { this.status.textContent = text; this.root.dataset.line = text; }

    connect() {
      if (this.ws) return;
      this.setStatus("connecting");
      const ws = new WebSocket(this.url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      ws.onopen = () => { this.term.setConnected(true); this.dirty = true; this.setStatus("connected"); };
      ws.onmessage = (ev) => this.receive(ev.data);
      ws.onclose = () => {
        if (this.ws !== ws) return;
        this.ws = null; this.term.setConnected(false); this.dirty = true;
        this.setStatus("disconnected: press Connexion/Fin to call again");
      };
      ws.onerror = () => this.setStatus("cannot reach " + this.url);
    }
    disconnect() { if (this.ws) this.ws.close(); }

    receive(data) {
      let bytes;
      if (typeof data === "string") {
        bytes = new Uint8Array(data.length);
        for (let i = 0; i < data.length; i++) {
          const c = data.charCodeAt(i);
          bytes[i] = c < 0x100 ? c : 0x1a;               // not a byte: shown as an error (SUB)
        }
      } else bytes = new Uint8Array(data);
      this.received += bytes.length;
      this.term.feed(bytes);
      this.flush();
      this.dirty = true;
    }
    flush() {
      const out = this.term.takeOutput();
      if (out.length && this.connected) {
        this.ws.send(String.fromCharCode(...out));
        this.sent += out.length;
      }
    }

    press(name) {
      if (name === "CONNEXION_FIN" && !this.connected) { this.term.takeOutput(); this.connect(); return; }
      this.term.press(name); this.flush(); this.dirty = true;
    }
    type(text) { this.term.type(text); this.flush(); this.dirty = true; }
    flash() {
      this.root.classList.add("bell");
      setTimeout(() => this.root.classList.remove("bell"), 150);
    }
  }

  // ---- keyboards ----------------------------------------------------------------------

  // Physical keyboard -> Minitel function keys (documented in docs/websocket.md)
  const PHYSICAL = {
    Enter: "ENVOI", Backspace: "CORRECTION", Tab: "SUITE", "Shift+Tab": "RETOUR",
    Escape: "ANNULATION", F1: "GUIDE", F2: "SOMMAIRE", F3: "REPETITION", F4: "RETOUR",
    F5: "SUITE", F9: "CONNEXION_FIN", PageDown: "SUITE", PageUp: "RETOUR",
    "Ctrl+Enter": "CONNEXION_FIN", ArrowUp: "UP", ArrowDown: "DOWN", ArrowLeft: "LEFT",
    ArrowRight: "RIGHT",
  };

  function bindPhysical(m) {
    document.addEventListener("keydown", (ev) => {
      if (ev.altKey || ev.metaKey) return;
      const chord = (ev.ctrlKey ? "Ctrl+" : "") + (ev.shiftKey && ev.key.length > 1 ? "Shift+" : "") + ev.key;
      const name = PHYSICAL[chord] || (ev.ctrlKey ? null : PHYSICAL[ev.key]);
      if (name) { ev.preventDefault(); m.press(name); return; }
      if (ev.key.length === 1 && !ev.ctrlKey) { ev.preventDefault(); m.type(ev.key); }
    });
  }

  function bindOnPage(m) {
    m.root.querySelectorAll("[data-key]").forEach((button) => {
      button.addEventListener("click", (ev) => { ev.preventDefault(); m.press(button.dataset.key); });
    });
    m.root.querySelectorAll("[data-type]").forEach((button) => {
      button.addEventListener("click", (ev) => { ev.preventDefault(); m.type(button.dataset.type); });
    });
    const grey = m.root.querySelector("[data-grey]");
    if (grey) grey.addEventListener("change", () => { m.display.grey = grey.checked; m.dirty = true; });
  }

  function start() {
    const root = document.querySelector(".minitel");
    const m = new Minitel(root);
    bindOnPage(m);
    bindPhysical(m);
    window.minitel = {
      screenText: () => screenText(m.term.screen),
      cursor: () => ({ row: m.term.screen.row, col: m.term.screen.col, visible: m.term.screen.cursorVisible }),
      connected: () => m.connected,
      press: (name) => m.press(name),
      type: (text) => m.type(text),
      stats: () => ({ received: m.received, sent: m.sent, errors: m.term.errors, bells: m.term.screen.bells }),
      url: m.url,
      // A fresh connected terminal fed `bytes`: its cursor, its replies, and its screen
      // drawn off screen (blink on, no cursor) as base64 320x250 RGBA, to compare with
      // the emulator's PNG render.
      probe: (bytes) => {
        const term = new Terminal();
        term.setConnected(true);
        term.feed(Uint8Array.from(bytes));
        const display = new Display(document.createElement("canvas"));
        display.draw(term.screen, true, false);
        const data = display.image.data;
        let bin = "";
        for (let i = 0; i < data.length; i += 0x8000) {
          bin += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
        }
        const s = term.screen;
        return { pixels: btoa(bin), cursor: [s.row, s.col], visible: s.cursorVisible,
          replies: term.takeOutput(), text: screenText(s) };
      },
    };
    m.connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
