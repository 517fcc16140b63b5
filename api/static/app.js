// parallax chat page: ask a question, see every source's answer side by side, open the citation.
// Plain JavaScript, no framework, nothing fetched but the API. Text from the API is only ever
// put on the page through textContent (via `el`), never as HTML.

const REQUEST_TIMEOUT_MS = 60000;
const UNKNOWN_OUTLET = "Unknown outlet";
const GROUP_COLOURS = 6; // --g0 .. --g5 in style.css
const STORY_SOURCES_SHOWN = 4; // a story header stays one line; the rest are counted

const $ = (selector) => document.querySelector(selector);

const form = $("#ask-form");
const input = $("#question");
const inputLabel = $("#question-label");
const inputError = $("#question-error");
const sendButton = $("#send");
const conversation = $("#conversation");
const intro = $("#intro");
const statusLine = $("#status");
const panel = $("#article-panel");
const panelTitle = $("#article-title");
const panelMeta = $("#article-meta");
const panelNote = $("#article-note");
const panelBody = $("#article-body");
const panelClose = $("#article-close");

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Build an element; `text` goes in as textContent, children are elements, strings or null. */
function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  const { text, className, attrs, style, on } = options;
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const [name, value] of Object.entries(style || {})) node.style.setProperty(name, value);
  for (const [event, handler] of Object.entries(on || {})) node.addEventListener(event, handler);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function outletName(source) {
  return source && source.trim() ? source : UNKNOWN_OUTLET;
}

// `published` as the API stores it: a day, or a moment in UTC to the second.
const PUBLISHED = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?Z)?$/;

/**
 * "2019-12-31" -> "Dec 31, 2019"; "2019-12-31T14:15:00Z" -> "Dec 31, 2019, 14:15 UTC" (the
 * time as stored, in UTC, so every reader sees the same); anything else is shown as given.
 * `timeOnly` leaves the day out of a date-time: "14:15 UTC".
 */
