// The customer billing portal. Plain ES module, no dependencies, no build step.
//
// The page's query string is the signed link: it goes verbatim in the
// x-makepay-portal header of every GraphQL call and nowhere else. Every piece of
// server data reaches the DOM through textContent, never as HTML.

const LINK = window.location.search.slice(1);
const PAGE_SIZE = 10;

const SUBSCRIPTION_FIELDS = "id status planName amount currency interval currentPeriodEnd";
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
  }
}`;
const MORE_PAYMENTS_QUERY = `query PortalPayments($first: Int!, $after: String) {
  portal { payments(first: $first, after: $after) { ${PAYMENTS_FIELDS} } }
}`;
const SUBSCRIPTIONS_QUERY = `query PortalSubscriptions { portal { subscriptions { ${SUBSCRIPTION_FIELDS} } } }`;
const UPDATE_NAME = `mutation UpdatePortalDisplayName($name: String!) {
  updatePortalDisplayName(name: $name) { id name }
}`;
const SUBSCRIPTION_ACTIONS = {
  pause: {
    mutation: "pauseSubscription",
    label: "Pause",
    busy: "Pausing…",
    title: (s) => `Pause ${s.planName}?`,
    body: () => "You won't be charged while this subscription is paused. You can resume it here at any time.",
    confirm: "Pause subscription",
    done: (s) => `${s.planName} is paused.`,
  },
  reactivate: {
    mutation: "reactivateSubscription",
    label: "Resume",
    busy: "Resuming…",
    title: (s) => `Resume ${s.planName}?`,
    body: (s) => `Billing restarts at ${formatPrice(s)}.`,
    confirm: "Resume subscription",
    done: (s) => `${s.planName} is active again.`,
  },
  cancel: {
    mutation: "cancelSubscription",
    label: "Cancel",
    busy: "Cancelling…",
    title: (s) => `Cancel ${s.planName}?`,
    body: () => "You won't be charged for it again. A cancelled subscription can't be restarted from this page.",
    confirm: "Cancel subscription",
    back: "Keep subscription",
    danger: true,
    done: (s) => `${s.planName} is cancelled.`,
  },
};
// The contract's state table: which actions each status allows.
const ALLOWED_ACTIONS = {
  active: ["pause", "cancel"],
  trialing: ["cancel"],
  past_due: ["cancel"],
  unpaid: ["cancel"],
  paused: ["reactivate", "cancel"],
  cancelled: [],
};
const SUBSCRIPTION_STATUS = {
  active: ["Active", "success"],
  trialing: ["Trial", "info"],
  past_due: ["Past due", "warning"],
  unpaid: ["Unpaid", "danger"],
  paused: ["Paused", "neutral"],
  cancelled: ["Cancelled", "neutral"],
};
const PAYMENT_STATUS = {
  paid: ["Paid", "success"],
  pending: ["Pending", "warning"],
  failed: ["Failed", "danger"],
  refunded: ["Refunded", "neutral"],
};
const LINK_STATUS = { active: ["Open", "info"], unpaid: ["Unpaid", "warning"] };
const INTERVALS = { day: "day", week: "week", month: "month", year: "year" };
// Crypto assets have no ISO 4217 code; their precision is the gateway's.
const CRYPTO_DECIMALS = { BTC: 8, ETH: 18, USDC: 6, USDT: 6, SOL: 9, LTC: 8, DAI: 18 };
const ISO_CURRENCIES = new Set(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("currency") : []);

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
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
  }
  // Crypto: the exact value, without a tail of zeros (0.00120000 BTC reads
  // 0.0012 BTC), but at least 2 decimals, never more than the asset has.
  const max = CRYPTO_DECIMALS[currency] ?? fractionDigits(value);
  const shown = Math.min(max, Math.max(Math.min(2, max), significantDecimals(value)));
  const number = new Intl.NumberFormat(undefined, {
    minimumFractionDigits: shown,
    maximumFractionDigits: shown,
  }).format(value);
  return `${number} ${currency}`;
}

function formatPrice(subscription) {
  const interval = INTERVALS[subscription.interval] ?? subscription.interval;
  return `${formatAmount(subscription.amount, subscription.currency)} / ${interval}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

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

