#!/usr/bin/env node
// Drives the agent desktop in headless Chromium as an agent would, for the e2e suite.
// usage: node desktop.js BASE_URL EXTENSION PASSWORD OUTDIR
// Signs in, takes a break and comes back, writes OUTDIR/ready, then waits for an offered
// call's screen pop, cuts the event WebSocket mid-call (the page reconnects; the call and
// the state are still there), holds and resumes the call from the page, hangs up (keyboard
// `h`), and wraps up with a disposition. Prints one JSON object; exit 0 when every step passed.
// Screenshots: OUTDIR/signin.png, desktop.png, screen-pop.png, wrap-up.png.
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [BASE, EXT, PASSWORD, OUT] = process.argv.slice(2);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];

(async () => {
  const result = { ok: false, steps: {} };
  const step = async (name, fn) => {
    try {
      await fn();
      result.steps[name] = true;
    } catch (err) {
      result.steps[name] = false;
      result.failed = `${name}: ${err && err.message}`;
      throw err;
    }
  };
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS, timeout: 30000 });
  try {
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    // The event stream goes through Playwright's WebSocket route, so the test can cut it.
    const links = [];
    await page.routeWebSocket(/\/api\/v1\/events/, (ws) => {
      ws.connectToServer();
      links.push(ws);
    });
    page.on('console', (m) => { if (m.type() === 'error') (result.console ||= []).push(m.text()); });
    page.on('pageerror', (e) => (result.console ||= []).push(String(e)));
    await step('sign_in_page', async () => {
      await page.goto(`${BASE}/`);
      await page.getByText('Sign in').first().waitFor({ timeout: 10000 });
      await page.screenshot({ path: path.join(OUT, 'signin.png') });
    });
    await step('wrong_password_refused', async () => {
      await page.fill('#extension', EXT);
      await page.fill('#password', 'not-the-password');
      await page.click('#submit');
      await page.getByText('Wrong extension or password.').waitFor({ timeout: 5000 });
    });
    await step('signed_in', async () => {
      await page.fill('#password', PASSWORD);
      await page.click('#submit');
      await page.waitForURL(`${BASE}/agent`, { timeout: 10000 });
      await page.locator('#link', { hasText: 'connected' }).waitFor({ timeout: 10000 });
    });
    await step('break_and_back', async () => {
      await page.click('#go-break');
      await page.locator('#state', { hasText: 'Break' }).waitFor({ timeout: 5000 });
      await page.click('#go-available');
      await page.locator('#state', { hasText: 'Available' }).waitFor({ timeout: 5000 });
      await page.screenshot({ path: path.join(OUT, 'desktop.png') });
    });
    fs.writeFileSync(path.join(OUT, 'ready'), 'ready\n');
    await step('screen_pop', async () => {
      await page.locator('.offer, .call').first().waitFor({ timeout: 30000 });
      await page.screenshot({ path: path.join(OUT, 'screen-pop.png') });
      result.offer_text = await page.locator('.desk').innerText();
    });
    await step('call_shown', async () => {
      await page.locator('[data-call]').first().waitFor({ timeout: 15000 });
      await page.locator('#state', { hasText: 'Busy' }).waitFor({ timeout: 5000 });
    });
    await step('reconnects_mid_call', async () => {
      const before = links.length;
      await links[links.length - 1].close({ code: 1006, reason: 'network cut' }).catch(() => {});
      await page.locator('#link', { hasText: 'reconnecting' }).waitFor({ timeout: 5000 });
      await page.locator('#link', { hasText: 'connected' }).waitFor({ timeout: 10000 });
      if (links.length <= before) throw new Error('no new event stream');
      await page.locator('[data-call]').first().waitFor({ timeout: 5000 });
      await page.locator('#state', { hasText: 'Busy' }).waitFor({ timeout: 5000 });
    });
    await step('hold_and_resume', async () => {
      await page.getByRole('button', { name: 'Hold' }).click();
      await page.getByText('On hold').waitFor({ timeout: 5000 });
      await page.waitForTimeout(1000);
      await page.getByRole('button', { name: 'Resume' }).click();
      await page.getByText('On hold').waitFor({ state: 'detached', timeout: 5000 });
    });
    await step('hang_up_by_keyboard', async () => {
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('h');
      await page.locator('[data-call]').first().waitFor({ state: 'detached', timeout: 10000 });
    });
    await step('wrap_up', async () => {
      await page.locator('form.wrapup').first().waitFor({ timeout: 10000 });
      await page.fill('form.wrapup input[name=code]', 'resolved');
      await page.fill('form.wrapup textarea[name=note]', 'asked about the invoice');
      await page.screenshot({ path: path.join(OUT, 'wrap-up.png') });
      await page.getByRole('button', { name: 'Done' }).click();
      await page.locator('#no-wrapup').waitFor({ timeout: 10000 });
    });
    await step('polish', async () => {
      await page.getByRole('button', { name: 'PL' }).click();
      await page.locator('#no-wrapup', { hasText: 'Nic do podsumowania.' }).waitFor({ timeout: 5000 });
    });
    result.ok = true;
  } catch (err) {
    result.error = String(err && err.stack || err);
  } finally {
    await browser.close().catch(() => {});
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
})();
