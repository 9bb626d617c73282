// The public form's browser code: check the access code, load the questionnaire, seal the
// answers to the study key and send them. Everything stays in this page's memory: no
// cookies, no localStorage or sessionStorage, no request to any other origin.
import sodiumModule from "libsodium-wrappers";
import { display, normalize } from "./codes.js";
import { SurveyForm } from "./form.js";
import { fingerprint, sealAnswers } from "./keys.js";
import { message } from "./messages.js";

const state = { lang: "ja", study: null, publicKey: null, code: null, meta: null, form: null };
const $ = (id) => document.getElementById(id);

function lang() {
  return state.lang;
}

function setLanguage(value) {
  const root = document.documentElement;
  const formRoot = $("survey-form");
  const allowed = formRoot ? formRoot.dataset.bilingual === "yes" : root.dataset.bilingual === "yes";
  state.lang = allowed ? value : "ja";
  root.lang = state.lang;
  root.classList.toggle("lang-en", state.lang === "en");
  for (const option of document.querySelectorAll("option[data-en]")) {
    if (!option.dataset.ja) option.dataset.ja = option.textContent;
    option.textContent = state.lang === "en" ? option.dataset.en : option.dataset.ja;
  }
  const toggle = $("lang-toggle");
  if (toggle) {
    toggle.hidden = !allowed;
    toggle.textContent = state.lang === "en" ? toggle.dataset.en : toggle.dataset.ja;
  }
}

function showError(id, key) {
  const box = $(id);
  box.textContent = key ? message(key, lang()) : "";
  box.hidden = !key;
}

async function postJSON(path, body) {
  // The code travels in the request body only: never in a path or a query string.
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  return { status: response.status, data };
}

const CHECK_ERRORS = { 404: "unknown", 409: "used", 403: "paper", 429: "limited" };

async function onCode(event) {
  event.preventDefault();
  const input = $("code");
  const parsed = normalize(input.value);
  if (parsed.error) {
    input.setAttribute("aria-invalid", "true");
    showError("code-error", parsed.error);
    input.focus();
    return;
  }
  input.value = display(parsed.code);
  input.removeAttribute("aria-invalid");
  showError("code-error", null);
  const button = $("code-submit");
  button.disabled = true;
  try {
    const { status, data } = await postJSON("/api/codes/check", { code: parsed.code });
    if (status !== 200) {
      input.setAttribute("aria-invalid", "true");
      showError("code-error", CHECK_ERRORS[status] || "failed");
      input.focus();
      return;
    }
    state.code = parsed.code;
    state.meta = data;
    await openForm(data);
  } catch {
    showError("code-error", "network");
  } finally {
    button.disabled = false;
  }
}

async function openForm(meta) {
  const response = await fetch(`/forms/${encodeURIComponent(meta.form)}/${meta.version}`, {
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) throw new Error("form");
  const html = await response.text();
  const doc = new DOMParser().parseFromString(html, "text/html");
  const formElement = doc.getElementById("survey-form");
  const host = $("form-host");
  host.replaceChildren(document.adoptNode(formElement));
  $("start-view").hidden = true;
  setLanguage(state.lang);
  state.form = new SurveyForm(formElement, lang);
  formElement.addEventListener("submit", onSubmit);
  window.addEventListener("beforeunload", warnBeforeLeaving);
  window.scrollTo(0, 0);
  $("form-title").focus();
}

function warnBeforeLeaving(event) {
  if (!state.form || !state.form.dirty) return undefined;
  event.preventDefault();
  event.returnValue = message("leave", lang());
  return event.returnValue;
}

const SUBMIT_ERRORS = { 409: "used", 404: "unknown", 403: "paper", 429: "limited", 503: "busy" };

async function onSubmit(event) {
  event.preventDefault();
  const form = state.form;
  if (!form.validateAll()) return;
  const status = $("submit-status");
  const button = event.target.querySelector("button.submit");
  button.disabled = true;
  status.textContent = message("sending", lang());
  try {
    const root = $("survey-form");
    const payload = {
      study: state.study,
      cohort: root.dataset.cohort,
      form: root.dataset.form,
      version: Number(root.dataset.version),
      answers: form.answers(),
    };
    const sealed = sealAnswers(state.sodium, state.publicKey, payload, Number(root.dataset.paddedSize));
    const reply = await postJSON("/api/responses", { code: state.code, sealed });
    if (reply.status === 201) {
      window.removeEventListener("beforeunload", warnBeforeLeaving);
      state.code = null;
      window.location.replace(state.lang === "en" ? "/thanks#en" : "/thanks");
      return;
    }
    status.textContent = message(SUBMIT_ERRORS[reply.status] || "failed", lang());
  } catch {
    status.textContent = message("network", lang());
  } finally {
    button.disabled = false;
  }
}

function takeCodeFromFragment() {
  // The QR code carries the access code in the URL fragment, which browsers never send to a
  // server; it is copied into the field and removed from the address bar (and history entry).
  const match = window.location.hash.match(/code=([^&]+)/);
  window.history.replaceState(null, "", window.location.pathname); // gone, whatever it held
  if (!match) return;
  try {
    $("code").value = decodeURIComponent(match[1]);
  } catch {
    $("code").value = ""; // a damaged link: the code is typed in instead
  }
}

async function start() {
  const toggle = $("lang-toggle");
  if (toggle) toggle.addEventListener("click", () => setLanguage(state.lang === "en" ? "ja" : "en"));
  if (!$("code-form")) {
    setLanguage(window.location.hash === "#en" ? "en" : "ja"); // the thank-you page
    return;
  }
  setLanguage("ja");
  takeCodeFromFragment();
  try {
    await sodiumModule.ready;
    state.sodium = sodiumModule;
    const response = await fetch("/api/study", { credentials: "omit", cache: "no-store" });
    if (!response.ok) throw new Error("study");
    const info = await response.json();
    state.study = info.study;
    state.publicKey = sodiumModule.from_base64(info.public_key, sodiumModule.base64_variants.ORIGINAL);
    // Shown from the key actually used, never from the server's word for it.
    $("fingerprint").textContent = fingerprint(sodiumModule, state.publicKey);
  } catch {
    $("loading").hidden = true;
    $("crypto-failed").hidden = false;
    return;
  }
  $("loading").hidden = true;
  $("start").hidden = false;
  $("code-form").addEventListener("submit", onCode);
}

start();
