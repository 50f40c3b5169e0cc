// The customer billing portal. Plain ES module, no dependencies, no build step.
//
// The page's query string is the signed link: it goes verbatim in the
// x-makepay-portal header of every GraphQL call and nowhere else. Every piece of
// server data reaches the DOM through textContent, never as HTML.

const LINK = window.location.search.slice(1);
const PAGE_SIZE = 10;

const SUBSCRIPTION_FIELDS = `id status planName amount currency interval currentPeriodEnd
  cancelAtPeriodEnd cancellationReason`;
const SETTINGS_FIELDS = "pauseEnabled cancellationMode cancellationReasons returnUrl newLinkUrl defaultLocale";
const PAYMENTS_FIELDS = `edges { cursor node { id amount currency status description createdAt } }
  pageInfo { hasNextPage endCursor }`;
const PORTAL_QUERY = `query Portal($first: Int!) {
  portal {
    company { id name branding { accentColor supportEmail supportUrl displayName } }
    expiresAt
    customer { id uid name email clientId createdAt }
    payments(first: $first) { ${PAYMENTS_FIELDS} }
    paymentLinks { id url amount currency status description expiresAt }
    subscriptions { ${SUBSCRIPTION_FIELDS} }
    settings { ${SETTINGS_FIELDS} }
  }
}`;
const MORE_PAYMENTS_QUERY = `query PortalPayments($first: Int!, $after: String) {
  portal { payments(first: $first, after: $after) { ${PAYMENTS_FIELDS} } }
}`;
const SUBSCRIPTIONS_QUERY = `query PortalSubscriptions { portal { subscriptions { ${SUBSCRIPTION_FIELDS} } } }`;
const UPDATE_NAME = `mutation UpdatePortalDisplayName($name: String!) {
  updatePortalDisplayName(name: $name) { id name }
}`;
// Each action's strings are catalogue keys: sub.<action>.label, .busy, .title,
// .body, .confirm, .done (and .back when it has its own).
const SUBSCRIPTION_ACTIONS = {
  pause: { mutation: "pauseSubscription" },
  reactivate: { mutation: "reactivateSubscription" },
  keep: { mutation: "reactivateSubscription" },
  cancel: { mutation: "cancelSubscription", back: true, danger: true },
};
// The contract's state table (sections 5.2 and 11): which actions each status
// allows. Pause only when the merchant offers it; a subscription set to cancel at
// the period end can only be kept.
const ALLOWED_ACTIONS = {
  active: ["pause", "cancel"],
  trialing: ["cancel"],
  past_due: ["cancel"],
  unpaid: ["cancel"],
  paused: ["reactivate", "cancel"],
  cancelled: [],
};
function allowedActions(s) {
  if (s.cancelAtPeriodEnd && s.status !== "cancelled") return ["keep"];
  const allowed = ALLOWED_ACTIONS[s.status] ?? [];
  return state.settings?.pauseEnabled === false ? allowed.filter((a) => a !== "pause") : allowed;
}
const TONES = {
  active: "success", trialing: "info", past_due: "warning", unpaid: "danger", paused: "neutral",
  cancelled: "neutral", paid: "success", pending: "warning", failed: "danger", refunded: "neutral",
  open: "info",
};
// Crypto assets have no ISO 4217 code; their precision is the gateway's.
const CRYPTO_DECIMALS = { BTC: 8, ETH: 18, USDC: 6, USDT: 6, SOL: 9, LTC: 8, DAI: 18 };
const ISO_CURRENCIES = new Set(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("currency") : []);

// ---------------------------------------------------------------- languages
//
// One catalogue per language (assets/i18n/<locale>.json), fetched from this origin.
// A string is a key's value with {name} placeholders; a plural is an object of
// Intl.PluralRules categories. The language: the customer's choice on this device,
// else the first of the browser's languages the page has, else the merchant's
// defaultLocale, else English.

const LOCALES = ["en", "de", "fr", "es"];
const LOCALE_KEY = "makepay.portal.locale";
const VERSION = new URL(import.meta.url).searchParams.get("v") ?? "";
const catalogues = {};
let locale = "en";
let current = null;
let fallback = null;
let plurals = new Intl.PluralRules("en");
let numberFormat = new Intl.NumberFormat("en");
let dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium" });
let dateTimeFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

function storedLocale() {
  try {
    const stored = window.localStorage.getItem(LOCALE_KEY);
    return LOCALES.includes(stored) ? stored : null;
  } catch {
    return null; // storage blocked: the choice lasts for this page only
  }
}

function browserLocale() {
  const tags = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of tags) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (LOCALES.includes(base)) return base;
  }
  return null;
}

function chosenLocale(defaultLocale) {
  return storedLocale() ?? browserLocale() ?? (LOCALES.includes(defaultLocale) ? defaultLocale : "en");
}

function catalogue(lang) {
  if (!catalogues[lang]) {
    const url = new URL(`./i18n/${lang}.json`, import.meta.url);
    url.search = VERSION ? `v=${encodeURIComponent(VERSION)}` : "";
    catalogues[lang] = fetch(url, { credentials: "omit" }).then((response) => {
      if (!response.ok) throw new Error(`catalogue ${lang}: ${response.status}`);
      return response.json();
    });
    catalogues[lang].catch(() => { delete catalogues[lang]; });
  }
  return catalogues[lang];
}

async function useLocale(lang) {
  // English stays loaded: a string a catalogue lacks falls back to it.
  const [chosen, english] = await Promise.all([catalogue(lang), catalogue("en")]);
  current = chosen;
  fallback = english;
  locale = lang;
  plurals = new Intl.PluralRules(lang);
  numberFormat = new Intl.NumberFormat(lang);
  dateFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium" });
  dateTimeFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  document.documentElement.lang = lang;
  translateStatic();
}

