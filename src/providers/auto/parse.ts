/**
 * /streams/auto: finds the provider from the handshake and the first frames, then hands
 * every frame (the held ones first) to that provider's parser. The subprotocol the handshake
 * agreed to names its provider, or the upgrade's headers do (Genesys's Audiohook-Session-Id
 * and -Organization-Id); else each adapter, in the registry's detection order, is
 * asked whether the first JSON frame is its own (its `detect`, beside its parser); a binary
 * frame first is FreeSWITCH's only when the URL gives its format (`?rate=`; mod_audio_fork
 * itself offers its subprotocol, which decides at the handshake): audio in a format nothing
 * proves is refused, never recorded at an assumed rate (a 16 kHz stream taken for 8 kHz plays
 * at half speed). `connected` frames are held until the start decides. After pipecat's
 * detector plus the binary family.
 */
import { rejection } from '../../errors.js';
import { AUTO_DETECT_HELD_FRAMES } from '../../limits.js';
import type { ConnectionInfo, FrameParser, ParseOutput, ParseResult } from '../../events.js';
import { isObject, type Json } from '../common/json-frames.js';
import type { ProviderAdapter } from '../adapter.js';

type Held = { readonly text: string } | { readonly binary: Uint8Array };

/** The provider whose subprotocol the handshake agreed to, if any. */
export function detectFromSubprotocol(subprotocol: string | undefined, adapters: readonly ProviderAdapter[]): string | undefined {
  return subprotocol === undefined ? undefined : adapters.find((adapter) => adapter.subprotocols?.includes(subprotocol))?.name;
}

/** The provider the upgrade's headers name, if any (Genesys's Audiohook-* headers). */
export function detectFromHeaders(headers: ConnectionInfo['headers'], adapters: readonly ProviderAdapter[]): string | undefined {
  return headers === undefined ? undefined : adapters.find((adapter) => adapter.detectHeaders?.(headers))?.name;
}

/** The provider a JSON frame identifies, 'wait' for a frame that does not decide, or undefined. */
export function detectFromMessage(msg: Json, adapters: readonly ProviderAdapter[]): string | 'wait' | undefined {
  const start = isObject(msg.start) ? msg.start : undefined;
  const found = adapters.find((adapter) => adapter.detect?.(msg, start));
  if (found) return found.name;
  // Twilio-style `connected` frames come before the start that decides.
  return msg.event === 'connected' ? 'wait' : undefined;
}

export function createAutoParser(
  connection: ConnectionInfo,
  adapters: readonly ProviderAdapter[],
  createParser: (provider: string, connection: ConnectionInfo) => FrameParser,
): FrameParser {
  let provider = detectFromSubprotocol(connection.subprotocol, adapters) ?? detectFromHeaders(connection.headers, adapters);
  let delegate = provider ? createParser(provider, connection) : undefined;
  const held: Held[] = [];
  /** Refused: the stream is being closed, and what it sends meanwhile is not counted again. */
  let refused = false;

  function decide(name: string): ParseOutput {
    provider = name;
    delegate = createParser(name, connection);
    const results: ParseResult[] = [];
    for (const frame of held.splice(0)) {
      const output = 'text' in frame ? delegate.parseText(frame.text) : delegate.parseBinary(frame.binary);
      results.push(...(Array.isArray(output) ? output : [output as ParseResult]));
    }
    return results.map(tagged);
  }

  /** Start events say which provider was found, for meta.json and the catalog. */
  function tagged(result: ParseResult): ParseResult {
    if ('type' in result) return result.type === 'start' ? { ...result, provider } : result;
    // A refused start names its provider too, for the failed recording it leaves.
    return result.refusedStart ? rejection(result.code, result.detail, { ...result.refusedStart, provider }) : result;
  }

  function forward(output: ParseOutput): ParseOutput {
    return Array.isArray(output) ? output.map(tagged) : tagged(output as ParseResult);
  }

  function undecided(): ParseOutput {
    if (held.length < AUTO_DETECT_HELD_FRAMES) return [];
    held.length = 0;
    refused = true;
    return rejection('CALLTAPE_ERR_UNKNOWN_PROVIDER', `no provider recognised in the first ${AUTO_DETECT_HELD_FRAMES} frames`);
  }

  return {
    parseText(text: string): ParseOutput {
      if (delegate) return forward(delegate.parseText(text));
      if (refused) return [];
      held.push({ text });
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        msg = undefined;
      }
      const found = isObject(msg) ? detectFromMessage(msg, adapters) : adapters.find((adapter) => adapter.detectText?.(text))?.name;
      if (found && found !== 'wait') return decide(found);
      return undecided();
    },
    // Once decided, media frames take the provider's fast path where it has one.
    readMedia: (frame, out, audio) => delegate?.readMedia?.(frame, out, audio) ?? false,
    closingFrame: (why) => delegate?.closingFrame?.(why),
    parseBinary(data: Uint8Array): ParseOutput {
      if (delegate) return forward(delegate.parseBinary(data));
      if (refused) return [];
      // Audio before any frame that names its provider: raw PCM says nothing of its rate or
      // channels, so it is FreeSWITCH's (mod_audio_stream, or mod_audio_fork without its
      // subprotocol) only when the URL says how it is laid out.
      if (!connection.query?.has('rate')) {
        held.length = 0;
        refused = true;
        return rejection('CALLTAPE_ERR_UNKNOWN_PROVIDER', 'binary audio before any frame naming its provider, and no ?rate= in the URL to say its format: use /streams/<provider> (FreeSWITCH: /streams/freeswitch?mix=…&rate=…)');
      }
      held.push({ binary: data });
      return decide('freeswitch');
    },
  };
}
