// Drives the Setup pages in headless Chromium (playwright-core) the way an administrator
// would, and checks each result against the server's real token endpoint and API.
//
// node setup-ui.mjs URL ADMIN_LOGIN ADMIN_PASSWORD API_KEY AUTHORIZE_PATH USER_CODE [SCREENSHOT_DIR]
// AUTHORIZE_PATH is an authorization request of a client the admin is shown a consent page
// for; USER_CODE a device authorization's code to approve. Prints one JSON object of what it
// saw; exits non-zero with the reason on any failure.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const [url, adminLogin, adminPassword, apiKey, authorizePath, userCode, screenshotDir] = process.argv.slice(2);
if (!url || !adminLogin || !adminPassword || !apiKey || !authorizePath || !userCode) {
  console.error("usage: node setup-ui.mjs URL ADMIN_LOGIN ADMIN_PASSWORD API_KEY AUTHORIZE_PATH USER_CODE [SCREENSHOT_DIR]");
  process.exit(2);
}
const run = promisify(execFile);
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const seen = {};

async function token(clientId, secret, scope) {
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret });
  if (scope) {
    form.set("scope", scope);
  }
  const response = await fetch(`${url}/oauth2/token`, { method: "POST", body: form });
  return { status: response.status, body: await response.json() };
}

