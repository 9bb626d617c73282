// Access codes as the browser checks them: the same rules as survey/codes.py (a test runs
// both on the same inputs). The Damm check over GF(32) catches any single wrong symbol and
// any swap of two neighbours before a request is made.

export const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const POLY = 0b100101; // x^5 + x^2 + 1
const A = 2;
const DATA_SYMBOLS = 12;
const SEPARATORS = /[\s\-‐‑‒–—―−ーｰ_]/gu;

function gfMul(x, y) {
  let result = 0;
  while (y) {
    if (y & 1) result ^= x;
    y >>= 1;
    x <<= 1;
    if (x & 0b100000) x ^= POLY;
  }
  return result;
}

const TABLE = Array.from({ length: 32 }, (_, x) =>
  Array.from({ length: 32 }, (_, y) => gfMul(A, x) ^ y),
);

function interim(symbols) {
  let value = 0;
  for (const ch of symbols) value = TABLE[value][CROCKFORD.indexOf(ch)];
  return value;
}

// Returns {code} with the canonical 13 symbols, or {error: "length" | "check"}.
export function normalize(text) {
  const s = text
    .normalize("NFKC")
    .toUpperCase()
    .replace(/[IL]/g, "1")
    .replace(/O/g, "0")
    .replace(SEPARATORS, "");
  if (s.length !== DATA_SYMBOLS + 1 || [...s].some((ch) => !CROCKFORD.includes(ch))) {
    return { error: "length" };
  }
  if (interim(s) !== 0) return { error: "check" };
  return { code: s };
}

export function display(code) {
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}-${code.slice(12)}`;
}
