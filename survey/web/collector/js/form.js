// The questionnaire in the page: skip logic, validation tied to each field, one section at a
// time, and the answers gathered for sealing. Nothing is ever written to browser storage.
import { holds } from "./logic.js";
import { message } from "./messages.js";
import { check, INVALID, NO_ANSWER, REFUSED } from "./validate.js";

function inputsOf(root, name) {
  return [...root.querySelectorAll("input, select, textarea")].filter((el) => el.name === name);
}

function isField(el) {
  return el.tagName === "SELECT" || el.tagName === "TEXTAREA" || el.type === "text";
}

// What one variable holds in the page, as validate.js checks it (blank: undefined or "").
function readVariable(container, name, type) {
  const inputs = inputsOf(container, name);
  if (type === "single" || type === "grid") {
    const checked = inputs.find((el) => el.checked);
    return checked ? Number(checked.value) : undefined;
  }
  if (type === "multi") {
    const picks = inputs.filter((el) => el.checked).map((el) => Number(el.value));
    return picks.includes(REFUSED) ? REFUSED : picks;
  }
  const refusal = inputs.find((el) => el.dataset.refusal && el.checked);
  if (refusal) return REFUSED;
  const field = inputs.find(isField);
  if (!field) return undefined;
  if (type === "select") return field.value === "" ? undefined : Number(field.value);
  return field.value; // integer and text: the text as typed, normalised by validate.js
}

// What the definition allows for one variable, read from the rendered page (its options,
// data-* attributes and maxlength): the spec validate.js checks against.
export function specOf(item, container, name) {
  const inputs = inputsOf(container, name);
  const choices = inputs.flatMap((el) => (el.tagName === "SELECT" ? [...el.options] : [el]));
  const codes = choices
    .filter((el) => el.tagName === "OPTION" || el.type === "radio" || el.type === "checkbox")
    .filter((el) => el.value !== "")
    .map((el) => ({ code: Number(el.value), exclusive: Boolean(el.dataset.exclusive) }));
  const field = inputs.find((el) => isField(el) && el.tagName !== "SELECT");
  const type = item.dataset.type === "grid" ? "single" : item.dataset.type;
  return {
    type,
    codes: codes.filter((c) => c.code !== REFUSED).map((c) => c.code),
    exclusive: codes.filter((c) => c.exclusive && c.code !== REFUSED).map((c) => c.code),
    sensitive: codes.some((c) => c.code === REFUSED),
    maxPicks: Number(item.dataset.maxPicks || 0),
    min: field && field.dataset.min !== undefined ? Number(field.dataset.min) : null,
    max: field && field.dataset.max !== undefined ? Number(field.dataset.max) : null,
    maxLength: field && field.maxLength >= 0 ? field.maxLength : null,
  };
}

export function variablesOf(item) {
  if (item.dataset.type === "grid") {
    return [...item.querySelectorAll("[data-var]")].map((row) => [row.dataset.var, row]);
  }
  return [[item.dataset.item, item]];
}

export class SurveyForm {
  constructor(root, lang) {
    this.root = root;
    this.lang = lang;
    this.pages = [...root.querySelectorAll("section.page")];
    this.items = [...root.querySelectorAll("[data-item]")];
    this.current = 0;
    this.dirty = false;
    root.addEventListener("change", (event) => this.onChange(event));
    root.addEventListener("input", () => {
      this.dirty = true;
    });
    for (const button of root.querySelectorAll("button.next")) {
      button.addEventListener("click", () => this.go(+1));
    }
    for (const button of root.querySelectorAll("button.back")) {
      button.addEventListener("click", () => this.go(-1));
    }
    this.refresh();
    this.placeCrisis(this.pages[0]);
  }

  onChange(event) {
    this.dirty = true;
    const el = event.target;
    if (el.type === "checkbox" && el.checked) {
      // An exclusive pick (「特にない」, 「答えたくない」) clears the others, and the reverse.
      for (const other of inputsOf(this.root, el.name)) {
        if (other !== el && (el.dataset.exclusive || other.dataset.exclusive)) {
          other.checked = false;
        }
      }
      if (el.dataset.refusal) {
        const field = inputsOf(this.root, el.name).find((x) => !x.dataset.refusal);
        if (field) field.value = "";
      }
    } else if (el.name && !el.dataset.refusal && el.type !== "radio" && el.value) {
      const refusal = inputsOf(this.root, el.name).find((x) => x.dataset.refusal);
      if (refusal) refusal.checked = false;
    }
    this.refresh();
    const item = el.closest("[data-item]");
    // A pick too many (the fourth of 「3つまで」) is said at once, where it was made; an error
    // already shown goes as soon as the answer is right.
    if (item && (item.dataset.maxPicks || item.querySelector(".error:not([hidden])"))) {
      this.checkItem(item);
    }
  }

