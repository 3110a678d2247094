/**
 * The HPUB frames in `bytes` (a client's bytes on the wire, or what the publisher handed to the
 * client in one call: one frame or several back to back), each as a view of `bytes`. Other
 * protocol lines between frames (CONNECT, SUB, PING) are skipped.
 */
export function hpubFrames(bytes: Uint8Array): Buffer[] {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Buffer[] = [];
  for (let at = data.indexOf('HPUB '); at >= 0; at = data.indexOf('HPUB ', at)) {
    const lineEnd = data.indexOf('\r\n', at);
    const total = Number(data.subarray(at, lineEnd).toString('latin1').split(' ').at(-1));
    const end = lineEnd + 2 + total + 2;
    if (lineEnd < 0 || !Number.isInteger(total) || end > data.length || data[end - 2] !== 0x0d || data[end - 1] !== 0x0a) {
      throw new Error(`not a whole HPUB frame at byte ${at}: ${JSON.stringify(data.subarray(at, at + 80).toString('latin1'))}`);
    }
    frames.push(data.subarray(at, end));
    at = end;
  }
  return frames;
}
