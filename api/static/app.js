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
  if (answers.length === 0) return [renderNoAnswer(hits)];
  const groups = Array.isArray(data.groups) ? data.groups : [];
  const known = answerContext(data, answers, groups, hits);
  const parts = [];
  const banner = renderBanner(data, answers, groups);
  if (banner) parts.push(banner);
  if (groups.length > 0 && answers.length > 1) {
    parts.push(renderGroups(groups, answers, known.outletCounts, known.labels));
  }
  parts.push(renderAnswerCards(answers, groups, known));
  parts.push(replySummary(`${plural(answers.length, "source", "sources")} answered`, data));
  const silent = hits.filter(
    (hit, index) =>
      !known.answered.has(hit.doc_id) &&
      hits.findIndex((other) => other.doc_id === hit.doc_id) === index,
  );
  if (silent.length) parts.push(renderSilent(silent, known));
  return parts;
}

/** What the cards need to know across answers: groups, revisions, links and short labels. */
function answerContext(data, answers, groups, hits) {
  const revised = new Map();
  for (const entry of data.same_outlet || []) {
    for (const id of entry.doc_ids || []) revised.set(id, entry);
  }
  const groupOf = new Map();
  groups.forEach((group, index) => {
    for (const id of group.doc_ids || []) groupOf.set(id, index);
  });
  const everyDoc = [...answers, ...hits];
  return {
    revised,
    groupOf,
    urls: new Map(hits.map((hit) => [hit.doc_id, hit.url])),
    labels: shortIds(everyDoc),
    outletCounts: countOutlets(everyDoc),
    answered: new Set(answers.map((a) => a.doc_id)),
  };
}

function renderNoAnswer(hits) {
  return el("div", { className: "banner neutral", attrs: { role: "note" } }, [
    el("p", { className: "banner-title", text: "No source answered this question." }),
    el("p", {
      className: "banner-detail",
      text: hits.length
        ? "Switch to Passages to read what the sources say about it."
        : "No passage matched it.",
    }),
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

function renderSilent(silent, known) {
  return el("p", {
    className: "no-answer",
    text:
      `${plural(silent.length, "source", "sources")} did not answer: ` +
      silent.map((doc) => docLabel(doc, known.outletCounts, known.labels)).join(", ") +
      ".",
  });
}

function renderBanner(data, answers, groups) {
  const values = groups.map((group) => group.value).filter((value) => value);
  const about = data.about ? ` ${data.about}` : "";
  if (data.conflict) {
    const title = values.length
      ? `Sources disagree: ${values.join(" vs ")}${about}`
      : "Sources disagree";
    return el(
      "section",
      { className: "banner conflict conflict-banner", attrs: { "aria-label": "Conflict" } },
      [
        el("p", { className: "banner-title", text: title }),
        (data.reasons || []).length
          ? el(
              "ul",
              { className: "reasons" },
              data.reasons.map((reason) => el("li", { text: reason })),
            )
          : null,
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
      el("p", { className: "short-answer" }, [el("strong", { text: answer.answer })]),
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
    el("button", {
      className: "secondary view-article",
      text: "View in article",
      attrs: {
        type: "button",
        "aria-label": `View in article: ${outlet}${answer.title ? `, ${answer.title}` : ""}`,
      },
      on: {
        click: (event) =>
          openArticle(event.currentTarget, answer.doc_id, {
            start: answer.citation.char_start,
            end: answer.citation.char_end,
            expected: answer.sentence,
            strongStart: answer.citation.answer_start,
            strongEnd: answer.citation.answer_end,
          }),
      },
    }),
    url
      ? el("a", {
          text: "Original",
          attrs: { href: url, target: "_blank", rel: "noopener noreferrer" },
        })
      : null,
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
      el("button", {
        className: "secondary view-article",
        text: "View in article",
        attrs: {
          type: "button",
          "aria-label": `View in article: ${outlet}, passage ranked ${hit.rank}`,
        },
        on: {
          click: (event) =>
            openArticle(event.currentTarget, hit.doc_id, {
              start: hit.char_start,
              end: hit.char_end,
              expected: hit.text,
            }),
        },
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
