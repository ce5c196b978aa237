// Drives the clients list of a server holding thousands of clients in headless Chromium:
// search, sort and paging through the page's own controls, each page's server time taken
// from the browser's navigation timing, and axe-core on the list.
//
// node setup-lists.mjs URL ADMIN_LOGIN ADMIN_PASSWORD CLIENT_ID
// CLIENT_ID is one client's identifier to search for. Prints one JSON object of what it saw.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [url, login, password, clientId] = process.argv.slice(2);
if (!url || !login || !password || !clientId) {
  console.error("usage: node setup-lists.mjs URL ADMIN_LOGIN ADMIN_PASSWORD CLIENT_ID");
  process.exit(2);
}
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(15000);
  const seen = { timings: {} };
  // The time from sending the request to the last byte of the page, as the browser saw it.
  const timing = async (name) => {
    const took = await page.evaluate(() => {
      const [navigation] = performance.getEntriesByType("navigation");
      return navigation.responseEnd - navigation.requestStart;
    });
    seen.timings[name] = Math.round(took * 10) / 10;
  };
  const summary = () => page.locator(".list-summary").innerText();

  await page.goto(`${url}/oauth2/login?return_to=/oauth2/clients`);
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}/oauth2/clients`);
  await timing("list");
  seen.first = await summary();

  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  assert.deepEqual(result.violations.map((v) => v.id), [], "accessibility of the list");

  // An identifier from a log: one search.
  await page.getByRole("searchbox", { name: "Search" }).fill(clientId);
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/q=/);
  await timing("search");
  seen.search = await summary();
  seen.found = (await page.locator("tbody tr").first().innerText()).includes(clientId);
  await page.getByRole("link", { name: "Clear" }).click();
  await page.waitForURL(`${url}/oauth2/clients`);

  // The Name header sorts; a second click reverses.
  await page.getByRole("columnheader", { name: /Name/ }).getByRole("link").click();
  await page.waitForURL(/sort=name&dir=desc/);
  await timing("sorted");
  seen.descending_first = (await page.locator("tbody tr td").first().innerText()).trim();

  // Page 200 through the "Go to page" box, then Previous.
  await page.getByLabel("Go to page").fill("200");
  await page.getByRole("button", { name: "Go" }).click();
  await page.waitForURL(/page=200/);
  await timing("page 200");
  seen.last_page = await summary();
  await page.getByRole("link", { name: "‹ Previous" }).click();
  await page.waitForURL(/page=199/);
  seen.previous_page = await summary();
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
