/** The media type of a recording's file, by its name: as the bucket keeps it and the API serves it. */
import path from 'node:path';
import { AUDIO_CONTENT_TYPES, isAudioExtension } from '../archive/formats.js';

export function contentTypeOf(name: string): string {
  const extension = path.extname(name).slice(1);
  // An age file (inbound.wav.age): ciphertext, whatever it holds.
  if (extension === 'age') return 'application/octet-stream';
  if (isAudioExtension(extension)) return AUDIO_CONTENT_TYPES[extension];
  if (extension === 'json') return 'application/json';
  // A minisign signature is text (manifest.json.minisig).
  if (extension === 'minisig') return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}