function t(key, params = {}) {
  let entry = current?.[key] ?? fallback?.[key] ?? key;
  if (typeof entry === "object") entry = entry[plurals.select(params.count ?? 0)] ?? entry.other;
  return entry.replace(/\{(\w+)\}/g, (match, name) => {
    if (!(name in params)) return match;
    return name === "count" ? numberFormat.format(params.count) : String(params[name]);
  });
}

// The page's static HTML: elements marked data-i18n get their text from the
// catalogue, those marked data-i18n-label their accessible name.
function translateStatic() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
  const select = document.getElementById("language");
  if (select) select.value = locale;
}

// Whatever is on screen, drawn again in the new language.
let redraw = null;

function languageSwitcher() {
  const select = document.getElementById("language");
  select.addEventListener("change", async () => {
    const lang = select.value;
    if (!LOCALES.includes(lang)) return;
    try {
      window.localStorage.setItem(LOCALE_KEY, lang);
    } catch {
      // not kept on this device, still used now
    }
    try {
      await useLocale(lang);
    } catch {
      select.value = locale;
      return;
    }
    if (redraw) redraw();
    select.focus();
    announce(t("language.changed"));
  });
}

// ---------------------------------------------------------------- formatting

function fractionDigits(amount) {
  const dot = amount.indexOf(".");
  return dot < 0 ? 0 : amount.length - dot - 1;
}

function significantDecimals(amount) {
  return amount.includes(".") ? fractionDigits(amount.replace(/0+$/, "")) : 0;
}

export function formatAmount(amount, currency) {
  const value = String(amount);
  if (ISO_CURRENCIES.has(currency) && !(currency in CRYPTO_DECIMALS)) {
    // Intl picks the currency's own decimals (2 for USD, 0 for JPY); a string
    // argument keeps the exact decimal value (no float rounding).
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(value);
  }
  // Crypto: the exact value, without a tail of zeros (0.00120000 BTC reads
  // 0.0012 BTC), but at least 2 decimals, never more than the asset has.
  const max = CRYPTO_DECIMALS[currency] ?? fractionDigits(value);
  const shown = Math.min(max, Math.max(Math.min(2, max), significantDecimals(value)));
  const number = new Intl.NumberFormat(locale, {
    minimumFractionDigits: shown,
    maximumFractionDigits: shown,
  }).format(value);
  return `${number} ${currency}`;
}

function formatPrice(subscription) {
  return t(`price.${subscription.interval}`, { amount: formatAmount(subscription.amount, subscription.currency) });
}

function formatDate(iso, withTime = false) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return (withTime ? dateTimeFormat : dateFormat).format(date);
}

function time(iso, withTime = false) {
  return h("time", { datetime: iso }, formatDate(iso, withTime));
}

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function hidden(text) {
  return h("span", { class: "visually-hidden" }, text);
}

function badge([label, tone]) {
  return h("span", { class: `badge badge-${tone}` }, label);
}

function statusBadge(kind, status) {
  const key = `${kind}.${status}`;
  const label = t(key);
  return badge([label === key ? status.replace(/_/g, " ") : label, TONES[status] ?? "neutral"]);
}

// What the page shows by itself (more payments appear) is only read out; what the
// customer changed is shown too (notify below). Each message has one live region,
// so none is read twice.
const announcer = document.getElementById("announcer");
function announce(message) {
  // Clear first so that the same message twice is read twice.
  announcer.textContent = "";
  window.setTimeout(() => { announcer.textContent = message; }, 50);
}

// ---- messages: the outcome of the customer's action, on screen and read out
//
// The message box stays rendered while hidden (transparent and empty), so its text
// lives in a region screen readers already follow. It stays while pointed at or
// focused, else it fades after NOTICE_MS; hiding it empties it, so no earlier
// outcome is left to be shown or read with the next one.

const NOTICE_MS = 8000;
const NOTICE_FADE_MS = 200; // at least the stylesheet's transition
const notice = document.getElementById("notice");
const noticeIcon = document.getElementById("notice-icon");
const noticeText = document.getElementById("notice-text");
const noticeClose = document.getElementById("notice-close");
const noticeHeld = { pointer: false, focus: false };
let noticeToken = 0;
let noticeTimer = null;
let focusBeforeNotice = null;

function notify(message, tone = "success") {
  const token = ++noticeToken;
  window.clearTimeout(noticeTimer);
  // Emptied first so that the same message twice is read twice.
  noticeText.textContent = "";
  window.setTimeout(() => {
    if (token !== noticeToken) return;
    notice.dataset.tone = tone;
    noticeIcon.replaceChildren(icon(tone === "success" ? "check" : "info"));
    noticeText.textContent = message;
    noticeClose.hidden = false;
    notice.classList.add("shown");
    keepFocusClearOfNotice();
    scheduleWithdraw();
  }, 50);
}

function withdrawNotice() {
  const token = ++noticeToken;
  window.clearTimeout(noticeTimer);
  const hadFocus = notice.contains(document.activeElement);
  notice.classList.remove("shown");
  if (hadFocus) (focusBeforeNotice?.isConnected ? focusBeforeNotice : main).focus();
  noticeClose.hidden = true;
  // Emptied once faded out, unless a newer message took its place meanwhile.
  window.setTimeout(() => { if (token === noticeToken) noticeText.textContent = ""; }, NOTICE_FADE_MS);
}

function scheduleWithdraw() {
  window.clearTimeout(noticeTimer);
  if (!notice.classList.contains("shown") || noticeHeld.pointer || noticeHeld.focus) return;
  noticeTimer = window.setTimeout(withdrawNotice, NOTICE_MS);
}

