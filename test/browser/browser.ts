import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (test/apt-packages.txt); never a downloaded browser — these machines are often offline. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

export interface SpecBrowser {
  /** A page in a fresh context (its own cookies) whose relative URLs resolve against `baseUrl`. */
  newPage(baseUrl: string, options?: { ignoreHTTPSErrors?: boolean; javaScriptEnabled?: boolean; timezoneId?: string }): Promise<Page>;
  /**
   * What went wrong on `page` since the last call: console errors (a CSP violation is one),
   * uncaught script errors, and failed or refused sub-requests (stylesheet, image, script) — a
   * page a person sees broken. The document's own status is the spec's to check.
   */
  takeProblems(page: Page): string[];
  /** A full-page PNG in test-results/screenshots/<name>.png, to look at; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
}

/**
 * One Chromium for the spec file that calls this at its top level: launched before its tests,
 * closed after them. Missing Chromium fails loudly, naming the script that installs it.
 */
export function useBrowser(): SpecBrowser {
  let browser: Browser | undefined;
  const problems = new WeakMap<Page, string[]>();
  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing — run \`bash test/install-peers.sh\` (as root) to install the test peers`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(() => browser?.close());
  return {
    async newPage(baseUrl, options = {}) {
      if (!browser) throw new Error('useBrowser() must be called at the top level of the spec file, so its before() hook launches Chromium');
      const context = await browser.newContext({
        baseURL: baseUrl,
        ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
        javaScriptEnabled: options.javaScriptEnabled ?? true,
        ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
      });
      // A missing element fails in seconds, not after playwright's 30 s default.
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      const seen: string[] = [];
      problems.set(page, seen);
      page.on('console', (m) => {
        // "Failed to load resource" repeats a response the handler below judges by its type (a 401 page is the spec's to check).
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) seen.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => seen.push(`script error: ${e.message}`));
      page.on('requestfailed', (r) => {
        // A request cut short because the page was left (its event stream, an icon still loading) did
        // not fail: a missing or refused one shows as a status (below) or another error.
        if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
        seen.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? '?'}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400 && r.request().resourceType() !== 'document') seen.push(`${r.status()} for ${r.request().resourceType()} ${r.url()}`);
      });
      return page;
    },
    takeProblems(page) {
      const seen = problems.get(page) ?? [];
      return seen.splice(0);
    },
    async screenshot(page, name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
  };
}

/** Signs `page` in with a name and password (no second factor) and waits for the dashboard. */
export async function signIn(page: Page, name: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForURL('**/'), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
}
