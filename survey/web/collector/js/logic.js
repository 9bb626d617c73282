// Skip logic, as survey/forms/logic.py evaluates it: a condition holds when an earlier item
// was answered with one of its codes (any pick, for multiple choice); all/any combine.

export function isMissing(value) {
  return value === undefined || value === null || (typeof value === "number" && value < 0);
}

export function holds(cond, answers) {
  if (cond.all) return cond.all.every((c) => holds(c, answers));
  if (cond.any) return cond.any.some((c) => holds(c, answers));
  const value = answers[cond.item];
  if (Array.isArray(value)) return value.some((v) => cond.in.includes(v));
  return !isMissing(value) && cond.in.includes(value);
}