async function api(path, headers) {
  const response = await fetch(`${url}${path}`, { headers: { Accept: "application/json", ...headers } });
  return response.status;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({
    permissions: ["clipboard-read", "clipboard-write"],
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const scripts = [];
  page.on("pageerror", (error) => scripts.push(error.message));
  page.on("dialog", (dialog) => dialog.accept());
  // Each page is checked by axe-core (WCAG 2 A and AA rules) as its screenshot is taken.
  const accessibility = {};
  const shot = async (name) => {
    await page.evaluate(axeSource);
    const result = await page.evaluate(() =>
      window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    assert.deepEqual(problems, [], `accessibility of ${name}`);
    accessibility[name] = result.passes.length;
    if (screenshotDir) {
      mkdirSync(screenshotDir, { recursive: true });
      await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
    }
  };
  // A text box by the start of its label ("Login (required)").
  const field = (label) => page.getByRole("textbox", { name: new RegExp(`^${label}`) });
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());

  // Sign in: Setup sends a stranger to the sign-in page and brings them back.
  await page.goto(`${url}/setup`);
  assert.match(page.url(), /\/oauth2\/login\?return_to=%2Fsetup/);
  await shot("sign-in");
  await page.getByLabel("Login").fill(adminLogin);
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}/setup`);
  await page.getByRole("heading", { name: "Setup", level: 1 }).waitFor();

  // The keyboard's first stop skips the navigation.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "main");

  // Find it fast: typing "oauth" narrows the list to the OAuth pages, live and on submit.
  const finder = page.getByRole("searchbox", { name: "Find it fast" });
  await finder.fill("oauth");
  const entries = page.locator("ul.entries");
  assert.equal(await entries.getByRole("link", { name: "Users", exact: true }).filter({ visible: true }).count(), 0);
  await finder.press("Enter");
  await page.waitForURL(/\/setup\?q=oauth/);
  const found = entries.getByRole("link", { name: "OAuth2/OpenID Connect Clients" });
  await found.waitFor();
  seen.find_it_fast = await page.locator("ul.entries li").count();
  await shot("setup-home");
  await found.click();
  await page.waitForURL(`${url}/oauth2/clients`);

  // Create, wrongly first: a login in use and no scope come back next to their fields.
  await page.getByRole("link", { name: "Create", exact: true }).click();
  await page.waitForURL(`${url}/oauth2/clients/new`);
  await page.getByLabel("Grant type").selectOption({ label: "Client credentials" });
  await field("Name").fill("Invoices sync");
  await field("Login").fill(adminLogin);
  await page.getByRole("button", { name: "Save" }).click();
  const loginError = page.locator("#login-error");
  await loginError.waitFor();
  assert.match(await loginError.innerText(), /Login has already been taken/);
  assert.match(await page.locator("#scope-error").innerText(), /select at least one scope/);
  assert.equal(await field("Login").getAttribute("aria-invalid"), "true");
  assert.equal(await field("Name").inputValue(), "Invoices sync", "what was typed stays");
  assert.equal(await page.evaluate(() => document.activeElement.className), "error-summary", "focus lands on what to fix");
  await shot("client-form-errors");

  // Then rightly: the core.invoice group's "select all" box ticks its scopes.
  await field("Login").fill("invoice-sync");
  await page.getByLabel("Contact info").fill("Finance integrations team");
  await page.getByLabel("Contact email").fill("integrations@example.com");
  // The filter box narrows the checklist; "Select all scopes" on a client credentials client
  // takes the API scopes and leaves the OpenID Connect ones.
  await page.getByLabel("Filter scopes").fill("supplier read");
  const visibleScopes = await page.locator("li[data-scope]").filter({ visible: true }).count();
  assert.ok(visibleScopes >= 1 && visibleScopes <= 5, `${visibleScopes} scopes left by the filter`);
  assert.equal(await page.locator('li[data-scope^="core.supplier.read "]').isVisible(), true);
  await page.getByLabel("Filter scopes").fill("");
  await page.getByLabel("Select all scopes").check();
  assert.ok(await page.locator('input[name="scope"][value="core.supplier.read"]').isChecked());
  assert.ok(!(await page.locator('input[name="scope"][value="openid"]').isChecked()), "no OpenID Connect scope");
  await page.getByLabel("Select all scopes").uncheck();
  assert.ok(!(await page.locator('input[name="scope"][value="core.supplier.read"]').isChecked()));
  await page.getByLabel("Select all core.invoice scopes").focus();
  await page.keyboard.press("Space");
  assert.ok(await page.locator('input[name="scope"][value="core.invoice.read"]').isChecked());
  assert.ok(await page.locator('input[name="scope"][value="core.invoice.write"]').isChecked());
  await page.locator('input[name="scope"][value="core.expense.read"]').check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: "Invoices sync" }).waitFor();

  // The secret is masked until Show; Copy puts it on the clipboard.
  const clientId = (await page.locator("#client-id").innerText()).trim();
  const secretField = page.getByLabel("Secret", { exact: true });
  assert.equal(await secretField.getAttribute("type"), "password");
  await shot("client-saved");
  await page.getByRole("button", { name: "Show" }).click();
  assert.equal(await secretField.getAttribute("type"), "text");
  const secret = await secretField.inputValue();
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await page.getByRole("button", { name: "Hide" }).getAttribute("aria-pressed"), "true");
  await page.getByRole("button", { name: "Hide" }).click();
  assert.equal(await secretField.getAttribute("type"), "password");
  await secretField.locator("xpath=..").getByRole("button", { name: "Copy" }).click();
  assert.equal(await clipboard(), secret);
  await page.getByText("copied to the clipboard").waitFor();
  const oidcScopes = (await page.locator("#oidc-scopes").innerText()).trim();
  const held = oidcScopes.split(" ");
  assert.ok(held.includes("core.invoice.read") && held.includes("core.invoice.write") && held.includes("core.expense.read"));
  assert.deepEqual(held.filter((scope) => !scope.startsWith("core.invoice.")), ["core.expense.read"], oidcScopes);
  assert.ok(!(await page.locator("#token-curl").innerText()).includes(secret), "the curl masks the secret too");

  // The ready-to-copy curl runs as copied and answers a token.
  await page.locator(".code").getByRole("button", { name: "Copy" }).click();
  const curl = await clipboard();
  assert.ok(curl.includes(clientId) && curl.includes(secret));
  const { stdout } = await run("sh", ["-c", curl]);
  const fromCurl = JSON.parse(stdout);
  assert.equal(fromCurl.token_type, "bearer");
  assert.equal(await api("/api/invoices?limit=1", { Authorization: `Bearer ${fromCurl.access_token}` }), 200);
  seen.curl_scope = fromCurl.scope;

  // The page after Save is a page of its own: a reload saves nothing again and shows no secret.
  await page.reload();
  await page.getByText("Client saved.", { exact: true }).waitFor();
  assert.equal(await page.locator("#client-secret").count(), 0);
  assert.equal(await page.locator(".field-error").count(), 0, "no 'Login has already been taken'");

  // The secret works from a script asking for one scope.
  const first = await token(clientId, secret, "core.invoice.read");
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const invoiceToken = first.body.access_token;
  assert.equal(await api("/api/invoices?limit=1", { Authorization: `Bearer ${invoiceToken}` }), 200);

  // The list shows it, with its last token.
  await page.getByRole("link", { name: "OAuth2/OpenID Connect Clients" }).first().click();
  const row = page.getByRole("row").filter({ hasText: "invoice-sync" });
  assert.match(await row.innerText(), /Client credentials/);
  assert.match(await row.innerText(), /UTC/, "a last token time");
  await shot("clients-list");
  // The list searches and sorts: by login here, then by the Login column.
  await page.getByRole("searchbox", { name: "Search" }).fill("invoice-sync");
  await page.getByRole("searchbox", { name: "Search" }).press("Enter");
  await page.waitForURL(/\/oauth2\/clients\?q=invoice-sync/);
  assert.equal(await page.locator(".list-summary").innerText(), "1 in all.");
  await page.getByRole("columnheader", { name: "Login" }).getByRole("link").click();
  await page.waitForURL(/sort=login/);
  assert.equal(await page.getByRole("columnheader", { name: /Login/ }).getAttribute("aria-sort"), "ascending");
  assert.match(page.url(), /q=invoice-sync/, "sorting keeps the search");
  await page.getByRole("row").filter({ hasText: "invoice-sync" }).getByRole("link", { name: "Invoices sync" }).click();

  // Edit scopes: the warning says scripts must send the new list.
  await page.getByRole("link", { name: "Edit" }).click();
  await page.getByText("Changing scopes?").waitFor();
  await shot("client-edit");
  await page.getByLabel("Select all core.invoice scopes").uncheck();
  assert.ok(!(await page.locator('input[name="scope"][value="core.invoice.read"]').isChecked()));
  await page.locator('input[name="scope"][value="core.supplier.read"]').check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("The scopes changed.").waitFor();
  assert.equal((await page.locator("#new-scope-list").innerText()).trim(), "core.expense.read core.supplier.read");
  const stale = await token(clientId, secret, "core.invoice.read");
  assert.equal(stale.status, 400);
  assert.equal(stale.body.error, "invalid_scope");
  assert.equal((await token(clientId, secret, "core.supplier.read")).status, 200);

  // Rotate: the new secret is shown once; the old one still works in the grace period.
  // It asks first, on a page of its own, and a reload of the page after changes nothing.
  await page.getByRole("link", { name: "Rotate secret" }).click();
  await page.getByRole("heading", { name: "Rotate the secret of Invoices sync?" }).waitFor();
  await shot("confirm-rotate");
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await page.getByText("New secret generated").waitFor();
  await page.getByText(/The old secret keeps working until .* \(24 hours from now\)/).waitFor();
  await shot("client-rotated");
  await page.getByRole("button", { name: "Show" }).click();
  const rotated = await page.getByLabel("Secret", { exact: true }).inputValue();
  assert.notEqual(rotated, secret);
  await page.reload();
  await page.getByText("Secret rotated.").waitFor();
  assert.equal(await page.locator("#client-secret").count(), 0, "shown once: a reload shows no secret");
  const withOld = await token(clientId, secret, "core.supplier.read");
  assert.equal(withOld.status, 200, "the old secret works within the grace period (the reload rotated nothing)");
  assert.equal((await token(clientId, rotated, "core.supplier.read")).status, 200);

  // Deactivate: tokens it holds are refused, and it gets no new ones.
  await page.goto(`${url}/oauth2/clients/${clientId}`);
  assert.equal(await api("/api/suppliers?limit=1", { Authorization: `Bearer ${withOld.body.access_token}` }), 200);
  await page.getByRole("link", { name: "Deactivate" }).click();
  await page.getByRole("heading", { name: "Deactivate Invoices sync?" }).waitFor();
  await page.getByRole("button", { name: "Deactivate client" }).click();
  await page.getByText("Client deactivated").waitFor();
  assert.equal(await api("/api/suppliers?limit=1", { Authorization: `Bearer ${withOld.body.access_token}` }), 401);
  const refused = await token(clientId, rotated, "core.supplier.read");
  assert.equal(refused.body.error, "invalid_client");

  // Scopes: a scope's page lists its API permissions and who holds it.
  await page.goto(`${url}/oauth2/scopes`);
  await shot("scopes");
  await page.getByRole("link", { name: "core.supplier.read", exact: true }).click();
  await page.waitForURL(`${url}/oauth2/scopes/core.supplier.read`);
  await page.getByRole("cell", { name: "/api/suppliers", exact: true }).waitFor();
  await page.getByRole("link", { name: "Invoices sync" }).waitFor();
  await shot("scope");

  // API keys: the key works, is listed with its use, and once revoked is refused.
  assert.equal(await api("/api/invoices?limit=1", { "X-COUPA-API-KEY": apiKey }), 200);
  await page.goto(`${url}/api_keys`);
  const keyRow = page.getByRole("row").filter({ hasText: apiKey.slice(0, 6) });
  await keyRow.waitFor();
  await shot("api-keys");
  await keyRow.getByRole("link", { name: /Revoke/ }).click();
  await page.getByRole("button", { name: "Revoke API key" }).click();
  await page.getByText("API key revoked").waitFor();
  assert.equal(await api("/api/invoices?limit=1", { "X-COUPA-API-KEY": apiKey }), 401);

  // The transition report counts what is left to move.
  await page.getByRole("link", { name: "Transition", exact: true }).click();
  await page.getByRole("heading", { name: "API Key Transition" }).waitFor();
  seen.transition = await page.locator("ul.cards").innerText();
  await shot("transition");

  // Users: create one, then see them listed.
  await page.getByRole("link", { name: "Users" }).first().click();
  await page.getByRole("link", { name: "Create", exact: true }).click();
  await field("Login").fill("grace");
  await field("Name").fill("Grace Hopper");
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#password-error").waitFor();
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("User created.").waitFor();
  await page.getByRole("link", { name: "Users" }).first().click();
  await shot("users");

  // A form posted without the CSRF token is refused, and changes nothing.
  const forged = await context.request.post(`${url}/oauth2/clients`, {
    form: { grant_type: "client_credentials", name: "Forged", login: "forged", scope: "core.invoice.read" },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  const forgedRevoke = await context.request.post(`${url}/oauth2/clients/${clientId}/delete`, {
    form: { csrf_token: "not-the-token" },
    maxRedirects: 0,
  });
  assert.equal(forgedRevoke.status(), 403);
  await page.goto(`${url}/oauth2/clients`);
  assert.equal(await page.getByRole("row").filter({ hasText: "forged" }).count(), 0);
  await page.getByRole("link", { name: "Invoices sync" }).waitFor();

  // Delete asks first.
  await page.goto(`${url}/oauth2/clients/${clientId}`);
  await page.getByRole("link", { name: "Delete" }).click();
  await page.getByRole("heading", { name: "Delete Invoices sync?" }).waitFor();
  await page.getByRole("button", { name: "Delete client" }).click();
  await page.getByText("Client “Invoices sync” (invoice-sync) deleted.").waitFor();

  // The pages a user meets outside Setup share its layout and are checked the same way.
  // Consent: Deny sends the browser back to the application with access_denied.
  const redirectUri = new URL(authorizePath, url).searchParams.get("redirect_uri");
  await page.goto(`${url}${authorizePath}`);
  await page.getByRole("heading", { name: "Allow Expense App to access your account?" }).waitFor();
  await shot("consent");
  await page.route(`${redirectUri}**`, (route) =>
    route.fulfill({ contentType: "text/html", body: "<!DOCTYPE html><title>Expense App</title><h1>Expense App</h1>" }),
  );
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL(`${redirectUri}**`);
  seen.consent_denied = new URL(page.url()).searchParams.get("error");
  // A device: enter its code, see what it asks for, allow it.
  await page.goto(`${url}/oauth2/device`);
  await page.getByRole("heading", { name: "Connect a device" }).waitFor();
  await shot("device-code");
  await page.getByLabel("Code").fill(userCode);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Allow Warehouse Scanner to access your account?" }).waitFor();
  await shot("device-consent");
  await page.getByRole("button", { name: "Allow" }).click();
  await page.getByRole("heading", { name: "Device connected" }).waitFor();
  seen.device_connected = true;
  await shot("device-connected");
  // A request the server cannot trust gets its page, not a redirect.
  await page.goto(`${url}/oauth2/authorize?response_type=code&client_id=nobody`);
  await page.getByRole("heading", { name: "Cannot continue" }).waitFor();
  await shot("cannot-continue");
  await page.goto(`${url}/setup`);

  // A fault switched on in the browser: choose it, give its setting, continue, confirm.
  await page.goto(`${url}/setup/faults`);
  await page.getByLabel(/^api_slow:/).check();
  await page.getByLabel("Begin in", { exact: true }).fill("1h");
  await page.getByText("Settings some faults need").click();
  await page.getByLabel("Delay", { exact: true }).fill("2s");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Switch on api_slow for every caller?" }).waitFor();
  await page.getByRole("button", { name: "Switch it on" }).click();
  await page.getByText("Fault switched on").waitFor();
  seen.fault_rows = await page.locator("table tbody tr").count();

  // Every page fits its window from a phone's width up: no page scrolls sideways.
  const graceId = new URL(await page.goto(`${url}/users?q=grace`).then(() => page.getByRole("link", { name: "grace" }).getAttribute("href")), url).pathname.split("/").pop();
  const pages = [
    "/", "/setup", "/setup?q=invoice", "/oauth2/clients", "/oauth2/clients/new", "/oauth2/clients/nope",
    "/oauth2/scopes", "/oauth2/scopes/core.invoice.read", "/api_keys", "/setup/transition", "/users",
    "/users/new", `/users/${graceId}`, `/users/${graceId}/deactivate`, "/setup/keys", "/setup/audit", "/oauth2/logout",
    "/setup/faults",
  ];
  const overflowing = [];
  for (const width of [390, 768, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    for (const path of pages) {
      await page.goto(`${url}${path}`);
      const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      if (scrollWidth > innerWidth) {
        overflowing.push(`${path} at ${width}px: ${scrollWidth}px wide`);
      }
    }
  }
  assert.deepEqual(overflowing, [], "pages wider than the window");
  seen.widths_checked = pages.length * 3;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${url}/oauth2/clients`);
  await shot("clients-list-narrow");
  await page.goto(`${url}/users/${graceId}/deactivate`);
  await shot("confirm-narrow");
  await page.setViewportSize({ width: 1280, height: 900 });
  // The pages added for a console without dead ends pass the same accessibility checks.
  const expenseAppId = new URL(authorizePath, url).searchParams.get("client_id");
  for (const [name, path] of [
    ["landing", "/"],
    ["user", `/users/${graceId}`],
    ["not-found", "/oauth2/clients/nope"],
    ["sign-out", "/oauth2/logout"],
    ["client-authorization-code", `/oauth2/clients/${expenseAppId}`],
    ["faults", "/setup/faults"],
  ]) {
    await page.goto(`${url}${path}`);
    await shot(name);
  }

  // A client created with the keyboard alone: Tab to each control, type, Space, Enter.
  await page.goto(`${url}/oauth2/clients`);
  const tabTo = async (matches, what) => {
    for (let presses = 0; presses < 400; presses += 1) {
      await page.keyboard.press("Tab");
      if (await page.evaluate(matches)) {
        return;
      }
    }
    throw new Error(`Tab never reached ${what}`);
  };
  await tabTo(() => document.activeElement?.textContent === "Create", "Create");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${url}/oauth2/clients/new`);
  await tabTo(() => document.activeElement?.id === "name", "Name");
  await page.keyboard.type("Keyboard sync");
  await tabTo(() => document.activeElement?.id === "login", "Login");
  await page.keyboard.type("keyboard-sync");
  await tabTo(() => document.activeElement?.getAttribute("value") === "core.supplier.read", "core.supplier.read");
  await page.keyboard.press("Space");
  await tabTo(() => document.activeElement?.textContent === "Save", "Save");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Keyboard sync" }).waitFor();
  await page.getByText("Client saved. Copy the secret now").waitFor();
  seen.keyboard_client = (await page.locator("#oidc-scopes").innerText()).trim();
  const keyboardId = (await page.locator("#client-id").innerText()).trim();

  // Without scripts, the buttons that need one (Show, Copy) are not offered.
  const noScript = await browser.newContext({ javaScriptEnabled: false, storageState: await context.storageState() });
  const plain = await noScript.newPage();
  await plain.goto(`${url}/oauth2/clients/${keyboardId}`);
  await plain.getByRole("heading", { name: "Keyboard sync" }).waitFor();
  seen.buttons_without_scripts = await plain.getByRole("button", { name: /^(Copy|Show)$/ }).count();
  assert.equal(await plain.getByRole("button", { name: "Copy" }).filter({ visible: true }).count(), 0);
  await noScript.close();
  await page.goto(`${url}/setup`);

  // Signing out ends the session: Setup asks to sign in again.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.goto(`${url}/setup`);
  assert.match(page.url(), /\/oauth2\/login/);

  assert.deepEqual(scripts, [], "no script errors");
  seen.client_id = clientId;
  seen.accessibility_checked = Object.keys(accessibility).length;
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
