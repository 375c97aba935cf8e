/**
 * Where finished recordings are kept, behind one interface: the local disk (file-store.ts,
 * the default) or an S3-compatible bucket (s3-store.ts). Keys mirror the disk layout,
 * `YYYY/MM/DD/<streamId>/<file>`, under the store's root or prefix. A put is verified before
 * it resolves (size, and a checksum the store computed from the bytes it received), so a
 * caller may delete its own copy once it has the answer; anything short of that rejects.
 */
import type { Readable } from 'node:stream';

/** What a verified put stored. */
export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
  /** SHA-256 of the content, hex: the catalog keeps it, and the store keeps it as metadata. */
  readonly sha256: string;
  /** Where it is, for people and webhooks: a file path or s3://bucket/key. */
  readonly location: string;
}

export interface ObjectInfo {
  readonly key: string;
  readonly bytes: number;
  /** Known when the store kept it beside the object (S3 metadata). */
  readonly sha256?: string | undefined;
  /** When the object was last written (epoch ms), where the listing says. */
  readonly modifiedAt?: number | undefined;
}

/** Inclusive byte range, as HTTP Range has it. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ObjectStore {
  readonly kind: 'file' | 's3';
  location(key: string): string;
  /** Stores the local file `source` under `key`, streamed, and verifies what the store holds. */
  put(key: string, source: string, contentType?: string): Promise<StoredObject>;
  /** Size (and checksum where known) of `key`, or undefined when there is no such object. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** The object's bytes (or a range of them) as a stream; ObjectNotFoundError when absent. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Removes `key`; removing what is not there succeeds (deletes are retried). */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** A URL that fetches `key` without credentials for `seconds` (stores that have them). */
  presign?(key: string, seconds: number): Promise<string>;
  /**
   * Places or releases the store's own legal hold on `key` (S3 Object Lock), so that not
   * even the bucket's owner deletes it meanwhile. False when the bucket has no Object Lock
   * (it must be enabled when the bucket is created); a missing object is no error.
   */
  setLegalHold?(key: string, on: boolean): Promise<boolean>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no object ${JSON.stringify(key)}`);
  }
}

/** The store holds something other than what was sent: the local copy must be kept. */
export class UploadVerificationError extends Error {}

/**
 * Keys are relative paths of safe segments: no empty, `.` or `..` segment, nothing that a
 * file store could resolve outside its root or an S3 console would show differently.
 */
const KEY_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function checkKey(key: string): string {
  const segments = key.split('/');
  if (key.length > 1024 || segments.some((segment) => !KEY_SEGMENT.test(segment) || segment === '.' || segment === '..')) {
    throw new Error(`object key ${JSON.stringify(key.slice(0, 200))} is not a relative path of safe segments`);
  }
  return key;
}

/** A prefix to list under: a key, or a key's leading segments ending in `/`, or empty. */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}
