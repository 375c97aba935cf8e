/**
 * The compressed archives calltape can make of a finished recording's WAVs
 * (CALLTAPE_ARCHIVE_FORMATS), each file beside its WAV: `inbound.flac`, `stereo.opus`...
 */
export const ARCHIVE_FORMATS = ['flac', 'opus', 'mp3'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

/** Every format a recording's audio can be served in. */
export const AUDIO_EXTENSIONS = ['wav', ...ARCHIVE_FORMATS] as const;
export type AudioExtension = (typeof AUDIO_EXTENSIONS)[number];

export const AUDIO_CONTENT_TYPES: Record<AudioExtension, string> = {
  wav: 'audio/wav',
  flac: 'audio/flac',
  // RFC 7845 section 9: Ogg Opus files are audio/ogg (with codecs=opus for a browser's canPlayType).
  opus: 'audio/ogg; codecs=opus',
  mp3: 'audio/mpeg',
};

export function isArchiveFormat(value: string): value is ArchiveFormat {
  return (ARCHIVE_FORMATS as readonly string[]).includes(value);
}

export function isAudioExtension(value: string): value is AudioExtension {
  return (AUDIO_EXTENSIONS as readonly string[]).includes(value);
}