function statusBadge(table, status) {
  return badge(table[status] ?? [status.replace(/_/g, " "), "neutral"]);
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
    throw new ApiError("NETWORK", "The server could not be reached.");
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
    throw new ApiError(code, "Too many requests.", { retryAfter });
  }
  if (error) {
    throw new ApiError(code ?? "INTERNAL", error.message ?? "", { currentStatus: error.extensions?.currentStatus });
  }
  if (!response.ok || !body?.data) {
    throw new ApiError(response.status === 503 ? "UNAVAILABLE" : "INTERNAL", "The server could not answer.");
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
      h("p", { class: "loading-text", role: "status" }, "Loading your billing details…"),
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
  document.title = `${title} · Billing`;
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

function showLinkError(code) {
  document.getElementById("link-expiry").textContent = "";
  if (code === "PORTAL_LINK_EXPIRED") {
    showStatePanel({
      kind: "expired",
      tone: "warning",
      iconName: "clock",
      title: "This billing link has expired",
      paragraphs: [
        "For your security, billing links only work for 24 hours.",
        "Go back to the merchant's website or app and open billing again: it gives you a fresh link.",
      ],
    });
  } else {
    showStatePanel({
      kind: "invalid",
      tone: "danger",
      iconName: "lock",
      title: "This billing link isn't valid",
      paragraphs: [
        "It may be incomplete or have been changed. Links must be opened exactly as the merchant sent them.",
        "Go back to the merchant's website or app and open billing again to get a working link.",
      ],
    });
  }
}

function showRateLimited(retryAfter, retry) {
  let remaining = Math.max(1, retryAfter);
  const button = h("button", { type: "button", class: "button", disabled: true, onclick: retry }, "");
  const wait = h("p", { class: "countdown" }, "");
  const render = () => {
    wait.textContent = remaining > 0 ? `You can try again in ${remaining} second${remaining === 1 ? "" : "s"}.` : "You can try again now.";
    button.textContent = remaining > 0 ? `Try again in ${remaining}s` : "Try again";
    button.disabled = remaining > 0;
  };
  render();
  showStatePanel({
    kind: "rate-limited",
    tone: "warning",
    iconName: "clock",
    title: "Too many requests",
    paragraphs: ["This billing link was used too often in a short time. Your data is safe; please wait a moment."],
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
  const offline = error.code === "NETWORK";
  showStatePanel({
    kind: "error",
    tone: "danger",
    iconName: "alert",
    title: offline ? "Can't reach billing right now" : "Something went wrong on our side",
    paragraphs: [
      offline
        ? "Check your internet connection, then try again."
        : "Your billing details couldn't be loaded. Nothing has changed on your account. Please try again in a moment.",
    ],
    action: h("div", { class: "state-actions" },
      h("button", { type: "button", class: "button", onclick: retry }, "Try again")),
  });
}

function handleFatal(error, retry) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    error = new ApiError("INTERNAL", "");
  }
  if (LINK_ERRORS.has(error.code)) showLinkError(error.code);
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
  Object.assign(state, {
    company: portal.company,
    customer: portal.customer,
    expiresAt: portal.expiresAt,
    payments: portal.payments.edges.map((edge) => edge.node),
    pageInfo: portal.payments.pageInfo,
    paymentLinks: portal.paymentLinks,
    subscriptions: sortSubscriptions(portal.subscriptions),
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
  document.title = `Billing · ${name}`;
  const expiry = document.getElementById("link-expiry");
  expiry.replaceChildren("This secure link works until ", time(state.expiresAt, true), ".");
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

function renderPortal() {
  renderHeader();
  setBusy(false);
  const greeting = state.customer.name ? `Hi ${state.customer.name.split(/\s+/)[0]}` : "Your billing";
  main.replaceChildren(
    h("div", { class: "page-heading" },
      h("h1", { id: "page-title", tabindex: "-1" }, "Billing"),
      h("p", { class: "lede", id: "greeting" }, `${greeting}, here are your subscriptions and payments with ${merchantName()}.`)),
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
    ["Display name", renderNameField()],
    ["Email", h("span", { class: "break" }, c.email)],
    c.clientId ? ["Customer ID", h("span", { class: "mono break" }, c.clientId)] : null,
    ["Customer since", time(c.createdAt)],
  ].filter(Boolean);
  return section("profile", "Account", null,
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
  if (!email && !url) return h("p", { class: "fine-print" }, "To change your email, contact the merchant.");
  return h("div", { class: "support", id: "support" },
    h("h3", {}, "Need help?"),
    h("p", {}, `For questions about a charge, or to change your email, contact ${merchantName()}.`),
    h("ul", { class: "support-links" },
      email
        ? h("li", {}, h("a", { href: email, id: "support-email" },
          icon("mail"), h("span", { class: "break" }, branding.supportEmail)))
        : null,
      url
        ? h("li", {}, h("a", { href: url, id: "support-url", target: "_blank", rel: "noopener noreferrer" },
          icon("external"), "Help centre", hidden(" (opens in a new tab)")))
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
    "aria-label": "Edit display name",
    onclick: () => showNameForm(wrapper),
  }, "Edit");
  wrapper.replaceChildren(
    h("span", { id: "display-name", class: name ? "" : "muted" }, name || "Not set"),
    edit);
  if (focusEdit) edit.focus();
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

function validateName(value) {
  const name = value.trim();
  if (!name) return [null, "Enter a name."];
  if ([...name].length > 100) return [null, "Use 100 characters or fewer."];
  if (CONTROL_CHARS.test(name)) return [null, "Remove special control characters."];
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
  const save = h("button", { type: "submit", class: "button small" }, "Save");
  const cancel = h("button", { type: "button", class: "button small secondary", onclick: () => showNameView(wrapper, true) }, "Cancel");
  const setError = (message) => {
    error.textContent = message ?? "";
    error.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  const form = h("form", { class: "name-form", novalidate: true },
    h("label", { for: "display-name-input", class: "visually-hidden" }, "Display name"),
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
    save.textContent = "Saving…";
    form.setAttribute("aria-busy", "true");
    try {
      const data = await gql(UPDATE_NAME, { name });
      state.customer.name = data.updatePortalDisplayName.name;
      showNameView(wrapper, true);
      updateGreeting();
      notify("Display name saved.");
    } catch (err) {
      if (err instanceof ApiError && LINK_ERRORS.has(err.code)) {
        showLinkError(err.code);
        return;
      }
      save.disabled = false;
      cancel.disabled = false;
      save.textContent = "Save";
      form.removeAttribute("aria-busy");
      setError(actionErrorMessage(err, "Your name wasn't saved."));
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
  const first = state.customer.name ? `Hi ${state.customer.name.split(/\s+/)[0]}` : "Your billing";
  greeting.textContent = `${first}, here are your subscriptions and payments with ${merchantName()}.`;
}

function actionErrorMessage(error, what) {
  if (!(error instanceof ApiError)) return `${what} Please try again.`;
  switch (error.code) {
    case "RATE_LIMITED":
      return `Too many attempts. Try again in ${error.retryAfter} second${error.retryAfter === 1 ? "" : "s"}.`;
    case "BAD_REQUEST":
      return error.message || `${what} Check the value and try again.`;
    case "NETWORK":
      // The request may have arrived, so claim nothing; a retry is safe (same key).
      return "The server couldn't be reached. Check your connection and try again.";
    case "UNAVAILABLE":
      return `${what} The service is briefly unavailable. Please try again in a moment.`;
    case "NOT_FOUND":
      return `${what} It no longer exists.`;
    default:
      return `${what} Something went wrong on our side. Please try again.`;
  }
}

// ---- subscriptions

function renderSubscriptions() {
  const list = h("ul", { class: "rows subscriptions", id: "subscription-list" });
  const card = section("subscriptions", "Subscriptions", null, list);
  fillSubscriptions(list);
  return card;
}

function fillSubscriptions(list) {
  if (!state.subscriptions.length) {
    list.replaceChildren(h("li", { class: "row-empty" }, emptyState("You have no subscriptions.")));
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
  if (s.status === "paused") return "Billing is paused. Resume any time.";
  if (!s.currentPeriodEnd) return null;
  const future = new Date(s.currentPeriodEnd).getTime() > Date.now();
  const labels = {
    active: "Renews on",
    trialing: "Trial ends on",
    past_due: "Payment overdue. Period ends",
    unpaid: "Payment overdue. Period ends",
    cancelled: future ? "Won't renew. Access until" : "Ended on",
  };
  return h("span", {}, `${labels[s.status] ?? "Period ends"} `, time(s.currentPeriodEnd));
}

function renderSubscription(s) {
  const titleId = `sub-${s.id}-title`;
  const actions = (ALLOWED_ACTIONS[s.status] ?? []).map((name) => {
    const action = SUBSCRIPTION_ACTIONS[name];
    return h("button", {
      type: "button",
      class: `button small ${action.danger ? "danger-outline" : "secondary"}`,
      "data-action": name,
      onclick: (event) => confirmSubscriptionAction(s.id, name, event.currentTarget),
    }, action.label, hidden(` ${s.planName}`));
  });
  const dateLine = subscriptionDateLine(s);
  return h("li", { class: "row subscription", id: `sub-${s.id}`, "data-status": s.status, "aria-labelledby": titleId },
    h("div", { class: "row-main" },
      h("div", { class: "row-title" },
        h("h3", { id: titleId, tabindex: "-1" }, s.planName),
        statusBadge(SUBSCRIPTION_STATUS, s.status)),
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

function confirmSubscriptionAction(subscriptionId, name, opener) {
  const subscription = state.subscriptions.find((s) => s.id === subscriptionId);
  if (!subscription) return;
  const action = SUBSCRIPTION_ACTIONS[name];
  // One key per confirmed intent: a retry after a network failure reuses it, so
  // the server acts at most once even if the first request did get through.
  const idempotencyKey = newIdempotencyKey();
  const mutation = `mutation ${action.mutation[0].toUpperCase()}${action.mutation.slice(1)}($id: ID!, $key: String) {
    ${action.mutation}(subscriptionId: $id, idempotencyKey: $key) { ${SUBSCRIPTION_FIELDS} }
  }`;
  openDialog({
    title: action.title(subscription),
    body: action.body(subscription),
    confirm: action.confirm,
    busy: action.busy,
    back: action.back ?? "Go back",
    danger: Boolean(action.danger),
    opener,
    run: async () => {
      try {
        const data = await gql(mutation, { id: subscriptionId, key: idempotencyKey });
        const row = replaceSubscription(data[action.mutation]);
        notify(action.done(subscription));
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
          const status = SUBSCRIPTION_STATUS[error.currentStatus]?.[0]?.toLowerCase() ?? "changed";
          notify(`Nothing was changed: ${subscription.planName} is already ${status}.`, "info");
          return () => row && focusSubscription(row);
        }
        throw error;
      }
    },
    errorText: (error) => actionErrorMessage(error, "Nothing was changed."),
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
  dialogBody.replaceChildren(h("p", {}, task.body));
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
      closeDialog(() => showLinkError(error.code));
      return;
    }
    task.running = false;
    dialogError.textContent = task.errorText(error);
    dialogError.hidden = false;
    dialogOk.textContent = "Try again";
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
    : emptyState("Nothing to pay right now.");
  return section("payment-links", "Open payments", links.length ? "Requests from the merchant waiting for your payment." : null, content);
}

function renderPaymentLink(link) {
  const href = safeHttpUrl(link.url);
  const label = link.description || "Payment request";
  const titleId = `link-${link.id}-title`;
  return h("li", { class: "row payment-link", "aria-labelledby": titleId },
    h("div", { class: "row-main" },
      h("div", { class: "row-title" },
        h("h3", { id: titleId }, label),
        statusBadge(LINK_STATUS, link.status)),
      h("p", { class: "price" }, formatAmount(link.amount, link.currency)),
      link.expiresAt ? h("p", { class: "meta" }, "Pay by ", time(link.expiresAt)) : null),
    h("div", { class: "row-actions" },
      href
        ? h("a", { class: "button", href, target: "_blank", rel: "noopener noreferrer" },
          "Pay", hidden(` ${formatAmount(link.amount, link.currency)} for ${label} (opens in a new tab)`))
        : h("span", { class: "meta" }, "Unavailable")));
}

// ---- payments

function renderPayments() {
  const list = h("ul", { class: "rows payments", id: "payment-list" });
  const card = section("payments", "Payment history", null, list);
  if (!state.payments.length) {
    list.replaceWith(emptyState("No payments yet."));
    return card;
  }
  list.append(...state.payments.map(renderPayment));
  card.append(renderLoadMore());
  return card;
}

function renderPayment(p) {
  return h("li", { class: "payment", id: `pay-${p.id}`, tabindex: "-1" },
    h("span", { class: "payment-date" }, time(p.createdAt)),
    h("span", { class: "payment-description" }, p.description || "Payment"),
    h("span", { class: "payment-status" }, statusBadge(PAYMENT_STATUS, p.status)),
    h("span", { class: "payment-amount" }, formatAmount(p.amount, p.currency)));
}

function renderLoadMore() {
  const wrap = h("div", { class: "load-more", id: "load-more" });
  if (!state.pageInfo.hasNextPage) return wrap;
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const button = h("button", { type: "button", class: "button secondary" }, "Load more payments");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Loading…";
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
      announce(`${added.length} more payment${added.length === 1 ? "" : "s"} loaded.`);
      const nextButton = next.querySelector("button");
      (rows[0] ?? nextButton)?.focus();
    } catch (err) {
      if (err instanceof ApiError && LINK_ERRORS.has(err.code)) {
        showLinkError(err.code);
        return;
      }
      button.disabled = false;
      button.textContent = "Load more payments";
      error.textContent = actionErrorMessage(err, "More payments couldn't be loaded.");
      error.hidden = false;
    }
  });
  wrap.append(error, button);
  return wrap;
}

load();
