// What each item type accepts, as survey/forms/items/ validates it in Python (a test runs both
// on the same inputs: tests/web/test_browser_logic.py). Pure functions, no DOM: form.js reads
// the page into a `spec` and a raw value and asks here.
//
// spec: { type: "single" | "select" | "multi" | "integer" | "text" | "longtext" (a grid row
//         is "single"), codes: [option codes], exclusive: [codes that stand alone],
//         sensitive: offers 「答えたくない」 (-7), maxPicks, min, max, maxLength }
// check(spec, raw) -> { value, error }: value is what is stored (an answer, or -9 for nothing,
// -7 refused, -8 invalid; -6 and -8 given as such are kept); error names the message shown
// when the value is -8. Nothing is compulsory: a blank answer is never an error.

export const REFUSED = -7;
export const NO_ANSWER = -9;
export const INVALID = -8;
const ILLEGIBLE = -6;

// A number that is whole; JSON does not tell 2 from 2.0 (nor does JavaScript).
function wholeNumber(raw) {
  return typeof raw === "number" && Number.isInteger(raw) ? raw : undefined;
}

function missingCode(spec, raw) {
  if (raw === undefined || raw === null) return NO_ANSWER;
  if ((typeof raw === "string" || Array.isArray(raw)) && raw.length === 0) return NO_ANSWER;
  const n = wholeNumber(raw);
  if (n === undefined || n >= 0) return undefined;
  if (n === REFUSED) return spec.sensitive ? REFUSED : INVALID;
  return n === NO_ANSWER || n === ILLEGIBLE || n === INVALID ? n : INVALID;
}

function choiceValue(spec, raw) {
  const missing = missingCode(spec, raw);
  if (missing !== undefined) return missing;
  if (Array.isArray(raw)) {
    // One mark is that answer; several on a single choice cannot be right.
    return raw.length === 1 && !Array.isArray(raw[0]) ? choiceValue(spec, raw[0]) : INVALID;
  }
  const code = wholeNumber(raw);
  return code !== undefined && spec.codes.includes(code) ? code : INVALID;
}

function multiCheck(spec, raw) {
  const missing = missingCode(spec, raw);
  if (missing !== undefined) return { value: missing };
  if (!Array.isArray(raw)) return { value: INVALID };
  const picks = raw.map(wholeNumber);
  if (picks.some((p) => p === undefined)) return { value: INVALID };
  if (picks.length === 1 && picks[0] === REFUSED) {
    return { value: spec.sensitive ? REFUSED : INVALID };
  }
  if (picks.some((p) => !spec.codes.includes(p)) || new Set(picks).size !== picks.length) {
    return { value: INVALID };
  }
  if (picks.length > 1 && picks.some((p) => spec.exclusive.includes(p))) return { value: INVALID };
  if (spec.maxPicks && picks.length > spec.maxPicks) return { value: INVALID, error: "picks" };
  return { value: spec.codes.filter((c) => picks.includes(c)) };
}

// What was typed into an integer field: digits only once normalised (full-width digits and
// surrounding spaces are fine; signs, decimals, 1e3, 0x10 are not).
function integerValue(spec, raw) {
  const missing = missingCode(spec, raw);
  if (missing !== undefined) return missing;
  let n = wholeNumber(raw);
  if (typeof raw === "string") {
    const typed = raw.normalize("NFKC").trim();
    if (typed === "") return NO_ANSWER;
    if (!/^[0-9]+$/.test(typed)) return INVALID;
    const digits = typed.replace(/^0+(?=.)/, "");
    if (digits.length > String(spec.max).length) return INVALID;
    n = Number(digits);
  }
  return n !== undefined && n >= spec.min && n <= spec.max ? n : INVALID;
}

function textCheck(spec, raw) {
  const missing = missingCode(spec, raw);
  if (missing !== undefined) return { value: missing };
  if (typeof raw !== "string") return { value: INVALID };
  if (raw.trim() === "") return { value: NO_ANSWER };
  // length counts UTF-16 code units, as the field's maxlength does.
  return raw.length <= spec.maxLength ? { value: raw } : { value: INVALID, error: "tooLong" };
}

export function check(spec, raw) {
  let result;
  if (spec.type === "multi") result = multiCheck(spec, raw);
  else if (spec.type === "integer") result = { value: integerValue(spec, raw), error: "integer" };
  else if (spec.type === "text" || spec.type === "longtext") result = textCheck(spec, raw);
  else result = { value: choiceValue(spec, raw) };
  if (result.value !== INVALID) return { value: result.value };
  return { value: INVALID, error: result.error || "invalid" };
}
