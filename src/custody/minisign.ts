/**
 * Ed25519 signatures in minisign's format (node:crypto only), so a customer checks a
 * recording's manifest with the standard tool: `minisign -V -p calltape.pub -m manifest.json`.
 * Formats as minisign 0.11 reads them (jedisct1/minisign, src/minisign.c):
 *   - public key: an untrusted comment line, then base64 of "Ed" + key id (8) + key (32);
 *   - signature: an untrusted comment line, base64 of "ED" + key id + Ed25519 over the
 *     BLAKE2b-512 of the file (the prehashed form minisign writes by default), a trusted
 *     comment line, and base64 of Ed25519 over that signature followed by the comment.
 * The key is the operator's PKCS#8 PEM (`openssl genpkey -algorithm ed25519`), which has no
 * key id: it is the first 8 bytes of the public key's BLAKE2b-512, the same every time.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

export interface SigningKey {
  readonly privateKey: crypto.KeyObject;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  readonly keyId: Buffer;
}

export interface PublicKey {
  readonly publicKey: Buffer;
  readonly keyId: Buffer;
}

export class SigningKeyError extends Error {}

const PUBLIC_ALG = Buffer.from('Ed');
const PREHASHED_ALG = Buffer.from('ED');
const LEGACY_ALG = Buffer.from('Ed');

export function keyIdOf(publicKey: Buffer): Buffer {
  return crypto.createHash('blake2b512').update(publicKey).digest().subarray(0, 8);
}

/** The key id as minisign prints it: hex, most significant byte first (it is stored little-endian). */
export function keyIdHex(keyId: Buffer): string {
  return Buffer.from(keyId).reverse().toString('hex').toUpperCase();
}

function rawPublicKey(key: crypto.KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

/** Reads an Ed25519 private key in PKCS#8 PEM; a file that is not one is a SigningKeyError saying what it is. */
export function loadSigningKey(file: string): SigningKey {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SigningKeyError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(pem);
  } catch {
    throw new SigningKeyError(`${file} is not a private key in PEM: make one with \`openssl genpkey -algorithm ed25519 -out ${file}\``);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${file} is an ${privateKey.asymmetricKeyType} key, not Ed25519: make one with \`openssl genpkey -algorithm ed25519\``);
  const publicKey = rawPublicKey(crypto.createPublicKey(privateKey));
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** The public key file minisign reads (`-p`). */
export function minisignPublicKey(key: PublicKey): string {
  return `untrusted comment: calltape signing key ${keyIdHex(key.keyId)}\n${Buffer.concat([PUBLIC_ALG, key.keyId, key.publicKey]).toString('base64')}\n`;
}

/** Parses a minisign public key: the file's text, or its base64 line alone. */
export function parsePublicKey(text: string): PublicKey {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('untrusted comment:'));
  const raw = Buffer.from(line ?? '', 'base64');
  if (raw.length !== 42 || !raw.subarray(0, 2).equals(PUBLIC_ALG)) throw new SigningKeyError('not a minisign public key (expected a base64 line of 42 bytes starting "Ed")');
  return { keyId: raw.subarray(2, 10), publicKey: raw.subarray(10) };
}

/** A trusted comment is one line. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function signMinisign(key: SigningKey, message: Buffer, trustedComment: string, untrustedComment = 'signature from calltape'): string {
  const comment = oneLine(trustedComment);
  const signature = crypto.sign(null, crypto.createHash('blake2b512').update(message).digest(), key.privateKey);
  const global = crypto.sign(null, Buffer.concat([signature, Buffer.from(comment)]), key.privateKey);
  return [
    `untrusted comment: ${oneLine(untrustedComment)}`,
    Buffer.concat([PREHASHED_ALG, key.keyId, signature]).toString('base64'),
    `trusted comment: ${comment}`,
    global.toString('base64'),
    '',
  ].join('\n');
}

function publicKeyObject(raw: Buffer): crypto.KeyObject {
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** Checks a minisign signature of `message`; resolves with its trusted comment, or throws why not. */
export function verifyMinisign(key: PublicKey, message: Buffer, signatureText: string): string {
  const lines = signatureText.split('\n').map((l) => l.replace(/\r$/, ''));
  const [untrusted, sigLine, trustedLine, globalLine] = lines;
  if (!untrusted?.startsWith('untrusted comment:') || !trustedLine?.startsWith('trusted comment: ') || !sigLine || !globalLine) throw new SigningKeyError('not a minisign signature file');
  const raw = Buffer.from(sigLine, 'base64');
  if (raw.length !== 74) throw new SigningKeyError('not a minisign signature (its signature line is not 74 bytes)');
  const alg = raw.subarray(0, 2);
  if (!raw.subarray(2, 10).equals(key.keyId)) throw new SigningKeyError(`signed with key ${keyIdHex(raw.subarray(2, 10))}, not with ${keyIdHex(key.keyId)}`);
  const signature = raw.subarray(10);
  const signed = alg.equals(PREHASHED_ALG) ? crypto.createHash('blake2b512').update(message).digest() : alg.equals(LEGACY_ALG) ? message : undefined;
  if (!signed) throw new SigningKeyError('unknown signature algorithm');
  const pk = publicKeyObject(key.publicKey);
  if (!crypto.verify(null, signed, pk, signature)) throw new SigningKeyError('the signature does not match the file');
  const comment = trustedLine.slice('trusted comment: '.length);
  if (!crypto.verify(null, Buffer.concat([signature, Buffer.from(comment)]), pk, Buffer.from(globalLine, 'base64'))) throw new SigningKeyError('the trusted comment was changed');
  return comment;
}