// The focused control must not end up under the message (WCAG 2.4.11); the
// stylesheet keeps a scroll padding the height of the message while it shows.
function keepFocusClearOfNotice() {
  const focused = document.activeElement;
  if (!focused || focused === document.body || notice.contains(focused)) return;
  const a = focused.getBoundingClientRect();
  const b = notice.getBoundingClientRect();
  // 16 px: the message may still be sliding into place.
  if (a.bottom > b.top - 16 && a.top < b.bottom && a.right > b.left && a.left < b.right) {
    focused.scrollIntoView({ block: "nearest" });
  }
}

notice.addEventListener("pointerenter", () => {
  noticeHeld.pointer = true;
  scheduleWithdraw();
});
notice.addEventListener("pointerleave", () => {
  noticeHeld.pointer = false;
  scheduleWithdraw();
});
notice.addEventListener("focusin", (event) => {
  if (!notice.contains(event.relatedTarget)) focusBeforeNotice = event.relatedTarget;
  noticeHeld.focus = true;
  scheduleWithdraw();
});
notice.addEventListener("focusout", (event) => {
  if (notice.contains(event.relatedTarget)) return;
  noticeHeld.focus = false;
  scheduleWithdraw();
});
notice.addEventListener("keydown", (event) => {
  if (event.key === "Escape") withdrawNotice();
});
noticeClose.addEventListener("click", withdrawNotice);

function newIdempotencyKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function safeHttpsUrl(value) {
  const href = safeHttpUrl(value);
  return href && href.startsWith("https:") ? href : null;
}

// RFC 6068: characters such as ? # % in an address are percent-encoded, @ is not.
function mailtoHref(email) {
  const at = email.lastIndexOf("@");
  if (at < 1 || at === email.length - 1) return null;
  return `mailto:${encodeURIComponent(email.slice(0, at))}@${encodeURIComponent(email.slice(at + 1))}`;
}

function safeHttpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.code = code;
    this.retryAfter = extra.retryAfter ?? null;
    this.currentStatus = extra.currentStatus ?? null;
    this.field = extra.field ?? null;
    // Only on a link the server signed (expired or revoked): where to go on.
    this.newLinkUrl = extra.newLinkUrl ?? null;
    this.returnUrl = extra.returnUrl ?? null;
  }
}

const LINK_ERRORS = new Set(["PORTAL_LINK_EXPIRED", "PORTAL_LINK_INVALID"]);

async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "x-makepay-portal": LINK,
      },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError("NETWORK", "");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body?.errors?.[0];
  const code = error?.extensions?.code ?? (response.status === 429 ? "RATE_LIMITED" : null);
  if (code === "RATE_LIMITED") {
    const header = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
    const retryAfter = Number.isFinite(header) && header > 0 ? header : Number(error?.extensions?.retryAfter) || 30;
    throw new ApiError(code, "", { retryAfter });
  }
  if (error) {
    throw new ApiError(code ?? "INTERNAL", error.message ?? "", error.extensions ?? {});
  }
  if (!response.ok || !body?.data) {
    throw new ApiError(response.status === 503 ? "UNAVAILABLE" : "INTERNAL", "");
  }
  return body.data;
}

// ---------------------------------------------------------------- page state

const main = document.getElementById("main");
const state = {
  company: null,
  customer: null,
  expiresAt: null,
  payments: [],
  pageInfo: { hasNextPage: false, endCursor: null },
  paymentLinks: [],
  subscriptions: [],
  settings: null,
};
let countdownTimer = null;

function setBusy(busy) {
  main.setAttribute("aria-busy", busy ? "true" : "false");
}

function showLoading() {
  stopCountdown();
  withdrawNotice();
  setBusy(true);
  main.replaceChildren(
    h("div", { class: "loading" },
      h("p", { class: "loading-text", role: "status" }, t("loading")),
      h("div", { class: "skeleton-grid", "aria-hidden": "true" },
        h("div", { class: "card skeleton" }, h("span"), h("span"), h("span")),
        h("div", { class: "card skeleton" }, h("span"), h("span"), h("span"), h("span")),
        h("div", { class: "card skeleton" }, h("span"), h("span")))),
  );
}

function stopCountdown() {
  if (countdownTimer !== null) window.clearInterval(countdownTimer);
  countdownTimer = null;
}

const ICONS = {
  clock: "M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13ZM0 8a8 8 0 1 1 16 0A8 8 0 0 1 0 8Zm8.75-4.25v3.94l2.53 2.53-1.06 1.06-2.97-2.97V3.75h1.5Z",
  lock: "M4.5 7V5a3.5 3.5 0 1 1 7 0v2h.5A1.5 1.5 0 0 1 13.5 8.5v5A1.5 1.5 0 0 1 12 15H4a1.5 1.5 0 0 1-1.5-1.5v-5A1.5 1.5 0 0 1 4 7h.5Zm1.5 0h4V5a2 2 0 1 0-4 0v2Z",
  // Holes are drawn against the outline's direction (nonzero fill).
  mail: "M0 4.5A1.5 1.5 0 0 1 1.5 3h13A1.5 1.5 0 0 1 16 4.5v7a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 0 11.5v-7Zm1.5.7v6.3h13V5.2L8 9.6 1.5 5.2Zm1.4-.7L8 7.9l5.1-3.4H2.9Z",
  external: "M9 1.5h5.5V7H13V4.06L7.53 9.53 6.47 8.47 11.94 3H9V1.5ZM1.5 3.5A1.5 1.5 0 0 1 3 2h4v1.5H3v9.5h9.5V9H14v4a1.5 1.5 0 0 1-1.5 1.5H3A1.5 1.5 0 0 1 1.5 13V3.5Z",
  alert: "M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13ZM0 8a8 8 0 1 1 16 0A8 8 0 0 1 0 8Zm7.25-4h1.5v5h-1.5V4Zm0 6.5h1.5V12h-1.5v-1.5Z",
  info: "M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13ZM0 8a8 8 0 1 1 16 0A8 8 0 0 1 0 8Zm7.25-1h1.5v5h-1.5V7Zm0-3h1.5v1.5h-1.5V4Z",
  check: "M12.97 3.97 14.03 5.03 6 13.06 1.97 9.03 3.03 7.97 6 10.94Z",
};

