/**
 * The object store CALLTAPE_STORAGE_URL names, or none for `file:` (recordings stay in the
 * data dir). The AWS SDK is loaded only when a bucket is configured.
 */
import { ConfigError, type Config } from '../config.js';
import type { ObjectStore } from './object-store.js';

export async function openObjectStore(config: Pick<Config, 'storageUrl' | 's3Endpoint'>): Promise<ObjectStore | undefined> {
  if (config.storageUrl === 'file:') return undefined;
  const { parseS3Url, S3ObjectStore } = await import('./s3-store.js');
  let bucket: ReturnType<typeof parseS3Url>;
  try {
    bucket = parseS3Url(config.storageUrl);
  } catch (err) {
    throw new ConfigError(`CALLTAPE_STORAGE_URL: ${(err as Error).message}`);
  }
  return new S3ObjectStore({ ...bucket, endpoint: config.s3Endpoint });
}
