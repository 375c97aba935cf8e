/**
 * One streaming read of a file gives everything an upload is checked against: its size,
 * its SHA-256 (kept by the catalog), its MD5, and the MD5 of each part of a multipart upload
 * (S3 answers a single-part object's ETag as the content's MD5, and a multipart one's as the
 * MD5 of the parts' MD5s with "-<parts>"; S3-compatible servers differ, so both are known).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
  readonly md5: string;
  /** The ETag S3 gives a multipart upload of this file in `partSize` parts. */
  readonly multipartEtag: string;
}

export async function digestFile(file: string, partSize: number): Promise<FileDigest> {
  const sha256 = crypto.createHash('sha256');
  const md5 = crypto.createHash('md5');
  const partDigests: Buffer[] = [];
  let part = crypto.createHash('md5');
  let inPart = 0;
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    md5.update(chunk);
    bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, partSize - inPart);
      part.update(chunk.subarray(offset, offset + take));
      inPart += take;
      offset += take;
      if (inPart === partSize) {
        partDigests.push(part.digest());
        part = crypto.createHash('md5');
        inPart = 0;
      }
    }
  }
  if (inPart > 0 || partDigests.length === 0) partDigests.push(part.digest());
  const multipartEtag = `${crypto.createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${partDigests.length}`;
  return { bytes, sha256: sha256.digest('hex'), md5: md5.digest('hex'), multipartEtag };
}

/**
 * Whether the store's answer (size, ETag) says it holds exactly the file: the size matches,
 * and the ETag is the content's MD5 or its multipart form.
 */
export function storeConfirms(digest: FileDigest, stored: { bytes: number | undefined; etag: string | undefined }): string | undefined {
  if (stored.bytes !== digest.bytes) return `the store holds ${stored.bytes ?? 'no'} bytes, the file has ${digest.bytes}`;
  const etag = stored.etag?.replace(/^W\//, '').replaceAll('"', '');
  if (etag !== digest.md5 && etag !== digest.multipartEtag) return `the store's checksum (ETag ${etag ?? 'none'}) is not the file's`;
  return undefined;
}
