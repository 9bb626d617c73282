// The questionnaire in the page: skip logic, validation tied to each field, one section at a
// time, and the answers gathered for sealing. Nothing is ever written to browser storage.
import { holds } from "./logic.js";
import { message } from "./messages.js";

const REFUSED = -7;

function inputsOf(root, name) {
  return [...root.querySelectorAll("input, select, textarea")].filter((el) => el.name === name);
}

// The value of one variable as the definition's payload wants it, or undefined when blank.
function readVariable(container, name, type) {
  const inputs = inputsOf(container, name);
  if (type === "single" || type === "grid") {
    const checked = inputs.find((el) => el.checked);
    return checked ? Number(checked.value) : undefined;
  }
  if (type === "multi") {
    const picks = inputs.filter((el) => el.checked).map((el) => Number(el.value));
    if (picks.includes(REFUSED)) return REFUSED;
    return picks.length ? picks : undefined;
  }
  const refusal = inputs.find((el) => el.dataset.refusal && el.checked);
  if (refusal) return REFUSED;
  const field = inputs.find((el) => !el.dataset.refusal);
  if (!field || field.value.trim() === "") return undefined;
  if (type === "select") return Number(field.value);
  if (type === "integer") return field.value.trim(); // checked and converted by validate()
  return field.value;
}

function variablesOf(item) {
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
  }

  // Show and hide items by the skip logic, in order, as the server applies it.
  refresh() {
    const answers = {};
    for (const item of this.items) {
      const condition = item.dataset.showIf ? JSON.parse(item.dataset.showIf) : null;
      const shown = condition === null || holds(condition, answers);
      item.hidden = !shown;
      for (const el of item.querySelectorAll("input, select, textarea")) el.disabled = !shown;
      if (!shown) continue;
      for (const [name, container] of variablesOf(item)) {
        const value = readVariable(container, name, item.dataset.type);
        if (value !== undefined) answers[name] = typeof value === "string" ? value : value;
      }
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
      for (const [name, container] of variablesOf(item)) {
        let text = "";
        if (!item.hidden) {
          const value = readVariable(container, name, item.dataset.type);
          if (item.dataset.type === "integer" && value !== undefined && value !== REFUSED) {
            const field = inputsOf(container, name).find((x) => !x.dataset.refusal);
            const min = Number(field.dataset.min);
            const max = Number(field.dataset.max);
            const n = Number(value.normalize("NFKC"));
            if (!Number.isInteger(n) || n < min || n > max) {
              text = message("integer", this.lang(), { min, max });
            }
          }
          const picks = Number(item.dataset.maxPicks || 0);
          if (picks && Array.isArray(value) && value.length > picks) {
            text = message("picks", this.lang(), { max: picks });
          }
        }
        this.setError(name, text);
        if (text) problems.push(name);
      }
    }
    const summary = page.querySelector(".error-summary");
    summary.hidden = problems.length === 0;
    summary.textContent = problems.length ? message("fix", this.lang(), { n: problems.length }) : "";
    if (problems.length) {
      const first = inputsOf(page, problems[0]).find((el) => !el.disabled);
      if (first) first.focus();
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
      for (const [name, container] of variablesOf(item)) {
        let value = readVariable(container, name, item.dataset.type);
        if (value === undefined) continue;
        if (item.dataset.type === "integer" && value !== REFUSED) {
          value = Number(value.normalize("NFKC"));
        }
        out[name] = value;
      }
    }
    return out;
  }
}
