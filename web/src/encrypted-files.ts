// An encrypted recording on its page. The server holds no private key, so it cannot play the
// call, and the page does not offer to decrypt it either: a private key pasted into a page
// the server sends is a key the server (or whoever controls it) could take, which is what
// encrypting to the customer's key is meant to rule out. The page gives the .age files and
// the one command that reads them, with each plaintext's SHA-256 to check the result against.
import { html } from 'htm/preact';
import type { RecordingDetail } from './api.js';
import { bytes, when } from './format.js';

type Encryption = NonNullable<RecordingDetail['encryption']>;

export function EncryptedFiles({ encryption, callSid }: { encryption: Encryption; callSid: string }) {
  const wav = encryption.files.find((f) => f.name === 'stereo.wav.age') ?? encryption.files.find((f) => f.name.endsWith('.wav.age'));
  return html`<section class="card encrypted" aria-labelledby="encrypted-title">
    <h2 id="encrypted-title">Encrypted to your key</h2>
    <p>
      ${`This call's audio, transcript, summary and analytics were encrypted ${when(encryption.at)} to ${encryption.recipients.length === 1 ? 'the age key' : `${encryption.recipients.length} age keys`} `}
      <span class="mono small">${encryption.recipients.map((r) => `${r.slice(0, 16)}…${r.slice(-6)}`).join(', ')}</span>${'. This server keeps no private key, so it cannot play them: download the files and decrypt them where your key is.'}
    </p>
    ${wav && html`<pre class="command">age -d -i key.txt -o ${wav.plaintext.name} ${callSid}-${wav.name}</pre>`}
    <p class="muted small">Each file's SHA-256 after decryption is shown on hover and listed in the signed manifest, to check the result against.</p>
    <ul class="downloads encrypted-files">
      ${encryption.files.map(
        (file) => html`<li>
          <a class="button secondary" href=${file.url} download=${`${callSid}-${file.name}`} title=${`decrypts to ${file.plaintext.name}, SHA-256 ${file.plaintext.sha256}`} aria-label=${`Download ${file.name}, ${bytes(file.bytes)}`}>
            ${file.name} <span class="size">${bytes(file.bytes)}</span>
          </a>
        </li>`,
      )}
    </ul>
  </section>`;
}
