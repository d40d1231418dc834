'use strict';
// The SMS text layer of the simulated SMSC: user data headers and the data_coding alphabets.
// GSM 03.38, UCS-2 and Latin-1 are node-smpp's own coders (smpp.encodings), so what this
// SMSC reads is what a node-smpp SMSC would read; this module only picks the coder from
// data_coding and splits the UDH off, since node-smpp's own short_message filter guesses
// both (smsc.js switches that filter off so that the raw octets are recorded).

const smpp = require('smpp');

const DC_GSM = 0x00;
const DC_IA5 = 0x01;
const DC_LATIN1 = 0x03;
const DC_UCS2 = 0x08;

/** The alphabet a data_coding octet names: 'gsm', 'ucs2', 'latin1', 'ascii' or null (binary). */
function alphabet(dc) {
  if (dc === DC_GSM) return 'gsm';
  if (dc === DC_IA5) return 'ascii';
  if (dc === DC_LATIN1) return 'latin1';
  if (dc === DC_UCS2) return 'ucs2';
  if ((dc & 0xf0) === 0xf0) return dc & 0x04 ? null : 'gsm'; // message class group
  if ((dc & 0xc0) === 0x00 && dc >= 0x10) {
    // GSM 03.38 general data coding group: bits 3-2 name the alphabet
    return ['gsm', null, 'ucs2', null][(dc >> 2) & 3];
  }
  return null;
}

/** Decodes user data (no UDH) in the given data_coding; null when it is binary or unknown. */
function decode(dc, buf) {
  switch (alphabet(dc)) {
    case 'gsm': return smpp.encodings.ASCII.decode(buf); // node-smpp: unpacked GSM 03.38
    case 'ucs2': return smpp.encodings.UCS2.decode(buf);
    case 'latin1': return smpp.encodings.LATIN1.decode(buf);
    case 'ascii': return buf.toString('latin1');
    default: return null;
  }
}

/** Encodes text for a deliver_sm. dc null: GSM 03.38 when the text allows it, else UCS-2.
 * Returns {dc, buf}; throws on a text the asked alphabet cannot carry. */
function encode(text, dc) {
  if (dc === null || dc === undefined) {
    dc = smpp.encodings.ASCII.match(text) ? DC_GSM : DC_UCS2;
  }
  switch (alphabet(dc)) {
    case 'gsm':
      if (!smpp.encodings.ASCII.match(text)) {
        throw new Error('text has characters outside GSM 03.38: use data_coding 8');
      }
      return { dc, buf: smpp.encodings.ASCII.encode(text) };
    case 'ucs2': return { dc, buf: smpp.encodings.UCS2.encode(text) };
    case 'latin1':
      if (!smpp.encodings.LATIN1.match(text)) throw new Error('text is not Latin-1');
      return { dc, buf: smpp.encodings.LATIN1.encode(text) };
    case 'ascii': return { dc, buf: Buffer.from(text, 'latin1') };
    default: throw new Error(`data_coding ${dc} is binary: give hex instead of text`);
  }
}

/** Splits user data into {udh, body}. udh is null without the UDHI bit (esm_class 0x40);
 * else {hex, ref, total, seq, ref16} (ref/total/seq null when no concatenation IE),
 * or {hex, error} when the header is malformed. */
function splitUdh(esmClass, data) {
  if (!(esmClass & 0x40) || data.length === 0) return { udh: null, body: data };
  const udhl = data[0];
  if (udhl + 1 > data.length) {
    return { udh: { hex: data.toString('hex'), error: 'UDHL beyond user data' }, body: Buffer.alloc(0) };
  }
  const udh = { hex: data.subarray(0, udhl + 1).toString('hex'), ref: null, total: null, seq: null, ref16: false };
  let i = 1;
  while (i + 2 <= udhl + 1) {
    const iei = data[i];
    const len = data[i + 1];
    const v = data.subarray(i + 2, i + 2 + len);
    if (iei === 0x00 && len === 3) {
      udh.ref = v[0]; udh.total = v[1]; udh.seq = v[2];
    } else if (iei === 0x08 && len === 4) {
      udh.ref = v.readUInt16BE(0); udh.total = v[2]; udh.seq = v[3]; udh.ref16 = true;
    }
    i += 2 + len;
  }
  if (i !== udhl + 1) udh.error = 'information elements overrun the UDH';
  return { udh, body: data.subarray(udhl + 1) };
}

/** The text with every character GSM 03.38 cannot carry replaced by '?'. */
function gsmSafe(str) {
  if (smpp.encodings.ASCII.match(str)) return str;
  return Array.from(str, (ch) => (smpp.encodings.ASCII.match(ch) ? ch : '?')).join('');
}

/** A time as SMPP receipts write it: YYMMDDhhmm (UTC). */
function receiptDate(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate())
    + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

module.exports = { alphabet, decode, encode, gsmSafe, splitUdh, receiptDate, DC_GSM, DC_UCS2 };
