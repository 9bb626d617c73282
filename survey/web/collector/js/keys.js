// The study key's fingerprint, computed from the key this page actually encrypts to:
// BLAKE2b-160 (libsodium's crypto_generichash) in Crockford base32, eight groups of four,
// exactly as survey.crypto.fingerprint prints it on the paper slips.
import { CROCKFORD } from "./codes.js";

export function base32(bytes) {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(buffer << (5 - bits)) & 31];
  return out;
}

export function fingerprint(sodium, publicKey) {
  const text = base32(sodium.crypto_generichash(20, publicKey, null));
  return text.match(/.{1,4}/g).join("-");
}

// The answers are padded to the form's one fixed size, then sealed to the study key:
// every answer of a form has the same length, whatever was answered or skipped.
export function sealAnswers(sodium, publicKey, payload, paddedSize) {
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  if (bytes.length >= paddedSize) throw new Error("payload larger than the padded size");
  const padded = sodium.pad(bytes, paddedSize);
  if (padded.length !== paddedSize) throw new Error("padding failed");
  const sealed = sodium.crypto_box_seal(padded, publicKey);
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL);
}
