// A minimal zip reader for the tests (a VSIX is a zip), independent of the one packaging uses:
// walks the local file headers from the start of the archive, then cross-checks the central directory.
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

export interface ZipFile {
  names: string[];
  read(name: string): Buffer;
}

export function openZip(file: string): ZipFile {
  const zip = readFileSync(file);
  const contents = new Map<string, Buffer>();
  let offset = 0;
  // Local file headers (PK\3\4) come first, one per entry, each followed by its data.
  while (offset + 30 <= zip.length && zip.readUInt32LE(offset) === 0x04034b50) {
    const flags = zip.readUInt16LE(offset + 6);
    const method = zip.readUInt16LE(offset + 8);
    let compressed = zip.readUInt32LE(offset + 18);
    const nameLength = zip.readUInt16LE(offset + 26);
    const extraLength = zip.readUInt16LE(offset + 28);
    const name = zip.toString('utf8', offset + 30, offset + 30 + nameLength);
    const start = offset + 30 + nameLength + extraLength;
    if (flags & 0x08) {
      // Sizes follow the data in a descriptor; take them from the central directory instead.
      compressed = centralSizes(zip).get(name) ?? 0;
    }
    const data = zip.subarray(start, start + compressed);
    contents.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    offset = start + compressed;
    if (flags & 0x08) offset += zip.readUInt32LE(offset) === 0x08074b50 ? 16 : 12;
  }
  const central = centralSizes(zip);
  if (central.size !== contents.size || [...central.keys()].some((name) => !contents.has(name))) {
    throw new Error(`${file}: local headers (${contents.size}) and central directory (${central.size}) disagree`);
  }
  return {
    names: [...contents.keys()],
    read(name: string): Buffer {
      const data = contents.get(name);
      if (!data) throw new Error(`${file} has no ${name}; it has ${[...contents.keys()].join(', ')}`);
      return data;
    },
  };
}

function centralSizes(zip: Buffer): Map<string, number> {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error('not a zip archive');
  const sizes = new Map<string, number>();
  let offset = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const nameLength = zip.readUInt16LE(offset + 28);
    sizes.set(zip.toString('utf8', offset + 46, offset + 46 + nameLength), zip.readUInt32LE(offset + 20));
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return sizes;
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