  // Show (or clear) the errors of one item's variables; returns the names with an error.
  checkItem(item) {
    const problems = [];
    for (const [name, result, spec] of this.checked(item)) {
      const text = item.hidden || !result.error ? "" : message(result.error, this.lang(), spec);
      this.setError(name, text);
      if (text) problems.push(name);
    }
    return problems;
  }

  // The crisis lines appear once on a page: while a section shows its prominent box (after
  // the ideation items), the footer's list is hidden.
  placeCrisis(page) {
    const prominent = page.querySelector(".crisis-prominent") !== null;
    for (const box of document.querySelectorAll("aside.crisis")) {
      if (!this.root.contains(box)) box.hidden = prominent;
    }
  }

  // The checked value of each variable of an item: [name, {value, error}, spec].
  checked(item) {
    return variablesOf(item).map(([name, container]) => {
      const spec = specOf(item, container, name);
      return [name, check(spec, readVariable(container, name, item.dataset.type)), spec];
    });
  }

  // Show and hide items by the skip logic, in order, as the office applies it: on the checked
  // values, so an answer that cannot be right opens no follow-up.
  refresh() {
    const answers = {};
    for (const item of this.items) {
      const condition = item.dataset.showIf ? JSON.parse(item.dataset.showIf) : null;
      const shown = condition === null || holds(condition, answers);
      item.hidden = !shown;
      for (const el of item.querySelectorAll("input, select, textarea")) el.disabled = !shown;
      if (!shown) continue;
      for (const [name, { value }] of this.checked(item)) answers[name] = value;
    }
  }

  setError(name, text) {
    const box = this.root.querySelector(`#err-${name}`);
    const inputs = inputsOf(this.root, name);
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
    for (const el of inputs) {
      if (text) el.setAttribute("aria-invalid", "true");
      else el.removeAttribute("aria-invalid");
    }
  }

  // Nothing is compulsory; only answers that cannot be right are refused.
  validatePage(page) {
    const problems = [];
    for (const item of page.querySelectorAll("[data-item]")) {
      problems.push(...this.checkItem(item));
    }
    const summary = page.querySelector(".error-summary");
    summary.hidden = problems.length === 0;
    summary.textContent = problems.length ? message("fix", this.lang(), { n: problems.length }) : "";
    if (problems.length) {
      // The question and its message (under the question) come into view, then the focus
      // goes to the first answer without scrolling away from them.
      const box = page.querySelector(`#err-${problems[0]}`);
      const holder = box ? box.closest("fieldset, .item") : null;
      const question = holder ? holder.querySelector("legend, label") : null;
      if (question) question.scrollIntoView({ block: "start" });
      const first = inputsOf(page, problems[0]).find((el) => !el.disabled);
      if (first) first.focus({ preventScroll: Boolean(question) });
    }
    return problems.length === 0;
  }

  hasContent(page) {
    return [...page.querySelectorAll("[data-item]")].some((item) => !item.hidden);
  }

  go(step) {
    const page = this.pages[this.current];
    if (step > 0 && !this.validatePage(page)) return;
    let next = this.current + step;
    while (next > 0 && next < this.pages.length - 1 && !this.hasContent(this.pages[next])) {
      next += step; // a section whose every item the logic skips is passed over
    }
    this.show(next);
  }

  show(index) {
    this.pages[this.current].hidden = true;
    this.current = Math.max(0, Math.min(index, this.pages.length - 1));
    const page = this.pages[this.current];
    page.hidden = false;
    this.root.querySelector("#progress-now").textContent = String(this.current + 1);
    this.root.querySelector("#progress-bar").value = this.current + 1;
    this.placeCrisis(page);
    window.scrollTo(0, 0);
    page.querySelector("h2").focus();
  }

  validateAll() {
    for (let i = 0; i < this.pages.length; i += 1) {
      if (!this.validatePage(this.pages[i])) {
        if (i !== this.current) this.show(i);
        this.validatePage(this.pages[i]);
        return false;
      }
    }
    return true;
  }

  // The answers to seal: visible, given variables only (the office fills in −1 and −9).
  answers() {
    this.refresh();
    const out = {};
    for (const item of this.items) {
      if (item.hidden) continue;
      for (const [name, { value }] of this.checked(item)) {
        if (value !== NO_ANSWER && value !== INVALID) out[name] = value;
      }
    }
    return out;
  }
}