function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

// A whole-page state (expired, invalid, rate limited, error) that replaces the
// content: a heading that takes focus, an explanation, at most one action.
function showStatePanel({ kind, tone, iconName, title, paragraphs, action }) {
  stopCountdown();
  withdrawNotice();
  setBusy(false);
  document.title = `${title} · ${t("billing")}`;
  const heading = h("h1", { tabindex: "-1", id: "state-title" }, title);
  const panel = h("section", { class: `state-panel state-${tone}`, "aria-labelledby": "state-title", "data-state": kind },
    h("div", { class: "state-icon" }, icon(iconName)),
    heading,
    paragraphs.map((text) => h("p", {}, text)),
    action ?? null);
  main.replaceChildren(panel);
  heading.focus();
  return panel;
}

// Expired or revoked: the merchant's newLinkUrl (if set) gets a new link at once,
// and their returnUrl leads back; the server sends them only for a link it signed.
function showLinkError(code, error = null) {
  redraw = () => showLinkError(code, error);
  document.getElementById("link-expiry").textContent = "";
  const newLink = error?.newLinkUrl ? safeHttpsUrl(error.newLinkUrl) : null;
  const back = error?.returnUrl ? safeHttpsUrl(error.returnUrl) : null;
  const actions = newLink || back
    ? h("div", { class: "state-actions" },
      newLink ? h("a", { class: "button", href: newLink, id: "new-link", rel: "noopener noreferrer" }, t("link.getNew")) : null,
      back ? h("a", { class: "button secondary", href: back, id: "return-link", rel: "noopener noreferrer" }, t("link.back")) : null)
    : null;
  const expired = code === "PORTAL_LINK_EXPIRED";
  const kind = expired ? "expired" : "invalid";
  showStatePanel({
    kind,
    tone: expired ? "warning" : "danger",
    iconName: expired ? "clock" : "lock",
    title: t(`${kind}.title`),
    paragraphs: [t(`${kind}.why`), t(newLink ? `${kind}.next.newLink` : `${kind}.next`)],
    action: actions,
  });
}

function showRateLimited(retryAfter, retry) {
  redraw = null;
  let remaining = Math.max(1, retryAfter);
  const button = h("button", { type: "button", class: "button", disabled: true, onclick: retry }, "");
  const wait = h("p", { class: "countdown" }, "");
  const render = () => {
    wait.textContent = remaining > 0 ? t("limited.wait", { count: remaining }) : t("limited.now");
    button.textContent = remaining > 0 ? t("limited.button", { count: remaining }) : t("retry");
    button.disabled = remaining > 0;
  };
  render();
  showStatePanel({
    kind: "rate-limited",
    tone: "warning",
    iconName: "clock",
    title: t("limited.title"),
    paragraphs: [t("limited.why")],
    action: h("div", { class: "state-actions" }, wait, button),
  });
  countdownTimer = window.setInterval(() => {
    remaining -= 1;
    render();
    if (remaining <= 0) {
      stopCountdown();
      button.focus();
    }
  }, 1000);
}

function showLoadError(error, retry) {
  redraw = () => showLoadError(error, retry);
  const offline = error.code === "NETWORK";
  showStatePanel({
    kind: "error",
    tone: "danger",
    iconName: "alert",
    title: t(offline ? "offline.title" : "failed.title"),
    paragraphs: [t(offline ? "offline.why" : "failed.why")],
    action: h("div", { class: "state-actions" },
      h("button", { type: "button", class: "button", onclick: retry }, t("retry"))),
  });
}

function handleFatal(error, retry) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    error = new ApiError("INTERNAL", "");
  }
  if (LINK_ERRORS.has(error.code)) showLinkError(error.code, error);
  else if (error.code === "NOT_FOUND") showLinkError("PORTAL_LINK_INVALID");
  else if (error.code === "RATE_LIMITED") showRateLimited(error.retryAfter, retry);
  else showLoadError(error, retry);
}

// ---------------------------------------------------------------- load

// `retrying`: the user asked again from an error screen, whose button is now gone,
// so focus goes to the page's heading once it is there.
async function load(retrying = false) {
  showLoading();
  if (!LINK) {
    showLinkError("PORTAL_LINK_INVALID");
    return;
  }
  let data;
  try {
    data = await gql(PORTAL_QUERY, { first: PAGE_SIZE });
  } catch (error) {
    handleFatal(error, () => load(true));
    return;
  }
  const portal = data.portal;
  // The merchant's default language counts only when neither the customer's choice
  // nor the browser's languages name one the page has.
  const lang = chosenLocale(portal.settings.defaultLocale);
  if (lang !== locale) {
    try {
      await useLocale(lang);
    } catch {
      // keep the language already shown
    }
  }
  Object.assign(state, {
    company: portal.company,
    customer: portal.customer,
    expiresAt: portal.expiresAt,
    payments: portal.payments.edges.map((edge) => edge.node),
    pageInfo: portal.payments.pageInfo,
    paymentLinks: portal.paymentLinks,
    subscriptions: sortSubscriptions(portal.subscriptions),
    settings: portal.settings,
  });
  renderPortal();
  if (retrying) document.getElementById("page-title")?.focus();
}

