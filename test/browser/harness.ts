// Test support: bundles a browser entry with esbuild, serves it from 127.0.0.1 and runs it
// in headless Chromium (SwiftShader for WebGL2 and WebGPU) through playwright-core.

import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Chromium binary; `SNNC_CHROMIUM` overrides the Debian package's path. */
export const chromiumPath = process.env.SNNC_CHROMIUM ?? '/usr/bin/chromium';

// SwiftShader backs both WebGL2 (through ANGLE) and WebGPU, so the tests need no GPU.
// The network, update and sync switches turn off Chromium's own background requests.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** True when a missing browser must fail the run (`SNNC_BROWSER_TESTS=required` or `CI=true`). */
export function browserTestsRequired(): boolean {
  return process.env.SNNC_BROWSER_TESTS === 'required' || process.env.CI === 'true';
}

/** Why browser tests cannot run here, or null when Chromium is installed. */
export function missingBrowserReason(): string | null {
  if (existsSync(chromiumPath)) return null;
  return `Chromium not found at ${chromiumPath}; install it with \`apt-get install chromium\` or set SNNC_CHROMIUM to its path`;
}

/**
 * Bundles page code for the browser. `source` is the entry module's text and resolves its
 * imports from `resolveDir`; gpu.js resolves to its browser build through its `browser` field.
 */
export async function bundleForBrowser(source: string, resolveDir: string = repoRoot): Promise<string> {
  const result = await esbuild.build({
    stdin: { contents: source, resolveDir, loader: 'ts', sourcefile: 'page-entry.ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

const pageHtml = `<!doctype html>
<meta charset="utf-8">
<title>snnc browser test</title>
<link rel="icon" href="data:,">
<script type="module" src="/page.js"></script>
`;

/**
 * Serves one bundled script at `/page.js` behind an HTML page, with the cross-origin
 * isolation headers that SharedArrayBuffer needs.
 */
function serveScript(script: string): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    if (request.url === '/') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
      response.end(pageHtml);
    } else if (request.url === '/page.js') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' });
      response.end(script);
    } else {
      response.writeHead(404, headers);
      response.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Wall-clock milliseconds of the setup steps, for the test log. */
export interface SetupTimings {
  bundleMs: number;
  launchMs: number;
  loadMs: number;
}

/**
 * A Chromium page running one bundled script, which registers its functions on
 * `globalThis.snncPage`. `call` runs one of them through `page.evaluate`, so arguments and
 * results must be JSON-like: plain arrays, not typed arrays.
 */
export class BrowserPage {
  private constructor(
    private readonly browser: Browser,
    private readonly server: http.Server,
    readonly page: Page,
    readonly timings: SetupTimings,
  ) {}

  /** Bundles `source`, serves it, launches Chromium and waits until the script has run. */
  static async open(source: string, resolveDir: string = repoRoot): Promise<BrowserPage> {
    let start = performance.now();
    const script = await bundleForBrowser(source, resolveDir);
    const bundleMs = performance.now() - start;

    const server = await serveScript(script);
    start = performance.now();
    let browser: Browser;
    try {
      browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
    } catch (error) {
      server.close();
      throw error;
    }
    const launchMs = performance.now() - start;

    try {
      start = performance.now();
      const page = await browser.newPage();
      forwardPageErrors(page);
      const { port } = server.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction('globalThis.snncPage !== undefined', undefined, { timeout: 60_000 });
      const loadMs = performance.now() - start;
      return new BrowserPage(browser, server, page, { bundleMs, launchMs, loadMs });
    } catch (error) {
      await browser.close();
      server.close();
      throw error;
    }
  }

  /**
   * Runs `globalThis.snncPage[name](...args)` in the page and returns its awaited result.
   * Rejects after `timeoutMs`, because a lost GPU device can leave a page promise pending forever.
   */
  async call<T>(name: string, args: unknown[], timeoutMs = 120_000): Promise<T> {
    const evaluation = this.page.evaluate(
      ({ name, args }) => {
        const functions = (globalThis as unknown as { snncPage: Record<string, (...a: unknown[]) => unknown> }).snncPage;
        if (typeof functions[name] !== 'function') throw new Error(`page function '${name}' is not registered`);
        return functions[name](...args);
      },
      { name, args },
    ) as Promise<T>;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`page function '${name}' timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([evaluation, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Prints the page's console errors and warnings (gpu.js warns when it falls back to the cpu
 * backend) and its uncaught exceptions to stderr. ANGLE's performance hints are left out.
 */
function forwardPageErrors(page: Page): void {
  page.on('console', (message) => {
    const type = message.type();
    const text = message.text();
    if (type === 'warning' && text.includes('GL Driver Message') && text.includes('Performance')) return;
    if (type === 'error' || type === 'warning') process.stderr.write(`[browser ${type}] ${text}\n`);
  });
  page.on('pageerror', (error) => {
    process.stderr.write(`[browser exception] ${error.stack ?? error.message}\n`);
  });
}

/**
 * Opens one page on first use and shares it between the tests of a suite. `source` is the
 * entry module's text, or a function that prepares it (compiling models, say) on first use.
 *
 * Open the page from inside a test, not from a `before` hook: uvu 0.5 drops an error thrown
 * by a `before` hook and exits 0, while an error inside a test fails the run.
 */
export class SharedPage {
  private opening: Promise<BrowserPage> | undefined;

  constructor(
    private readonly label: string,
    private readonly source: string | (() => Promise<string>),
    private readonly resolveDir: string = repoRoot,
  ) {}

  get(): Promise<BrowserPage> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<BrowserPage> {
    const source = typeof this.source === 'string' ? this.source : await this.source();
    return BrowserPage.open(source, this.resolveDir).then((page) => {
      const { bundleMs, launchMs, loadMs } = page.timings;
      console.log(
        `${this.label}: bundle ${bundleMs.toFixed(0)} ms, Chromium launch ${launchMs.toFixed(0)} ms, page load ${loadMs.toFixed(0)} ms`,
      );
      return page;
    });
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (opening === undefined) return;
    const page = await opening.catch(() => undefined);
    await page?.close();
  }
}

/**
 * Decides whether a browser suite runs. Returns true when Chromium is installed. Without it,
 * registers one failing test when browser tests are required, or else prints why the suite
 * is skipped, and returns false.
 */
export function browserAvailable(suiteName: string, register: (name: string, handler: () => void) => void): boolean {
  const missing = missingBrowserReason();
  if (missing === null) return true;
  if (browserTestsRequired()) {
    register('chromium is installed', () => {
      throw new Error(`${missing}. Browser tests are required here (SNNC_BROWSER_TESTS=required or CI=true).`);
    });
  } else {
    console.log(`${suiteName}: skipped, ${missing}`);
  }
  return false;
}
