/**
 * The object store in an S3-compatible bucket, through the AWS SDK v3: uploads streamed with
 * @aws-sdk/lib-storage (one PUT for a small file, a multipart upload in PART_SIZE parts for a
 * larger one, aborted on failure), Range passed through to ranged GETs, metadata from HEAD.
 * Credentials and region come from the SDK's own chain (AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY,
 * AWS_REGION, profiles, instance roles). With an endpoint (MinIO, Ceph, R2, s3rver) requests
 * use path-style addressing and send checksums only where an operation requires them: with
 * the SDK's default, some of those servers keep the aws-chunked framing inside the object.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  NoSuchKey,
  PutObjectLegalHoldCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { isExactRange, sliceStream } from './byte-slice.js';
import { digestFile, storeConfirms } from './file-digest.js';
import { checkKey, checkPrefix, ObjectNotFoundError, UploadVerificationError, type ByteRange, type ObjectInfo, type ObjectStore, type StoredObject } from './object-store.js';

/** Multipart part size: S3's minimum, so a recording's upload holds at most this in memory per part in flight. */
export const PART_SIZE = 5 * 1024 * 1024;
/** Parts of one upload in flight at once. */
const QUEUE_SIZE = 2;

export interface S3StoreOptions {
  readonly bucket: string;
  /** Keys are `<prefix>/<key>`; empty for the bucket's root. */
  readonly prefix: string;
  /** An S3-compatible server's URL; unset for AWS itself. */
  readonly endpoint?: string | undefined;
  /** Extra client settings (tests: fixed credentials, fewer retries). */
  readonly client?: S3ClientConfig | undefined;
}

/** `s3://bucket/some/prefix` -> bucket and prefix (no leading or trailing slash). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) throw new Error(`${JSON.stringify(url)} is not s3://<bucket>/<prefix> (bucket: 3-63 lower-case letters, digits, dots, hyphens)`);
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix !== '') checkKey(prefix);
  return { bucket: match[1]!, prefix };
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;

  constructor(private readonly options: S3StoreOptions) {
    const compatible = options.endpoint !== undefined;
    this.client = new S3Client({
      ...(compatible
        ? { endpoint: options.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', region: process.env.AWS_REGION ?? 'us-east-1' }
        : {}),
      ...options.client,
    });
  }

  private objectKey(key: string): string {
    checkKey(key);
    return this.options.prefix ? `${this.options.prefix}/${key}` : key;
  }

  location(key: string): string {
    return `s3://${this.options.bucket}/${this.objectKey(key)}`;
  }

  async put(key: string, source: string, contentType = 'application/octet-stream'): Promise<StoredObject> {
    const digest = await digestFile(source, PART_SIZE);
    const upload = new Upload({
      client: this.client,
      queueSize: QUEUE_SIZE,
      partSize: PART_SIZE,
      leavePartsOnError: false,
      params: { Bucket: this.options.bucket, Key: this.objectKey(key), Body: fs.createReadStream(source), ContentType: contentType, Metadata: { sha256: digest.sha256 } },
    });
    await upload.done();
    // The answer to the upload is not enough: ask the store what it now holds.
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
    const problem = storeConfirms(digest, { bytes: head.ContentLength, etag: head.ETag });
    if (problem) throw new UploadVerificationError(`${this.location(key)}: ${problem}`);
    return { key, bytes: digest.bytes, sha256: digest.sha256, location: this.location(key) };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      return { key, bytes: head.ContentLength ?? 0, sha256: head.Metadata?.sha256 };
    } catch (err) {
      if (err instanceof NotFound || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      // In Node the body is the response stream itself: handed on, never buffered whole.
      const body = answer.Body as Readable;
      if (!range || isExactRange(answer.ContentRange, range.start, range.end)) return body;
      // The store ignored the range (or answered another): never hand on more than was asked.
      const from = /^bytes (\d+)-/.exec(answer.ContentRange ?? '');
      const offset = from ? Number(from[1]) : 0;
      if (offset > range.start) {
        body.destroy();
        throw new Error(`${this.location(key)}: the store answered bytes from ${offset}, after the ${range.start} asked for`);
      }
      return sliceStream(body, range.start - offset, range.end - range.start + 1);
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async presign(key: string, seconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }), { expiresIn: seconds });
  }

  /** Whether the bucket has Object Lock, asked once (it cannot be turned on after the bucket is made). */
  private objectLock: Promise<boolean> | undefined;

  async setLegalHold(key: string, on: boolean): Promise<boolean> {
    this.objectLock ??= this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.options.bucket })).then(
      (answer) => answer.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled',
      // No configuration (ObjectLockConfigurationNotFoundError), or a store without the API.
      () => false,
    );
    if (!(await this.objectLock)) return false;
    try {
      await this.client.send(new PutObjectLegalHoldCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), LegalHold: { Status: on ? 'ON' : 'OFF' } }));
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return true;
      throw err;
    }
    return true;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkPrefix(prefix);
    const base = this.options.prefix ? `${this.options.prefix}/` : '';
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: `${base}${prefix}`, ContinuationToken: token }));
      for (const item of page.Contents ?? []) {
        if (item.Key) yield { key: item.Key.slice(base.length), bytes: item.Size ?? 0, modifiedAt: item.LastModified?.getTime() };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