function formatDate(published, { timeOnly = false } = {}) {
  if (!published) return null;
  const match = PUBLISHED.exec(published);
  if (!match) return published;
  const [, year, month, day, hour, minute] = match;
  const date = new Date(Date.UTC(+year, +month - 1, +day));
  if (Number.isNaN(date.getTime())) return published;
  const time = hour === undefined ? null : `${hour}:${minute} UTC`;
  if (timeOnly && time) return time;
  const shown = date.toLocaleDateString("en-US", {
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
  return time ? `${shown}, ${time}` : shown;
}

function dateElement(published, options) {
  const shown = formatDate(published, options);
  if (!shown) return el("span", { text: "Undated" });
  return el("time", { text: shown, attrs: { datetime: published } });
}

/**
 * Short, unique labels for document ids: the shortest prefix (at least 3 characters) that tells
 * apart the documents of one outlet: "NBC News (000…)" and "NBC News (001…)".
 */
function shortIds(docs) {
  const byOutlet = new Map();
  for (const { doc_id, source } of docs) {
    const key = outletName(source);
    if (!byOutlet.has(key)) byOutlet.set(key, new Set());
    byOutlet.get(key).add(doc_id);
  }
  const labels = new Map();
  for (const ids of byOutlet.values()) {
    const list = [...ids];
    let length = 3;
    const longest = Math.max(...list.map((id) => id.length));
    while (length < longest && new Set(list.map((id) => id.slice(0, length))).size < list.length) {
      length += 1;
    }
    for (const id of list) {
      labels.set(id, id.length > length ? `${id.slice(0, length)}…` : id);
    }
  }
  return labels;
}

/** "NBC News (000…)" when the outlet has several documents here, else just the outlet. */
function docLabel(doc, outletCounts, labels) {
  const outlet = outletName(doc.source);
  return outletCounts.get(outlet) > 1 ? `${outlet} (${labels.get(doc.doc_id)})` : outlet;
}

function countOutlets(docs) {
  const counts = new Map();
  const seen = new Set();
  for (const doc of docs) {
    if (seen.has(doc.doc_id)) continue;
    seen.add(doc.doc_id);
    const outlet = outletName(doc.source);
    counts.set(outlet, (counts.get(outlet) || 0) + 1);
  }
  return counts;
}

function safeUrl(url) {
  if (!url) return null;
  try {
    const parsed = new URL(url, document.baseURI);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(kind, message, status = null) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

function apiUrl(path) {
  // Relative to the page, so the service also works behind a path prefix.
  return new URL(path, document.baseURI).href;
}

/** Call the API; resolve with the JSON body, or reject with an ApiError a person can read. */
async function callApi(path, { method = "GET", body } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(apiUrl(path), {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
  } catch (error) {
    if (controller.signal.aborted) {
      throw new ApiError(
        "timeout",
        `The server did not answer within ${REQUEST_TIMEOUT_MS / 1000} seconds. Try again.`,
      );
    }
    throw new ApiError(
      "unreachable",
      `Cannot reach the parallax server at ${new URL(document.baseURI).origin}. ` +
        "Check that it is running and your connection works, then try again.",
    );
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data && data.error && typeof data.error.message === "string" ? data.error : null;
    const message = detail
      ? detail.message
      : `The server answered ${response.status} ${response.statusText}`.trim() + ".";
    throw new ApiError(detail ? detail.code : "http", message, response.status);
  }
  if (data === null || typeof data !== "object") {
    throw new ApiError("bad_response", "The server sent a reply that is not JSON.");
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Server status line

async function checkHealth() {
  let response;
  try {
    response = await fetch(apiUrl("health"), { cache: "no-store" });
  } catch {
    setStatus("Cannot reach the server.", true);
    setTimeout(checkHealth, 5000);
    return;
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  if (response.ok && data.status === "ok") {
    setStatus(
      `${plural(data.documents, "article", "articles")}, ` +
        `${plural(data.passages, "passage", "passages")} indexed`,
      false,
    );
    return;
  }
  const reason = data.reason || `status ${response.status}`;
  setStatus(data.status === "loading" ? "The index is loading…" : `Not ready: ${reason}`, true);
  setTimeout(checkHealth, 2000);
}

function setStatus(text, isError) {
  statusLine.textContent = text;
  statusLine.classList.toggle("is-error", isError);
}

// ---------------------------------------------------------------------------------------------
// Conversation

function currentMode() {
  return form.elements.mode.value === "passages" ? "passages" : "answers";
}

function updateModeLabels() {
  const passages = currentMode() === "passages";
  inputLabel.textContent = passages ? "Search passages" : "Your question";
  sendButton.textContent = passages ? "Search" : "Ask";
}

function showInputError(message) {
  inputError.textContent = message;
  inputError.hidden = false;
  input.setAttribute("aria-invalid", "true");
}

function clearInputError() {
  inputError.hidden = true;
  inputError.textContent = "";
  input.removeAttribute("aria-invalid");
}

/** Add a turn for `text` and run it; `story` ({id, title}) keeps the answers to that story. */
function submit(text, mode, story = null) {
  if (!text.trim()) {
    showInputError(
      mode === "passages" ? "Type some words to search for." : "Type a question first.",
    );
    input.focus();
    return null;
  }
  clearInputError();
  intro.hidden = true;
  const reply = el("div", { className: "reply" });
  const turn = el("article", { className: "turn", attrs: { "data-mode": mode } }, [
    el("h2", { className: "turn-question", attrs: { tabindex: "-1" } }, [
      el("span", {
        className: "mode-label",
        text: mode === "passages" ? "Passages for" : "You asked",
      }),
      text,
      story ? el("span", { className: "turn-scope", text: `Within: ${storyTitle(story)}` }) : null,
    ]),
    reply,
  ]);
  conversation.append(turn);
  run(turn, reply, text, mode, story);
  return turn;
}

async function run(turn, reply, text, mode, story = null) {
  turn.setAttribute("aria-busy", "true");
  reply.replaceChildren(
    el("p", { className: "loading" }, [
      el("span", { className: "spinner", attrs: { "aria-hidden": "true" } }),
      mode === "passages" ? "Searching every source…" : "Asking every source…",
    ]),
  );
  turn.scrollIntoView({ block: "nearest" });
  try {
    if (mode === "passages") {
      const data = await callApi("search", { method: "POST", body: { query: text } });
      reply.replaceChildren(...renderPassages(data));
    } else {
      const body = story ? { question: text, story: story.id } : { question: text };
      const data = await callApi("ask", { method: "POST", body });
      reply.replaceChildren(...renderAskReply(data, text));
    }
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);
    reply.replaceChildren(renderError(error, () => run(turn, reply, text, mode, story)));
  } finally {
    turn.removeAttribute("aria-busy");
  }
  const top = turn.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.6) turn.scrollIntoView({ block: "start" });
}

function renderError(error, retry) {
  const message =
    error instanceof ApiError ? error.message : "Something went wrong in the page. Try again.";
  const title =
    error instanceof ApiError && (error.kind === "unreachable" || error.kind === "timeout")
      ? "No answer from the server."
      : error instanceof ApiError && error.status
        ? `The server could not answer (${error.status}).`
        : "Could not get an answer.";
  // Sending the same request again only helps when the fault was not in the request.
  const retryable = !(error instanceof ApiError && error.status >= 400 && error.status < 500);
  return el("div", { className: "banner error", attrs: { role: "alert" } }, [
    el("p", {}, [el("strong", { text: title }), " ", message]),
    retryable
      ? el("button", {
          className: "secondary retry",
          text: "Try again",
          attrs: { type: "button" },
          on: { click: retry },
        })
      : null,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Stories: /ask answers within one story; say which, and offer the others that match.

function renderAskReply(data, question) {
  return [
    data.story ? renderStoryHeader(data.story) : null,
    ...renderAnswers(data),
    renderOtherStories(data.other_stories, question),
  ].filter(Boolean);
}

function storyTitle(story) {
  return story.title && story.title.trim() ? story.title : "Untitled story";
}

/** The title at once; outlets, dates and size follow from GET /stories/{id}. */
function renderStoryHeader(story) {
  const details = el("p", { className: "meta story-details", attrs: { hidden: "" } });
  fillStoryDetails(details, story.id);
  return el(
    "section",
    { className: "story-header", attrs: { "aria-label": "Story", "data-story-id": story.id } },
    [
      el("p", { className: "story-title" }, [
        el("span", { className: "story-label", text: "Story:" }),
        " ",
        el("strong", { text: storyTitle(story) }),
      ]),
      details,
    ],
  );
}

async function fillStoryDetails(node, storyId) {
  let story;
  try {
    story = await callApi(`stories/${encodeURIComponent(storyId)}`);
  } catch (error) {
    // The title is already shown and the answers stand without the rest.
    if (!(error instanceof ApiError)) console.error(error);
    return;
  }
  const parts = [
    storySources(story.sources),
    storyDates(story.first_published, story.last_published),
    Array.isArray(story.documents)
      ? el("span", { text: plural(story.documents.length, "document", "documents") })
      : null,
  ].filter(Boolean);
  node.replaceChildren(...withSeparators(parts));
  node.hidden = parts.length === 0;
}

function withSeparators(parts) {
  const sep = () => el("span", { className: "sep", text: "·" });
  return parts.flatMap((part, i) => (i ? [sep(), part] : [part]));
}

function storySources(sources) {
  const names = (Array.isArray(sources) ? sources : []).map(outletName);
  if (names.length === 0) return null;
  const shown = names.slice(0, STORY_SOURCES_SHOWN).join(", ");
  const more = names.length - STORY_SOURCES_SHOWN;
  return el("span", {
    className: "story-sources",
    text: more > 0 ? `${shown} and ${plural(more, "other", "others")}` : shown,
  });
}

function storyDates(first, last) {
  if (!first && !last) return null;
  if (!first || !last || first === last) return dateElement(first || last);
  // Two times of one day: the day once, "Mar 9, 1987, 09:00 UTC – 15:01 UTC".
  const sameDay = first.length > 10 && last.length > 10 && first.slice(0, 10) === last.slice(0, 10);
  return el("span", { className: "story-dates" }, [
    dateElement(first),
    " – ",
    dateElement(last, { timeOnly: sameDay }),
  ]);
}

function renderOtherStories(stories, question) {
  if (!Array.isArray(stories) || stories.length === 0) return null;
  const label = { "aria-label": "Other matching stories" };
  return el("section", { className: "other-stories", attrs: label }, [
    el("p", { className: "other-stories-label", text: "Also matches:" }),
    el(
      "ul",
      { className: "story-links" },
      stories.map((story) => el("li", {}, [renderStoryLink(story, question)])),
    ),
  ]);
}

function renderStoryLink(story, question) {
  const shown = `${storyTitle(story)} (${plural(story.documents, "document", "documents")})`;
  return el("button", {
    className: "story-link",
    text: shown,
    attrs: {
      type: "button",
      "data-story-id": story.id,
      "aria-label": `${shown}: ask again within this story`,
    },
    on: { click: () => askWithinStory(question, story) },
  });
}

/** A new turn, so the answers already read stay on the page to compare with. */
function askWithinStory(question, story) {
  const turn = submit(question, "answers", { id: story.id, title: story.title });
  // Focus follows the new turn, so Tab continues from its answers, not the old reply's.
  turn.querySelector(".turn-question").focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------
// Answers

function renderAnswers(data) {
  const answers = Array.isArray(data.answers) ? data.answers : [];
  const hits = Array.isArray(data.hits) ? data.hits : [];
  const unanswered = Array.isArray(data.unanswered) ? data.unanswered : [];
  const groups = Array.isArray(data.groups) ? data.groups : [];
  const timeline = Array.isArray(data.timeline) ? data.timeline : [];
  const known = answerContext(data, answers, groups, hits, unanswered);
  const parts = [];
  if (answers.length === 0) {
    parts.push(renderNoAnswer(hits, unanswered));
  } else {
    parts.push(renderBanner(data, answers, groups, timeline));
    if (groups.length > 0 && answers.length > 1) {
      parts.push(renderGroups(groups, answers, known.outletCounts, known.labels));
    }
    if (timeline.length >= 2) parts.push(renderTimeline(timeline, answers, data.about));
    parts.push(renderAnswerCards(answers, groups, known));
    parts.push(replySummary(`${plural(answers.length, "source", "sources")} answered`, data));
  }
  parts.push(renderUnanswered(unanswered, known));
  // Documents retrieved but neither answering nor listed as read (a server before `unanswered`).
  const listed = new Set([...known.answered, ...unanswered.map((doc) => doc.doc_id)]);
  const silent = hits.filter(
    (hit, index) =>
      !listed.has(hit.doc_id) && hits.findIndex((other) => other.doc_id === hit.doc_id) === index,
  );
  if (silent.length) parts.push(renderSilent(silent, known, unanswered.length > 0));
  return parts.filter(Boolean);
}

/** What the cards need to know across answers: groups, revisions, links and short labels. */
function answerContext(data, answers, groups, hits, unanswered) {
  const revised = new Map();
  for (const entry of data.same_outlet || []) {
    for (const id of entry.doc_ids || []) revised.set(id, entry);
  }
  const groupOf = new Map();
  groups.forEach((group, index) => {
    for (const id of group.doc_ids || []) groupOf.set(id, index);
  });
  const everyDoc = [...answers, ...hits, ...unanswered];
  return {
    revised,
    groupOf,
    urls: new Map(hits.map((hit) => [hit.doc_id, hit.url])),
    labels: shortIds(everyDoc),
    outletCounts: countOutlets(everyDoc),
    answered: new Set(answers.map((a) => a.doc_id)),
  };
}

function renderNoAnswer(hits, unanswered) {
  const detail = unanswered.length
    ? "The sources read are listed below with their sentence closest to the question."
    : hits.length
      ? "Switch to Passages to read what the sources say about it."
      : "No passage matched it.";
  return el("div", { className: "banner neutral", attrs: { role: "note" } }, [
    el("p", { className: "banner-title", text: "No source answered this question." }),
    el("p", { className: "banner-detail", text: detail }),
  ]);
}

function renderAnswerCards(answers, groups, known) {
  const cards = el("ul", { className: "cards", attrs: { "aria-label": "Answers by source" } });
  for (const answer of answers) {
    const group = known.groupOf.has(answer.doc_id) ? known.groupOf.get(answer.doc_id) : null;
    cards.append(
      el("li", { className: "card-slot" }, [
        renderAnswerCard(answer, {
          group,
          groupValue: group === null ? null : groups[group].value,
          revised: known.revised.get(answer.doc_id) || null,
          url: safeUrl(known.urls.get(answer.doc_id)),
          label: known.labels.get(answer.doc_id),
          outletCounts: known.outletCounts,
          labels: known.labels,
        }),
      ]),
    );
  }
  return cards;
}

/** "3 sources answered · 12 ms" under a reply. */
function replySummary(what, data) {
  const text = [what, typeof data.took_ms === "number" ? `${Math.round(data.took_ms)} ms` : null]
    .filter(Boolean)
    .join(" · ");
  return el("p", { className: "reply-summary", text });
}

function renderSilent(silent, known, others = false) {
  const what = others ? "other source" : "source";
  return el("p", {
    className: "no-answer",
    text:
      `${plural(silent.length, what, `${what}s`)} did not answer: ` +
      silent.map((doc) => docLabel(doc, known.outletCounts, known.labels)).join(", ") +
      ".",
  });
}

// What the kinds of disagreement are called, in the banner and on its landmark.
const DISAGREEMENT = {
  revised: { title: "Figures changed over time", className: "revised", join: " → " },
  disputed: { title: "Sources disagree", className: "conflict", join: " vs " },
};

function renderBanner(data, answers, groups, timeline) {
  const values = groups.map((group) => group.value).filter((value) => value);
  const about = data.about ? ` ${data.about}` : "";
  // A server before `disagreement` said only `conflict`: a dispute.
  const timed = DISAGREEMENT[data.disagreement] ? data.disagreement : null;
  const kind = timed || (data.conflict ? "disputed" : null);
  if (kind) {
    const { title, className } = DISAGREEMENT[kind];
    const figures =
      timed && timeline.length >= 2
        ? describeTimeline(timeline, kind)
        : values.length
          ? `${values.join(" vs ")}${about}`
          : "";
    const reasons = readableReasons(data.reasons || [], [...answers, ...(data.hits || [])]);
    return el(
      "section",
      {
        className: `banner ${className} conflict-banner`,
        attrs: { "aria-label": title, "data-disagreement": kind },
      },
      [
        el("p", { className: "banner-title", text: figures ? `${title}: ${figures}` : title }),
        renderReasons(reasons),
      ],
    );
  }
  if (answers.length > 1 && values.length === 1) {
    return el("section", { className: "banner agree", attrs: { "aria-label": "Agreement" } }, [
      el("p", {
        className: "banner-title",
        text: `Sources agree: ${values[0]}${about}`,
      }),
    ]);
  }
  return null;
}

/**
 * The figures of a timeline with who gave them and when. Revised: each change in turn,
 * "at least 6 (Reuters, Mar 7) → 300 (Reuters, Mar 9)"; disputed: each figure once,
 * "2 (Velsk Courier, Mar 9 09:00 UTC) vs 4 (Karvia Post, Mar 9 14:01 UTC)".
 */
function describeTimeline(points, kind) {
  const whenOf = pointWhens(points);
  const whens = new Set(points.map((point) => whenOf.get(point)));
  const shared =
    whens.size === 1 && !whens.has("undated") ? formatDate(points[0].published) : null;
  const runs = [];
  for (const point of points) {
    const last = runs[runs.length - 1];
    const same =
      kind === "revised"
        ? last && last.value === point.value && last
        : runs.find((run) => run.value === point.value);
    if (same) same.points.push(point);
    else runs.push({ value: point.value, points: [point] });
  }
  const figures = runs
    .map((run) => `${run.value} (${whoAndWhen(run.points, shared ? null : whenOf)})`)
    .join(DISAGREEMENT[kind].join);
  // One date for all, said once: "62 (NBC News) vs 10 (The Hill), all on Dec 31, 2019".
  return shared ? `${figures}, all on ${shared}` : figures;
}

/**
 * "NBC News, The Hill, Dec 31" when all at one time, "Reuters, Mar 14 and Mar 16" for one
 * outlet's reports, else "NBC News, Dec 30; The Hill, Dec 31"; without `whenOf`, the outlets.
 */
function whoAndWhen(points, whenOf) {
  const sources = [...new Set(points.flatMap(pointSources))];
  if (!whenOf) return sources.join(", ");
  const whens = [...new Set(points.map((point) => whenOf.get(point)))];
  const each = points.map((point) => pointSources(point).join(", "));
  // One outlet's reports (or the same outlets'): the outlets once, then when.
  if (new Set(each).size === 1) return `${each[0]}, ${andList(whens)}`;
  return points.map((point) => [...pointSources(point), whenOf.get(point)].join(", ")).join("; ");
}

/** "Mar 7", "Mar 7 and Mar 9", "Mar 7, Mar 9 and Mar 11". */
function andList(items) {
  if (items.length < 2) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

// Reasons past this many are folded under a "why" summary: a dispute among many sources
// gives one line per pair.
const REASONS_SHOWN = 3;

function renderReasons(reasons) {
  if (reasons.length === 0) return null;
  const list = el(
    "ul",
    { className: "reasons" },
    reasons.map((reason) => el("li", { text: reason })),
  );
  if (reasons.length <= REASONS_SHOWN) return list;
  return el("details", { className: "reasons-more" }, [
    el("summary", { text: `Why: ${reasons.length} reasons` }),
    list,
  ]);
}

function pointSources(point) {
  const sources = Array.isArray(point.sources) && point.sources.length ? point.sources : [null];
  return sources.map((source) => (source && source.trim() ? source : "unknown outlet"));
}

/**
 * Short dates for a timeline's points: "Mar 7" (with the year when the points span years),
 * and the time in UTC when another point has the same day: "Mar 9 14:01 UTC".
 */
function pointWhens(points) {
  const matches = points.map((point) => PUBLISHED.exec(point.published || ""));
  const years = new Set(matches.filter(Boolean).map((match) => match[1]));
  const timesOfDay = new Map();
  for (const point of points) {
    if (!point.published) continue;
    const day = point.published.slice(0, 10);
    if (!timesOfDay.has(day)) timesOfDay.set(day, new Set());
    timesOfDay.get(day).add(point.published);
  }
  const whens = new Map();
  points.forEach((point, index) => {
    const match = matches[index];
    if (!point.published) whens.set(point, "undated");
    else if (!match) whens.set(point, point.published);
    else {
      const [, year, month, day, hour, minute] = match;
      let shown = new Date(Date.UTC(+year, +month - 1, +day)).toLocaleDateString("en-US", {
        month: "short",
        day: "numeric",
        timeZone: "UTC",
        ...(years.size > 1 ? { year: "numeric" } : {}),
      });
      if (hour !== undefined && timesOfDay.get(point.published.slice(0, 10)).size > 1) {
        shown += ` ${hour}:${minute} UTC`;
      }
      whens.set(point, shown);
    }
  });
  return whens;
}

// The API's reasons start with the kind, which the banner's title already says.
// A timeline reason's kind, after the story it is of when a question spans several.
const REASON_KIND = /^(?:s\d+: )?(?:figures changed over time|sources disagree):\s*/i;

/**
 * The reasons as a reader can read them. The timeline's name outlets and dates; when there are
 * some, the comparison's (by document id, and told again by "who says what" and the cards'
 * badges) are left out; else each document id is named by its outlet.
 */
function readableReasons(reasons, docs) {
  const labels = shortIds(docs);
  const outletCounts = countOutlets(docs);
  const byId = new Map(docs.map((doc) => [doc.doc_id, doc]));
  const ids = [...byId.keys()].sort((a, b) => b.length - a.length);
  const timed = reasons.filter((reason) => REASON_KIND.test(reason));
  return (timed.length ? timed : reasons).map((reason) => {
    let text = reason.replace(REASON_KIND, "");
    for (const id of ids) {
      if (!text.includes(id)) continue;
      text = text.split(id).join(docLabel(byId.get(id), outletCounts, labels));
    }
    text = text.replaceAll(" -> ", " → ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  });
}

function groupStyle(index) {
  return index === null ? {} : { "--group": `var(--g${index % GROUP_COLOURS})` };
}

function renderGroups(groups, answers, outletCounts, labels) {
  const byId = new Map(answers.map((answer) => [answer.doc_id, answer]));
  return el("section", { className: "who-says", attrs: { "aria-label": "Who says what" } }, [
    el(
      "ul",
      { className: "groups" },
      groups.map((group, index) =>
        el("li", { style: groupStyle(index) }, [
          el("span", { className: "dot", attrs: { "aria-hidden": "true" } }),
          el("span", { className: "group-value", text: group.value }),
          " — ",
          el("span", {
            className: "group-docs",
            text: (group.doc_ids || [])
                .map((id) => docLabel(byId.get(id) || { doc_id: id }, outletCounts, labels))
                .join(", "),
          }),
        ]),
      ),
    ),
  ]);
}

/** The sentence with the short answer in <mark>; offsets are relative to the sentence start. */
function highlightedSentence(answer) {
  const sentence = answer.sentence || "";
  const citation = answer.citation || {};
  let start = citation.answer_start - citation.char_start;
  let end = citation.answer_end - citation.char_start;
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end > sentence.length ||
    start >= end
  ) {
    start = answer.answer ? sentence.indexOf(answer.answer) : -1;
    end = start + (answer.answer || "").length;
  }
  if (start < 0) return el("blockquote", { className: "sentence", text: sentence });
  return el("blockquote", { className: "sentence" }, [
    sentence.slice(0, start),
    el("mark", { text: sentence.slice(start, end) }),
    sentence.slice(end),
  ]);
}

function renderAnswerCard(
  answer,
  { group, groupValue, revised, url, label, outletCounts, labels },
) {
  const outlet = outletName(answer.source);
  const headingId = `card-${Math.random().toString(36).slice(2, 10)}`;
  return el(
    "article",
    {
      className: "card answer-card",
      attrs: { "data-doc-id": answer.doc_id, "aria-labelledby": headingId },
      style: groupStyle(group),
    },
    [
      renderCardHeader(answer, {
        headingId,
        label,
        outletCounts,
        badges: answerBadges(answer, groupValue, revised, labels),
      }),
      el("p", { className: "short-answer" }, [
        el("strong", { text: answer.answer }),
        typeof answer.confidence === "number"
          ? el("span", {
              className: "confidence",
              text: `confidence ${answer.confidence.toFixed(2)}`,
              attrs: { title: "How likely this answer is right, from 0 to 1" },
            })
          : null,
      ]),
      highlightedSentence(answer),
      answer.attributed_to
        ? el("p", { className: "attribution", text: `according to ${answer.attributed_to}` })
        : null,
      renderAnswerActions(answer, outlet, url),
    ],
  );
}

/** A card's header, for an answer or a source's passages: outlet, date, id, title, badges. */
function renderCardHeader(doc, { headingId, label, outletCounts, badges = [] }) {
  const outlet = outletName(doc.source);
  const several = outletCounts.get(outlet) > 1;
  return el("header", { className: "card-header" }, [
    el("h3", {
      className: doc.source ? "outlet" : "outlet unknown",
      text: outlet,
      attrs: { id: headingId },
    }),
    el("p", { className: "meta" }, [
      dateElement(doc.published),
      several ? el("span", { className: "sep", text: "·" }) : null,
      several
        ? el("span", { className: "doc-id", text: label, attrs: { title: doc.doc_id } })
        : null,
    ]),
    doc.title ? el("p", { className: "doc-title", text: doc.title }) : null,
    badges.length ? el("p", { className: "badges" }, badges) : null,
  ]);
}

/** The group chip and the "same outlet, revised" badge of an answer card. */
function answerBadges(answer, groupValue, revised, labels) {
  const badges = [];
  if (groupValue !== null) {
    badges.push(
      el("span", { className: "chip" }, [
        el("span", { className: "dot", attrs: { "aria-hidden": "true" } }),
        el("span", { className: "visually-hidden", text: "Group: " }),
        groupValue,
      ]),
    );
  }
  if (revised) {
    const others = revised.doc_ids
      .filter((id) => id !== answer.doc_id)
      .map((id) => labels.get(id) || id);
    badges.push(
      el("span", { className: "badge revised" }, [
        "same outlet, revised",
        el("span", {
          className: "visually-hidden",
          text: `: ${revised.source} gives a different answer in ${others.join(", ")}`,
        }),
      ]),
    );
  }
  return badges;
}

function renderAnswerActions(answer, outlet, url) {
  return el("div", { className: "card-actions" }, [
    viewInArticle(
      "secondary view-article",
      `${outlet}${answer.title ? `, ${answer.title}` : ""}`,
      answer.doc_id,
      {
        start: answer.citation.char_start,
        end: answer.citation.char_end,
        expected: answer.sentence,
        strongStart: answer.citation.answer_start,
        strongEnd: answer.citation.answer_end,
      },
    ),
    url
      ? el("a", {
          text: "Original",
          attrs: { href: url, target: "_blank", rel: "noopener noreferrer" },
        })
      : null,
  ]);
}

/** The documents read that give no answer, one line each with their closest sentence. */
function renderUnanswered(unanswered, known) {
  if (unanswered.length === 0) return null;
  const headingId = `unanswered-${Math.random().toString(36).slice(2, 10)}`;
  return el("section", { className: "not-answering", attrs: { "aria-labelledby": headingId } }, [
    el("h3", { className: "not-answering-title", attrs: { id: headingId } }, [
      "Not answering",
      el("span", {
        className: "not-answering-count",
        text: ` · ${plural(unanswered.length, "source", "sources")}`,
      }),
    ]),
    el(
      "ul",
      { className: "not-answering-list" },
      unanswered.map((doc) => renderUnansweredDoc(doc, known)),
    ),
  ]);
}

function renderUnansweredDoc(doc, known) {
  const outlet = outletName(doc.source);
  const citation = doc.citation || {};
  return el("li", { className: "not-answering-item", attrs: { "data-doc-id": doc.doc_id } }, [
    el("span", {
      className: doc.source ? "not-answering-outlet" : "not-answering-outlet unknown",
      text: docLabel(doc, known.outletCounts, known.labels),
    }),
    el("span", { className: "sep", text: "·" }),
    el("span", { className: "not-answering-date" }, [dateElement(doc.published)]),
    " ",
    el("q", { className: "context", text: doc.context || "" }),
    " ",
    viewInArticle(
      "link view-context",
      `${outlet}${doc.title ? `, ${doc.title}` : ""}`,
      doc.doc_id,
      { start: citation.char_start, end: citation.char_end, expected: doc.context },
    ),
  ]);
}

/** A "View in article" button (`label` ends its accessible name): opens the document in the
 * article panel at `range` (`openArticle`'s). */
function viewInArticle(className, label, docId, range) {
  return el("button", {
    className,
    text: "View in article",
    attrs: { type: "button", "aria-label": `View in article: ${label}` },
    on: { click: (event) => openArticle(event.currentTarget, docId, range) },
  });
}

// ---------------------------------------------------------------------------------------------
// Timeline: the compared figures by publication time, one mark per source. The chart is drawn
// for the eye (aria-hidden); the table beside it is what a screen reader reads.

const SVG_NS = "http://www.w3.org/2000/svg";
const MARKS = ["circle", "square", "diamond", "triangle"];
const CHAR_PX = 7; // a character of the chart's 12 px text, wide enough to lay labels out
const ROW_PX = 30; // a row per distinct name
const PLOT_PX = 150; // the height of a numeric chart's plot

function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") node.textContent = String(value);
    else if (name === "style") node.style.cssText = value;
    else if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function renderTimeline(points, answers, about) {
  const valueOf = new Map(answers.map((answer) => [answer.doc_id, answer.value]));
  const rows = points.map((point) => ({
    point,
    time: pointTime(point.published),
    reading: reading(valueOf.get((point.doc_ids || [])[0])),
    sources: pointSources(point),
  }));
  const sources = [...new Set(rows.flatMap((row) => row.sources))];
  const styleOf = new Map(
    sources.map((source, i) => [
      source,
      { colour: `var(--g${i % GROUP_COLOURS})`, mark: MARKS[i % MARKS.length] },
    ]),
  );
  const what = rows.every((row) => row.reading) ? "Figures" : "Answers";
  const caption = `${what} over time${about ? `: ${about}` : ""}, oldest first`;
  const chart = el("div", { className: "timeline-chart", attrs: { "aria-hidden": "true" } });
  const image = svg("svg", { focusable: "false" });
  chart.append(image);
  // Drawn for the width it has, again when that changes; in the next frame, since drawing
  // changes the chart's height, which must not happen inside the observer's callback.
  let drawnWidth = 0;
  new ResizeObserver(() =>
    requestAnimationFrame(() => {
      const width = Math.floor(chart.clientWidth);
      if (width > 0 && width !== drawnWidth) {
        drawnWidth = width;
        drawTimeline(image, rows, styleOf, width);
      }
    }),
  ).observe(chart);
  return el("figure", { className: "timeline", attrs: { "aria-label": "Timeline" } }, [
    el("figcaption", {
      className: "timeline-title",
      attrs: { "aria-hidden": "true" }, // the table's caption says it
      text: caption,
    }),
    chart,
    el(
      "ul",
      { className: "timeline-legend", attrs: { "aria-hidden": "true" } },
      sources.map((source) =>
        el("li", {}, [legendMark(styleOf.get(source)), el("span", { text: source })]),
      ),
    ),
    renderTimelineTable(points, caption),
  ]);
}

/**
 * The accessible version of the chart: one row per point, oldest first. Hidden from the eye in
 * a block (a table box is not clipped by its own overflow, and would widen the page).
 */
function renderTimelineTable(points, caption) {
  const table = el("table", { className: "timeline-table" }, [
    el("caption", { text: caption }),
    el("thead", {}, [
      el(
        "tr",
        {},
        ["Published", "Figure", "Sources"].map((text) =>
          el("th", { text, attrs: { scope: "col" } }),
        ),
      ),
    ]),
    el(
      "tbody",
      {},
      points.map((point) =>
        el("tr", {}, [
          el("td", {}, [dateElement(point.published)]),
          el("td", { text: point.value }),
          el("td", { text: pointSources(point).join(", ") }),
        ]),
      ),
    ),
  ]);
  return el("div", { className: "visually-hidden" }, [table]);
}

function pointTime(published) {
  const match = published ? PUBLISHED.exec(published) : null;
  if (!match) return null;
  const [, year, month, day, hour = "0", minute = "0"] = match;
  return Date.UTC(+year, +month - 1, +day, +hour, +minute);
}

/** Where a quantity sits on the y axis (the figure it states) and the range it spans. */
function reading(value) {
  if (!value || typeof value.low !== "number") return null;
  const { low, high, qualifier } = value;
  if (high === null || high === undefined) return { y: low, low, high: low };
  const y = ["up to", "less than", "nearly"].includes(qualifier) ? high : (low + high) / 2;
  return { y, low, high };
}

/** Axis ticks at round numbers from 0 to past `max`. */
function ticks(max) {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= rough);
  const top = Math.ceil(max / step) * step;
  const result = [];
  for (let v = 0; v <= top + step / 2; v += step) result.push(v);
  return result;
}

function shortNumber(v) {
  return v.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function fits(text, width) {
  const chars = Math.max(1, Math.floor(width / CHAR_PX));
  return text.length <= chars ? text : `${text.slice(0, Math.max(1, chars - 1))}…`;
}

/** Lay the chart out for `width` CSS pixels and draw it into `image`. */
function drawTimeline(image, rows, styleOf, width) {
  const numeric = rows.every((row) => row.reading);
  const names = numeric ? [] : [...new Set(rows.map((row) => row.point.value))];
  const yTicks = numeric ? ticks(Math.max(...rows.map((row) => row.reading.high))) : [];
  const left = numeric
    ? Math.max(...yTicks.map((v) => shortNumber(v).length)) * CHAR_PX + 12
    : Math.min(Math.max(...names.map((n) => n.length)) * CHAR_PX + 12, Math.round(width * 0.4));
  const top = numeric ? 20 : 8;
  const plotHeight = numeric ? PLOT_PX : names.length * ROW_PX;
  const height = top + plotHeight + 30;
  const right = 16;
  const undated = rows.some((row) => row.time === null);
  const slot = undated ? 64 : 0; // a column for undated reports, on the right
  const times = rows.filter((row) => row.time !== null).map((row) => row.time);
  const [first, last] = [Math.min(...times), Math.max(...times)];
  const x0 = left + 14;
  const x1 = width - right - slot - 14;
  const xOf = (time) =>
    time === null
      ? width - right - slot / 2
      : last === first
        ? (x0 + x1) / 2
        : x0 + ((time - first) / (last - first)) * (x1 - x0);
  const yTop = yTicks[yTicks.length - 1] || 1;
  const yOf = numeric
    ? (v) => top + plotHeight - (v / yTop) * plotHeight
    : (value) => top + (names.indexOf(value) + 0.5) * ROW_PX;

  const nodes = [];
  // Axes and guides.
  if (numeric) {
    for (const v of yTicks) {
      const y = yOf(v);
      nodes.push(svg("line", { class: "grid", x1: left, x2: width - right, y1: y, y2: y }));
      const tick = { class: "tick", x: left - 6, y: y + 4, "text-anchor": "end" };
      nodes.push(svg("text", { ...tick, text: shortNumber(v) }));
    }
  } else {
    for (const name of names) {
      const y = yOf(name);
      nodes.push(svg("line", { class: "grid", x1: left, x2: width - right, y1: y, y2: y }));
      nodes.push(svg("text", { class: "tick name", x: 0, y: y + 4, text: fits(name, left - 8) }));
    }
  }
  const base = top + plotHeight;
  nodes.push(svg("line", { class: "axis", x1: left, x2: width - right, y1: base, y2: base }));
  nodes.push(...timeLabels(rows, xOf, base + 20, width));

  // Each source's reports joined in time order, then one mark per source and point.
  const placed = rows.map((row) => {
    const x = xOf(row.time);
    const y = numeric ? yOf(row.reading.y) : yOf(row.point.value);
    const n = row.sources.length;
    return { row, y, xs: row.sources.map((_, i) => x + (i - (n - 1) / 2) * 12) };
  });
  for (const [source, style] of styleOf) {
    const reports = placed.filter((p) => p.row.sources.includes(source));
    for (const [a, b] of reports.slice(1).map((p, i) => [reports[i], p])) {
      if (a.row.time === b.row.time) continue; // two figures at once: no change to draw
      nodes.push(
        svg("line", {
          class: "trend",
          x1: a.xs[a.row.sources.indexOf(source)],
          y1: a.y,
          x2: b.xs[b.row.sources.indexOf(source)],
          y2: b.y,
          style: `stroke: ${style.colour}`,
        }),
      );
    }
  }
  const labels = []; // boxes of the value labels drawn, so that none covers another
  for (const { row, y, xs } of placed) {
    // A range ("2,000-9,999") as a bar; "up to 300" starts from nothing and is not drawn.
    if (numeric && row.reading.high !== row.reading.low && row.reading.low > 0) {
      nodes.push(
        svg("line", {
          class: "range",
          x1: xs[0],
          x2: xs[0],
          y1: yOf(row.reading.low),
          y2: yOf(row.reading.high),
        }),
      );
    }
    row.sources.forEach((source, i) => nodes.push(mark(styleOf.get(source), xs[i], y)));
    if (numeric) {
      const label = fits(row.point.value, 140);
      const w = label.length * CHAR_PX;
      const x = Math.min(Math.max(xs[0] - w / 2, left), width - w);
      // Above the mark, else below it, else left out (the table has every value); a figure
      // that would cover the same figure beside it is said once.
      const covers = (ly) =>
        labels.filter((b) => x < b.x + b.w + 4 && b.x < x + w + 4 && Math.abs(b.y - ly) < 14);
      const spot = [y - 9, y + 19].find((ly) => covers(ly).length === 0);
      const repeated = covers(y - 9).some((b) => b.text === label);
      if (spot !== undefined && !repeated) {
        labels.push({ x, y: spot, w, text: label });
        nodes.push(svg("text", { class: "value", x, y: spot, text: label }));
      }
    }
  }
  image.setAttribute("viewBox", `0 0 ${width} ${height}`);
  image.setAttribute("width", width);
  image.setAttribute("height", height);
  image.replaceChildren(...nodes);
}

/** Date labels under the x axis, left to right, leaving out any that would overlap. */
function timeLabels(rows, xOf, y, width) {
  const whens = pointWhens(rows.map((row) => row.point));
  const seen = new Map();
  for (const row of rows) {
    const text = whens.get(row.point);
    if (!seen.has(text)) seen.set(text, xOf(row.time));
  }
  const labels = [];
  let end = -Infinity;
  for (const [text, x] of [...seen].sort((a, b) => a[1] - b[1])) {
    const w = text.length * CHAR_PX;
    const start = Math.min(Math.max(x - w / 2, 0), width - w);
    if (start < end + 8) continue;
    labels.push(svg("text", { class: "tick", x: start, y, text }));
    end = start + w;
  }
  return labels;
}

/** A source's mark: its colour and its shape (so that colour is not the only difference). */
function mark({ colour, mark: shape }, x, y, size = 6) {
  const style = `fill: ${colour}`;
  const corners = (list) => list.map(([cx, cy]) => `${cx},${cy}`).join(" ");
  if (shape === "square") {
    const [side, at] = [2 * size, { x: x - size, y: y - size }];
    return svg("rect", { class: "mark", ...at, width: side, height: side, style });
  }
  if (shape === "diamond") {
    const d = size * 1.35;
    const points = corners([[x, y - d], [x + d, y], [x, y + d], [x - d, y]]);
    return svg("polygon", { class: "mark", points, style });
  }
  if (shape === "triangle") {
    const d = size * 1.3;
    const points = corners([[x, y - d], [x + d, y + d * 0.8], [x - d, y + d * 0.8]]);
    return svg("polygon", { class: "mark", points, style });
  }
  return svg("circle", { class: "mark", cx: x, cy: y, r: size, style });
}

function legendMark(style) {
  return svg("svg", { class: "legend-mark", width: 16, height: 16, viewBox: "0 0 16 16" }, [
    mark(style, 8, 8, 5),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Passages (search mode)

function renderPassages(data) {
  const groups = Array.isArray(data.by_source) ? data.by_source : [];
  if (groups.length === 0) {
    return [
      el("div", { className: "banner neutral", attrs: { role: "note" } }, [
        el("p", { className: "banner-title", text: "No passage matched." }),
      ]),
    ];
  }
  const labels = shortIds(groups);
  const outletCounts = countOutlets(groups);
  const hitCount = groups.reduce((sum, group) => sum + (group.hits || []).length, 0);
  const cards = el("ul", {
    className: "cards passage-cards",
    attrs: { "aria-label": "Passages by source" },
  });
  for (const group of groups) {
    const outlet = outletName(group.source);
    const headingId = `group-${Math.random().toString(36).slice(2, 10)}`;
    cards.append(
      el("li", { className: "card-slot" }, [
        el(
          "section",
          {
            className: "card source-card",
            attrs: { "data-doc-id": group.doc_id, "aria-labelledby": headingId },
          },
          [
            renderCardHeader(group, {
              headingId,
              label: labels.get(group.doc_id),
              outletCounts,
            }),
            el(
              "ol",
              { className: "hits" },
              (group.hits || []).map((hit) => renderHit(hit, outlet)),
            ),
          ],
        ),
      ]),
    );
  }
  const found = `${plural(hitCount, "passage", "passages")} from ${plural(groups.length, "source", "sources")}`;
  return [cards, replySummary(found, data)];
}

function renderHit(hit, outlet) {
  const score = typeof hit.score === "number" ? hit.score.toPrecision(3) : "?";
  return el("li", { className: "hit", attrs: { "data-passage-id": hit.passage_id } }, [
    el("p", { className: "hit-meta", text: `Rank ${hit.rank} · score ${score}` }),
    el("p", { className: "hit-text", text: hit.text }),
    el("div", { className: "card-actions" }, [
      viewInArticle("secondary view-article", `${outlet}, passage ranked ${hit.rank}`, hit.doc_id, {
        start: hit.char_start,
        end: hit.char_end,
        expected: hit.text,
      }),
    ]),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Article panel

let panelOpener = null;
let panelRequest = 0;

/** Locate the cited span: trust the offsets when they match, else look for the text itself. */
function locate(text, { start, end, expected }) {
  const valid = Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end;
  if (valid && end <= text.length && (!expected || text.slice(start, end) === expected)) {
    return { start, end, moved: false };
  }
  if (expected) {
    const found = text.indexOf(expected);
    if (found >= 0) return { start: found, end: found + expected.length, moved: true };
  }
  if (valid && end <= text.length) return { start, end, moved: false };
  return null;
}

function articleNodes(text, span, strong) {
  if (!span) return [text];
  const inside = [];
  const cited = text.slice(span.start, span.end);
  const s = strong ? strong.start - span.start : -1;
  const e = strong ? strong.end - span.start : -1;
  if (strong && 0 <= s && s < e && e <= cited.length) {
    inside.push(cited.slice(0, s), el("strong", { text: cited.slice(s, e) }), cited.slice(e));
  } else {
    inside.push(cited);
  }
  return [
    text.slice(0, span.start),
    el("mark", { attrs: { id: "cited" } }, inside),
    text.slice(span.end),
  ];
}

async function openArticle(opener, docId, citation) {
  const request = ++panelRequest;
  panelOpener = opener;
  panelMeta.textContent = "";
  panelTitle.textContent = "Loading the article…";
  panelNote.hidden = true;
  panelBody.replaceChildren();
  panelBody.setAttribute("aria-busy", "true");
  if (!panel.open) panel.showModal();
  panelBody.focus({ preventScroll: true });
  let doc;
  try {
    doc = await callApi(`documents/${encodeURIComponent(docId)}`);
  } catch (error) {
    if (request !== panelRequest) return;
    panelBody.removeAttribute("aria-busy");
    panelTitle.textContent = "The article could not be loaded";
    panelBody.replaceChildren(
      el("p", { className: "banner error", attrs: { role: "alert" } }, [
        error instanceof ApiError ? error.message : "Something went wrong in the page.",
      ]),
    );
    return;
  }
  if (request !== panelRequest || !panel.open) return;
  const text = typeof doc.text === "string" ? doc.text : "";
  const span = locate(text, citation);
  const strong =
    span && !span.moved && Number.isInteger(citation.strongStart)
      ? { start: citation.strongStart, end: citation.strongEnd }
      : null;
  panelTitle.textContent = doc.title || `Untitled article from ${outletName(doc.source)}`;
  panelMeta.replaceChildren(
    outletName(doc.source),
    el("span", { className: "sep", text: "·" }),
    dateElement(doc.published),
  );
  if (!span) {
    panelNote.textContent =
      "The cited passage could not be found in the stored article; it may have been replaced.";
    panelNote.hidden = false;
  }
  panelBody.replaceChildren(...articleNodes(text, span, strong));
  panelBody.removeAttribute("aria-busy");
  const mark = panelBody.querySelector("mark");
  if (mark) mark.scrollIntoView({ block: "center", behavior: "instant" });
  else panelBody.scrollTop = 0;
}

function closePanel() {
  if (panel.open) panel.close();
}

panel.addEventListener("close", () => {
  panelRequest += 1; // a late response must not refill a closed panel
  const opener = panelOpener;
  panelOpener = null;
  if (opener && opener.isConnected) opener.focus();
});

panelClose.addEventListener("click", closePanel);

// A click on the backdrop lands on the <dialog> itself (its content fills it): close.
panel.addEventListener("click", (event) => {
  if (event.target === panel) closePanel();
});

// ---------------------------------------------------------------------------------------------
// Wiring

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  const mode = currentMode();
  submit(text, mode);
  if (text.trim()) input.value = "";
});

input.addEventListener("input", () => {
  if (!inputError.hidden && input.value.trim()) clearInputError();
});

for (const radio of form.elements.mode) {
  radio.addEventListener("change", updateModeLabels);
}

for (const button of document.querySelectorAll("button.example")) {
  button.addEventListener("click", () => {
    const question = button.dataset.question;
    form.elements.mode.value = "answers";
    updateModeLabels();
    input.value = "";
    submit(question, "answers");
    input.focus();
  });
}

updateModeLabels();
checkHealth();