// ---------------------------------------------------------------- render

// The merchant's own name for the portal, when they set one.
function merchantName() {
  return state.company.branding?.displayName || state.company.name;
}

const ACCENT = /^#[0-9a-f]{6}$/i;

// The merchant's accent colour (the server refuses colours without AA contrast)
// goes into the stylesheet's custom properties through the CSSOM, which the page's
// Content-Security-Policy allows; inline style attributes it does not.
function applyAccent(color) {
  const root = document.documentElement.style;
  if (!color || !ACCENT.test(color)) {
    root.removeProperty("--brand");
    root.removeProperty("--brand-strong");
    return;
  }
  root.setProperty("--brand", color);
  root.setProperty("--brand-strong", darken(color, 0.85));
}

function darken(hex, factor) {
  const channels = [1, 3, 5].map((i) => Math.round(Number.parseInt(hex.slice(i, i + 2), 16) * factor));
  return `#${channels.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

function renderHeader() {
  applyAccent(state.company.branding?.accentColor);
  const name = merchantName();
  document.getElementById("company-name").textContent = name;
  const mark = document.querySelector(".brand-mark");
  mark.textContent = name.trim().charAt(0).toUpperCase();
  document.title = `${t("billing")} · ${name}`;
  const expiry = document.getElementById("link-expiry");
  expiry.replaceChildren(...around("footer.expiry", time(state.expiresAt, true)));
  const back = state.settings?.returnUrl ? safeHttpsUrl(state.settings.returnUrl) : null;
  const slot = document.getElementById("return-slot");
  slot.replaceChildren(back
    ? h("a", { class: "return-link", href: back, id: "back-to-merchant" },
      h("span", { "aria-hidden": "true" }, "\u2190 "), t("back", { merchant: name }))
    : "");
}

// A catalogue string with a {date} placeholder, around an element (a <time>).
function around(key, node) {
  const [before, after] = t(key, { date: "\u0000" }).split("\u0000");
  return [before, node, after ?? ""];
}

function section(id, title, description, ...content) {
  return h("section", { class: "card", id, "aria-labelledby": `${id}-title` },
    h("div", { class: "card-header" },
      h("h2", { id: `${id}-title` }, title),
      description ? h("p", { class: "card-description" }, description) : null),
    content);
}

function emptyState(text) {
  return h("p", { class: "empty" }, text);
}

function greetingText() {
  const merchant = merchantName();
  return state.customer.name
    ? t("greeting.named", { name: state.customer.name.split(/\s+/)[0], merchant })
    : t("greeting", { merchant });
}

function renderPortal() {
  redraw = renderPortal;
  renderHeader();
  setBusy(false);
  main.replaceChildren(
    h("div", { class: "page-heading" },
      h("h1", { id: "page-title", tabindex: "-1" }, t("billing")),
      h("p", { class: "lede", id: "greeting" }, greetingText())),
    h("div", { class: "layout" },
      renderSubscriptions(),
      renderPaymentLinks(),
      renderProfile(),
      renderPayments()),
  );
}

// ---- profile

function renderProfile() {
  const c = state.customer;
  const rows = [
    [t("profile.name"), renderNameField()],
    [t("profile.email"), h("span", { class: "break" }, c.email)],
    c.clientId ? [t("profile.customerId"), h("span", { class: "mono break" }, c.clientId)] : null,
    [t("profile.since"), time(c.createdAt)],
  ].filter(Boolean);
  return section("profile", t("profile.title"), null,
    h("dl", { class: "details" },
      rows.map(([term, value]) => h("div", { class: "detail" }, h("dt", {}, term), h("dd", {}, value)))),
    renderSupport());
}

// The merchant's support contacts, when they set them (validated by the server;
// checked again here before they become links).
function renderSupport() {
  const branding = state.company.branding ?? {};
  const email = branding.supportEmail ? mailtoHref(branding.supportEmail) : null;
  const url = branding.supportUrl ? safeHttpsUrl(branding.supportUrl) : null;
  if (!email && !url) return h("p", { class: "fine-print" }, t("support.none"));
  return h("div", { class: "support", id: "support" },
    h("h3", {}, t("support.title")),
    h("p", {}, t("support.text", { merchant: merchantName() })),
    h("ul", { class: "support-links" },
      email
        ? h("li", {}, h("a", { href: email, id: "support-email" },
          icon("mail"), h("span", { class: "break" }, branding.supportEmail)))
        : null,
      url
        ? h("li", {}, h("a", { href: url, id: "support-url", target: "_blank", rel: "noopener noreferrer" },
          icon("external"), t("support.help"), hidden(` ${t("newTab")}`)))
        : null));
}

function renderNameField() {
  const wrapper = h("div", { class: "name-field", id: "name-field" });
  showNameView(wrapper);
  return wrapper;
}

function showNameView(wrapper, focusEdit = false) {
  const name = state.customer.name;
  const edit = h("button", {
    type: "button",
    class: "link-button",
    id: "edit-name",
    "aria-label": t("name.editLabel"),
    onclick: () => showNameForm(wrapper),
  }, t("name.edit"));
  wrapper.replaceChildren(
    h("span", { id: "display-name", class: name ? "" : "muted" }, name || t("name.notSet")),
    edit);
  if (focusEdit) edit.focus();
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

function validateName(value) {
  const name = value.trim();
  if (!name) return [null, t("name.empty")];
  if ([...name].length > 100) return [null, t("name.long")];
  if (CONTROL_CHARS.test(name)) return [null, t("name.control")];
  return [name, null];
}

function showNameForm(wrapper) {
  const input = h("input", {
    id: "display-name-input",
    name: "name",
    type: "text",
    autocomplete: "name",
    maxlength: "100",
    required: true,
    "aria-describedby": "display-name-error",
    value: state.customer.name ?? "",
  });
  const error = h("p", { class: "field-error", id: "display-name-error", hidden: true });
  const save = h("button", { type: "submit", class: "button small" }, t("name.save"));
  const cancel = h("button", { type: "button", class: "button small secondary", onclick: () => showNameView(wrapper, true) }, t("name.cancel"));
  const setError = (message) => {
    error.textContent = message ?? "";
    error.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  const form = h("form", { class: "name-form", novalidate: true },
    h("label", { for: "display-name-input", class: "visually-hidden" }, t("profile.name")),
    input,
    error,
    h("div", { class: "form-actions" }, save, cancel));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      showNameView(wrapper, true);
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    withdrawNotice();
    const [name, problem] = validateName(input.value);
    if (problem) {
      setError(problem);
      input.focus();
      return;
    }
    setError(null);
    save.disabled = true;
    cancel.disabled = true;
    save.textContent = t("name.saving");
    form.setAttribute("aria-busy", "true");
    try {
      const data = await gql(UPDATE_NAME, { name });
      state.customer.name = data.updatePortalDisplayName.name;
      showNameView(wrapper, true);
      updateGreeting();
      notify(t("name.saved"));
    } catch (err) {
      if (err instanceof ApiError && LINK_ERRORS.has(err.code)) {
        showLinkError(err.code, err);
        return;
      }
      save.disabled = false;
      cancel.disabled = false;
      save.textContent = t("name.save");
      form.removeAttribute("aria-busy");
      setError(actionErrorMessage(err, t("name.notSaved")));
      input.focus();
    }
  });
  wrapper.replaceChildren(form);
  input.focus();
  input.select();
}

function updateGreeting() {
  const greeting = document.getElementById("greeting");
  if (!greeting) return;
  greeting.textContent = greetingText();
}

// Server messages are not shown as sent: each code (and, for BAD_REQUEST, the field
// it names) has its words in the catalogue.
function actionErrorMessage(error, what) {
  if (!(error instanceof ApiError)) return t("error.INTERNAL", { what });
  switch (error.code) {
    case "RATE_LIMITED":
      return t("error.RATE_LIMITED", { count: error.retryAfter });
    case "BAD_REQUEST": {
      const key = `error.field.${error.field}`;
      return t(key) === key ? t("error.BAD_REQUEST", { what }) : t(key);
    }
    case "NETWORK":
      // The request may have arrived, so claim nothing; a retry is safe (same key).
      return t("error.NETWORK");
    case "UNAVAILABLE":
    case "NOT_FOUND":
    case "FORBIDDEN":
    case "IDEMPOTENCY_KEY_REUSED":
    case "IDEMPOTENCY_KEY_IN_PROGRESS":
      return t(`error.${error.code}`, { what });
    default:
      return t("error.INTERNAL", { what });
  }
}

// ---- subscriptions

function renderSubscriptions() {
  const list = h("ul", { class: "rows subscriptions", id: "subscription-list" });
  const card = section("subscriptions", t("subs.title"), null, list);
  fillSubscriptions(list);
  return card;
}

function fillSubscriptions(list) {
  if (!state.subscriptions.length) {
    list.replaceChildren(h("li", { class: "row-empty" }, emptyState(t("subs.empty"))));
    return;
  }
  list.replaceChildren(...state.subscriptions.map(renderSubscription));
}

// Live subscriptions first, ended ones last; otherwise the server's order.
const STATUS_RANK = { active: 0, trialing: 1, past_due: 2, unpaid: 3, paused: 4, cancelled: 5 };
function sortSubscriptions(list) {
  return list
    .map((s, i) => [STATUS_RANK[s.status] ?? 4, i, s])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, , s]) => s);
}

function subscriptionDateLine(s) {
  if (s.status === "paused") return t("subs.paused");
  if (!s.currentPeriodEnd) return null;
  const future = new Date(s.currentPeriodEnd).getTime() > Date.now();
  let key = {
    active: "subs.renews",
    trialing: "subs.trialEnds",
    past_due: "subs.overdue",
    unpaid: "subs.overdue",
    cancelled: future ? "subs.accessUntil" : "subs.ended",
  }[s.status] ?? "subs.periodEnds";
  const ending = s.cancelAtPeriodEnd && s.status !== "cancelled";
  if (ending) key = "subs.cancelsOn";
  return h("span", { class: ending ? "cancels-on" : null }, ...around(key, time(s.currentPeriodEnd)));
}

function renderSubscription(s) {
  const titleId = `sub-${s.id}-title`;
  const actions = allowedActions(s).map((name) => {
    const action = SUBSCRIPTION_ACTIONS[name];
    return h("button", {
      type: "button",
      class: `button small ${action.danger ? "danger-outline" : "secondary"}`,
      "data-action": name,
      onclick: (event) => confirmSubscriptionAction(s.id, name, event.currentTarget),
    }, t(`sub.${name}.label`), hidden(` ${s.planName}`));
  });
  const dateLine = subscriptionDateLine(s);
  return h("li", {
    class: "row subscription", id: `sub-${s.id}`, "data-status": s.status,
    "data-cancel-at-period-end": s.cancelAtPeriodEnd ? "true" : null, "aria-labelledby": titleId,
  },
  h("div", { class: "row-main" },
    h("div", { class: "row-title" },
      h("h3", { id: titleId, tabindex: "-1" }, s.planName),
      statusBadge("status", s.status)),
    h("p", { class: "price" }, formatPrice(s)),
    dateLine ? h("p", { class: "meta" }, dateLine) : null),
  actions.length ? h("div", { class: "row-actions" }, actions) : null);
}

function replaceSubscription(updated) {
  const index = state.subscriptions.findIndex((s) => s.id === updated.id);
  if (index >= 0) state.subscriptions[index] = updated;
  const old = document.getElementById(`sub-${updated.id}`);
  const row = renderSubscription(updated);
  if (old) old.replaceWith(row);
  return row;
}

function focusSubscription(row) {
  const target = row.querySelector(".row-actions button") ?? row.querySelector("h3");
  target?.focus();
}

async function refreshSubscriptions() {
  const data = await gql(SUBSCRIPTIONS_QUERY);
  state.subscriptions = sortSubscriptions(data.portal.subscriptions);
  const list = document.getElementById("subscription-list");
  if (list) fillSubscriptions(list);
}

// The cancel dialog asks why (the reasons the merchant offers, as a radio group,
// none when they offer none) and takes an optional comment.
function cancelQuestions() {
  const reasons = state.settings?.cancellationReasons ?? [];
  const comment = h("textarea", { id: "cancel-comment", name: "comment", rows: "3", maxlength: "500" });
  const nodes = [];
  if (reasons.length) {
    nodes.push(h("fieldset", { class: "reasons", id: "cancel-reasons" },
      h("legend", {}, t("cancel.reason")),
      reasons.map((code) => h("label", { class: "reason" },
        h("input", { type: "radio", name: "reason", value: code }),
        h("span", {}, t(`reason.${code}`))))));
  }
  nodes.push(h("div", { class: "comment-field" },
    h("label", { for: "cancel-comment" }, t("cancel.comment")),
    comment));
  return {
    nodes,
    values: () => {
      const picked = dialogBody.querySelector("input[name=reason]:checked");
      // The server takes a comment as one line: line breaks become spaces.
      const text = comment.value.replace(/\s+/g, " ").trim();
      return { reason: picked ? picked.value : null, comment: text || null };
    },
  };
}

function confirmSubscriptionAction(subscriptionId, name, opener) {
  const subscription = state.subscriptions.find((s) => s.id === subscriptionId);
  if (!subscription) return;
  const action = SUBSCRIPTION_ACTIONS[name];
  const atPeriodEnd = name === "cancel" && state.settings?.cancellationMode === "AT_PERIOD_END"
    && ["active", "trialing"].includes(subscription.status) && subscription.currentPeriodEnd;
  const key = atPeriodEnd ? "sub.cancelAtEnd" : `sub.${name}`;
  const params = {
    plan: subscription.planName,
    price: formatPrice(subscription),
    date: subscription.currentPeriodEnd ? formatDate(subscription.currentPeriodEnd) : "",
  };
  // One key per confirmed intent: a retry after a network failure reuses it, so
  // the server acts at most once even if the first request did get through.
  const idempotencyKey = newIdempotencyKey();
  const questions = name === "cancel" ? cancelQuestions() : null;
  const extra = questions ? ", $reason: String, $comment: String" : "";
  const args = questions ? ", reason: $reason, comment: $comment" : "";
  const mutation = `mutation ${action.mutation[0].toUpperCase()}${action.mutation.slice(1)}($id: ID!, $key: String${extra}) {
    ${action.mutation}(subscriptionId: $id, idempotencyKey: $key${args}) { ${SUBSCRIPTION_FIELDS} }
  }`;
  openDialog({
    title: t(`${key}.title`, params),
    body: t(`${key}.body`, params),
    extra: questions?.nodes ?? [],
    confirm: t(`${key}.confirm`),
    busy: t(`sub.${name}.busy`),
    back: action.back ? t(`sub.${name}.back`) : t("dialog.back"),
    danger: Boolean(action.danger),
    opener,
    run: async () => {
      try {
        const variables = { id: subscriptionId, key: idempotencyKey, ...(questions?.values() ?? {}) };
        const data = await gql(mutation, variables);
        const updated = data[action.mutation];
        const row = replaceSubscription(updated);
        notify(t(updated.cancelAtPeriodEnd ? "sub.cancelAtEnd.done" : `sub.${name}.done`, params));
        return () => focusSubscription(row);
      } catch (error) {
        if (error instanceof ApiError && error.code === "SUBSCRIPTION_STATE_CONFLICT") {
          // Changed elsewhere (another tab, the merchant): show what is true now.
          try {
            await refreshSubscriptions();
          } catch {
            // The dialog message below still tells the truth.
          }
          const row = document.getElementById(`sub-${subscriptionId}`);
          const status = t(`status.${error.currentStatus}`).toLowerCase();
          notify(t("conflict", { plan: subscription.planName, status }), "info");
          return () => row && focusSubscription(row);
        }
        throw error;
      }
    },
    errorText: (error) => actionErrorMessage(error, t("error.nothingChanged")),
  });
}

// ---- confirmation dialog (native <dialog>: modal, focus trapped, Escape closes)

const dialog = document.getElementById("confirm-dialog");
const dialogForm = document.getElementById("confirm-form");
const dialogTitle = document.getElementById("confirm-title");
const dialogBody = document.getElementById("confirm-body");
const dialogError = document.getElementById("confirm-error");
const dialogOk = document.getElementById("confirm-ok");
const dialogBack = document.getElementById("confirm-cancel");
let dialogTask = null;

function openDialog(task) {
  dialogTask = { ...task, running: false };
  dialogTitle.textContent = task.title;
  dialogBody.replaceChildren(h("p", {}, task.body), ...(task.extra ?? []));
  dialogError.hidden = true;
  dialogError.textContent = "";
  dialogOk.textContent = task.confirm;
  dialogOk.className = `button ${task.danger ? "danger" : ""}`;
  dialogOk.disabled = false;
  dialogBack.textContent = task.back;
  dialogBack.disabled = false;
  dialog.showModal();
  dialogBack.focus();
}

function closeDialog(after) {
  const task = dialogTask;
  dialogTask = null;
  dialog.close();
  if (after) after();
  else if (task?.opener?.isConnected) task.opener.focus();
}

dialog.addEventListener("close", () => {
  // Closed by the browser itself (a repeated Escape): forget an idle task. The event
  // is queued, so it can arrive after the dialog was opened again (Escape, then
  // Enter on the opener at once): an open dialog keeps its new task.
  if (!dialog.open && dialogTask && !dialogTask.running) dialogTask = null;
});
dialog.addEventListener("cancel", (event) => {
  event.preventDefault();
  if (dialogTask && !dialogTask.running) closeDialog();
});
dialogBack.addEventListener("click", () => {
  if (dialogTask && !dialogTask.running) closeDialog();
});
dialogForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const task = dialogTask;
  if (!task || task.running) return;
  task.running = true;
  withdrawNotice();
  dialogOk.disabled = true;
  dialogBack.disabled = true;
  dialogOk.textContent = task.busy;
  dialogForm.setAttribute("aria-busy", "true");
  dialogError.hidden = true;
  try {
    const after = await task.run();
    closeDialog(after);
  } catch (error) {
    if (error instanceof ApiError && LINK_ERRORS.has(error.code)) {
      closeDialog(() => showLinkError(error.code, error));
      return;
    }
    task.running = false;
    dialogError.textContent = task.errorText(error);
    dialogError.hidden = false;
    dialogOk.textContent = t("retry");
    dialogBack.disabled = false;
    const wait = error instanceof ApiError && error.code === "RATE_LIMITED" ? error.retryAfter * 1000 : 0;
    window.setTimeout(() => { if (dialogTask === task) dialogOk.disabled = false; }, wait);
    dialogBack.focus();
  } finally {
    dialogForm.removeAttribute("aria-busy");
  }
});

// ---- payment links

function renderPaymentLinks() {
  const links = state.paymentLinks;
  const content = links.length
    ? h("ul", { class: "rows" }, links.map(renderPaymentLink))
    : emptyState(t("links.empty"));
  return section("payment-links", t("links.title"), links.length ? t("links.description") : null, content);
}

function renderPaymentLink(link) {
  const href = safeHttpUrl(link.url);
  const label = link.description || t("links.request");
  const titleId = `link-${link.id}-title`;
  return h("li", { class: "row payment-link", "aria-labelledby": titleId },
    h("div", { class: "row-main" },
      h("div", { class: "row-title" },
        h("h3", { id: titleId }, label),
        statusBadge("link", link.status)),
      h("p", { class: "price" }, formatAmount(link.amount, link.currency)),
      link.expiresAt ? h("p", { class: "meta" }, ...around("links.payBy", time(link.expiresAt))) : null),
    h("div", { class: "row-actions" },
      href
        ? h("a", { class: "button", href, target: "_blank", rel: "noopener noreferrer" },
          t("links.pay"), hidden(` ${t("links.payWhat", { amount: formatAmount(link.amount, link.currency), label })} ${t("newTab")}`))
        : h("span", { class: "meta" }, t("links.unavailable"))));
}

// ---- payments

function renderPayments() {
  const list = h("ul", { class: "rows payments", id: "payment-list" });
  const card = section("payments", t("payments.title"), null, list);
  if (!state.payments.length) {
    list.replaceWith(emptyState(t("payments.empty")));
    return card;
  }
  list.append(...state.payments.map(renderPayment));
  card.append(renderLoadMore());
  return card;
}

function renderPayment(p) {
  return h("li", { class: "payment", id: `pay-${p.id}`, tabindex: "-1" },
    h("span", { class: "payment-date" }, time(p.createdAt)),
    h("span", { class: "payment-description" }, p.description || t("payments.payment")),
    h("span", { class: "payment-status" }, statusBadge("payment", p.status)),
    h("span", { class: "payment-amount" }, formatAmount(p.amount, p.currency)));
}

function renderLoadMore() {
  const wrap = h("div", { class: "load-more", id: "load-more" });
  if (!state.pageInfo.hasNextPage) return wrap;
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const button = h("button", { type: "button", class: "button secondary" }, t("payments.more"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = t("payments.loading");
    error.hidden = true;
    try {
      const data = await gql(MORE_PAYMENTS_QUERY, { first: PAGE_SIZE, after: state.pageInfo.endCursor });
      const page = data.portal.payments;
      const added = page.edges.map((edge) => edge.node);
      state.payments.push(...added);
      state.pageInfo = page.pageInfo;
      const rows = added.map(renderPayment);
      document.getElementById("payment-list").append(...rows);
      const next = renderLoadMore();
      wrap.replaceWith(next);
      announce(t("payments.loaded", { count: added.length }));
      const nextButton = next.querySelector("button");
      (rows[0] ?? nextButton)?.focus();
    } catch (err) {
      if (err instanceof ApiError && LINK_ERRORS.has(err.code)) {
        showLinkError(err.code, err);
        return;
      }
      button.disabled = false;
      button.textContent = t("payments.more");
      error.textContent = actionErrorMessage(err, t("payments.notLoaded"));
      error.hidden = false;
    }
  });
  wrap.append(error, button);
  return wrap;
}

async function start() {
  languageSwitcher();
  try {
    await useLocale(chosenLocale(null));
  } catch {
    // Without a catalogue the page shows its keys; the next switch fetches again.
  }
  await load();
}

start();
