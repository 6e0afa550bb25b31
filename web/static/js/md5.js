// MD5 (RFC 1321) of an upload part, for its Content-MD5 header: storage
// then refuses a part whose bytes are not the file's, as when a connection
// is cut mid-part (some S3 servers would otherwise keep such a part at its
// full length, filled with zeros). Browsers' SubtleCrypto has no MD5, and
// the UI takes no dependency for twenty lines of arithmetic.

// Each round's shift amounts and the table of sines, as the RFC gives them.
const R1 = [7, 12, 17, 22];
const R2 = [5, 9, 14, 20];
const R3 = [4, 11, 16, 23];
const R4 = [6, 10, 15, 21];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

export class MD5 {
  constructor() {
    this.state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.block = new Uint8Array(64);
    this.words = new Int32Array(16);
    this.filled = 0; // bytes of block waiting for the rest of it
    this.length = 0; // bytes hashed in all
  }

  // update hashes bytes (a Uint8Array) after those before.
  update(bytes) {
    this.length += bytes.length;
    let i = 0;
    if (this.filled > 0) {
      const take = Math.min(64 - this.filled, bytes.length);
      this.block.set(bytes.subarray(0, take), this.filled);
      this.filled += take;
      i = take;
      if (this.filled < 64) return;
      this.compress(this.block, 0);
      this.filled = 0;
    }
    for (; i + 64 <= bytes.length; i += 64) this.compress(bytes, i);
    this.block.set(bytes.subarray(i), 0);
    this.filled = bytes.length - i;
  }

  // digest returns the 16 bytes of the MD5; the hash takes no more bytes.
  digest() {
    const bits = this.length * 8;
    const pad = new Uint8Array(((this.filled < 56 ? 56 : 120) - this.filled) + 8);
    pad[0] = 0x80;
    const tail = new DataView(pad.buffer, pad.length - 8);
    tail.setUint32(0, bits >>> 0, true);
    tail.setUint32(4, Math.floor(bits / 2 ** 32), true);
    this.update(pad);
    const out = new Uint8Array(16);
    const view = new DataView(out.buffer);
    for (let j = 0; j < 4; j++) view.setInt32(j * 4, this.state[j], true);
    return out;
  }

  // compress folds the 64 bytes of buf at off into the state.
  compress(buf, off) {
    const x = this.words;
    for (let j = 0; j < 16; j++) {
      const p = off + j * 4;
      x[j] = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    }
    const h = this.state;
    let a = h[0], b = h[1], c = h[2], d = h[3];
    // The four rounds apart, so that each loop's body stays one shape.
    for (let i = 0; i < 16; i++) {
      const t = a + ((b & c) | (~b & d)) + K[i] + x[i];
      const s = R1[i & 3];
      a = d; d = c; c = b;
      b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
    }
    for (let i = 16; i < 32; i++) {
      const t = a + ((d & b) | (~d & c)) + K[i] + x[(5 * i + 1) & 15];
      const s = R2[i & 3];
      a = d; d = c; c = b;
      b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
    }
    for (let i = 32; i < 48; i++) {
      const t = a + (b ^ c ^ d) + K[i] + x[(3 * i + 5) & 15];
      const s = R3[i & 3];
      a = d; d = c; c = b;
      b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
    }
    for (let i = 48; i < 64; i++) {
      const t = a + (c ^ (b | ~d)) + K[i] + x[(7 * i) & 15];
      const s = R4[i & 3];
      a = d; d = c; c = b;
      b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
  }
}

// contentMD5 is the Content-MD5 header of blob's bytes: the base64 of
// their MD5. It reads the blob as a stream, so that a large part is never
// in memory whole and the page stays responsive between chunks.
export async function contentMD5(blob) {
  const h = new MD5();
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
  }
  return btoa(String.fromCharCode(...h.digest()));
}
