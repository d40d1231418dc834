// The Minitel 1B terminal model of the browser page: screen memory, byte parser and the
// PRO1/2/3 protocol, written from shared/reference/minitel-videotex.md (section numbers
// below are that file's). It knows nothing of the DOM or the network: feed() takes the
// server's bytes, takeOutput() gives the terminal's replies and keys.
//
// It is a Minitel 1B as its ROM behaves (the reference's §12 vectors 1-76, which win over
// the prose): US resets every attribute; SI and SO cancel inverse, size and lining; a
// character drawn on row 00 or 01 drops double height/size; REP repeats the last code in
// the current set and its spaces are never delimiters; row 00 columns 37-39 are the
// terminal's; no insert mode, no DRCS.
//
// Invariants (as in terminal_emu): the cursor is always on screen (row 0-24, col 1-40);
// row 00 is entered only by US 40 xx (or US 30 30) and left by LF (back to the saved
// place), RS, FF, US; alphanumeric cells do not store background/lining/masking, they are
// resolved from the nearest delimiter or mosaic to their left (resolveRow); a doubled
// character is stored whole in each cell it covers and which half a position shows is
// decided when the screen is read (resolveScreen); no input ever throws.
"use strict";

(function (global) {
  const COLS = 40, ROWS = 25;

  // §3 C0 control set
  const C0 = Object.freeze({
    BEL: 0x07, BS: 0x08, HT: 0x09, LF: 0x0a, VT: 0x0b, FF: 0x0c, CR: 0x0d, SO: 0x0e,
    SI: 0x0f, CON: 0x11, REP: 0x12, SEP: 0x13, COFF: 0x14, SYN: 0x16, CAN: 0x18,
    SS2: 0x19, SUB: 0x1a, ESC: 0x1b, SS3: 0x1d, RS: 0x1e, US: 0x1f,
  });
  // §6 G2 spacing glyphs and the accents of G2 column 4
  const G2 = {
    0x23: "£", 0x24: "$", 0x26: "#", 0x27: "§", 0x2c: "←", 0x2d: "↑", 0x2e: "→",
    0x2f: "↓", 0x30: "°", 0x31: "±", 0x38: "÷", 0x3c: "¼", 0x3d: "½", 0x3e: "¾",
    0x6a: "Œ", 0x7a: "œ", 0x7b: "β",
  };
  const ACCENTS = {
    0x41: { a: "à", e: "è", u: "ù" }, 0x42: { e: "é" },
    0x43: { a: "â", e: "ê", i: "î", o: "ô", u: "û" },
    0x48: { a: "ä", e: "ë", i: "ï", o: "ö", u: "ü" }, 0x4b: { c: "ç" },
  };
  const ERROR_BLOCK = "█", LOW_BAR = "_";
  const CODE00 = "\u2058";                               // §12 v71: EF9345 code 00
  const TERMINAL_COLS = [37, 38, 39];                     // §12 v66: row 00, the terminal's
  const SIZES = { 0x4c: "normal", 0x4d: "tall", 0x4e: "wide", 0x4f: "double" };
  const PENDING_BG = 1, PENDING_LINING = 2, PENDING_MASK = 4;
  // §9 routing modules
  const SCREEN = 0, KEYBOARD = 1, MODEM = 2, SOCKET = 3;

  const DEFAULT_CELL = Object.freeze({
    kind: "char", ch: " ", sext: 0, sep: false, fg: 7, bg: 0, blink: false, inv: false,
    size: "normal", delim: false, ul: false, mask: false,
  });
  function cell(props) { return Object.freeze(Object.assign({}, DEFAULT_CELL, props)); }
  const SPACE = DEFAULT_CELL;                             // §2 row 00 starts as spaces
  const BLANK = cell({ kind: "mosaic", ch: null });       // §2 what FF leaves
  function newPen() {
    return { fg: 7, bg: 0, blink: false, inv: false, size: "normal", lining: false,
      masking: false, sep: false, g1: false, pending: 0 };
  }

  // §6 G1 byte -> sextant bits (bit 0 TL ... bit 5 BR); 0x40-0x5E drawn as 0x60-0x7E
  function g1Sextants(code) {
    if (code === 0x5f) return 63;
    if (code >= 0x40 && code <= 0x5e) code += 0x20;
    return (code & 0x1f) | (code & 0x40 ? 0x20 : 0);
  }

  // Zone attributes resolved left to right (§2 start of a row, §7 serial attributes)
  function resolveRow(row) {
    let bg = 0, lining = false, mask = false;
    return row.map((c) => {
      if (c.kind === "mosaic") { bg = c.bg; lining = false; return { c, bg, ul: false, mask, dx: 0, dy: 0 }; }
      if (c.delim) { bg = c.bg; lining = c.ul; mask = c.mask; return { c, bg, ul: false, mask, dx: 0, dy: 0 }; }
      return { c, bg, ul: lining, mask, dx: 0, dy: 0 };
    });
  }

  // What each position shows (§12 v75-76): along a row a double-width cell shows its left
  // half and the next position the right half of the same character, whatever is stored
  // there; down a column a double-height cell shows its top half unless the position
  // above shows a double-height top half, then its own bottom half.
  const WIDE = { wide: true, double: true }, TALL = { tall: true, double: true };
  function resolveScreen(cells) {
    const out = [];
    let above = null;
    for (const row of cells) {
      const zoned = resolveRow(row), line = [];
      let col = 0;
      while (col < zoned.length) {
        const res = zoned[col], c = res.c;
        let dy = 0;
        if (TALL[c.size] && above) {
          const up = above[col];
          if (TALL[up.c.size] && up.dy === 0 && up.c.kind === "char") dy = 1;
        }
        line.push(Object.assign({}, res, { dx: 0, dy }));
        col++;
        if (WIDE[c.size] && col < zoned.length) {
          line.push(Object.assign({}, res, { dx: 1, dy }));
          col++;
        }
      }
      out.push(line);
      above = line;
    }
    return out;
  }

  class Screen {
    constructor() {
      this.cells = [Array(COLS).fill(SPACE)];
      for (let r = 1; r < ROWS; r++) this.cells.push(Array(COLS).fill(BLANK));
      this.row = 1; this.col = 1; this.cursorVisible = false; this.pen = newPen();
      this.roll = false; this.revealed = false;
      this.saved = null; this.last = null; this.bells = 0;
    }

    scrollUp(top = 1, n = 1) {
      for (let i = 0; i < n; i++) { this.cells.splice(top, 1); this.cells.splice(24, 0, Array(COLS).fill(BLANK)); }
    }
    scrollDown(top = 1, n = 1) {
      for (let i = 0; i < n; i++) { this.cells.splice(24, 1); this.cells.splice(top, 0, Array(COLS).fill(BLANK)); }
    }

    // §4 overflow rules
    advance(w, h) {
      if (this.row === 0) { this.col = Math.min(this.col + w, COLS); return; }
      this.col += w;
      if (this.col <= COLS) return;
      this.col = 1; this.row += h;
      if (this.row > 24) {
        if (this.roll) { this.scrollUp(1, this.row - 24); this.row = 24; }
        else this.row = h === 1 ? 1 : 2;
      }
    }

    // Write at the cursor honouring size; the cursor is the bottom-left cell (§4). A
    // doubled character is stored whole in each cell it covers; on rows 00-01 double
    // height/size are not drawn and the size attribute is dropped (§12 v58, v63-64).
    put(proto, charSize) {
      let w = 1, h = 1;
      const row = this.row, col = this.col;
      if (charSize) {
        let size = this.pen.size;
        if (TALL[size] && row <= 1) this.pen.size = size = "normal";
        if (row > 0) {
          if (WIDE[size] && col < COLS) w = 2;
          if (TALL[size]) h = 2;
        }
      }
      if (row === 0 && TERMINAL_COLS.includes(col)) { this.advance(w, h); return; }
      if (w === 1 && h === 1) this.cells[row][col - 1] = proto;
      else {
        const size = w === 2 ? (h === 2 ? "double" : "wide") : "tall";
        const stored = Object.freeze(Object.assign({}, proto, { size }));
        for (let dy = 0; dy < h; dy++) {
          for (let dx = 0; dx < w; dx++) this.cells[row - h + 1 + dy][col - 1 + dx] = stored;
        }
      }
      this.advance(w, h);
    }

    // §5, §6 printable characters
    draw(code) { this.drawCode(code, false); this.last = ["code", code]; }
    drawCode(code, repeated) {
      if (this.pen.g1) this.drawMosaic(code);
      else if (repeated && code === 0x20) this.drawChar(" ");   // §12 v70: never a delimiter
      else this.drawG0(code);
    }
    drawG0(code) {
      if (code === 0x20 && this.pen.pending) this.drawDelimiter();
      else this.drawChar(code === 0x7f ? ERROR_BLOCK : String.fromCharCode(code));
    }
    drawChar(ch) {
      const p = this.pen;
      this.put(cell({ ch, fg: p.fg, blink: p.blink && ch !== " ", inv: p.inv }), true);
    }
    drawDelimiter() {
      const p = this.pen;
      p.pending = 0;
      this.put(cell({ ch: " ", fg: p.fg, bg: p.bg, inv: p.inv, delim: true, ul: p.lining,
        mask: p.masking }), true);
    }
    drawMosaic(code) {
      const p = this.pen;
      p.pending &= ~PENDING_BG;
      this.put(cell({ kind: "mosaic", ch: null, sext: code === 0x20 ? 0 : g1Sextants(code),
        sep: p.sep, fg: p.fg, bg: p.bg, blink: p.blink, mask: p.masking }), false);
    }
    drawG2(code) { this.drawChar(G2[code] || LOW_BAR); this.last = ["g2", code]; }
    drawAccented(accent, letter, repeated) {
      const base = String.fromCharCode(letter);
      const glyph = (ACCENTS[accent] || {})[base];
      if (glyph) this.drawChar(glyph);
      else if (repeated && letter === 0x20) this.drawChar(" ");
      else this.drawG0(letter);
      if (!repeated) this.last = ["accent", accent, letter];
    }
    // §5 REP, §12 v68-71: the last code in the current set; code 00 when nothing was shown
    repeat(n) {
      const last = this.last;
      for (let i = 0; i < n; i++) {
        if (!last) this.drawChar(CODE00);
        else if (last[0] === "code" || this.pen.g1) this.drawCode(last[0] === "accent" ? last[2] : last[1], true);
        else if (last[0] === "g2") this.drawChar(G2[last[1]] || LOW_BAR);
        else this.drawAccented(last[1], last[2], true);
      }
    }

    // §3 C0
    backspace() {
      if (this.col > 1) this.col--;
      else if (this.row === 0) return;
      else if (this.row > 1) { this.row--; this.col = COLS; }
      else if (this.roll) { this.scrollDown(); this.col = COLS; }
      else { this.row = 24; this.col = COLS; }
    }
    linefeed() {
      if (this.row === 0) {
        if (this.saved) { [this.row, this.col, this.pen] = this.saved; }
        else { this.row = 1; this.col = 1; this.pen = newPen(); }
        this.saved = null;
      } else if (this.row < 24) this.row++;
      else if (this.roll) this.scrollUp();
      else this.row = 1;
    }
    vtab() {
      if (this.row === 0) return;
      if (this.row > 1) this.row--;
      else if (this.roll) this.scrollDown();
      else this.row = 24;
    }
    formFeed() {
      for (let r = 1; r < ROWS; r++) this.cells[r] = Array(COLS).fill(BLANK);
      this.home();
    }
    home() { this.row = 1; this.col = 1; this.saved = null; this.pen = newPen(); }
    // SI and SO both cancel inverse, size and lining (§12 v33, v59-62)
    shifted() {
      const p = this.pen;
      p.size = "normal"; p.inv = false; p.lining = false; p.pending &= ~PENDING_LINING;
    }
    shiftOut() { this.shifted(); this.pen.g1 = true; }
    shiftIn() { this.shifted(); this.pen.g1 = false; this.pen.sep = false; }
    cancel() {                                           // CAN: fill, no delimiter
      const p = this.pen;
      const fill = p.g1
        ? cell({ kind: "mosaic", ch: null, fg: p.fg, bg: p.bg, blink: p.blink, sep: p.sep, mask: p.masking })
        : cell({ ch: " ", fg: p.fg, inv: p.inv });
      const line = this.cells[this.row];
      for (let c = this.col - 1; c < COLS; c++) {
        if (this.row !== 0 || !TERMINAL_COLS.includes(c + 1)) line[c] = fill;
      }
    }

    // §4 US addressing: the full attribute reset of RS (§12 v9, v53-57)
    address(row, col) {
      if (row < 0 || row >= ROWS || col < 1 || col > COLS) return;
      if (row === 0 && this.row !== 0) this.saved = [this.row, this.col, Object.assign({}, this.pen)];
      else if (row !== 0) this.saved = null;
      this.row = row; this.col = col;
      this.pen = newPen();
    }

    // §7 ESC 40-5F
    attribute(code) {
      const p = this.pen;
      if (code >= 0x40 && code <= 0x47) p.fg = code - 0x40;
      else if (code === 0x48 || code === 0x49) p.blink = code === 0x48;
      else if (SIZES[code]) p.size = SIZES[code];
      else if (code >= 0x50 && code <= 0x57) { p.bg = code - 0x50; p.pending |= PENDING_BG; }
      else if (code === 0x58 || code === 0x5f) { p.masking = code === 0x58; p.pending |= PENDING_MASK; }
      else if (code === 0x59 || code === 0x5a) {
        if (p.g1) p.sep = code === 0x5a;
        else { p.lining = code === 0x5a; p.pending |= PENDING_LINING; }
      } else if (code === 0x5c || code === 0x5d) p.inv = code === 0x5d;
    }

    reset() { this.pen = newPen(); this.cursorVisible = false; this.roll = false; }

    // §4 CSI, rows 1-24 only
    csi(params, priv, final) {
      if (this.row === 0 || priv) return !priv;
      const n = params[0] || 1, first = params[0] || 0;
      const blankRow = () => Array(COLS).fill(BLANK);
      switch (final) {
        case 0x41: this.row = Math.max(1, this.row - n); break;
        case 0x42: this.row = Math.min(24, this.row + n); break;
        case 0x43: this.col = Math.min(COLS, this.col + n); break;
        case 0x44: this.col = Math.max(1, this.col - n); break;
        case 0x48: case 0x66:
          this.row = Math.min(24, params[0] || 1); this.col = Math.min(COLS, params[1] || 1); break;
        case 0x4a:
          if (first === 0) { this.eraseRow(0); for (let r = this.row + 1; r < ROWS; r++) this.cells[r] = blankRow(); }
          else if (first === 1) { for (let r = 1; r < this.row; r++) this.cells[r] = blankRow(); this.eraseRow(1); }
          else if (first === 2) { for (let r = 1; r < ROWS; r++) this.cells[r] = blankRow(); }
          break;
        case 0x4b: this.eraseRow(first); break;
        case 0x50: {
          const line = this.cells[this.row], k = Math.min(n, COLS - this.col + 1);
          line.splice(this.col - 1, k); line.push(...Array(k).fill(BLANK)); break;
        }
        case 0x40: break;                                // §12 v73: no CSI @ on the 1B
        case 0x68: case 0x6c: if (first !== 4) return false; break;   // v72: no insert mode
        case 0x4d: this.scrollUp(this.row, Math.min(n, 25 - this.row)); break;
        case 0x4c: this.scrollDown(this.row, Math.min(n, 25 - this.row)); break;
        default: return false;
      }
      return true;
    }
    eraseRow(mode) {
      const line = this.cells[this.row];
      const [a, b] = { 0: [this.col - 1, COLS], 1: [0, this.col], 2: [0, COLS] }[mode] || [0, 0];
      for (let c = a; c < b; c++) line[c] = BLANK;
    }
  }

  // §9 protocol state and replies; the emulator is on the modem side
  class Protocol {
    constructor(term) {
      this.term = term; this.teleinfo = false; this.skip = 0; this.unknown = 0;
      this.lowercase = false; this.extended = false; this.c0keys = false; this.pce = false;
      this.setConnected(false);
    }
    defaultRouting() {
      // §9 connected: screen <- modem, modem <- keyboard + socket, socket <- modem
      const r = [new Set([MODEM]), new Set(), new Set([KEYBOARD, SOCKET]), new Set([MODEM])];
      if (!this.connected) { r[SCREEN].add(SOCKET); r[SOCKET] = new Set([KEYBOARD]); }
      return r;
    }
    setConnected(on) {
      this.connected = on;
      this.routing = this.defaultRouting();
      this.enabled = [true, true, true, true];
      // §2 row 00 column 39: C connected, F local, in inverse; a connection leaves empty
      // black mosaics in columns 1-36 (§12 v67)
      const row0 = this.term.screen.cells[0];
      if (on) for (let c = 0; c < 36; c++) row0[c] = BLANK;
      row0[38] = cell({ ch: on ? "C" : "F", inv: true });
    }
    routeByte(rx) {
      let v = 0x40;
      for (const m of this.routing[rx]) v |= 1 << m;
      if (this.enabled[rx]) v |= 1 << rx;
      return v;
    }
    operatingByte() { return 0x40 | (this.lowercase << 3) | (this.pce << 2) | (this.term.screen.roll << 1); }
    keyboardByte() { return 0x40 | (this.c0keys << 2) | (this.extended ? 1 : 0); }
    module(code) { return (code >= 0x50 && code <= 0x53) || (code >= 0x58 && code <= 0x5b) ? code & 3 : null; }

    pro(kind, a) {
      if (this.teleinfo) return [];
      if (kind === 0x39) return this.pro1(a[0]);
      if (kind === 0x3a) return this.pro2(a[0], a[1]);
      return this.pro3(a[0], a[1], a[2]);
    }
    pro1(x) {
      switch (x) {
        case 0x7b: return [0x01, 0x43, 0x75, 0x3c, 0x04];           // ENQROM: "Cu<" (M1B)
        case 0x70: return [0x1b, 0x3a, 0x71, this.connected ? 0x5a : 0x4a];
        case 0x72: return [0x1b, 0x3a, 0x73, this.operatingByte()];
        case 0x74: return [0x1b, 0x3a, 0x75, 0x64];
        case 0x76: return [0x1b, 0x3a, 0x77, 0x43];
        case 0x7f:                                                   // RESET
          if (this.connected) this.routing = this.defaultRouting();
          this.enabled = [true, true, true, true];
          this.lowercase = this.extended = this.c0keys = this.pce = false; this.term.screen.reset();
          return [0x13, 0x5e];
        case 0x67: this.term.hangup(); return [];                    // DECONNEXION
        case 0x68: case 0x6c: case 0x6d: case 0x6f: return [];
        default: this.unknown++; return [];
      }
    }
    pro2(x, y) {
      if (x === 0x69 || x === 0x6a) {
        const on = x === 0x69;
        if (y === 0x43) this.term.screen.roll = on;
        else if (y === 0x44) this.pce = on;
        else if (y === 0x45) this.lowercase = on;
        else { this.unknown++; return []; }
        return [0x1b, 0x3a, 0x73, this.operatingByte()];
      }
      if (x === 0x62) {
        const rx = this.module(y);
        return rx === null ? [] : [0x1b, 0x3b, 0x63, 0x58 + rx, this.routeByte(rx)];
      }
      if (x === 0x72) return [0x1b, 0x3b, 0x73, 0x59, this.keyboardByte()];
      if (x === 0x31 && y === 0x7d) { this.teleinfo = true; return [0x1b, 0x5b, 0x3f, 0x7a]; }
      if (x === 0x32 && (y === 0x7d || y === 0x7e)) {   // Mixte on/off: cleared, not drawn at 80 columns
        const on = y === 0x7d, s = this.term.screen;
        s.formFeed(); s.roll = on; this.lowercase = this.extended = on;
        return [0x13, on ? 0x70 : 0x71];
      }
      if (x === 0x66) { this.skip = y & 0x7f; return [0x13, 0x57]; }
      if (x === 0x64 || x === 0x65) return [0x1b, 0x3a, 0x77, 0x43];
      if (x === 0x6b || x === 0x7c) return [];                       // ignored from the modem
      this.unknown++;
      return [];
    }
    pro3(x, y, z) {
      if (x === 0x60 || x === 0x61) {                                // route off / on
        const rx = this.module(y), tx = this.module(z);
        if (rx === null || tx === null) return [];
        if (rx === tx) this.enabled[rx] = x === 0x61;
        else if (x === 0x61) this.routing[rx].add(tx);
        else this.routing[rx].delete(tx);
        return [0x1b, 0x3b, 0x63, 0x58 + rx, this.routeByte(rx)];
      }
      if ((x === 0x69 || x === 0x6a) && y === 0x59 && (z === 0x41 || z === 0x43)) {
        if (z === 0x41) this.extended = x === 0x69; else this.c0keys = x === 0x69;
        return [0x1b, 0x3b, 0x73, 0x59, this.keyboardByte()];
      }
      this.unknown++;
      return [];
    }
  }

  // The byte stream parser (§3, §4, §6, §9), one generator fed a byte at a time
  class Parser {
    constructor(term, withProtocol) {
      this.term = term; this.proto = withProtocol ? term.protocol : null;
      this.errors = 0; this.screen = term.screen;
      this.gen = this.run(); this.gen.next();
    }
    feed(bytes) {
      for (let b of bytes) {
        b &= 0x7f;                                       // the 8th bit is parity (§1)
        if (this.proto && this.proto.skip > 0) { this.proto.skip--; continue; }
        if (b) this.gen.next(b);                         // NUL ignored everywhere (§3)
      }
    }
    abort(b) { this.errors++; return b; }
    *run() {
      let b = yield;
      for (;;) {
        let redo = null;
        if (b >= 0x20) this.screen.draw(b); else redo = yield* this.control(b);
        b = redo !== null ? redo : yield;
      }
    }
    *control(b) {
      const s = this.screen;
      switch (b) {
        case C0.ESC: return yield* this.escape();
        case C0.US: return yield* this.us();
        case C0.SS2: case C0.SYN: return yield* this.ss2();
        case C0.REP: {
          const n = yield;
          if (n < 0x20) return this.abort(n);
          if (n >= 0x40) s.repeat(n - 0x40); else this.errors++;
          return null;
        }
        case C0.SEP: case C0.SS3: { const x = yield; return x < 0x20 ? this.abort(x) : null; }
        case C0.BEL: s.bells++; this.term.bell(); break;
        case C0.BS: s.backspace(); break;
        case C0.HT: s.advance(1, 1); break;
        case C0.LF: s.linefeed(); break;
        case C0.VT: s.vtab(); break;
        case C0.FF: s.formFeed(); break;
        case C0.CR: s.col = 1; break;
        case C0.SO: s.shiftOut(); break;
        case C0.SI: s.shiftIn(); break;
        case C0.CON: s.cursorVisible = true; break;
        case C0.COFF: s.cursorVisible = false; break;
        case C0.CAN: s.cancel(); break;
        case C0.SUB: s.drawChar(ERROR_BLOCK); break;
        case C0.RS: s.home(); break;
        default: break;                                  // others do nothing on screen
      }
      return null;
    }
    *escape() {
      const b = yield;
      if (b < 0x20) return this.abort(b);
      if (b === 0x5b) return yield* this.csi();
      if (b >= 0x39 && b <= 0x3b) {                      // PRO1/2/3
        const args = [];
        for (let i = 0; i < b - 0x38; i++) {
          const x = yield;
          if (x < 0x20 && !(args.length === 1 && args[0] === 0x66)) return this.abort(x);
          args.push(x);
        }
        if (this.proto) { this.term.reply(this.proto.pro(b, args)); this.term.route(); }
        return null;
      }
      if (b >= 0x40 && b <= 0x5f) this.screen.attribute(b);
      else if (b === 0x61) {                             // §4 cursor position request
        const s = this.screen;
        if (this.proto) this.term.reply([0x1f, 0x40 + s.row, 0x40 + s.col]);
      } else if (b === 0x23) {                           // global mask / reveal
        const x = yield; if (x < 0x20) return this.abort(x);
        const y = yield; if (y < 0x20) return this.abort(y);
        if (x === 0x20 && (y === 0x58 || y === 0x5f)) this.screen.revealed = y === 0x5f;
      } else if (b === 0x25) {                           // transparency until ESC 25 40 / ESC 2F 3F
        let prev = 0, prev2 = 0;
        for (;;) {
          const x = yield;
          if ((prev2 === 0x1b && prev === 0x25 && x === 0x40) || (prev2 === 0x1b && prev === 0x2f && x === 0x3f)) return null;
          prev2 = prev; prev = x;
        }
      } else if (b === 0x28 || b === 0x29) {             // G0/G1 designation: DRCS not drawn
        const x = yield; if (x < 0x20) return this.abort(x);
        if (x === 0x20) { const y = yield; if (y < 0x20) return this.abort(y); }
      } else if (b === 0x35 || b === 0x36 || b === 0x37 || b === 0x2f) {
        const x = yield; if (x < 0x20) return this.abort(x);
      } else this.errors++;
      return null;
    }
    *csi() {
      const params = []; let cur = null, priv = false;
      for (;;) {
        const x = yield;
        if (x < 0x20) return this.abort(x);
        if (x >= 0x30 && x <= 0x39) cur = Math.min((cur || 0) * 10 + x - 0x30, 9999);
        else if (x === 0x3b) { if (params.length < 16) params.push(cur); cur = null; }
        else if (x === 0x3f) priv = true;
        else if (x >= 0x40 && x <= 0x7e) {
          params.push(cur);
          if (priv && x === 0x7b && this.proto && this.proto.teleinfo) {
            this.proto.teleinfo = false; this.term.reply([0x13, 0x5e]);
          } else if (!this.screen.csi(params, priv, x)) this.errors++;
          return null;
        } else { this.errors++; return null; }
      }
    }
    *us() {
      const x = yield;
      if (x < 0x20) return this.abort(x);
      const y = yield;                                   // US 23 xx: no DRCS on a 1B (v74)
      if (y < 0x20) return this.abort(y);
      if (x >= 0x40 && x <= 0x58 && y >= 0x41 && y <= 0x68) this.screen.address(x - 0x40, y - 0x40);
      else if (x >= 0x30 && x <= 0x32 && y >= 0x30 && y <= 0x39) {
        const row = (x - 0x30) * 10 + y - 0x30;       // US 30 30 is row 00 (v65)
        if (row <= 24) this.screen.address(row, 1); else this.errors++;
      } else this.errors++;
      return null;
    }
    *ss2() {
      const x = yield;
      if (x < 0x20) return x === C0.SS2 || x === C0.SYN ? x : this.abort(x);
      if (this.screen.pen.g1) return x;                  // SS2 ignored in G1
      if (ACCENTS[x]) {
        const y = yield;
        if (y < 0x20) return y === C0.SS2 || y === C0.SYN ? y : this.abort(y);
        this.screen.drawAccented(x, y);
      } else this.screen.drawG2(x);
      return null;
    }
  }

  // §8 keyboard: function keys [Vidéotex, Téléinformatique] and typed text
  const KEYS = {
    ENVOI: [[0x13, 0x41], [0x1b, 0x4f, 0x4d]], RETOUR: [[0x13, 0x42], [0x1b, 0x4f, 0x52]],
    REPETITION: [[0x13, 0x43], [0x1b, 0x4f, 0x53]], GUIDE: [[0x13, 0x44], [0x1b, 0x4f, 0x6d]],
    ANNULATION: [[0x13, 0x45], [0x1b, 0x4f, 0x51]], SOMMAIRE: [[0x13, 0x46], [0x1b, 0x4f, 0x50]],
    CORRECTION: [[0x13, 0x47], [0x1b, 0x4f, 0x6c]], SUITE: [[0x13, 0x48], [0x1b, 0x4f, 0x6e]],
    CONNEXION_FIN: [[0x13, 0x49], [0x1b, 0x29, 0x34, 0x0d]],
  };
  const ARROWS = { UP: [0x41, 0x0b], DOWN: [0x42, 0x0a], RIGHT: [0x43, 0x09], LEFT: [0x44, 0x08] };
  const SS2_TEXT = {
    "£": [0x19, 0x23], "§": [0x19, 0x27], "←": [0x19, 0x2c], "↑": [0x19, 0x2d], "→": [0x19, 0x2e],
    "↓": [0x19, 0x2f], "°": [0x19, 0x30], "±": [0x19, 0x31], "÷": [0x19, 0x38], "¼": [0x19, 0x3c],
    "½": [0x19, 0x3d], "¾": [0x19, 0x3e], "Œ": [0x19, 0x6a], "œ": [0x19, 0x7a], "β": [0x19, 0x7b],
    "ß": [0x19, 0x7b],
  };
  const COMBINING = { "\u0300": 0x41, "\u0301": 0x42, "\u0302": 0x43, "\u0308": 0x48, "\u0327": 0x4b };

  // Bytes for typed text, or null when no Minitel key produces a character of it
  function encodeText(text) {
    const out = [];
    for (const ch of text) {
      const code = ch.codePointAt(0);
      if (code >= 0x20 && code <= 0x7e) out.push(code);
      else if (SS2_TEXT[ch]) out.push(...SS2_TEXT[ch]);
      else {
        const parts = [...ch.normalize("NFD")];
        if (parts.length !== 2 || !(parts[1] in COMBINING) || parts[0].codePointAt(0) > 0x7e) return null;
        out.push(0x19, COMBINING[parts[1]], parts[0].codePointAt(0));
      }
    }
    return out;
  }

  class Terminal {
    constructor() {
      this.screen = new Screen();
      this.scratch = new Screen();                       // where server output goes when cut
      this.out = [];
      this.onBell = null; this.onHangup = null;
      this.protocol = new Protocol(this);
      this.parser = new Parser(this, true);
      this.echo = new Parser(this, false);
    }
    feed(bytes) { this.parser.feed(bytes); }
    takeOutput() { const o = this.out; this.out = []; return o; }
    reply(bytes) { this.out.push(...bytes); }
    bell() { if (this.onBell) this.onBell(); }
    hangup() { if (this.onHangup) this.onHangup(); }
    route() {                                            // screen <- modem cut: draw elsewhere
      const p = this.protocol;
      const shown = p.routing[SCREEN].has(MODEM) && p.enabled[SCREEN];
      this.parser.screen = shown ? this.screen : this.scratch;
    }
    setConnected(on) { this.protocol.setConnected(on); this.route(); }
    get errors() { return this.parser.errors + this.echo.errors + this.protocol.unknown; }

    // what a key press sends; echoed on screen when screen <- keyboard is linked
    keyboard(bytes) {
      const p = this.protocol;
      if (!bytes.length || !p.enabled[KEYBOARD]) return [];
      this.out.push(...bytes);
      const localLoop = !p.connected && p.routing[MODEM].has(KEYBOARD) && p.routing[SCREEN].has(MODEM);
      if (p.routing[SCREEN].has(KEYBOARD) || localLoop) this.echo.feed(bytes);
      return bytes;
    }
    press(name) {
      const p = this.protocol;
      if (KEYS[name]) return this.keyboard(KEYS[name][p.teleinfo ? 1 : 0]);
      if (ARROWS[name]) {
        if (!p.extended && !p.teleinfo) return [];       // §8 standard keyboard: nothing
        return this.keyboard(p.c0keys ? [ARROWS[name][1]] : [0x1b, 0x5b, ARROWS[name][0]]);
      }
      throw new Error(`unknown Minitel key ${name}: expected one of ${Object.keys(KEYS).join(", ")}, UP, DOWN, LEFT, RIGHT`);
    }
    type(text) {
      const bytes = encodeText(text);
      return bytes === null ? [] : this.keyboard(bytes);
    }
  }

  // The screen as 25 lines of 40 characters (like terminal_emu's text render)
  const TEXT_G0 = { "^": "↑", "`": "─", "{": "▏", "|": "│", "}": "▕", "~": "▔" };
  function sextantChar(bits) {
    if (bits === 0) return " ";
    if (bits === 63) return "█";
    if (bits === 21) return "▌";
    if (bits === 42) return "▐";
    return String.fromCodePoint(0x1fb00 + bits - 1 - (bits > 21 ? 1 : 0) - (bits > 42 ? 1 : 0));
  }
  function screenText(screen) {
    return resolveScreen(screen.cells).map((row) => row.map(({ c, bg, mask }) => {
      if ((mask && !screen.revealed) || c.fg === bg) return " ";
      if (c.kind === "mosaic") return sextantChar(c.sext);
      return TEXT_G0[c.ch] || c.ch;
    }).join("")).join("\n");
  }

  global.Videotex = { COLS, ROWS, Terminal, Screen, resolveRow, resolveScreen, screenText, encodeText, KEYS };
})(window);
