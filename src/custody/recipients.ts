/**
 * CALLTAPE_ENCRYPT_TO read at start-up: the age recipients every recording is encrypted to.
 * Only X25519 recipients (`age1` and 58 bech32 characters, as `age-keygen` prints them) are
 * taken: Debian's age 1.1.1 cannot decrypt to a post-quantum (`age1pq1…`) or tag recipient,
 * and a recording encrypted to a key its owner cannot use is a recording lost. A recipient
 * that is not valid stops the start with one line; there is no fallback to plaintext or to
 * another key (what Twilio's users met as errors 16105/16107).
 */
import fs from 'node:fs';
import { Encrypter } from 'age-encryption';
import { ConfigError } from '../config.js';

const X25519_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const AGE_RECIPIENT_ANY = /^age1[0-9a-z]+$/;

/** The recipients named by the setting: the list itself, or the file it names. */
export function recipientsOf(setting: string, readFile: (file: string) => string = (file) => fs.readFileSync(file, 'utf8')): string[] {
  const inline = setting.trim().startsWith('age1');
  let text: string;
  if (inline) {
    text = setting;
  } else {
    try {
      text = readFile(setting.trim());
    } catch (err) {
      throw new ConfigError(`CALLTAPE_ENCRYPT_TO: neither age recipients (age1…) nor a readable file of them (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  const recipients = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
  if (recipients.length === 0) throw new ConfigError(`CALLTAPE_ENCRYPT_TO: ${inline ? 'no recipient given' : 'the file holds no recipient'}`);
  for (const [index, recipient] of recipients.entries()) {
    const which = `recipient ${index + 1} (${recipient.slice(0, 12)}…)`;
    if (/^age1(pq|tag|tagpq)1/.test(recipient)) {
      throw new ConfigError(`CALLTAPE_ENCRYPT_TO: ${which} is a post-quantum or tag recipient, which age 1.1.1 (Debian's) cannot decrypt: use an X25519 recipient (age-keygen prints one)`);
    }
    if (!X25519_RECIPIENT.test(recipient)) {
      throw new ConfigError(`CALLTAPE_ENCRYPT_TO: ${which} is not an age X25519 recipient (age1 and 58 more characters${AGE_RECIPIENT_ANY.test(recipient) ? '' : '; an SSH key or an identity is not one'})`);
    }
  }
  return [...new Set(recipients)];
}

/** Each recipient's checksum and key checked by encrypting a byte to it: a typo is caught at start, not after a call. */
export async function checkRecipients(recipients: readonly string[]): Promise<void> {
  for (const [index, recipient] of recipients.entries()) {
    try {
      const encrypter = new Encrypter();
      encrypter.addRecipient(recipient);
      await encrypter.encrypt(new Uint8Array(1));
    } catch (err) {
      throw new ConfigError(`CALLTAPE_ENCRYPT_TO: recipient ${index + 1} (${recipient.slice(0, 12)}…) is not valid: ${(err as Error).message.replace(/age1\S+/g, '…')}`);
    }
  }
}
