// Drives the Uppy example page in headless Chromium: adds files through the
// Dashboard's file input, starts the upload and prints what Uppy reported
// (each file's success or error) and the Dashboard's visible text as JSON.
//
//   node uppy.mjs PAGE_URL FILE...
//
// playwright-core is loaded from $IMGATE_NPM_BROWSER/node_modules (installed
// by scripts/test.sh), the browser is $CHROMIUM (default /usr/bin/chromium).
import { createRequire } from 'node:module'
import path from 'node:path'

const npmDir = process.env.IMGATE_NPM_BROWSER
if (!npmDir) throw new Error('IMGATE_NPM_BROWSER is not set')
const require = createRequire(path.join(npmDir, 'node_modules', 'noop.js'))
const { chromium } = require('playwright-core')

const [pageURL, ...files] = process.argv.slice(2)
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
})
try {
  const page = await browser.newPage()
  page.on('console', (m) => console.error('page console:', m.text()))
  page.on('pageerror', (e) => console.error('page error:', e.message))
  page.on('requestfailed', (r) => console.error('request failed:', r.method(), r.url().slice(0, 120), r.failure()?.errorText))
  await page.goto(pageURL)
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30000 })
  await page.locator('input.uppy-Dashboard-input').first().setInputFiles(files)
  await page.waitForFunction((n) => window.uppy.getFiles().length === n, files.length)
  await page.evaluate(() => { window.uppy.upload().catch(() => {}) })
  await page.waitForFunction((n) => window.results.length >= n, files.length, { timeout: 180000, polling: 200 })
  await page.waitForTimeout(300) // let the Dashboard render the outcome
  const results = await page.evaluate(() => window.results)
  const token = await page.evaluate(() => window.token)
  const shown = await page.locator('body').innerText()
  console.log(JSON.stringify({ token, results, shown }))
} finally {
  await browser.close()
}
